package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runtimeSetup starts the real goproxy with two echo servers (s1, s2) and
// a server nothing listens on (s3), and waits for the first checks.
type runtimeSetup struct {
	dir, sock, fe string
	s1, s2        *echoServer
	p             *proc
}

func startRuntime(t *testing.T) *runtimeSetup {
	t.Helper()
	dir := t.TempDir()
	rs := &runtimeSetup{dir: dir, sock: sockPath(dir, "api.sock"), s1: newEcho(t), s2: newEcho(t)}
	port := freePort(t)
	rs.fe = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := runtimeConfig(dir, port, rs.sock, [][2]string{
		{"s1", fmt.Sprint(rs.s1.port())}, {"s2", fmt.Sprint(rs.s2.port())}, {"s3", deadPort(t)}})
	path := writeFile(t, dir, "rt.cfg", cfg)
	rs.p = startReal(t, dir, "-db", "-f", path)
	waitStat(t, rs.sock, 5*time.Second, "first checks", func(r map[string]statRow) bool {
		return r["be/s3"]["status"] == "DOWN" && r["be/s1"]["check_status"] == "L4OK" && r["be/s2"]["check_status"] == "L4OK"
	})
	return rs
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func TestRuntimeShowStat(t *testing.T) {
	rs := startRuntime(t)
	out := cli(t, rs.sock, "show stat")
	rows, order := parseStat(t, out)
	want := []string{"fe/FRONTEND", "be/s1", "be/s2", "be/s3", "be/BACKEND"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("rows %v, want %v", order, want)
	}
	for _, tc := range []struct{ key, col, want string }{
		{"fe/FRONTEND", "status", "OPEN"},
		{"be/s1", "status", "UP"},
		{"be/s2", "status", "UP"},
		{"be/s3", "status", "DOWN"},
		{"be/s3", "check_status", "L4CON"},
		{"be/s3", "chkdown", "1"},
		{"be/BACKEND", "status", "UP"},
		{"be/BACKEND", "weight", "2"},
		{"be/BACKEND", "act", "2"},
		{"be/s3", "lastsess", "-1"},
	} {
		t.Run(tc.key+"/"+tc.col, func(t *testing.T) {
			if got := rows[tc.key][tc.col]; got != tc.want {
				t.Errorf("%s %s = %q, want %q", tc.key, tc.col, got, tc.want)
			}
		})
	}

	// Traffic moves the counters.
	const n, msg = 6, "hello runtime\n"
	for i := 0; i < n; i++ {
		session(t, rs.fe, msg)
	}
	rows = waitStat(t, rs.sock, 3*time.Second, "sessions counted", func(r map[string]statRow) bool {
		return r["fe/FRONTEND"]["stot"] == fmt.Sprint(n) && r["be/BACKEND"]["scur"] == "0"
	})
	for _, tc := range []struct{ key, col, want string }{
		{"fe/FRONTEND", "bin", fmt.Sprint(n * len(msg))},
		{"fe/FRONTEND", "bout", fmt.Sprint(n * len(msg))},
		{"be/BACKEND", "stot", fmt.Sprint(n)},
		{"be/BACKEND", "lbtot", fmt.Sprint(n)},
		{"be/s1", "stot", fmt.Sprint(n / 2)},
		{"be/s2", "stot", fmt.Sprint(n / 2)},
		{"be/s1", "bout", fmt.Sprint(n / 2 * len(msg))},
		{"be/s3", "stot", "0"},
	} {
		t.Run("traffic/"+tc.key+"/"+tc.col, func(t *testing.T) {
			if got := rows[tc.key][tc.col]; got != tc.want {
				t.Errorf("%s %s = %q, want %q", tc.key, tc.col, got, tc.want)
			}
		})
	}

	// socat sees the same rows.
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("the socat half: socat is not on PATH (the goproxy checks above passed)")
	}
	cmd := exec.Command("socat", "-t", "2", "-", "UNIX-CONNECT:"+rs.sock)
	cmd.Stdin = strings.NewReader("show stat\n")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("socat: %v", err)
	}
	srows, sorder := parseStat(t, string(b))
	if strings.Join(sorder, " ") != strings.Join(want, " ") {
		t.Fatalf("socat rows %v, want %v", sorder, want)
	}
	if srows["be/s3"]["status"] != "DOWN" || srows["be/s1"]["stot"] != fmt.Sprint(n/2) {
		t.Errorf("socat show stat: s3 %q, s1 stot %q", srows["be/s3"]["status"], srows["be/s1"]["stot"])
	}
}

