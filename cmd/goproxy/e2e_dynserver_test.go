package main

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dynAlgos are the backends of the dynamic server tests, one per
// algorithm that takes servers at run time, with one configured server.
var dynAlgos = []struct{ name, balance string }{
	{"rr", "balance roundrobin"},
	{"lc", "balance leastconn"},
	{"fst", "balance first"},
	{"rnd", "balance random"},
	{"ch", "balance source\n    hash-type consistent"},
}

// dynConfig is one frontend per backend of dynAlgos (addresses fes, in
// order), a static-rr and a map-based source backend, a Prometheus
// exporter on prom and an admin stats socket. s1 is every backend's
// configured server; fst's has maxconn 1.
func dynConfig(sock string, fes []string, prom, s1 string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    stats socket %s level admin\n", sock)
	b.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n")
	for i, a := range dynAlgos {
		fmt.Fprintf(&b, "frontend fe_%s\n    bind %s\n    default_backend %s\n", a.name, fes[i], a.name)
	}
	for _, a := range dynAlgos {
		extra := ""
		if a.name == "fst" {
			extra = " maxconn 1"
		}
		fmt.Fprintf(&b, "backend %s\n    %s\n    default-server weight 50\n    server s1 %s%s\n", a.name, a.balance, s1, extra)
	}
	fmt.Fprintf(&b, "backend srr\n    balance static-rr\n    server s1 %s\n", s1)
	fmt.Fprintf(&b, "backend src\n    balance source\n    server s1 %s\n", s1)
	fmt.Fprintf(&b, "frontend prom\n    mode http\n    bind %s\n    http-request use-service prometheus-exporter if { path /metrics }\n    no log\n", prom)
	return b.String()
}

// expectAnswer sends cmd and checks the answer byte for byte.
func expectAnswer(t *testing.T, sock, cmd, want string) {
	t.Helper()
	if got := cli(t, sock, cmd); got != want {
		t.Errorf("%s:\n got %q\nwant %q", cmd, got, want)
	}
}

