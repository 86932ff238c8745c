package main

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// stickCfg is a configuration with a stats socket in dir.
func stickCfg(dir string, c e2eCfg) (e2eCfg, string) {
	sock := filepath.Join(dir, "stats.sock")
	c.global = append(c.global, "stats socket "+sock+" level admin")
	return c, sock
}

// TestE2EStickPersistence sends 12 clients through a backend with
// "stick on src", then changes the servers: a fifth server is added
// (enabled from maintenance), the weights change, one server goes down.
// Every client keeps its server while that server is usable; the clients
// of the server that went down are balanced again, and their entries now
// name their new server, which they keep once the old one is back. The
// same changes move clients under "balance source" without a table.
func TestE2EStickPersistence(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 5)
		lines := srvLines(ss, []int{1, 1, 1, 1, 1})
		lines[4] += " disabled"
		sticky, sock := stickCfg(t.TempDir(), e2eCfg{
			backend: []string{"balance roundrobin", "stick-table type ip size 100 expire 1m", "stick on src"},
			servers: lines})
		addr, _ := sticky.runWith(t, bin)
		plain, psock := stickCfg(t.TempDir(), e2eCfg{backend: []string{"balance source"}, servers: lines})
		paddr, _ := plain.runWith(t, bin)
		waitSocket(t, sock)
		waitSocket(t, psock)

		const n = 12
		first := askN(t, addr, "", n)
		pfirst := askN(t, paddr, "", n)
		change := func(cmd string) {
			cli(t, sock, cmd)
			cli(t, psock, cmd)
		}
		change("enable server be/s5")
		change("set weight be/s1 50")
		if got := askN(t, addr, "", n); !equalNames(got, first) {
			t.Fatalf("a server added and a weight changed moved sticky clients:\nbefore %v\nafter  %v", first, got)
		}
		if got := askN(t, paddr, "", n); equalNames(got, pfirst) {
			t.Errorf("balance source kept every client across the changes (%v): the comparison shows nothing", got)
		}
		// s2 goes down: its clients move, the others stay.
		change("disable server be/s2")
		moved := askN(t, addr, "", n)
		for i := range moved {
			switch {
			case first[i] == "s2" && moved[i] == "s2":
				t.Errorf("client %d still sent to s2 in maintenance", i)
			case first[i] != "s2" && moved[i] != first[i]:
				t.Errorf("client %d moved from %s to %s when s2 went down", i, first[i], moved[i])
			}
		}
		// Back up, s2 gets none of them: the entries were updated.
		change("enable server be/s2")
		if got := askN(t, addr, "", n); !equalNames(got, moved) {
			t.Errorf("clients moved again when s2 came back:\nbefore %v\nafter  %v", moved, got)
		}
		if out := cli(t, sock, "show table be"); !strings.Contains(out, "used:12") || !strings.Contains(out, "server_key=") {
			t.Errorf("show table be:\n%s", out)
		}
	})
}

// waitSocket waits up to 3 s for the stats socket to answer: a proxy may
// listen on its frontend before its stats socket.
func waitSocket(t *testing.T, sock string) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := cliErr(sock, "show info"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats socket %s does not answer", sock)
		}
	}
}

func equalNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestE2EStickRateLimit rejects a client's fourth connection within 10 s
// ("sc0_conn_rate gt 3") while another client is served, and a client's
// third concurrent connection ("src_conn_cur ge 2").
func TestE2EStickRateLimit(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1, holding)
		c := e2eCfg{frontend: []string{
			"stick-table type ip size 100 expire 30s store conn_rate(10s),conn_cur",
			"tcp-request connection track-sc0 src",
			"tcp-request connection reject if { sc0_conn_rate gt 3 }",
		}, servers: srvLines(ss, []int{1})}
		addr, _ := c.runWith(t, bin)
		for i := 1; i <= 5; i++ {
			_, err := ask("127.0.0.2", addr)
			if i <= 3 && err != nil {
				t.Fatalf("connection %d refused: %v", i, err)
			}
			if i > 3 && err == nil {
				t.Fatalf("connection %d served past the rate limit", i)
			}
		}
		if _, err := ask("127.0.0.3", addr); err != nil {
			t.Fatalf("another client refused: %v", err)
		}

		cur := e2eCfg{frontend: []string{
			"stick-table type ip size 100 expire 30s store conn_cur",
			"tcp-request connection reject if { src_conn_cur ge 2 }",
			"tcp-request connection track-sc0 src",
		}, servers: srvLines(ss, []int{1})}
		caddr, _ := cur.runWith(t, bin)
		c1, _ := openName(t, "127.0.0.4", caddr)
		openName(t, "127.0.0.4", caddr)
		if _, err := ask("127.0.0.4", caddr); err == nil {
			t.Fatalf("third concurrent connection served")
		}
		c1.Close()
		deadline := time.Now().Add(3 * time.Second)
		for {
			if _, err := ask("127.0.0.4", caddr); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("conn_cur did not go down when a connection closed")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestE2EShowTableLikeHAProxy sends the same sessions through goproxy and
// haproxy and compares "show table" byte for byte, the entries' addresses
// and remaining times masked.
func TestE2EShowTableLikeHAProxy(t *testing.T) {
	got := map[string]string{}
	for name, bin := range oracles(t) {
		ss := nameServers(t, 1)
		c, sock := stickCfg(t.TempDir(), e2eCfg{
			frontend: []string{
				"stick-table type ip size 100 expire 30s store conn_cnt,conn_cur,sess_cnt,bytes_in_cnt,bytes_out_cnt,gpc0,gpt0,conn_rate(10s)",
				"tcp-request connection track-sc0 src",
				"tcp-request connection sc-inc-gpc0(0)",
				"tcp-request connection sc-set-gpt0(0) 42",
			},
			backend: []string{"stick-table type ip size 10", "stick on src"},
			servers: srvLines(ss, []int{1})})
		addr, _ := c.runWith(t, bin)
		waitSocket(t, sock)
		for _, ip := range []string{"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.2"} {
			echoOnce(t, ip, addr, "hello\n")
		}
		want := "conn_cur=0"
		var out string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			out = cli(t, sock, "show table fe")
			if strings.Count(out, want) == 2 || time.Now().After(deadline) {
				break
			}
		}
		out += cli(t, sock, "show table be") + cli(t, sock, "show table")
		out += cli(t, sock, "show table fe data.conn_cnt gt 1") + cli(t, sock, "show table fe key 127.0.0.3")
		cli(t, sock, "clear table fe key 127.0.0.3")
		out += cli(t, sock, "show table fe")
		got[name] = maskTable(out)
	}
	g := got["goproxy"]
	for _, line := range []string{"conn_cnt=3 conn_rate(10000)=3 conn_cur=0 sess_cnt=3 bytes_in_cnt=18 bytes_out_cnt=27", "gpt0=42 gpc0=3", "server_id=1 server_key=s1"} {
		if !strings.Contains(g, line) {
			t.Errorf("goproxy's show table lacks %q:\n%s", line, g)
		}
	}
	if h, ok := got["haproxy"]; ok && h != g {
		t.Errorf("show table differs\n--- goproxy\n%s--- haproxy\n%s", g, h)
	}
}