func TestRuntimeDisableServer(t *testing.T) {
	rs := startRuntime(t)
	if out := cli(t, rs.sock, "disable server be/s1"); out != "\n" {
		t.Fatalf("disable server answered %q", out)
	}
	rows := showStat(t, rs.sock)
	if got := rows["be/s1"]["status"]; got != "MAINT" {
		t.Fatalf("s1 status %q after disable, want MAINT", got)
	}
	for i := 0; i < 4; i++ {
		session(t, rs.fe, "x\n")
	}
	if a, b := rs.s1.sessions.Load(), rs.s2.sessions.Load(); a != 0 || b != 4 {
		t.Fatalf("sessions s1=%d s2=%d with s1 in MAINT, want 0 and 4", a, b)
	}
	cli(t, rs.sock, "enable server be/s1")
	waitStat(t, rs.sock, 3*time.Second, "s1 back UP", func(r map[string]statRow) bool {
		return r["be/s1"]["status"] == "UP"
	})
	for i := 0; i < 4; i++ {
		session(t, rs.fe, "x\n")
	}
	if a := rs.s1.sessions.Load(); a == 0 {
		t.Fatal("s1 took no session after enable server")
	}
}

func TestRuntimeSetWeight(t *testing.T) {
	rs := startRuntime(t)
	if out := cli(t, rs.sock, "set weight be/s1 3"); out != "\n" {
		t.Fatalf("set weight answered %q", out)
	}
	if out := cli(t, rs.sock, "get weight be/s1"); out != "3 (initial 1)\n\n" {
		t.Fatalf("get weight answered %q", out)
	}
	const n = 16
	for i := 0; i < n; i++ {
		session(t, rs.fe, "w\n")
	}
	if a, b := rs.s1.sessions.Load(), rs.s2.sessions.Load(); a != 12 || b != 4 {
		t.Fatalf("sessions s1=%d s2=%d with weights 3:1, want 12 and 4", a, b)
	}
	rows := showStat(t, rs.sock)
	if rows["be/s1"]["weight"] != "3" || rows["be/BACKEND"]["weight"] != "4" {
		t.Errorf("weights: s1 %q backend %q, want 3 and 4", rows["be/s1"]["weight"], rows["be/BACKEND"]["weight"])
	}
}

// TestRuntimeSetRateLimit: "set rate-limit connections global N" caps the
// connections accepted per second; the others wait in the backlog and are
// served in the next seconds, none is refused.
func TestRuntimeSetRateLimit(t *testing.T) {
	rs := startRuntime(t)
	if out := cli(t, rs.sock, "set rate-limit connections global 4"); out != "\n" {
		t.Fatalf("set rate-limit answered %q", out)
	}
	if got := showInfoField(t, rs.sock, "ConnRateLimit"); got != "4" {
		t.Errorf("show info ConnRateLimit = %q, want 4", got)
	}
	start := time.Now()
	done := make(chan time.Duration, 12)
	for i := 0; i < 12; i++ {
		go func() {
			session(t, rs.fe, "rate\n")
			done <- time.Since(start)
		}()
	}
	var last time.Duration
	for i := 0; i < 12; i++ {
		select {
		case d := <-done:
			last = max(last, d)
		case <-time.After(10 * time.Second):
			t.Fatal("a rate-limited client was never served")
		}
	}
	// 12 connections at 4 per second: a burst of 4, then one every 250 ms
	// from the end of the first second (HAProxy's sliding estimate), the
	// last ~2.75 s after the first.
	if last < 2*time.Second {
		t.Errorf("12 connections served in %v with a limit of 4/s", last)
	}
	if out := cli(t, rs.sock, "set rate-limit sessions global 4"); !strings.Contains(out, "not supported") {
		t.Errorf("sessions rate limit answered %q", out)
	}
	if out := cli(t, rs.sock, "set rate-limit connections global 0"); out != "\n" {
		t.Errorf("removing the limit answered %q", out)
	}
}

