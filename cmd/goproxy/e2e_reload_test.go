package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// hammerCounts are the outcomes of a hammer's connections.
type hammerCounts struct {
	ok, reset, refused, other atomic.Int64
	lastOther                 atomic.Value
}

// hammer connects back to back from several workers until stop is closed:
// each connection sends a line and must get it echoed.
func hammer(addr string, workers int, stop <-chan struct{}) (*hammerCounts, *sync.WaitGroup) {
	c := &hammerCounts{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 1_000_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c.record(hammerOnce(srcIP(w*7+i%7), addr))
			}
		}(w)
	}
	return c, &wg
}

func (c *hammerCounts) record(err error) {
	switch {
	case err == nil:
		c.ok.Add(1)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		c.reset.Add(1)
	case errors.Is(err, syscall.ECONNREFUSED):
		c.refused.Add(1)
	default:
		c.other.Add(1)
		c.lastOther.Store(err.Error())
	}
}

// summary is the counts as a log line.
func (c *hammerCounts) summary() string {
	other, _ := c.lastOther.Load().(string)
	return fmt.Sprintf("%d connections served, %d reset, %d refused, %d other (%s)",
		c.ok.Load(), c.reset.Load(), c.refused.Load(), c.other.Load(), other)
}

// expectClean fails t unless no connection failed and at least min were
// served (the hammer ran); over says over what, for the message.
func (c *hammerCounts) expectClean(t *testing.T, over string, min int64) {
	t.Helper()
	if c.reset.Load() != 0 || c.refused.Load() != 0 || c.other.Load() != 0 {
		other, _ := c.lastOther.Load().(string)
		t.Errorf("%d connections reset, %d refused, %d failed otherwise (%s)%s; want none",
			c.reset.Load(), c.refused.Load(), c.other.Load(), other, over)
	}
	if c.ok.Load() < min {
		t.Errorf("only %d connections served: the hammer did not run", c.ok.Load())
	}
}