// echoOnce connects from ip, reads the greeting, sends msg, reads it
// back and closes.
func echoOnce(t *testing.T, ip, addr, msg string) {
	t.Helper()
	c, err := dialFrom(ip, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := readName(c); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
}

var (
	tablePtr = regexp.MustCompile(`0x[0-9a-f]+:`)
	tableExp = regexp.MustCompile(`exp=[0-9]+`)
)

func maskTable(s string) string {
	s = tablePtr.ReplaceAllString(s, "0x...:")
	return tableExp.ReplaceAllString(s, "exp=...")
}

// TestE2ETableCommandsLikeHAProxy runs the table commands, good and bad,
// on goproxy and haproxy and compares the answers, addresses and
// remaining times masked.
func TestE2ETableCommandsLikeHAProxy(t *testing.T) {
	cmds := []string{
		"show table", "set table fe key 10.0.0.1 data.conn_cnt 3 data.gpc0 7 data.conn_rate 5",
		"show table fe", "set table fe key 10.0.0.2", "show table fe data.conn_cnt gt 1",
		"show table fe data.conn_cnt ge 0 data.gpc0 eq 7", "show table fe key 10.0.0.2",
		"show table fe key 10.0.0.9", "show table nope", "set table fe key 10.0.0.3 data.foo 1",
		"set table fe key 10.0.0.3 data.server_id 1", "set table fe key bad", "clear table fe key 10.0.0.2",
		"show table fe", "clear table fe data.gpc0 eq 7", "show table fe", "set table be key abcdefghijk",
		"set table be key abc data.server_id 2", "show table be", "set table n key 4294967296",
		"set table n key 12 data.gpt0 -1", "show table n", "clear table fe", "show table fe",
		"show table fe data.conn_cnt", "show table fe data.foo gt 1", "show table fe data.conn_cnt xx 1",
		"show table fe data.conn_cnt gt x", "show table fe data.server_id gt 1",
		"show table fe data.conn_cnt gt 1 data.foo", "show table fe data.conn_cnt gt 1 data.gpc0 lt 1 data.conn_cur eq 0 data.gpt0 eq 0 data.gpc0 eq 0", "set table fe", "set table fe key", "clear table",
		"show table fe key", "set table fe key 10.0.0.1 data.conn_cnt", "set table fe key 10.0.0.1 data.conn_cnt x",
		"set table fe key 10.0.0.1 foo", "show table fe foo", "set table fe data.conn_cnt gt 1",
		"clear table fe foo", "set table fe foo",
	}
	got := map[string]string{}
	for name, bin := range oracles(t) {
		ss := nameServers(t, 1)
		c, sock := stickCfg(t.TempDir(), e2eCfg{
			frontend: []string{"stick-table type ip size 100 expire 30s store gpt0,gpc0,conn_cnt,conn_rate(10s),conn_cur,bytes_out_rate(1m)"},
			backend:  []string{"stick-table type string len 8 size 1k", "stick on src"},
			servers:  srvLines(ss, []int{1})})
		addr := loopAddr(t)
		startServing(t, bin, c.render(addr)+"backend n\n    stick-table type integer size 10 store gpt0\n", addr)
		waitSocket(t, sock)
		var b strings.Builder
		for _, cmd := range cmds {
			b.WriteString("$ " + cmd + "\n" + cli(t, sock, cmd))
		}
		got[name] = maskTable(b.String())
	}
	if h, ok := got["haproxy"]; ok && h != got["goproxy"] {
		t.Errorf("table commands differ\n--- goproxy\n%s--- haproxy\n%s", got["goproxy"], h)
	}
}

// TestE2ETableEvictionLikeHAProxy fills small tables past their size on
// goproxy and haproxy and compares what remains: the oldest entry goes
// ((size/256)+1 at a time), nopurge refuses the new one, integer keys are
// listed in HAProxy's order, and expired entries are gone.
func TestE2ETableEvictionLikeHAProxy(t *testing.T) {
	var cmds []string
	for i := 1; i <= 3; i++ {
		cmds = append(cmds, fmt.Sprintf("set table a key 10.0.0.%d", i), fmt.Sprintf("set table b key 10.0.0.%d", i))
	}
	cmds = append(cmds, "set table a key 10.0.0.4", "set table b key 10.0.0.4")
	for i := 1; i <= 601; i++ {
		cmds = append(cmds, fmt.Sprintf("set table c key %d", i))
	}
	batch := strings.Join(cmds, ";")
	got := map[string]string{}
	for name, bin := range oracles(t) {
		dir := t.TempDir()
		sock := filepath.Join(dir, "stats.sock")
		text := "global\n    stats socket " + sock + " level admin\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n" +
			"frontend fe\n    bind " + "ADDR" + "\n    default_backend a\n" +
			"backend a\n    stick-table type ip size 3 store conn_cnt\n" +
			"backend b\n    stick-table type ip size 3 nopurge store conn_cnt\n" +
			"backend c\n    stick-table type integer size 600 expire 1s store conn_cnt\n"
		addr := loopAddr(t)
		startServing(t, bin, strings.Replace(text, "ADDR", addr, 1), addr)
		waitSocket(t, sock)
		out := cli(t, sock, batch) + cli(t, sock, "show table a") + cli(t, sock, "show table b") + cli(t, sock, "show table c")
		time.Sleep(1500 * time.Millisecond)
		out += cli(t, sock, "show table")
		got[name] = maskTable(out)
	}
	g := got["goproxy"]
	for _, want := range []string{"Unable to allocate a new entry", "# table: c, type: integer, size:600, used:598", "# table: c, type: integer, size:600, used:0"} {
		if !strings.Contains(g, want) {
			t.Errorf("goproxy lacks %q", want)
		}
	}
	if strings.Contains(g, "key=10.0.0.1 ") == false || strings.Count(g, "key=10.0.0.1 ") != 1 {
		t.Errorf("10.0.0.1 should remain in the nopurge table only:\n%s", g)
	}
	if h, ok := got["haproxy"]; ok && h != g {
		t.Errorf("tables differ\n--- goproxy\n%s--- haproxy\n%s", g, h)
	}
}

// TestE2EStickContentRulesRerun tracks and counts in tcp-request content
// rules that wait for the client's bytes, sent in three parts: as in
// HAProxy, a condition that needs more bytes makes the rules run again
// from the first, so sc-inc-gpc0 counts each run (3 or 4 per session,
// the first run may come before any byte) while the tracking counts one
// connection, and content tracking counts no session (sess_cnt 0). The
// number of runs depends on how the bytes arrive: gpc0 is not compared.
func TestE2EStickContentRulesRerun(t *testing.T) {
	got := map[string]string{}
	for name, bin := range oracles(t) {
		ss := nameServers(t, 1)
		c, sock := stickCfg(t.TempDir(), e2eCfg{
			frontend: []string{
				"stick-table type ip size 10 store gpc0,conn_cnt,sess_cnt",
				"tcp-request inspect-delay 3s",
				"tcp-request content track-sc0 src",
				"tcp-request content sc-inc-gpc0(0)",
				"tcp-request content accept if { req.len ge 6 }",
			},
			servers: srvLines(ss, []int{1})})
		addr, _ := c.runWith(t, bin)
		waitSocket(t, sock)
		for i := 0; i < 2; i++ {
			conn, err := dialFrom("127.0.0.2", addr)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{"he", "ll", "o\n"} {
				if _, err := io.WriteString(conn, part); err != nil {
					t.Fatal(err)
				}
				time.Sleep(250 * time.Millisecond)
			}
			if _, err := readName(conn); err != nil {
				t.Fatal(err)
			}
			conn.Close()
		}
		var out string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			out = cli(t, sock, "show table fe")
			if strings.Contains(out, "use=0") || time.Now().After(deadline) {
				break
			}
		}
		got[name] = maskTable(out)
	}
	g := got["goproxy"]
	if !regexp.MustCompile(`use=0 exp=\.\.\. gpc0=[678] conn_cnt=2 sess_cnt=0`).MatchString(g) {
		t.Errorf("goproxy: want use=0, gpc0 6 to 8, conn_cnt=2 sess_cnt=0:\n%s", g)
	}
	gpc := regexp.MustCompile(`gpc0=[0-9]+`)
	g = gpc.ReplaceAllString(g, "gpc0=N")
	if h, ok := got["haproxy"]; ok && gpc.ReplaceAllString(h, "gpc0=N") != g {
		t.Errorf("show table differs\n--- goproxy\n%s--- haproxy\n%s", g, h)
	}
}