func TestRuntimeExporter(t *testing.T) {
	exp, err := exec.LookPath("prometheus-haproxy-exporter")
	if err != nil {
		t.Skip("prometheus-haproxy-exporter not installed")
	}
	rs := startRuntime(t)
	session(t, rs.fe, "metrics\n")
	port := freePort(t)
	p := startCmd(t, exec.Command(exp, "--haproxy.scrape-uri=unix:"+rs.sock,
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)), rs.dir)
	var body string
	waitFor(t, 5*time.Second, "exporter answering", func() bool {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	})
	_ = p
	for _, want := range []string{
		"haproxy_up 1",
		`haproxy_server_up{backend="be",server="s1"} 1`,
		`haproxy_server_up{backend="be",server="s3"} 0`,
		`haproxy_backend_up{backend="be"} 1`,
		`haproxy_frontend_bytes_in_total{frontend="fe"} 8`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exporter output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("exporter output:\n%s", body)
	}
}

func TestRuntimeServerStateReload(t *testing.T) {
	dir := t.TempDir()
	sock := sockPath(dir, "api.sock")
	state := sockPath(dir, "state")
	s1, s2 := newEcho(t), newEcho(t)
	port := freePort(t)
	fe := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := runtimeConfig(dir, port, sock, [][2]string{{"s1", fmt.Sprint(s1.port())}, {"s2", fmt.Sprint(s2.port())}},
		"server-state-file "+state)
	path := writeFile(t, dir, "rt.cfg", cfg)
	old := startReal(t, dir, "-db", "-f", path)
	waitStat(t, sock, 5*time.Second, "first checks", func(r map[string]statRow) bool {
		return r["be/s1"]["check_status"] == "L4OK" && r["be/s2"]["check_status"] == "L4OK"
	})
	cli(t, sock, "set server be/s1 state maint")
	cli(t, sock, "set weight be/s2 7")
	dump := cli(t, sock, "show servers state")
	if err := os.WriteFile(state, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}

	oldPid := old.cmd.Process.Pid
	nw := startReal(t, dir, "-db", "-f", path, "-sf", strconv.Itoa(oldPid))
	if code := old.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("old process exited %d:\n%s", code, old.stderr.String())
	}
	waitFor(t, 5*time.Second, "new process answering", func() bool {
		out, err := cliErr(sock, "show info")
		return err == nil && strings.Contains(out, fmt.Sprintf("Pid: %d\n", nw.cmd.Process.Pid))
	})
	out := cli(t, sock, "show servers state be")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("show servers state:\n%s", out)
	}
	f1, f2 := strings.Fields(lines[2]), strings.Fields(lines[3])
	// srv_op_state srv_admin_state srv_uweight are fields 5, 6, 7.
	if f1[3] != "s1" || f1[5] != "0" || f1[6] != "1" {
		t.Errorf("s1 after reload: %v, want op 0 admin 1", f1)
	}
	if f2[3] != "s2" || f2[7] != "7" {
		t.Errorf("s2 after reload: %v, want uweight 7", f2)
	}
	for i := 0; i < 3; i++ {
		session(t, fe, "r\n")
	}
	if a := s1.sessions.Load(); a != 0 {
		t.Errorf("s1 in MAINT after reload took %d sessions", a)
	}
	nw.signal(t, syscall.SIGTERM)
	nw.wait(t, 5*time.Second)
}

// unixDial reports whether a unix socket accepts.
func unixDial(path string) bool {
	c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// openEcho opens a session through addr, checks one echo and returns it.
func openEcho(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	echoOn(t, c, "open\n")
	return c
}

// echoOn sends msg on c and expects it back.
func echoOn(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("echo: %v", err)
	}
}

