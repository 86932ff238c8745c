package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"goproxy/internal/nettest"
)

// These helpers drive the real binary (goproxyBin) and the real haproxy:
// echo backends in this process, the runtime API over a unix socket.

// echoServer is a backend that echoes; it counts the connections that
// carried data (health checks connect and close without sending any).
type echoServer struct {
	ln       net.Listener
	sessions atomic.Int64
	wg       sync.WaitGroup
}

func newEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go e.serve()
	t.Cleanup(func() {
		ln.Close()
		e.wg.Wait()
	})
	return e
}

func (e *echoServer) port() int { return e.ln.Addr().(*net.TCPAddr).Port }

func (e *echoServer) serve() {
	defer e.wg.Done()
	for {
		c, err := e.ln.Accept()
		if err != nil {
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4096)
			counted := false
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if !counted {
						counted = true
						e.sessions.Add(1)
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// session sends msg through addr and waits for the echo and the close.
func session(t *testing.T, addr, msg string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("session through %s: %v", addr, err)
	}
	if string(buf) != msg {
		t.Fatalf("echo returned %q, want %q", buf, msg)
	}
}

// cli sends one command line to the runtime API at sock and returns the
// answer.
func cli(t *testing.T, sock, cmd string) string {
	t.Helper()
	return nettest.CLI(t, sock, cmd)
}

func cliErr(sock, cmd string) (string, error) { return nettest.CLIErr(sock, cmd) }

// statRow is one "show stat" line by column name.
type statRow map[string]string

// parseStat parses "show stat" CSV output into rows keyed "pxname/svname",
// and the keys in order.
func parseStat(t *testing.T, out string) (map[string]statRow, []string) {
	t.Helper()
	if !strings.HasPrefix(out, "# ") {
		t.Fatalf("show stat: unexpected answer %q", out)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("show stat: %v\n%s", err, out)
	}
	head := recs[0]
	rows := map[string]statRow{}
	var order []string
	for _, rec := range recs[1:] {
		if len(rec) < 2 {
			continue
		}
		row := statRow{}
		for i, h := range head {
			if h != "" && i < len(rec) {
				row[h] = rec[i]
			}
		}
		k := rec[0] + "/" + rec[1]
		rows[k] = row
		order = append(order, k)
	}
	return rows, order
}

func showStat(t *testing.T, sock string) map[string]statRow {
	t.Helper()
	rows, _ := parseStat(t, cli(t, sock, "show stat"))
	return rows
}

// waitStat polls "show stat" until cond holds.
func waitStat(t *testing.T, sock string, d time.Duration, what string, cond func(map[string]statRow) bool) map[string]statRow {
	t.Helper()
	var rows map[string]statRow
	deadline := time.Now().Add(d)
	for {
		out, err := cliErr(sock, "show stat")
		if err == nil && strings.HasPrefix(out, "# ") {
			rows, _ = parseStat(t, out)
			if cond(rows) {
				return rows
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last show stat:\n%s", d, what, out)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// runtimeConfig is a frontend and a roundrobin backend of the given
// servers (name -> port, in order), checked every 100 ms, with an admin
// stats socket; extra lines go to the global section.
func runtimeConfig(dir string, fePort int, sock string, servers [][2]string, global ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    maxconn 1000\n    stats socket %s level admin\n", sock)
	for _, g := range global {
		fmt.Fprintf(&b, "    %s\n", g)
	}
	b.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n")
	fmt.Fprintf(&b, "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n", fePort)
	b.WriteString("backend be\n    balance roundrobin\n    load-server-state-from-file global\n")
	for _, s := range servers {
		fmt.Fprintf(&b, "    server %s 127.0.0.1:%s check inter 100ms\n", s[0], s[1])
	}
	return b.String()
}

// startReal starts the real goproxy binary in the foreground.
func startReal(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	return startCmd(t, exec.Command(goproxyBin, args...), dir)
}

func startCmd(t *testing.T, cmd *exec.Cmd, dir string) *proc {
	t.Helper()
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	return startProcess(t, cmd)
}

// deadPort is a loopback port nothing listens on.
func deadPort(t *testing.T) string { return fmt.Sprint(freePort(t)) }

func sockPath(dir, name string) string { return filepath.Join(dir, name) }

// showInfoField returns one field of "show info".
func showInfoField(t *testing.T, sock, name string) string {
	t.Helper()
	for _, line := range strings.Split(cli(t, sock, "show info"), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && k == name {
			return v
		}
	}
	t.Fatalf("show info has no %s", name)
	return ""
}
