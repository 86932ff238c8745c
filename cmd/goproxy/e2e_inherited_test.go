package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startWithFiles starts bin -db -f cfg with files as descriptors 3, 4, ...
// (exec.Cmd.ExtraFiles, as VTest hands its listening sockets to haproxy)
// and env added to the clean environment. The process is killed by PID in
// t.Cleanup.
func startWithFiles(t *testing.T, bin, cfg string, files []*os.File, env ...string) *e2eProc {
	t.Helper()
	p := &e2eProc{cmd: exec.Command(bin, "-db", "-f", cfg), out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = cleanEnv(append([]string{"GORACE=atexit_sleep_ms=0"}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.ExtraFiles = files
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
	return p
}

// listenerFile returns a dup of ln's socket as a file to hand down, and
// closes ln: the child owns the socket from then on.
func listenerFile(t *testing.T, ln net.Listener) *os.File {
	t.Helper()
	type filer interface{ File() (*os.File, error) }
	f, err := ln.(filer).File()
	if err != nil {
		t.Fatal(err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	ln.Close()
	t.Cleanup(func() { f.Close() })
	return f
}

// askCLI sends one line on a connection to network/addr and reads the
// answer until the server closes.
func askCLI(network, addr, line string) (string, error) {
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// TestInheritedSockets hands goproxy and haproxy a unix and a TCP
// listening socket for "stats socket fd@N" (one written as VTest writes it,
// "fd@${cli}") and a TCP one for the Prometheus frontend's "bind fd@N",
// and checks that each answers on the socket it was given.
func TestInheritedSockets(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		upath := filepath.Join(dir, "cli.sock")
		uln, err := net.Listen("unix", upath)
		if err != nil {
			t.Fatal(err)
		}
		tln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		taddr, paddr := tln.Addr().String(), pln.Addr().String()
		files := []*os.File{listenerFile(t, uln), listenerFile(t, tln), listenerFile(t, pln)}
		fe := loopAddr(t)
		cfg := writeFile(t, dir, "fd.cfg", fmt.Sprintf(`global
    maxconn 100
    stats socket "fd@${cli}" level admin
    stats socket fd@4 level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %s
    default_backend be
frontend prometheus
    mode http
    bind fd@5
    http-request use-service prometheus-exporter if { path /metrics }
backend be
    server s 127.0.0.1:%s
`, fe, deadPort(t)))
		p := startWithFiles(t, bin, cfg, files, "cli=3")
		var out string
		for i := 0; i < 200; i++ {
			if !p.running() {
				t.Fatalf("%s exited: %v\n%s", bin, p.err, p.out.String())
			}
			if out, err = askCLI("unix", upath, "show cli sockets"); err == nil && out != "" {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		want := "# socket lvl processes\nunix@" + upath + " admin all\nipv4@" + taddr + " admin all\n\n"
		if out != want {
			t.Fatalf("show cli sockets on fd@3: got %q, want %q\n%s", out, want, p.out.String())
		}
		if out, err = askCLI("tcp4", taddr, "show cli sockets"); err != nil || out != want {
			t.Fatalf("show cli sockets on fd@4: got %q, %v, want %q", out, err, want)
		}
		if out, _ = askCLI("tcp4", taddr, "show backend"); out != "# name\nbe\n\n" {
			t.Fatalf("show backend on fd@4: got %q", out)
		}
		hc := &http.Client{Timeout: 3 * time.Second}
		resp, err := hc.Get("http://" + paddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "haproxy_process_build_info{version=") {
			t.Fatalf("metrics on fd@5: %d\n%.300s", resp.StatusCode, body)
		}
		if bin == goproxyBin && !strings.Contains(string(body), `goproxy_build_info{goversion="go`) {
			t.Fatalf("no goproxy_build_info in the metrics:\n%s", grepLines(string(body), "build_info"))
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMasterCLIInheritedSocket starts goproxy and haproxy in master-worker
// mode with the master CLI on a TCP socket handed down as descriptor 3,
// as VTest's -S "fd@N": the master forwards "@1 show info" to the worker,
// even when the command arrives before the worker is ready.
func TestMasterCLIInheritedSocket(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "mw.cfg")
		text := "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n" +
			"frontend fe\n    bind " + loopAddr(t) + "\n    default_backend be\nbackend be\n    server s1 127.0.0.1:1\n"
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		f := listenerFile(t, ln)
		p := &e2eProc{cmd: exec.Command(bin, "-W", "-S", "fd@3", "-f", cfg), out: &syncBuffer{}, exited: make(chan struct{})}
		p.cmd.Env = cleanEnv("GORACE=atexit_sleep_ms=0")
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		p.cmd.ExtraFiles = []*os.File{f}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			p.err = p.cmd.Wait()
			close(p.exited)
		}()
		t.Cleanup(func() {
			_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
				<-p.exited
			}
		})
		// As VTest: the line, then the write side shut.
		out, err := func() (string, error) {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return "", err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, "@1 show info\n"); err != nil {
				return "", err
			}
			_ = c.(*net.TCPConn).CloseWrite()
			b, err := io.ReadAll(c)
			return string(b), err
		}()
		if err != nil || !strings.Contains(out, "\nProcess_num: 1\n") {
			t.Fatalf("@1 show info: %v\n%s\n--- output\n%s", err, out, p.out.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "fd@3")); err == nil {
			t.Errorf("a socket file named fd@3 was created")
		}
	})
}
