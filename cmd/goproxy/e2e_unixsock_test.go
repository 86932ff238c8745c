package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"goproxy/internal/uxsock"
)

// These tests run goproxy, and haproxy where installed, with UNIX and
// abstract sockets on both sides: listeners and servers, their modes and
// owners, unix-bind, the PROXY protocol from a UNIX client, reloads.

// abns returns the address Go's net package dials for HAProxy's
// abns@name: the name padded to the whole sun_path.
func abns(name string) string { return uxsock.Addr{Path: name, Abstract: true}.Name() }

// abnsName is an abstract name unique to this test process and t.
func abnsName(t *testing.T, tag string) string {
	return fmt.Sprintf("goproxy-e2e-%d-%s-%s", os.Getpid(), strings.NewReplacer("/", "-", "#", "-").Replace(t.Name()), tag)
}

// unixListening reports whether a socket listens at path (bound at path
// or at a temporary name of it, which /proc/net/unix shows), or at the
// abstract name when abstract is set.
func unixListening(t *testing.T, name string, abstract bool) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		flags, _ := strconv.ParseUint(f[3], 16, 32)
		if flags&0x10000 == 0 { // __SO_ACCEPTCON: listening
			continue
		}
		p := strings.Join(f[7:], " ")
		if abstract {
			if strings.TrimRight(p, "@") == "@"+name {
				return true
			}
			continue
		}
		if p == name || strings.HasPrefix(p, name+".") && strings.HasSuffix(p, ".tmp") {
			if _, err := os.Lstat(name); err == nil {
				return true
			}
		}
	}
	return false
}

// waitUnix waits until a UNIX listener of p is up at path.
func waitUnix(t *testing.T, p *e2eProc, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !unixListening(t, path, false) {
		if !p.running() {
			t.Fatalf("exited before listening on %s: %v\n%s", path, p.err, p.out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s; output:\n%s", path, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// askUnix connects to a UNIX address (a path, or a padded abstract name)
// and returns the greeting of the server that answered.
func askUnix(addr string) (string, error) {
	c, err := net.DialTimeout("unix", addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return readName(c)
}

// sockFile returns the mode and owner of a socket file.
func sockFile(t *testing.T, path string) (os.FileMode, int, int) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("%s is not a socket: %v", path, fi.Mode())
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode().Perm(), int(st.Uid), int(st.Gid)
}

// TestUnixSockets: traffic from a UNIX and an abstract listener to a TCP
// server, and from TCP listeners to a UNIX and an abstract server; the
// socket files get their mode and owner. The same assertions hold for
// haproxy.
func TestUnixSockets(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		tcpSrv := startNameServer(t, "tcp-server", "127.0.0.1:0")
		uxSrv := startNameServer(t, "unix-server", filepath.Join(dir, "srv.sock"))
		abSrvName := abnsName(t, "srv")
		abSrv := startNameServer(t, "abns-server", abns(abSrvName))
		_ = abSrv
		feAbns := abnsName(t, "fe")
		toUnix, toAbns := loopAddr(t), loopAddr(t)
		owned := os.Geteuid() == 0
		ownLine := ""
		if owned {
			ownLine = "    bind unix@" + dir + "/owned.sock mode 640 uid 65534 gid 65534\n"
		}
		text := "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n" +
			"frontend fe_unix\n    bind unix@" + dir + "/fe.sock mode 600\n    bind " + dir + "/plain.sock\n    bind abns@" + feAbns + "\n" + ownLine +
			"    default_backend be_tcp\n" +
			"frontend fe_to_unix\n    bind " + toUnix + "\n    default_backend be_unix\n" +
			"frontend fe_to_abns\n    bind " + toAbns + "\n    default_backend be_abns\n" +
			"backend be_tcp\n    server s " + tcpSrv.addr() + "\n" +
			"backend be_unix\n    server s " + dir + "/srv.sock\n" +
			"backend be_abns\n    server s abns@" + abSrvName + "\n"
		p := startServing(t, bin, text, toAbns)
		waitUnix(t, p, dir+"/fe.sock")
		for _, c := range []struct{ network, addr, want string }{
			{"unix", dir + "/fe.sock", "tcp-server"},
			{"unix", dir + "/plain.sock", "tcp-server"},
			{"unix", abns(feAbns), "tcp-server"},
			{"tcp", toUnix, "unix-server"},
			{"tcp", toAbns, "abns-server"},
		} {
			var got string
			var err error
			if c.network == "unix" {
				got, err = askUnix(c.addr)
			} else {
				got, err = ask("127.0.0.1", c.addr)
			}
			if err != nil || got != c.want {
				t.Errorf("%s %q: %q, %v; want %q", c.network, strings.TrimRight(c.addr, "\x00"), got, err, c.want)
			}
		}
		if uxSrv.accepted.Load() != 1 {
			t.Errorf("the UNIX server accepted %d connections, want 1", uxSrv.accepted.Load())
		}
		if mode, _, _ := sockFile(t, dir+"/fe.sock"); mode != 0o600 {
			t.Errorf("fe.sock mode %v, want 0600", mode)
		}
		if owned {
			if mode, uid, gid := sockFile(t, dir+"/owned.sock"); mode != 0o640 || uid != 65534 || gid != 65534 {
				t.Errorf("owned.sock: mode %v uid %d gid %d, want 0640 65534 65534", mode, uid, gid)
			}
		} else {
			t.Log("SKIP: uid and gid: not running as root")
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".tmp") || strings.HasSuffix(e.Name(), ".bak") {
				t.Errorf("%s left behind", e.Name())
			}
		}
	})
}

// TestUnixBindPrefix: unix-bind's prefix and mode apply to the UNIX binds,
// a bind's own mode wins, on both oracles.
func TestUnixBindPrefix(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		srv := startNameServer(t, "s1", "127.0.0.1:0")
		addr := loopAddr(t)
		text := e2eCfg{
			global:   []string{"unix-bind prefix " + dir + "/ mode 640"},
			frontend: []string{"bind unix@a.sock", "bind unix@b.sock mode 604"},
			servers:  []string{"server s1 " + srv.addr()},
		}.render(addr)
		p := startServing(t, bin, text, addr)
		waitUnix(t, p, dir+"/b.sock")
		if mode, _, _ := sockFile(t, dir+"/a.sock"); mode != 0o640 {
			t.Errorf("a.sock mode %v, want 0640 (unix-bind)", mode)
		}
		if mode, _, _ := sockFile(t, dir+"/b.sock"); mode != 0o604 {
			t.Errorf("b.sock mode %v, want 0604 (its own)", mode)
		}
		if got, err := askUnix(dir + "/a.sock"); err != nil || got != "s1" {
			t.Errorf("through a.sock: %q, %v", got, err)
		}
	})
}