func hammerOnce(ip, addr string) error {
	var conn net.Conn
	var err error
	if strings.HasPrefix(addr, "/") || strings.HasPrefix(addr, "@") {
		conn, err = net.DialTimeout("unix", addr, 5*time.Second) // a UNIX listener
	} else {
		conn, err = dialFrom(ip, addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "ping\n" {
		return errors.New("wrong echo " + strconv.Quote(string(buf)))
	}
	return nil
}

// TestE2EReloadHammer reloads 20 times with -sf while workers connect back
// to back: connections the kernel queued on the old process's listener
// must be served, not reset, and none may be refused.
func TestE2EReloadHammer(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		const reloads = 20
		echo := startSpeaker(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
		addr := loopAddr(t)
		text := e2eCfg{global: []string{"maxconn 1000"}, servers: []string{"server s1 " + echo.addr()}}.render(addr)
		cur := startServing(t, bin, text, addr)
		stop := make(chan struct{})
		counts, wg := hammer(addr, 4, stop)
		stopped := false
		defer func() {
			if !stopped {
				close(stop)
				wg.Wait()
			}
		}()
		cfg := writeFile(t, t.TempDir(), "reload.cfg", text)
		for i := 0; i < reloads; i++ {
			time.Sleep(100 * time.Millisecond)
			nu := startBin(t, bin, cfg, "-sf", strconv.Itoa(cur.pid()))
			if code := cur.waitExit(t, 10*time.Second); code != 0 {
				t.Fatalf("reload %d: the old process exited %d:\n%s", i, code, cur.out.String())
			}
			if !nu.running() {
				t.Fatalf("reload %d: the new process is gone:\n%s", i, nu.out.String())
			}
			cur = nu
		}
		time.Sleep(100 * time.Millisecond)
		close(stop)
		wg.Wait()
		stopped = true
		t.Logf("%s: %d reloads, %s", bin, reloads, counts.summary())
		if bin != goproxyBin {
			return
		}
		counts.expectClean(t, fmt.Sprintf(" over %d reloads", reloads), 100)
	})
}

// TestE2EReloadTakeover reloads with -x (the new process takes the old
// one's listening sockets over its stats socket, HAProxy's _getsocks)
// while workers connect back to back: 20 goproxy reloads, then a
// migration goproxy -> haproxy -> goproxy -> haproxy -> goproxy. No
// connection may be reset or refused: the listening socket is never
// closed.
func TestE2EReloadTakeover(t *testing.T) {
	t.Parallel()
	echo := startSpeaker(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	sock := filepath.Join(t.TempDir(), "admin.sock")
	addr := loopAddr(t)
	text := e2eCfg{
		global:  []string{"maxconn 1000", "stats socket " + sock + " level admin expose-fd listeners"},
		servers: []string{"server s1 " + echo.addr()},
	}.render(addr)
	cfg := writeFile(t, t.TempDir(), "takeover.cfg", text)
	chain := []string{}
	for i := 0; i < 20; i++ {
		chain = append(chain, goproxyBin)
	}
	if h, err := exec.LookPath("haproxy"); err == nil {
		chain = append(chain, h, goproxyBin, h, goproxyBin)
	} else {
		t.Log("SKIP: the migrations to and from haproxy: haproxy is not on PATH")
	}
	cur := startServing(t, goproxyBin, text, addr)
	inode := listenerInodes(t, addr)
	stop := make(chan struct{})
	counts, wg := hammer(addr, 4, stop)
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			wg.Wait()
		}
	}()
	for i, bin := range chain {
		time.Sleep(100 * time.Millisecond)
		nu := startBin(t, bin, cfg, "-x", sock, "-sf", strconv.Itoa(cur.pid()))
		if code := cur.waitExit(t, 10*time.Second); code != 0 {
			t.Fatalf("step %d: the old process exited %d:\n%s", i, code, cur.out.String())
		}
		if !nu.running() {
			t.Fatalf("step %d (%s): the new process is gone:\n%s", i, bin, nu.out.String())
		}
		cur = nu
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	stopped = true
	t.Logf("%d takeovers (%d through haproxy): %s", len(chain), len(chain)-20, counts.summary())
	counts.expectClean(t, "", 100)
	if after := listenerInodes(t, addr); len(inode) != 1 || fmt.Sprint(after) != fmt.Sprint(inode) {
		t.Errorf("listening socket inodes %v at the start, %v at the end: want the same one socket throughout", inode, after)
	}
	if out := cur.out.String(); strings.Contains(out, "ALERT") {
		t.Errorf("the last process alerted:\n%s", out)
	}
}

// TestE2EReloadWithoutPid runs the seed's reload line after a first start
// without -p: "-sf $(cat pidfile)" then names no pid. goproxy refuses to
// start beside the running process (HAProxy would start a second
// instance), and its alert names the running process and the command
// that replaces it.
func TestE2EReloadWithoutPid(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "admin.sock")
	addr := loopAddr(t)
	ss := nameServers(t, 1)
	text := e2eCfg{global: []string{"stats socket " + sock + " level admin"}, servers: srvLines(ss, []int{1})}.render(addr)
	first := startServing(t, goproxyBin, text, addr)
	cfg := writeFile(t, t.TempDir(), "again.cfg", text)
	second := startBin(t, goproxyBin, cfg, "-sf")
	if code := second.waitExit(t, 10*time.Second); code != 1 {
		t.Errorf("second start exited %d, want 1", code)
	}
	want := fmt.Sprintf("another process (pid %d) is already listening on this socket: to replace it, start with -sf %d", first.pid(), first.pid())
	if out := second.out.String(); !strings.Contains(out, want) {
		t.Errorf("alert does not name the running process; want %q in:\n%s", want, out)
	}
	if !first.running() {
		t.Error("the running process is gone")
	}
}

// TestE2EReloadSeveralOldPids replaces two running processes at once, as
// "-sf <pid> <pid>" after an instance was started beside another: both
// finish their sessions and exit, the new one serves.
func TestE2EReloadSeveralOldPids(t *testing.T) {
	t.Parallel()
	ss := nameServers(t, 1, silent)
	addr := loopAddr(t)
	text := e2eCfg{servers: srvLines(ss, []int{1})}.render(addr)
	first := startServing(t, goproxyBin, text, addr)
	cfg := writeFile(t, t.TempDir(), "beside.cfg", text)
	second := startBin(t, goproxyBin, cfg)
	waitFor(t, 5*time.Second, "the second process to listen beside the first", func() bool {
		return listenerPIDs(t, addr, second.pid())[second.pid()]
	})
	long, err := dialFrom("127.0.0.2", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close()
	if err := echoRoundTrip(long, "before\n"); err != nil {
		t.Fatal(err)
	}
	nu := startBin(t, goproxyBin, cfg, "-sf", strconv.Itoa(first.pid()), strconv.Itoa(second.pid()))
	waitFor(t, 5*time.Second, "the old processes to stop listening", func() bool {
		l := listenerPIDs(t, addr, first.pid(), second.pid(), nu.pid())
		return l[nu.pid()] && !l[first.pid()] && !l[second.pid()]
	})
	if err := echoRoundTrip(long, "during\n"); err != nil {
		t.Fatalf("the session established before the reload: %v", err)
	}
	long.Close()
	for _, p := range []*e2eProc{first, second} {
		if code := p.waitExit(t, 5*time.Second); code != 0 {
			t.Errorf("old process %d exited %d", p.pid(), code)
		}
	}
	if err := echoOK(addr); err != nil || !nu.running() {
		t.Errorf("after the reload: %v (running %v)", err, nu.running())
	}
}