// TestE2EDynamicServers adds a server to a running backend of each dynamic
// algorithm over the stats socket, checks that it waits in maintenance,
// takes traffic once enabled, shows in show stat, show servers state and
// the metrics, keeps its established session through disable, is refused
// deletion while that session lasts, and is deleted after. The same
// assertions run against haproxy, so that they are HAProxy's behaviour.
func TestE2EDynamicServers(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		s1 := startNameServer(t, "s1", "127.0.0.1:0")
		d1 := startNameServer(t, "d1", "127.0.0.1:0")
		dir := t.TempDir()
		sock := filepath.Join(dir, "api.sock")
		fes := make([]string, len(dynAlgos))
		for i := range fes {
			fes[i] = loopAddr(t)
		}
		prom := loopAddr(t)
		startServing(t, bin, dynConfig(sock, fes, prom, s1.addr()), fes[0])
		waitSock(t, sock)

		for i, a := range dynAlgos {
			fe := fes[i]
			add := fmt.Sprintf("add server %s/d1 %s", a.name, d1.addr())
			expectAnswer(t, sock, add, "New server registered.\n\n")
			expectAnswer(t, sock, add, "Already exists a server with the same name in backend.\n\n")
			st := showStat(t, sock)
			if r := st[a.name+"/d1"]; r["status"] != "MAINT" || r["sid"] != "2" || r["uweight"] != "1" {
				t.Errorf("%s: new server row %v: want MAINT, sid 2, uweight 1 (default-server not applied)", a.name, r)
			}
			if c := counts(askN(t, fe, "", 20)); c["d1"] != 0 {
				t.Errorf("%s: server in maintenance got traffic: %v", a.name, c)
			}
			expectAnswer(t, sock, "enable server "+a.name+"/d1", "\n")
			expectAnswer(t, sock, "set server "+a.name+"/d1 weight 50", "\n")
			var held net.Conn
			if a.name == "fst" {
				// first: s1 (id 1, maxconn 1) must be full for d1 to serve.
				held, _ = openName(t, "127.0.0.1", fe)
			}
			c := counts(askN(t, fe, "", 60))
			if c["d1"] == 0 {
				t.Errorf("%s: enabled server got no traffic: %v", a.name, c)
			}
			if held != nil {
				held.Close()
			}
			expectAnswer(t, sock, "del server "+a.name+"/d1", "Only servers in maintenance mode can be deleted.\n")
		}

		// The new servers are in show servers state and the metrics.
		state := cli(t, sock, "show servers state")
		for _, a := range dynAlgos {
			if !strings.Contains(state, " "+a.name+" 2 d1 127.0.0.1 2 0 50 1 ") {
				t.Errorf("show servers state has no running d1 of %s:\n%s", a.name, state)
			}
		}
		_, body := scrape(t, "http://"+prom+"/metrics")
		if !strings.Contains(body, `haproxy_server_status{proxy="rr",server="d1",state="UP"} 1`) {
			t.Errorf("metrics: no UP d1 in rr:\n%s", grepLines(body, `server="d1"`))
		}

		// An established session survives the server's maintenance and
		// blocks its deletion; once it ended the server goes.
		expectAnswer(t, sock, "disable server rr/s1", "\n")
		conn, name := openName(t, "127.0.0.1", fes[0])
		if name != "d1" {
			t.Fatalf("with s1 in maintenance the session went to %s", name)
		}
		expectAnswer(t, sock, "disable server rr/d1", "\n")
		expectAnswer(t, sock, "del server rr/d1", "Server still has connections attached to it, cannot remove it.\n")
		echoed(t, conn, "still here\n")
		conn.Close()
		waitStat(t, sock, 5*time.Second, "rr/d1 idle", func(r map[string]statRow) bool { return r["rr/d1"]["scur"] == "0" })
		expectAnswer(t, sock, "del server rr/d1", "Server deleted.\n")
		expectAnswer(t, sock, "del server rr/d1", "No such server.\n")
		if _, ok := showStat(t, sock)["rr/d1"]; ok {
			t.Error("deleted server still in show stat")
		}
		expectAnswer(t, sock, "enable server rr/s1", "\n")
		if c := counts(askN(t, fes[0], "", 10)); c["s1"] != 10 {
			t.Errorf("after delete: %v, want all on s1", c)
		}
		// Its id is free again.
		expectAnswer(t, sock, "add server rr/d9 "+d1.addr(), "New server registered.\n\n")
		if r := showStat(t, sock)["rr/d9"]; r["sid"] != "2" {
			t.Errorf("re-added server sid %q, want 2", r["sid"])
		}

		// Refusals.
		for _, c := range []struct{ cmd, want string }{
			{"add server srr/d1 " + d1.addr(), "Backend must use a dynamic load balancing to support dynamic servers.\n"},
			{"add server src/d1 " + d1.addr(), "Backend must use a dynamic load balancing to support dynamic servers.\n"},
			{"add server nope/d1 " + d1.addr(), "No such backend.\n"},
			{"add server rr", "Require 'backend/server'.\n"},
			{"add server rr/d2 " + d1.addr() + " cookie c", "'cookie' option is not accepted for dynamic server\n\n"},
			{"add server rr/d2 " + d1.addr() + " weight 300", "weight of server d2 is not within 0 and 256 (300)..\n\n"},
			{"del server lc/s1", "Only servers in maintenance mode can be deleted.\n"},
			{"del server nope/s1", "No such backend.\n"},
		} {
			expectAnswer(t, sock, c.cmd, c.want)
		}
		// A configured server in maintenance can be deleted too.
		expectAnswer(t, sock, "disable server lc/s1", "\n")
		expectAnswer(t, sock, "del server lc/s1", "Server deleted.\n")
		if c := counts(askN(t, fes[1], "", 10)); c["d1"] != 10 {
			t.Errorf("lc after deleting s1: %v, want all on d1", c)
		}
	})
}