// dumpServer accepts connections and hands what each sent (until the
// client closes or a second of silence) to got.
type dumpServer struct {
	ln  net.Listener
	got chan []byte
}

func startDump(t *testing.T, network, addr string) *dumpServer {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &dumpServer{ln: ln, got: make(chan []byte, 8)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			b, _ := io.ReadAll(c)
			c.Close()
			d.got <- b
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return d
}

// next returns what the next connection sent.
func (d *dumpServer) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-d.got:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no connection reached the dump server")
		return nil
	}
}

// sendUnix connects to a UNIX path, sends msg and closes after a moment.
func sendUnix(t *testing.T, path, msg string) {
	t.Helper()
	c, err := net.DialTimeout("unix", path, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}

// proxyV2Local is the PROXY v2 header HAProxy 2.6 sends for a client
// without IP addresses: LOCAL, family UNSPEC, no address (captured from
// haproxy 2.6.12 with a UNIX listener and a send-proxy-v2 server).
var proxyV2Local = []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")

// TestUnixProxyProtocol: what goes to send-proxy and send-proxy-v2 servers
// for a client of a UNIX listener ("PROXY UNKNOWN", v2 LOCAL), for a TCP
// client of a UNIX server (v2 TCP4 with its addresses), and for a UNIX
// listener with accept-proxy; the log line's %ci/%cp/%fi/%fp/%si/%sp/%bi/
// %bp and %[src] for each. The bytes and the lines are compared between
// goproxy and haproxy.
func TestUnixProxyProtocol(t *testing.T) {
	t.Parallel()
	type capture struct {
		v1, v2, tcpToUnix, accepted []byte
		tcpPort, fePort             int
		logs                        []string
	}
	caps := map[string]*capture{}
	var mu sync.Mutex
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		d1 := startDump(t, "tcp", "127.0.0.1:0")
		d2 := startDump(t, "tcp", "127.0.0.1:0")
		du := startDump(t, "unix", dir+"/dump.sock")
		da := startDump(t, "tcp", "127.0.0.1:0")
		tcpFe := loopAddr(t)
		lf := `log-format "ci=%ci cp=%cp fi=%fi fp=%fp si=%si sp=%sp bi=%bi bp=%bp src=%[src] s=%b/%s"`
		text := "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n    log stdout format raw local0\n    " + lf + "\n" +
			"frontend f1\n    bind unix@" + dir + "/v1.sock id 7\n    default_backend b1\n" +
			"frontend f2\n    bind unix@" + dir + "/v2.sock id 8\n    default_backend b2\n" +
			"frontend f3\n    bind " + tcpFe + "\n    default_backend b3\n" +
			"frontend f4\n    bind unix@" + dir + "/ap.sock id 9 accept-proxy\n    default_backend b4\n" +
			"backend b1\n    server s " + d1.ln.Addr().String() + " send-proxy\n" +
			"backend b2\n    server s " + d2.ln.Addr().String() + " send-proxy-v2\n" +
			"backend b3\n    server s unix@" + dir + "/dump.sock send-proxy-v2\n" +
			"backend b4\n    server s " + da.ln.Addr().String() + " send-proxy\n"
		p := startServing(t, bin, text, tcpFe)
		waitUnix(t, p, dir+"/ap.sock")
		c := &capture{}
		sendUnix(t, dir+"/v1.sock", "hello")
		c.v1 = d1.next(t)
		sendUnix(t, dir+"/v2.sock", "hello")
		c.v2 = d2.next(t)
		tc, err := dialFrom("127.0.0.1", tcpFe)
		if err != nil {
			t.Fatal(err)
		}
		c.tcpPort = tc.LocalAddr().(*net.TCPAddr).Port
		c.fePort = tc.RemoteAddr().(*net.TCPAddr).Port
		_, _ = io.WriteString(tc, "hello")
		time.Sleep(200 * time.Millisecond)
		tc.Close()
		c.tcpToUnix = du.next(t)
		sendUnix(t, dir+"/ap.sock", "PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nhello")
		c.accepted = da.next(t)

		if want := "PROXY UNKNOWN\r\nhello"; string(c.v1) != want {
			t.Errorf("send-proxy for a UNIX client: %q, want %q", c.v1, want)
		}
		if want := append(append([]byte{}, proxyV2Local...), "hello"...); !bytes.Equal(c.v2, want) {
			t.Errorf("send-proxy-v2 for a UNIX client:\n%x\nwant\n%x", c.v2, want)
		}
		var want4 bytes.Buffer
		want4.WriteString("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
		want4.Write([]byte{127, 0, 0, 1, 127, 0, 0, 1})
		_ = binary.Write(&want4, binary.BigEndian, [2]uint16{uint16(c.tcpPort), uint16(c.fePort)})
		want4.WriteString("hello")
		if !bytes.Equal(c.tcpToUnix, want4.Bytes()) {
			t.Errorf("send-proxy-v2 to a UNIX server:\n%x\nwant\n%x", c.tcpToUnix, want4.Bytes())
		}
		if want := "PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nhello"; string(c.accepted) != want {
			t.Errorf("accept-proxy on a UNIX listener: %q, want %q", c.accepted, want)
		}
		waitFor(t, 5*time.Second, "four log lines", func() bool { return strings.Count(p.out.String(), "ci=") >= 4 })
		for _, l := range strings.Split(p.out.String(), "\n") {
			if strings.HasPrefix(l, "ci=") {
				c.logs = append(c.logs, l)
			}
		}
		// The lines, with the ports that change from run to run masked.
		d1p, d2p, dap := d1.ln.Addr().(*net.TCPAddr).Port, d2.ln.Addr().(*net.TCPAddr).Port, da.ln.Addr().(*net.TCPAddr).Port
		wantLogs := []string{
			"ci=unix cp=7 fi=unix fp=7 si=127.0.0.1 sp=D1 bi=127.0.0.1 bp=BP src=- s=b1/s",
			"ci=unix cp=8 fi=unix fp=8 si=127.0.0.1 sp=D2 bi=127.0.0.1 bp=BP src=- s=b2/s",
			"ci=127.0.0.1 cp=CP fi=127.0.0.1 fp=FP si=unix sp=0 bi=unix bp=0 src=127.0.0.1 s=b3/s",
			"ci=192.0.2.1 cp=1111 fi=198.51.100.2 fp=2222 si=127.0.0.1 sp=DA bi=127.0.0.1 bp=BP src=192.0.2.1 s=b4/s",
		}
		for i, l := range c.logs {
			l = strings.NewReplacer("sp="+strconv.Itoa(d1p)+" ", "sp=D1 ", "sp="+strconv.Itoa(d2p)+" ", "sp=D2 ",
				"sp="+strconv.Itoa(dap)+" ", "sp=DA ", "cp="+strconv.Itoa(c.tcpPort)+" ", "cp=CP ",
				"fp="+strconv.Itoa(c.fePort)+" ", "fp=FP ").Replace(l)
			if f := strings.Fields(l); len(f) > 7 && strings.HasPrefix(f[7], "bp=") && f[7] != "bp=0" {
				f[7] = "bp=BP"
				l = strings.Join(f, " ")
			}
			c.logs[i] = l
			if i < len(wantLogs) && l != wantLogs[i] {
				t.Errorf("log line %d:\n got %s\nwant %s", i, l, wantLogs[i])
			}
		}
		mu.Lock()
		caps[bin] = c
		mu.Unlock()
	})
	g, h := caps[goproxyBin], (*capture)(nil)
	for k, v := range caps {
		if k != goproxyBin {
			h = v
		}
	}
	if g == nil || h == nil {
		return
	}
	if !bytes.Equal(g.v1, h.v1) || !bytes.Equal(g.v2, h.v2) || !bytes.Equal(g.accepted, h.accepted) {
		t.Errorf("PROXY bytes differ from haproxy's:\n goproxy %q %q %q\n haproxy %q %q %q", g.v1, g.v2, g.accepted, h.v1, h.v2, h.accepted)
	}
	if strings.Join(g.logs, "\n") != strings.Join(h.logs, "\n") {
		t.Errorf("log lines differ from haproxy's:\n goproxy:\n%s\n haproxy:\n%s", strings.Join(g.logs, "\n"), strings.Join(h.logs, "\n"))
	}
}