// TestE2EStickSrvkeyAddr keeps clients by server address ("srvkey
// addr") on goproxy and haproxy: the table's server_key holds
// "ip:port", each client stays on its server, and the tables match.
func TestE2EStickSrvkeyAddr(t *testing.T) {
	outs := map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 3)
		c, sock := stickCfg(t.TempDir(), e2eCfg{
			backend: []string{"balance roundrobin", "stick-table type ip size 100 expire 1m srvkey addr", "stick on src"},
			servers: srvLines(ss, []int{1, 1, 1})})
		addr, _ := c.runWith(t, bin)
		waitSocket(t, sock)
		var names []string
		for i := 0; i < 3; i++ {
			name, err := ask(srcIP(i), addr)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		for round := 0; round < 2; round++ {
			for i, want := range names {
				if got, err := ask(srcIP(i), addr); err != nil || got != want {
					t.Errorf("client %s: %q %v, want %s", srcIP(i), got, err, want)
				}
			}
		}
		out := cli(t, sock, "show table be")
		for i, n := range names {
			for _, s := range ss {
				if s.name == n && !strings.Contains(lineOf(out, "key="+srcIP(i)+" "), "server_key="+s.addr()) {
					t.Errorf("entry of %s does not name %s by address:\n%s", srcIP(i), s.addr(), out)
				}
			}
		}
		// Ports and server addresses differ between the runs: compare the
		// shape.
		for _, s := range ss {
			out = strings.ReplaceAll(out, s.addr(), "ADDR("+s.name+")")
		}
		outs[t.Name()] = maskTable(out)
	})
	if h, ok := outs["TestE2EStickSrvkeyAddr/haproxy"]; ok {
		if g := outs["TestE2EStickSrvkeyAddr/goproxy"]; g != h {
			t.Errorf("show table differs:\ngoproxy:\n%s\nhaproxy:\n%s", g, h)
		}
	}
}
