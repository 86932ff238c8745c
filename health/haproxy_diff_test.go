package health_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/health"
	"goproxy/parser"
	"goproxy/proxy"
)

// backendServer is a loopback test backend whose behaviour is a handler.
type backendServer struct {
	ln   net.Listener
	port int
	wg   sync.WaitGroup
}

func startBackend(t *testing.T, handler func(net.Conn)) *backendServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backendServer{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				handler(c)
			}()
		}
	}()
	t.Cleanup(b.stop)
	return b
}

func (b *backendServer) stop() {
	b.ln.Close()
	b.wg.Wait()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// showStat asks HAProxy's stats socket for "show stat" and returns, per
// "backend/server", the named columns.
func showStat(t *testing.T, sock string, cols []string) map[string][]string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("show stat\n")); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	var idx []int
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# ") {
			head := strings.Split(strings.TrimPrefix(line, "# "), ",")
			for _, want := range cols {
				for i, h := range head {
					if h == want {
						idx = append(idx, i)
					}
				}
			}
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 2 || f[1] == "FRONTEND" || f[1] == "BACKEND" || idx == nil {
			continue
		}
		var row []string
		for _, i := range idx {
			row = append(row, f[i])
		}
		out[f[0]+"/"+f[1]] = row
	}
	return out
}

var diffCols = []string{"status", "check_status", "last_chk", "check_health", "check_desc"}

// ourStat renders the same columns from our servers.
func ourStat(servers []*proxy.Server) map[string][]string {
	out := map[string][]string{}
	for _, s := range servers {
		snap := s.CheckSnapshot(time.Now())
		out[s.Backend.Name+"/"+s.Name] = []string{snap.Status, snap.Check.Status, snap.Check.LastChk,
			fmt.Sprint(snap.Check.Health), snap.Check.Desc}
	}
	return out
}

// sameRow compares rows, ignoring a check caught in progress on either side.
func sameRow(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	inProgress := strings.HasPrefix(a[1], "* ") || strings.HasPrefix(b[1], "* ")
	for i := range a {
		x, y := strings.TrimPrefix(a[i], "* "), strings.TrimPrefix(b[i], "* ")
		if i == 2 && inProgress {
			continue
		}
		if x != y {
			return false
		}
	}
	return true
}