// statCSV returns show stat's fields of pxname,svname from a stats socket.
func statCSV(t *testing.T, sock, px, sv string) map[string]string {
	t.Helper()
	out, err := askCLI("unix", sock, "show stat")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	hdr := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) >= len(hdr)-1 && f[0] == px && f[1] == sv {
			m := map[string]string{}
			for i, h := range hdr {
				if i < len(f) {
					m[h] = f[i]
				}
			}
			return m
		}
	}
	t.Fatalf("no %s/%s in show stat:\n%s", px, sv, out)
	return nil
}

// TestUnixHealthChecks: tcp-check and plain connect checks reach UNIX and
// abstract servers; a UNIX server that goes away goes DOWN; show stat says
// "unix" for its address and show servers state "-" with port 0, as
// haproxy.
func TestUnixHealthChecks(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		sock := dir + "/admin.sock"
		ux := startNameServer(t, "ux", dir+"/chk.sock")
		abName := abnsName(t, "chk")
		startNameServer(t, "ab", abns(abName))
		addr := loopAddr(t)
		text := e2eCfg{
			global: []string{"stats socket " + sock + " level admin"},
			backend: []string{"option tcp-check", "tcp-check connect", "tcp-check expect string ux",
				"default-server inter 100ms fall 2 rise 1"},
			servers: []string{"server ux unix@" + dir + "/chk.sock check", "server ab abns@" + abName + " check"},
		}.render(addr)
		_ = startServing(t, bin, text, addr)
		waitFor(t, 5*time.Second, "ux UP by its tcp-check", func() bool {
			return strings.HasPrefix(statCSV(t, sock, "be", "ux")["status"], "UP")
		})
		if m := statCSV(t, sock, "be", "ux"); m["check_status"] != "L7OK" || m["addr"] != "unix" {
			t.Errorf("ux: check_status %q addr %q, want L7OK unix", m["check_status"], m["addr"])
		}
		// ab answers "ab", not "ux": its tcp-check waits for more at the
		// expect (the server was reached: a layer 7 status).
		waitFor(t, 5*time.Second, "ab DOWN by its tcp-check", func() bool {
			return strings.HasPrefix(statCSV(t, sock, "be", "ab")["status"], "DOWN")
		})
		if m := statCSV(t, sock, "be", "ab"); m["check_status"] != "L7TOUT" {
			t.Errorf("ab: check_status %q, want L7TOUT (the abstract server was reached)", m["check_status"])
		}
		out, err := askCLI("unix", sock, "show servers state be")
		if err != nil {
			t.Fatal(err)
		}
		var row []string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 18 && f[3] == "ux" {
				row = f
			}
		}
		if row == nil || row[4] != "-" || row[18] != "0" {
			t.Errorf("show servers state: srv_addr/srv_port of ux: %v, want - and 0", row)
		}
		ux.close()
		waitFor(t, 5*time.Second, "ux DOWN once its socket is gone", func() bool {
			return strings.HasPrefix(statCSV(t, sock, "be", "ux")["status"], "DOWN")
		})
		// A UNIX connect fails at once: HAProxy says SOCKERR, not L4CON.
		if m := statCSV(t, sock, "be", "ux"); m["check_status"] != "SOCKERR" || !strings.Contains(m["last_chk"], "No such file or directory") {
			t.Errorf("ux after its server left: check_status %q last_chk %q, want SOCKERR, No such file or directory", m["check_status"], m["last_chk"])
		}
	})
}

