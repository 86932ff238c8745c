package nettest

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// HAProxy is a haproxy process a test started with StartHAProxy: HAProxy
// 2.6 is the oracle of the differential tests, which run the same
// configuration and traffic through it and through goproxy.
type HAProxy struct {
	// Config is the path of the configuration file haproxy runs.
	Config string
	cmd    *exec.Cmd
	out    SyncBuffer
	done   chan struct{}
}

// HAProxyPath returns the path of haproxy, or skips t, saying why, when it
// is not installed.
func HAProxyPath(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH: the comparison with HAProxy does not run")
	}
	return bin
}

// StartHAProxy writes config to haproxy.cfg in dir and runs haproxy in the
// foreground (-db) on it; t is skipped when haproxy is not installed. The
// process is killed and reaped when the test ends (or by Stop).
func StartHAProxy(t testing.TB, dir, config string) *HAProxy {
	t.Helper()
	bin := HAProxyPath(t)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &HAProxy{Config: path, cmd: exec.Command(bin, "-db", "-f", path), done: make(chan struct{})}
	h.cmd.Stdout, h.cmd.Stderr = &h.out, &h.out
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		if !h.stop(5 * time.Second) {
			t.Errorf("haproxy pid %d did not exit", h.cmd.Process.Pid)
		}
	})
	return h
}

// Output returns what haproxy wrote so far on stdout and stderr.
func (h *HAProxy) Output() string { return h.out.String() }

// Exited is closed once the process has exited.
func (h *HAProxy) Exited() <-chan struct{} { return h.done }

// Stop kills the process and waits for it to exit.
func (h *HAProxy) Stop() { h.stop(5 * time.Second) }

func (h *HAProxy) stop(wait time.Duration) bool {
	select {
	case <-h.done:
		return true
	default:
	}
	_ = h.cmd.Process.Kill()
	select {
	case <-h.done:
		return true
	case <-time.After(wait):
		return false
	}
}

// Dial connects to network/addr (haproxy's stats socket or one of its
// listeners) as soon as haproxy accepts there, for up to 5 s; it fails t
// with haproxy's output if the process exits first or the time runs out.
// The caller closes the connection.
func (h *HAProxy) Dial(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy does not accept on %s: %v\n%s", addr, err, h.Output())
		}
		select {
		case <-h.done:
			t.Fatalf("haproxy exited at start:\n%s", h.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WaitUnix waits until haproxy accepts on the unix socket at path (its
// stats socket), as Dial.
func (h *HAProxy) WaitUnix(t testing.TB, path string) {
	t.Helper()
	h.Dial(t, "unix", path).Close()
}

// CLI sends one command line to the stats socket at path (haproxy's or
// goproxy's) and returns the whole answer; it fails t if the socket does
// not answer within 3 s.
func CLI(t testing.TB, path, line string) string {
	t.Helper()
	out, err := CLIErr(path, line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return out
}

// CLIErr is CLI that returns the error instead of failing a test.
func CLIErr(path, line string) (string, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	out, err := io.ReadAll(c)
	return string(out), err
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// SyncBuffer collects a child process's output while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
