package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/nettest"
)

// These tests run the test binary as goproxy with the fake runtime (see
// fake_test.go): real sockets, real signals, real daemon re-exec.

// syncBuffer is safe for a process writing while the test reads.
type syncBuffer = nettest.SyncBuffer

// proc is a goproxy started in the foreground by a test.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error
}

func startProc(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	return startProcess(t, asMain(t, dir, env, args...))
}

// startProcess starts cmd with its output captured; the process is killed, by
// PID, at the end of the test if it is still running.
func startProcess(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// wait returns the exit code, failing the test after d.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("process still running after %v; output:\n%s", d, p.stderr.String())
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", p.err)
	return -1
}

func (p *proc) signal(t *testing.T, s syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		t.Fatalf("signal %v: %v", s, err)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func lifecycleConfig(t *testing.T, dir string, port int, global ...string) string {
	t.Helper()
	text := "global\n"
	for _, g := range global {
		text += "    " + g + "\n"
	}
	text += "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"
	text += fmt.Sprintf("frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n", port)
	text += "backend be\n    server s1 127.0.0.1:1\n"
	return writeFile(t, dir, "life.cfg", text)
}

// openSession opens a connection and makes one echo round trip, so the
// session is established on the server side (not just in the backlog).
func openSession(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	return c
}

func accepting(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func TestForegroundServeAndHardStop(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			cfg := lifecycleConfig(t, dir, port, "maxconn 100", "daemon")
			pidFile := filepath.Join(dir, "gp.pid")
			p := startProc(t, dir, nil, "-db", "-f", cfg, "-p", pidFile)
			waitFor(t, 5*time.Second, "the listener", func() bool { return accepting(addr) })
			if err := echoOK(addr); err != nil {
				t.Fatalf("echo: %v", err)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(p.cmd.Process.Pid) {
				t.Errorf("pidfile = %q (%v), want %d", b, err, p.cmd.Process.Pid)
			}
			// An open session must not delay a hard stop.
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			p.signal(t, sig)
			if code := p.wait(t, 5*time.Second); code != 0 {
				t.Errorf("exit = %d, want 0; output:\n%s", code, p.stderr.String())
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Error("session still open after a hard stop")
			}
		})
	}
}

func TestSoftStopWaitsForSessions(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := startProc(t, dir, nil, "-db", "-f", lifecycleConfig(t, dir, port, "maxconn 100"))
	waitFor(t, 5*time.Second, "the listener", func() bool { return accepting(addr) })
	c := openSession(t, addr)
	p.signal(t, syscall.SIGUSR1)
	waitFor(t, 5*time.Second, "the listener to close", func() bool { return !accepting(addr) })
	// The established session still works and keeps the process alive.
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("session cut by soft stop: %v", err)
	}
	select {
	case <-p.exited:
		t.Fatal("process exited with a session open")
	case <-time.After(300 * time.Millisecond):
	}
	c.Close()
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit = %d; output:\n%s", code, p.stderr.String())
	}
}

func TestHardStopAfter(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := startProc(t, dir, nil, "-db", "-f", lifecycleConfig(t, dir, port, "maxconn 100", "hard-stop-after 300ms"))
	waitFor(t, 5*time.Second, "the listener", func() bool { return accepting(addr) })
	openSession(t, addr)
	start := time.Now()
	p.signal(t, syscall.SIGUSR1)
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit = %d", code)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("exited after %v, before hard-stop-after", el)
	}
}

func TestPauseResume(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := startProc(t, dir, nil, "-db", "-f", lifecycleConfig(t, dir, port, "maxconn 100"))
	waitFor(t, 5*time.Second, "the listener", func() bool { return accepting(addr) })
	p.signal(t, syscall.SIGTTOU)
	waitFor(t, 5*time.Second, "pause", func() bool { return !accepting(addr) })
	p.signal(t, syscall.SIGTTIN)
	waitFor(t, 5*time.Second, "resume", func() bool { return accepting(addr) })
	p.signal(t, syscall.SIGTERM)
	p.wait(t, 5*time.Second)
}