// TestUnixReloadSF reloads with -sf while workers connect back to back to
// a UNIX listener: each new process replaces the socket file in one step,
// the old one serves what it had queued, and no connection is refused.
// The figures of haproxy, which listens only after its rename, are logged
// beside.
func TestUnixReloadSF(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		const reloads = 10
		echo := startSpeaker(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
		dir := t.TempDir()
		path := dir + "/fe.sock"
		addr := loopAddr(t)
		text := e2eCfg{global: []string{"maxconn 1000"}, frontend: []string{"bind unix@" + path + " mode 660"},
			servers: []string{"server s1 " + echo.addr()}}.render(addr)
		cur := startServing(t, bin, text, addr)
		waitUnix(t, cur, path)
		stop := make(chan struct{})
		counts, wg := hammer(path, 4, stop)
		stopped := false
		defer func() {
			if !stopped {
				close(stop)
				wg.Wait()
			}
		}()
		cfg := writeFile(t, t.TempDir(), "reload.cfg", text)
		prev, replaced := uint64(0), 0
		for i := 0; i < reloads; i++ {
			time.Sleep(100 * time.Millisecond)
			nu := startBin(t, bin, cfg, "-sf", strconv.Itoa(cur.pid()))
			if code := cur.waitExit(t, 10*time.Second); code != 0 {
				t.Fatalf("reload %d: the old process exited %d:\n%s", i, code, cur.out.String())
			}
			if !nu.running() {
				t.Fatalf("reload %d: the new process is gone:\n%s", i, nu.out.String())
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if ino := fi.Sys().(*syscall.Stat_t).Ino; ino != prev {
				prev, replaced = ino, replaced+1
			}
			cur = nu
		}
		time.Sleep(100 * time.Millisecond)
		close(stop)
		wg.Wait()
		stopped = true
		t.Logf("%s: %d reloads on a UNIX socket, %s", filepath.Base(bin), reloads, counts.summary())
		if replaced != reloads {
			t.Errorf("the socket file was replaced %d times over %d reloads: each new process binds its own", replaced, reloads)
		}
		if mode, _, _ := sockFile(t, path); mode != 0o660 {
			t.Errorf("mode %v after the reloads, want 0660", mode)
		}
		if bin != goproxyBin {
			return
		}
		counts.expectClean(t, fmt.Sprintf(" over %d reloads", reloads), 100)
	})
}