// TestE2EDynamicServerChecks adds checked servers: their checks wait for
// "enable health", then drive their state as a configured server's.
func TestE2EDynamicServerChecks(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		s1 := startNameServer(t, "s1", "127.0.0.1:0")
		d1 := startNameServer(t, "d1", "127.0.0.1:0")
		dir := t.TempDir()
		sock := filepath.Join(dir, "api.sock")
		fe := loopAddr(t)
		cfg := fmt.Sprintf("global\n    stats socket %s level admin\n"+
			"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"+
			"frontend fe\n    bind %s\n    default_backend be\n"+
			"backend be\n    server s1 %s\n", sock, fe, s1.addr())
		startServing(t, bin, cfg, fe)
		waitSock(t, sock)
		expectAnswer(t, sock, "add server be/d1 "+d1.addr()+" check inter 100ms", "New server registered.\n\n")
		expectAnswer(t, sock, "add server be/dead 127.0.0.1:"+deadPort(t)+" check inter 100ms rise 1 fall 1", "New server registered.\n\n")
		expectAnswer(t, sock, "enable server be/d1", "\n")
		if r := showStat(t, sock)["be/d1"]; r["status"] != "no check" {
			t.Errorf("enabled, checks not yet: status %q, want \"no check\"", r["status"])
		}
		expectAnswer(t, sock, "enable health be/d1", "\n")
		waitStat(t, sock, 5*time.Second, "d1 checked", func(r map[string]statRow) bool {
			return r["be/d1"]["check_status"] == "L4OK" && r["be/d1"]["status"] == "UP"
		})
		expectAnswer(t, sock, "enable health be/dead", "\n")
		expectAnswer(t, sock, "enable server be/dead", "\n")
		waitStat(t, sock, 5*time.Second, "dead server down", func(r map[string]statRow) bool {
			return r["be/dead"]["status"] == "DOWN" && r["be/dead"]["check_status"] == "L4CON"
		})
		if c := counts(askN(t, fe, "", 20)); c["s1"]+c["d1"] != 20 || c["d1"] == 0 {
			t.Errorf("traffic %v: want s1 and d1 only", c)
		}
		expectAnswer(t, sock, "set server be/dead state maint", "\n")
		expectAnswer(t, sock, "del server be/dead", "Server deleted.\n")
	})
}

// echoed writes msg on a connection to a name server and reads it back.
func echoed(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write on the established session: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("established session: read %q, %v", buf, err)
	}
}

// waitSock waits for the stats socket to answer.
func waitSock(t *testing.T, sock string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := cliErr(sock, "show info"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats socket %s not answering", sock)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2EDynamicServerSendProxy: an added server with send-proxy gets the
// PROXY header before the client's bytes, as a configured one does.
func TestE2EDynamicServerSendProxy(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		s1 := startNameServer(t, "s1", "127.0.0.1:0")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		got := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 0, 256)
			one := make([]byte, 1)
			for len(buf) < 256 {
				if _, err := c.Read(one); err != nil {
					break
				}
				buf = append(buf, one[0])
				if strings.HasSuffix(string(buf), "hello\n") {
					break
				}
			}
			got <- string(buf)
		}()
		dir := t.TempDir()
		sock := filepath.Join(dir, "api.sock")
		fe := loopAddr(t)
		cfg := fmt.Sprintf("global\n    stats socket %s level admin\n"+
			"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"+
			"frontend fe\n    bind %s\n    default_backend be\n"+
			"backend be\n    server s1 %s\n", sock, fe, s1.addr())
		startServing(t, bin, cfg, fe)
		waitSock(t, sock)
		expectAnswer(t, sock, "add server be/pp "+ln.Addr().String()+" send-proxy", "New server registered.\n\n")
		expectAnswer(t, sock, "enable server be/pp", "\n")
		expectAnswer(t, sock, "disable server be/s1", "\n")
		c, err := dialFrom("127.0.0.1", fe)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "hello\n"); err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(fe)
		want := fmt.Sprintf("PROXY TCP4 127.0.0.1 %s %d %s\r\nhello\n", host, c.LocalAddr().(*net.TCPAddr).Port, port)
		select {
		case g := <-got:
			if g != want {
				t.Errorf("server received %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the added server received nothing")
		}
	})
}