// TestAgainstHAProxy runs the real haproxy and our checkers against the
// same backends and compares status, check_status, last_chk, check_health
// and check_desc, before and after a backend goes away.
func TestAgainstHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil || testing.Short() {
		t.Skip("haproxy not installed")
	}
	cmppReply, _ := hex.DecodeString("0000000d800000080000000100")
	good := startBackend(t, func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, 12)); err == nil {
			c.Write(cmppReply)
		}
		io.Copy(io.Discard, c)
	})
	wrong := startBackend(t, func(c net.Conn) {
		io.ReadFull(c, make([]byte, 12))
		c.Write([]byte("garbage answer\r\n"))
	})
	silent := startBackend(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	closes := startBackend(t, func(c net.Conn) { io.ReadFull(c, make([]byte, 12)) })
	refused := freePort(t)

	dir := t.TempDir()
	sock := filepath.Join(dir, "h.sock")
	cfg := fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 300ms
frontend fe
    bind 127.0.0.1:%d
    default_backend be_tcp
backend be_tcp
    option tcp-check
    tcp-check send-binary 0000000c0000000800000001
    tcp-check expect binary 0000000d80000008
    server good 127.0.0.1:%d check inter 200ms rise 2 fall 3
    server wrong 127.0.0.1:%d check inter 200ms rise 2 fall 3
    server silent 127.0.0.1:%d check inter 200ms rise 2 fall 3
    server closes 127.0.0.1:%d check inter 200ms rise 2 fall 3
    server refused 127.0.0.1:%d check inter 200ms rise 2 fall 3
backend be_l4
    server good 127.0.0.1:%d check inter 200ms rise 2 fall 3
    server refused 127.0.0.1:%d check inter 200ms rise 2 fall 3
`, sock, freePort(t), good.port, wrong.port, silent.port, closes.port, refused, good.port, refused)
	cfgPath := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfgPath)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("haproxy stderr:\n%s", stderr.String())
	})

	// Our side: the same two backends.
	timeouts := parser.Timeouts{Connect: time.Second, Client: 10 * time.Second, Server: 10 * time.Second, Check: 300 * time.Millisecond}
	pxTCP := &parser.Proxy{Name: "be_tcp", Cap: parser.CapBackend, CheckKind: parser.CheckTCP, Timeouts: timeouts,
		TCPChecks: []*parser.TCPCheckRule{
			{Kind: "send-binary", Data: []byte{0, 0, 0, 0x0c, 0, 0, 0, 0x08, 0, 0, 0, 1}},
			{Kind: "expect", Match: "binary", Pattern: "0000000d80000008", MinRecv: -1},
		}}
	pxL4 := &parser.Proxy{Name: "be_l4", Cap: parser.CapBackend, CheckKind: parser.CheckL4, Timeouts: timeouts}
	params := parser.ServerParams{Check: true, Inter: 200 * time.Millisecond, Rise: 2, Fall: 3, Weight: 1}
	var servers []*proxy.Server
	addBackend := func(px *parser.Proxy, names []string, ports []int) {
		be := &proxy.Backend{Name: px.Name, Config: px}
		for i, n := range names {
			s := &proxy.Server{Name: n, ID: i + 1, Backend: be, Config: params,
				Addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: ports[i]}}
			be.Servers = append(be.Servers, s)
			servers = append(servers, s)
		}
	}
	addBackend(pxTCP, []string{"good", "wrong", "silent", "closes", "refused"},
		[]int{good.port, wrong.port, silent.port, closes.port, refused})
	addBackend(pxL4, []string{"good", "refused"}, []int{good.port, refused})
	var targets []health.Target
	for _, s := range servers {
		targets = append(targets, s)
	}
	log, hook := test.NewNullLogger()
	m, err := health.New(targets, health.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(t.Context())
	defer m.Stop()

	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	compare := func(phase string) {
		t.Helper()
		// Sample until both sides agree (checks are not synchronised) or
		// give up after a few intervals and report the last difference.
		var theirs, ours map[string][]string
		for range 40 {
			theirs = showStat(t, sock, diffCols)
			ours = ourStat(servers)
			same := len(theirs) == len(ours)
			for k, row := range ours {
				if !sameRow(row, theirs[k]) {
					same = false
				}
			}
			if same {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		for k, row := range ours {
			if !sameRow(row, theirs[k]) {
				t.Errorf("%s: %s\n  haproxy: %q\n  goproxy: %q", phase, k, theirs[k], row)
			}
		}
	}
	time.Sleep(1500 * time.Millisecond)
	compare("steady")
	good.stop()
	time.Sleep(1500 * time.Millisecond)
	compare("after the good backend stopped")
	if again, err := net.Listen("tcp", good.ln.Addr().String()); err == nil {
		go func() {
			for {
				c, err := again.Accept()
				if err != nil {
					return
				}
				if _, err := io.ReadFull(c, make([]byte, 12)); err == nil {
					c.Write(cmppReply)
				}
				c.Close()
			}
		}()
		time.Sleep(1500 * time.Millisecond)
		compare("after the good backend came back")
		t.Log("compared after the good backend came back")
		again.Close()
	}

	// Every state change line of HAProxy's has its twin in our log (the
	// server counts and durations depend on timing, so compare up to the
	// check duration).
	var ours []string
	for _, e := range hook.AllEntries() {
		ours = append(ours, e.Message)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		_, msg, ok := strings.Cut(line, ") : ")
		if !ok || !strings.HasPrefix(msg, "Server ") && !strings.HasPrefix(msg, "backend ") {
			continue
		}
		msg, _, _ = strings.Cut(msg, ", check duration")
		found := false
		for _, o := range ours {
			if strings.HasPrefix(o, msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("haproxy logged %q; ours:\n%s", msg, strings.Join(ours, "\n"))
		}
	}
}