// TestUnixReloadTakeover hands a UNIX listener over with -x, goproxy to
// goproxy and, where installed, haproxy to goproxy and back: the socket
// file is never replaced (the same inode throughout) and no connection
// fails.
func TestUnixReloadTakeover(t *testing.T) {
	t.Parallel()
	echo := startSpeaker(t, func(c *net.TCPConn) { _, _ = io.Copy(c, c) })
	dir := t.TempDir()
	sock := dir + "/admin.sock"
	path := dir + "/fe.sock"
	ab := abnsName(t, "fe")
	addr := loopAddr(t)
	text := e2eCfg{
		global:   []string{"maxconn 1000", "stats socket " + sock + " level admin expose-fd listeners"},
		frontend: []string{"bind unix@" + path, "bind abns@" + ab},
		servers:  []string{"server s1 " + echo.addr()},
	}.render(addr)
	cfg := writeFile(t, t.TempDir(), "takeover.cfg", text)
	chain := []string{goproxyBin, goproxyBin, goproxyBin}
	first := goproxyBin
	if h, err := lookHAProxy(); err == nil {
		first = h
		chain = append(chain, h, goproxyBin)
	} else {
		t.Log("SKIP: the migrations from and to haproxy: haproxy is not on PATH")
	}
	cur := startServing(t, first, text, addr)
	waitUnix(t, cur, path)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	stop := make(chan struct{})
	counts, wg := hammer(path, 2, stop)
	abCounts, abWG := hammer(abns(ab), 2, stop)
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			wg.Wait()
			abWG.Wait()
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
	abWG.Wait()
	stopped = true
	t.Logf("%d takeovers: path %s; abstract %s", len(chain), counts.summary(), abCounts.summary())
	counts.expectClean(t, " (path)", 50)
	abCounts.expectClean(t, " (abstract)", 50)
	fi, err = os.Lstat(path)
	if err != nil || fi.Sys().(*syscall.Stat_t).Ino != ino {
		t.Errorf("the socket file was replaced (inode %d at the start): want the same socket throughout", ino)
	}
	if out := cur.out.String(); strings.Contains(out, "ALERT") {
		t.Errorf("the last process alerted:\n%s", out)
	}
}

