package main

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stop ends the process with SIGKILL and waits for it.
func (p *e2eProc) stop() {
	if p.running() {
		_ = syscall.Kill(p.pid(), syscall.SIGKILL)
		<-p.exited
	}
}

// TestE2EDifferential runs the same configuration through haproxy and
// goproxy in turn, on the same backends, drives the same traffic and
// requires the same server choices and the same bytes.
func TestE2EDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH")
	}
	ss := nameServers(t, 4)
	// servers renders the four backends with weights 1/2/3/1; down names
	// the one marked disabled ("" for none).
	servers := func(down string) []string {
		lines := srvLines(ss, []int{1, 2, 3, 1})
		for i, s := range ss {
			if s.name == down {
				lines[i] += " disabled"
			}
		}
		return lines
	}
	// both runs drive against each program and returns their results.
	// statsSock is the stats socket of the program being driven.
	var statsSock string
	both := func(t *testing.T, cfg e2eCfg, drive func(t *testing.T, addr string) []string) (h, g []string) {
		t.Helper()
		global := cfg.global
		for _, prog := range []struct {
			bin string
			out *[]string
		}{{haproxy, &h}, {goproxyBin, &g}} {
			statsSock = filepath.Join(t.TempDir(), "stats.sock")
			cfg.global = append(append([]string(nil), global...), "maxconn 1000", "stats socket "+statsSock+" level admin")
			addr := loopAddr(t)
			p := startServing(t, prog.bin, cfg.render(addr), addr)
			*prog.out = drive(t, addr)
			p.stop()
		}
		return h, g
	}
	fromSources := func(t *testing.T, addr string) []string { return askN(t, addr, "", 50) }
	sequence := func(t *testing.T, addr string) []string { return askN(t, addr, "127.0.0.2", 42) }

	// held opens 12 connections and keeps them, closes every third one,
	// then opens 8 more: the choices depend on the servers' loads.
	held := func(t *testing.T, addr string) []string {
		var names []string
		var conns []net.Conn
		for i := 0; i < 12; i++ {
			c, n := openName(t, srcIP(i), addr)
			names, conns = append(names, n), append(conns, c)
		}
		// One at a time, so that the order of the releases is fixed: each
		// session must be gone from the backend's scur (stats socket)
		// before the next one closes.
		for i := 0; i < 12; i += 3 {
			conns[i].Close()
			left := 12 - i/3 - 1
			waitFor(t, 3*time.Second, "the session to end", func() bool { return backendScur(t, statsSock) == left })
		}
		for i := 0; i < 8; i++ {
			c, n := openName(t, srcIP(20+i), addr)
			names, conns = append(names, n), append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		waitFor(t, 3*time.Second, "every session to end", func() bool { return openTotal(ss) == 0 })
		return names
	}

	cases := []struct {
		name    string
		backend []string
		down    string
		drive   func(t *testing.T, addr string) []string
	}{
		{"source map-based", []string{"balance source"}, "", fromSources},
		{"source map-based one down", []string{"balance source"}, "s2", fromSources},
		{"source consistent", []string{"balance source", "hash-type consistent"}, "", fromSources},
		{"source consistent one down", []string{"balance source", "hash-type consistent"}, "s3", fromSources},
		{"roundrobin", []string{"balance roundrobin"}, "", sequence},
		{"roundrobin one down", []string{"balance roundrobin"}, "s3", sequence},
		{"static-rr one down", []string{"balance static-rr"}, "s1", sequence},
		{"leastconn held", []string{"balance leastconn"}, "", held},
		{"leastconn held one down", []string{"balance leastconn"}, "s2", held},
		{"first held", []string{"balance first"}, "", held},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, g := both(t, e2eCfg{backend: tc.backend, servers: servers(tc.down)}, tc.drive)
			if strings.Join(h, " ") != strings.Join(g, " ") {
				var diff []string
				for i := range h {
					if i < len(g) && h[i] != g[i] {
						diff = append(diff, fmt.Sprintf("#%d %s: haproxy %s, goproxy %s", i, srcIP(i), h[i], g[i]))
					}
				}
				t.Errorf("server choices differ (%d of %d):\n%s\nhaproxy %v\ngoproxy %v", len(diff), len(h), strings.Join(diff, "\n"), counts(h), counts(g))
			}
			if tc.down != "" && counts(h)[tc.down] != 0 {
				t.Errorf("haproxy sent traffic to the disabled %s: the test is not testing anything", tc.down)
			}
		})
	}

	t.Run("source with a server DOWN by health check", func(t *testing.T) {
		sink := startSyslog(t)
		cfg := e2eCfg{
			global:   []string{"log " + sink.addr() + " local2"},
			defaults: []string{"log global"},
			backend:  []string{"balance source"},
			servers:  append(servers(""), "server dead "+loopAddr(t)+" weight 2 check inter 100ms fall 1 rise 1"),
		}
		down := regexp.MustCompile(`Server be/dead is DOWN`)
		h, g := both(t, cfg, func(t *testing.T, addr string) []string {
			sink.next(t, down, 5*time.Second)
			return fromSources(t, addr)
		})
		if strings.Join(h, " ") != strings.Join(g, " ") {
			t.Errorf("server choices differ:\nhaproxy %v\ngoproxy %v", h, g)
		}
	})

	t.Run("byte-exact stream", func(t *testing.T) {
		echo := nameServers(t, 1, silent)
		h, g := both(t, e2eCfg{servers: srvLines(echo, []int{1})}, func(t *testing.T, addr string) []string {
			start := time.Now()
			if err := streamExchange("127.0.0.2", addr, 1<<20); err != nil {
				return []string{err.Error()}
			}
			t.Logf("1 MB each way with half-close in %v", time.Since(start))
			return []string{"ok"}
		})
		if h[0] != "ok" || g[0] != "ok" {
			t.Errorf("1 MB stream with half-close: haproxy %s, goproxy %s", h[0], g[0])
		}
	})
}

// backendScur asks a stats socket for the current sessions of backend be.
func backendScur(t *testing.T, sock string) int {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		t.Fatalf("stats socket: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("show stat\n")); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	head := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	col := -1
	for i, h := range head {
		if h == "scur" {
			col = i
		}
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if col >= 0 && len(f) > col && f[0] == "be" && f[1] == "BACKEND" {
			n, err := strconv.Atoi(f[col])
			if err != nil {
				t.Fatalf("scur %q", f[col])
			}
			return n
		}
	}
	t.Fatalf("no be/BACKEND scur in show stat:\n%s", b)
	return -1
}