func TestHandoff(t *testing.T) {
	for _, tc := range []struct {
		flag string
		keep bool // old process keeps its session (soft) or not (hard)
	}{{"-sf", true}, {"-st", false}} {
		t.Run(tc.flag, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			cfg := lifecycleConfig(t, dir, port, "maxconn 100")
			old := startProc(t, dir, nil, "-db", "-f", cfg)
			waitFor(t, 5*time.Second, "the old listener", func() bool { return accepting(addr) })
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write([]byte("a")); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Read(make([]byte, 1)); err != nil {
				t.Fatal(err)
			}

			nw := startProc(t, dir, nil, "-db", "-f", cfg, tc.flag, strconv.Itoa(old.cmd.Process.Pid))
			if tc.keep {
				// The old process stops listening but serves its session.
				time.Sleep(300 * time.Millisecond)
				if _, err := c.Write([]byte("b")); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Read(make([]byte, 1)); err != nil {
					t.Fatalf("session cut by -sf: %v", err)
				}
				c.Close()
			}
			if code := old.wait(t, 5*time.Second); code != 0 {
				t.Errorf("old exit = %d; output:\n%s", code, old.stderr.String())
			}
			if err := echoOK(addr); err != nil {
				t.Errorf("new process does not serve: %v; output:\n%s", err, nw.stderr.String())
			}
			nw.signal(t, syscall.SIGTERM)
			nw.wait(t, 5*time.Second)
		})
	}
}

// TestHandoffPausesOldProcess covers a new process that cannot bind next
// to the old one (no SO_REUSEPORT on the old socket): it pauses the old
// process with SIGTTOU, binds, then soft-stops it with SIGUSR1.
func TestHandoffPausesOldProcess(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := lifecycleConfig(t, dir, port, "maxconn 100")
	old := startProc(t, dir, []string{"GOPROXY_TEST_NOREUSEPORT=1"}, "-db", "-f", cfg)
	waitFor(t, 5*time.Second, "the old listener", func() bool { return accepting(addr) })
	c := openSession(t, addr)

	nw := startProc(t, dir, nil, "-db", "-f", cfg, "-sf", strconv.Itoa(old.cmd.Process.Pid))
	// The old process was paused, then told to finish: it keeps its
	// session, and exits when the session ends.
	time.Sleep(300 * time.Millisecond)
	if _, err := c.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("session cut by the handoff: %v", err)
	}
	c.Close()
	if code := old.wait(t, 5*time.Second); code != 0 {
		t.Errorf("old exit = %d; output:\n%s", code, old.stderr.String())
	}
	if err := echoOK(addr); err != nil {
		t.Fatalf("new process does not serve: %v; output:\n%s", err, nw.stderr.String())
	}
	nw.signal(t, syscall.SIGTERM)
	if code := nw.wait(t, 5*time.Second); code != 0 {
		t.Errorf("new exit = %d; output:\n%s", code, nw.stderr.String())
	}
}

func TestStartFailure(t *testing.T) {
	dir := t.TempDir()
	// A plain listener (no SO_REUSEPORT) makes the bind fail.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := lifecycleConfig(t, dir, port, "maxconn 100")
	for _, mode := range []string{"-db", "-D"} {
		t.Run(mode, func(t *testing.T) {
			p := startProc(t, dir, nil, mode, "-f", cfg)
			code := p.wait(t, 10*time.Second)
			out := mask(p.stderr.String())
			if code != 1 {
				t.Errorf("exit = %d, want 1", code)
			}
			if !strings.Contains(out, "[ALERT]    (PID) : Binding for proxy fe: cannot bind socket (") ||
				!strings.HasSuffix(out, "[ALERT]    (PID) : [haproxy.main()] Some protocols failed to start their listeners! Exiting.\n") {
				t.Errorf("output:\n%s", out)
			}
		})
	}
}