// TestRuntimeAdminEffects checks that admin commands act on traffic:
// drain keeps established sessions and takes no new ones, a new address
// takes the new sessions, shutdown sessions closes them.
func TestRuntimeAdminEffects(t *testing.T) {
	rs := startRuntime(t)
	cli(t, rs.sock, "disable server be/s2")
	held := openEcho(t, rs.fe) // on s1, the only usable server
	if rs.s1.sessions.Load() != 1 {
		t.Fatalf("first session not on s1")
	}
	cli(t, rs.sock, "enable server be/s2")
	waitStat(t, rs.sock, 3*time.Second, "s2 UP", func(r map[string]statRow) bool { return r["be/s2"]["status"] == "UP" })

	t.Run("drain keeps sessions", func(t *testing.T) {
		cli(t, rs.sock, "set server be/s1 state drain")
		if st := showStat(t, rs.sock)["be/s1"]["status"]; st != "DRAIN" {
			t.Fatalf("s1 status %q, want DRAIN", st)
		}
		echoOn(t, held, "still there\n")
		for i := 0; i < 3; i++ {
			session(t, rs.fe, "d\n")
		}
		if a, b := rs.s1.sessions.Load(), rs.s2.sessions.Load(); a != 1 || b != 3 {
			t.Fatalf("sessions s1=%d s2=%d while s1 drains, want 1 and 3", a, b)
		}
		cli(t, rs.sock, "set server be/s1 state ready")
	})

	t.Run("shutdown sessions", func(t *testing.T) {
		if out := cli(t, rs.sock, "shutdown sessions server be/s1"); out != "\n" {
			t.Fatalf("answer %q", out)
		}
		held.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := held.Read(make([]byte, 16)); err == nil {
			t.Fatal("session on s1 still open after shutdown sessions")
		}
	})

	t.Run("show sess and shutdown session", func(t *testing.T) {
		c := openEcho(t, rs.fe)
		var id string
		for _, l := range strings.Split(cli(t, rs.sock, "show sess"), "\n") {
			if strings.Contains(l, "proto=tcpv4") && strings.Contains(l, " fe=fe be=be srv=s") {
				id, _, _ = strings.Cut(l, ":")
			}
		}
		if id == "" {
			t.Fatal("show sess does not list the session")
		}
		if out := cli(t, rs.sock, "shutdown session "+id); out != "\n" {
			t.Fatalf("shutdown session answered %q", out)
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 16)); err == nil {
			t.Fatal("session still open after shutdown session")
		}
	})

	t.Run("addr", func(t *testing.T) {
		cli(t, rs.sock, "disable server be/s1")
		before := rs.s1.sessions.Load()
		out := cli(t, rs.sock, fmt.Sprintf("set server be/s2 addr 127.0.0.1 port %d", rs.s1.port()))
		if !strings.Contains(out, "changed") {
			t.Fatalf("set server addr answered %q", out)
		}
		session(t, rs.fe, "a\n")
		if rs.s1.sessions.Load() != before+1 {
			t.Fatal("the new session did not go to s2's new address")
		}
	})
}

// TestRuntimeTCPStatsSocketReload reloads a process whose runtime API
// listens on TCP: the new one binds beside the old one (SO_REUSEPORT, as
// haproxy), the old one stops, the new one answers.
func TestRuntimeTCPStatsSocketReload(t *testing.T) {
	dir := t.TempDir()
	s1 := newEcho(t)
	port, apiPort := freePort(t), freePort(t)
	api := fmt.Sprintf("127.0.0.1:%d", apiPort)
	cfg := runtimeConfig(dir, port, sockPath(dir, "api.sock"), [][2]string{{"s1", fmt.Sprint(s1.port())}},
		"stats socket ipv4@"+api+" level admin")
	path := writeFile(t, dir, "rt.cfg", cfg)
	old := startReal(t, dir, "-db", "-f", path)
	tcpCli := func() string {
		c, err := net.DialTimeout("tcp", api, time.Second)
		if err != nil {
			return ""
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte("show info\n"))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	waitFor(t, 5*time.Second, "old process answering on TCP", func() bool {
		return strings.Contains(tcpCli(), fmt.Sprintf("Pid: %d\n", old.cmd.Process.Pid))
	})
	nw := startReal(t, dir, "-db", "-f", path, "-sf", strconv.Itoa(old.cmd.Process.Pid))
	if code := old.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("old process exited %d:\n%s", code, old.stderr.String())
	}
	waitFor(t, 5*time.Second, "new process answering on TCP", func() bool {
		return strings.Contains(tcpCli(), fmt.Sprintf("Pid: %d\n", nw.cmd.Process.Pid))
	})
	nw.signal(t, syscall.SIGTERM)
	if code := nw.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("new process exited %d:\n%s", code, nw.stderr.String())
	}
}

// TestRuntimeStatsSocketBindFailure: a stats socket that cannot be bound
// stops the start with haproxy's alert.
func TestRuntimeStatsSocketBindFailure(t *testing.T) {
	dir := t.TempDir()
	cfg := runtimeConfig(dir, freePort(t), sockPath(dir, "missing/api.sock"), [][2]string{{"s1", "1"}})
	writeFile(t, dir, "rt.cfg", cfg)
	g := runBin(t, dir, goproxyBin, cleanEnv(), "-db", "-f", "rt.cfg")
	want := "[ALERT]    (" // pid varies
	tail := " : Binding [rt.cfg:3] for frontend GLOBAL: cannot bind UNIX socket (No such file or directory) [" +
		sockPath(dir, "missing/api.sock") + "]\n"
	if g.code != 1 || !strings.Contains(g.stderr, tail) || !strings.Contains(g.stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s", g.code, g.stderr)
	}
	hap, err := exec.LookPath("haproxy")
	if err != nil {
		t.Log("SKIP: the comparison with haproxy: haproxy is not on PATH")
	} else {
		h := runBin(t, dir, hap, cleanEnv(), "-db", "-f", "rt.cfg")
		// The closing alert names argv[0] in haproxy; compare the rest.
		binding := func(s string) string {
			var out []string
			for _, l := range strings.Split(warnings(s), "\n") {
				if !strings.Contains(l, "main()]") {
					out = append(out, l)
				}
			}
			return strings.Join(out, "\n")
		}
		if h.code != g.code || binding(h.stderr) != binding(g.stderr) {
			t.Errorf("haproxy (exit %d):\n%s\ngoproxy (exit %d):\n%s", h.code, h.stderr, g.code, g.stderr)
		}
	}
}