// TestAddrEnvLive: ${VAR} in bind and server addresses, quoted or not, is
// expanded as haproxy does, and traffic flows through what it names.
func TestAddrEnvLive(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		srv := startNameServer(t, "env-server", "127.0.0.1:0")
		usrv := startNameServer(t, "env-unix", dir+"/srv.sock")
		_ = usrv
		a, b := loopAddr(t), loopAddr(t)
		ah, ap, _ := net.SplitHostPort(a)
		text := "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n" +
			"frontend f\n    bind \"${ADDR}:${PORT}\"\n    bind unix@${DIR}/fe.sock\n    default_backend be\n" +
			"frontend f2\n    bind $ADDR2\n    default_backend be2\n" +
			"backend be\n    server s ${SRV}\n" +
			"backend be2\n    server s \"unix@${DIR}/srv.sock\"\n"
		cfgPath := writeFile(t, t.TempDir(), "env.cfg", text)
		p := startBinEnv(t, bin, cfgPath, []string{"ADDR=" + ah, "PORT=" + ap, "ADDR2=" + b, "SRV=" + srv.addr(), "DIR=" + dir})
		waitUnix(t, p, dir+"/fe.sock")
		waitFor(t, 5*time.Second, "the TCP binds", func() bool { return listenerPIDs(t, b, p.pid())[p.pid()] })
		if got, err := ask("127.0.0.1", a); err != nil || got != "env-server" {
			t.Errorf("through ${ADDR}:${PORT}: %q, %v", got, err)
		}
		if got, err := askUnix(dir + "/fe.sock"); err != nil || got != "env-server" {
			t.Errorf("through unix@${DIR}: %q, %v", got, err)
		}
		if got, err := ask("127.0.0.1", b); err != nil || got != "env-unix" {
			t.Errorf("through $ADDR2 to unix@${DIR}/srv.sock: %q, %v", got, err)
		}
	})
}

// lookHAProxy is haproxy's path, when installed.
func lookHAProxy() (string, error) { return exec.LookPath("haproxy") }