func TestDaemonPidfileAndSoftStop(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	pidFile := filepath.Join(dir, "gp.pid")
	cfg := lifecycleConfig(t, dir, port, "maxconn 100", "daemon", "pidfile "+pidFile)
	launcher := startProc(t, dir, nil, "-f", cfg)
	if code := launcher.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("launcher exit = %d; output:\n%s", code, launcher.stderr.String())
	}
	if out := launcher.stderr.String(); out != "" {
		t.Errorf("launcher printed %q", out)
	}
	// The launcher returned: the daemon listens and wrote its own pid.
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid == launcher.cmd.Process.Pid || !alive(pid) {
		t.Fatalf("pidfile %q: pid %d (launcher %d) alive=%v", b, pid, launcher.cmd.Process.Pid, alive(pid))
	}
	t.Cleanup(func() {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if err := echoOK(addr); err != nil {
		t.Fatalf("daemon does not serve: %v", err)
	}
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("daemon session id = %d (%v), want its own pid %d", sid, err, pid)
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the daemon to exit", func() bool { return !alive(pid) })
}

func TestDaemonWarningsReachLauncher(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	pidFile := filepath.Join(dir, "gp.pid")
	// maxconn beyond a 1000-fd limit: a warning, maxconn lowered, runs.
	cfg := lifecycleConfig(t, dir, port, "maxconn 5000")
	launcher := startProc(t, dir, []string{"GOPROXY_TEST_NOFILE=1000"}, "-D", "-p", pidFile, "-f", cfg)
	if code := launcher.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("launcher exit = %d; output:\n%s", code, launcher.stderr.String())
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	t.Cleanup(func() {
		if pid > 0 && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	out := mask(launcher.stderr.String())
	want := notices + "[WARNING]  (PID) : [haproxy.main()] Cannot raise FD limit to 10027, limit is 1000.\n"
	if !strings.HasPrefix(out, want) || !strings.Contains(out, "Lowering maxconn to 486") {
		t.Errorf("launcher output:\n%s\nwant prefix:\n%s", out, want)
	}
	if err := echoOK(addr); err != nil {
		t.Fatalf("daemon does not serve: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the daemon to exit", func() bool { return !alive(pid) })
}

func TestStrictLimitsFatal(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := lifecycleConfig(t, dir, port, "maxconn 5000", "strict-limits")
	p := startProc(t, dir, []string{"GOPROXY_TEST_NOFILE=1000"}, "-db", "-f", cfg)
	if code := p.wait(t, 10*time.Second); code != 1 {
		t.Errorf("exit = %d, want 1", code)
	}
	want := notices + "[ALERT]    (PID) : [haproxy.main()] Cannot raise FD limit to 10027, limit is 1000.\n"
	if out := mask(p.stderr.String()); out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// TestSeedFDLimit starts the seed configuration under a 20000-fd hard limit,
// as on the machine where HAProxy's startup-fd-limit.txt was captured: with
// an explicit strict-limits the alert is HAProxy's, figure included
// (maxsock 100031); by default goproxy warns, lowers maxconn and runs.
func TestSeedFDLimit(t *testing.T) {
	dir := t.TempDir()
	seed, err := os.ReadFile("../../testdata/seed.cfg")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	text := strings.Replace(string(seed), "bind *:9999", fmt.Sprintf("bind 127.0.0.1:%d", port), 1)
	text = strings.Replace(text, "/var/run/haproxy.sock", filepath.Join(dir, "seed.sock"), 1)
	writeFile(t, dir, "seed.cfg", text)
	writeFile(t, dir, "strict.cfg", "global\n    strict-limits\n")
	env := []string{"GOPROXY_TEST_NOFILE=20000"}

	capture, err := os.ReadFile("../../testdata/check/haproxy/startup-fd-limit.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The first block of the capture, without its command and exit lines.
	block, _, _ := strings.Cut(string(capture), "[exit code: 1]")
	_, want, _ := strings.Cut(block, "\n")
	p := startProc(t, dir, env, "-db", "-f", "seed.cfg", "-f", "strict.cfg")
	if code := p.wait(t, 10*time.Second); code != 1 {
		t.Errorf("strict: exit = %d, want 1", code)
	}
	if got := mask(p.stderr.String()); got != mask(want) {
		t.Errorf("strict: output\n%s\nwant (HAProxy's)\n%s", got, mask(want))
	}

	p = startProc(t, dir, env, "-db", "-f", "seed.cfg")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, 5*time.Second, "the seed listener", func() bool { return accepting(addr) })
	out := mask(p.stderr.String())
	if !strings.Contains(out, "[WARNING]  (PID) : [haproxy.main()] Cannot raise FD limit to 100031, limit is 20000.\n") ||
		!strings.Contains(out, "Lowering maxconn to 9984 (maxsock=19999)") {
		t.Errorf("default: output\n%s", out)
	}
	p.signal(t, syscall.SIGTERM)
	p.wait(t, 5*time.Second)
}