// TestRuntimePromexFrontend scrapes the built-in exporter of a promex
// frontend.
func TestRuntimePromexFrontend(t *testing.T) {
	dir := t.TempDir()
	s1 := newEcho(t)
	port, mport := freePort(t), freePort(t)
	cfg := runtimeConfig(dir, port, sockPath(dir, "api.sock"), [][2]string{{"s1", fmt.Sprint(s1.port())}, {"s2", deadPort(t)}}) +
		fmt.Sprintf("frontend prometheus\n    mode http\n    bind 127.0.0.1:%d\n    http-request use-service prometheus-exporter if { path /metrics }\n", mport)
	path := writeFile(t, dir, "rt.cfg", cfg)
	p := startReal(t, dir, "-db", "-f", path)
	waitStat(t, sockPath(dir, "api.sock"), 5*time.Second, "first checks", func(r map[string]statRow) bool {
		return r["be/s2"]["status"] == "DOWN" && r["be/s1"]["check_status"] == "L4OK"
	})
	session(t, fmt.Sprintf("127.0.0.1:%d", port), "prom\n")
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	if err != nil {
		t.Fatalf("scrape: %v\n%s", err, p.stderr.String())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		`haproxy_server_status{proxy="be",server="s1",state="UP"} 1`,
		`haproxy_server_status{proxy="be",server="s2",state="DOWN"} 1`,
		`haproxy_backend_sessions_total{proxy="be"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
	// The exporter's bind counts as a listener, as in haproxy.
	if info := infoFields(cli(t, sockPath(dir, "api.sock"), "show info")); info["Listeners"] != "3" {
		t.Errorf("Listeners = %q, want 3 (frontend, exporter, stats socket)", info["Listeners"])
	}
	resp, err = c.Get(fmt.Sprintf("http://127.0.0.1:%d/other", mport))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/other answered %d, want 503", resp.StatusCode)
	}
}

// TestRuntimeChecksRunDuringSoftStop: after SIGUSR1 the checks go on while
// sessions drain, so a server marked down still ends its sessions
// (on-marked-down shutdown-sessions) and the process can exit.
func TestRuntimeChecksRunDuringSoftStop(t *testing.T) {
	dir := t.TempDir()
	s1 := newEcho(t)
	port := freePort(t)
	sock := sockPath(dir, "api.sock")
	cfg := fmt.Sprintf("global\n    maxconn 100\n    stats socket %s level admin\n"+
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n"+
		"frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n"+
		"backend be\n    server s1 127.0.0.1:%d check inter 100ms fall 1 on-marked-down shutdown-sessions\n",
		sock, port, s1.port())
	p := startReal(t, dir, "-db", "-f", writeFile(t, dir, "rt.cfg", cfg))
	waitStat(t, sock, 5*time.Second, "s1 checked", func(r map[string]statRow) bool {
		return r["be/s1"]["check_status"] == "L4OK"
	})
	held := openEcho(t, fmt.Sprintf("127.0.0.1:%d", port))
	p.signal(t, syscall.SIGUSR1)
	waitFor(t, 3*time.Second, "stats socket closed", func() bool { return !unixDial(sock) })
	echoOn(t, held, "draining\n")
	select {
	case <-p.exited:
		t.Fatal("process exited with a session open")
	case <-time.After(200 * time.Millisecond):
	}
	s1.ln.Close() // checks now fail: s1 goes down and its sessions end
	held.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := held.Read(make([]byte, 16)); err == nil {
		t.Fatal("session still open after its server went down")
	}
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "Server be/s1 is DOWN") {
		t.Errorf("no DOWN line in the log:\n%s", p.stderr.String())
	}
}
