package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"goproxy/internal/dnsmsg"
)

// These tests resolve servers at run time against a real DNS server,
// dnsmasq, started on a free loopback port with records the test changes
// while goproxy (and haproxy, the same assertions) runs.

// dnsmasq is a dnsmasq process serving an addn-hosts file (reread on
// SIGHUP) and a conf file of host-record and srv-host lines (read at
// start only: the test restarts it to change them).
type dnsmasq struct {
	t     *testing.T
	bin   string
	dir   string
	port  int
	hosts string
	conf  string
	cmd   *exec.Cmd
	done  chan struct{}
}

// startDNSMasq starts dnsmasq with hosts (addn-hosts lines) and conf
// (dnsmasq options), or skips the test when dnsmasq is not installed.
func startDNSMasq(t *testing.T, hosts, conf string) *dnsmasq {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/dnsmasq"); err2 != nil {
			t.Skip("SKIP: dnsmasq is not installed (Debian package dnsmasq-base)")
		}
		bin = "/usr/sbin/dnsmasq"
	}
	dir := t.TempDir()
	// dnsmasq drops to its own user: it must read the files.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &dnsmasq{t: t, bin: bin, dir: dir, port: freeDNSPort(t),
		hosts: filepath.Join(dir, "hosts"), conf: filepath.Join(dir, "dnsmasq.conf")}
	d.write(d.hosts, hosts)
	d.write(d.conf, conf)
	d.start()
	return d
}

// freeDNSPort returns a port free for both UDP and TCP on 127.0.0.1
// (dnsmasq listens on both).
func freeDNSPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		c.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

func (d *dnsmasq) write(path, text string) {
	d.t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

func (d *dnsmasq) addr() string { return "127.0.0.1:" + strconv.Itoa(d.port) }

func (d *dnsmasq) start() {
	t := d.t
	t.Helper()
	d.cmd = exec.Command(d.bin, "--no-daemon", "--port", strconv.Itoa(d.port), "--listen-address", "127.0.0.1",
		"--bind-interfaces", "--no-resolv", "--no-hosts", "--addn-hosts", d.hosts, "--conf-file="+d.conf,
		"--pid-file=", "--local-ttl=1")
	out := &syncBuffer{}
	d.cmd.Stdout, d.cmd.Stderr = out, out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("dnsmasq: %v", err)
	}
	d.done = make(chan struct{})
	cmd, done := d.cmd, d.done
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { d.stop() })
	// Ready once it answers a query.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if d.answers() {
			return
		}
		select {
		case <-done:
			t.Fatalf("dnsmasq exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq does not answer on %s: %s", d.addr(), out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answers reports whether dnsmasq answers a query within 200 ms.
func (d *dnsmasq) answers() bool {
	c, err := net.Dial("udp", d.addr())
	if err != nil {
		return false
	}
	defer c.Close()
	q, _ := dnsmsg.Query(7, "ready.test", dnsmsg.TypeA, 512)
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write(q); err != nil {
		return false
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		return false
	}
	m, err := dnsmsg.Parse(buf[:n])
	return err == nil && m.ID == 7
}

func (d *dnsmasq) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
}

// setHosts rewrites the addn-hosts file and has dnsmasq reread it.
func (d *dnsmasq) setHosts(text string) {
	d.t.Helper()
	d.write(d.hosts, text)
	if err := syscall.Kill(d.cmd.Process.Pid, syscall.SIGHUP); err != nil {
		d.t.Fatal(err)
	}
}

// setConf rewrites the conf file and restarts dnsmasq on the same port.
func (d *dnsmasq) setConf(text string) {
	d.t.Helper()
	d.stop()
	d.write(d.conf, text)
	d.start()
}

// resolversCfg is a frontend on listen, a resolvers section on ns with
// fast timers, and a backend of the given server lines.
func resolversCfg(dir, listen, ns string, servers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    stats socket %s level admin\n", filepath.Join(dir, "s.sock"))
	b.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n")
	fmt.Fprintf(&b, "resolvers dns\n    nameserver ns1 %s\n    timeout resolve 100ms\n    timeout retry 100ms\n", ns)
	b.WriteString("    hold valid 100ms\n    hold nx 500ms\n    hold refused 500ms\n    hold other 500ms\n    hold timeout 500ms\n    hold obsolete 300ms\n")
	fmt.Fprintf(&b, "frontend fe\n    bind %s\n    default_backend be\n", listen)
	b.WriteString("backend be\n    balance roundrobin\n")
	for _, s := range servers {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	return b.String()
}

// serverState is one line of "show servers state" by column name.
type serverState map[string]string

func serversState(t *testing.T, sock string) map[string]serverState {
	t.Helper()
	out, err := cliErr(sock, "show servers state be")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) < 2 {
		return nil // not answering yet
	}
	head := strings.Fields(strings.TrimPrefix(lines[1], "# "))
	rows := map[string]serverState{}
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		row := serverState{}
		for i, h := range head {
			if i < len(f) {
				row[h] = f[i]
			}
		}
		rows[row["srv_name"]] = row
	}
	return rows
}

// waitState polls show servers state until cond holds (5 s at most).
func waitState(t *testing.T, sock, what string, cond func(map[string]serverState) bool) map[string]serverState {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if rows := serversState(t, sock); rows != nil && cond(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; show servers state:\n%s", what, cli(t, sock, "show servers state be"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addrs returns the sorted srv_addr of the rows.
func addrs(rows map[string]serverState, names ...string) string {
	var out []string
	for _, n := range names {
		out = append(out, rows[n]["srv_addr"])
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// listenSame starts a backend on ip at the port of another one.
func listenSame(t *testing.T, name, ip string, port int) *nameServer {
	t.Helper()
	return startNameServer(t, name, net.JoinHostPort(ip, strconv.Itoa(port)))
}

func TestE2EResolversFollowARecords(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		b1 := startNameServer(t, "b1", "127.0.0.31:0")
		port := b1.ln.Addr().(*net.TCPAddr).Port
		listenSame(t, "b2", "127.0.0.32", port)
		listenSame(t, "b3", "127.0.0.33", port)
		d := startDNSMasq(t, "127.0.0.31 web.test\n127.0.0.32 web.test\n", "")
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		listen := loopAddr(t)
		p := startServing(t, bin, resolversCfg(dir, listen, d.addr(),
			fmt.Sprintf("server-template w 3 web.test:%d resolvers dns resolve-prefer ipv4 init-addr none", port)), listen)

		// Two records for three servers: one address each, the third
		// server in resolution maintenance.
		rows := waitState(t, sock, "two servers resolved", func(r map[string]serverState) bool {
			return addrs(r, "w1", "w2", "w3") == "- 127.0.0.31 127.0.0.32"
		})
		var spare, kept, moved string
		for _, n := range []string{"w1", "w2", "w3"} {
			switch rows[n]["srv_addr"] {
			case "-":
				spare = n
			case "127.0.0.31":
				kept = n
			case "127.0.0.32":
				moved = n
			}
			if rows[n]["srv_fqdn"] != "web.test" || rows[n]["srv_port"] != strconv.Itoa(port) {
				t.Errorf("%s: fqdn %s port %s", n, rows[n]["srv_fqdn"], rows[n]["srv_port"])
			}
		}
		if r := rows[spare]; r["srv_op_state"] != "0" || r["srv_admin_state"] != "32" {
			t.Errorf("spare server %s: op %s admin %s, want 0 32 (resolution maintenance)", spare, r["srv_op_state"], r["srv_admin_state"])
		}
		st := showStat(t, sock)
		if s := st["be/"+spare]["status"]; s != "MAINT (resolution)" {
			t.Errorf("show stat status of %s = %q", spare, s)
		}
		if s := st["be/"+kept]["status"]; s != "no check" {
			t.Errorf("show stat status of %s = %q", kept, s)
		}
		names := counts(askN(t, listen, "127.0.0.2", 4))
		if names["b1"] != 2 || names["b2"] != 2 {
			t.Errorf("traffic over the resolved servers: %v", names)
		}
		stotKept := showStat(t, sock)["be/"+kept]["stot"]

		// .32 becomes .33: a server takes the new record with no reload
		// (the spare one at once, as HAProxy), the one that had .32 loses
		// it after hold obsolete; the server of .31 keeps its address,
		// state and counters.
		d.setHosts("127.0.0.31 web.test\n127.0.0.33 web.test\n")
		rows = waitState(t, sock, "the new record used, the old one dropped", func(r map[string]serverState) bool {
			return addrs(r, "w1", "w2", "w3") == "- 127.0.0.31 127.0.0.33"
		})
		if rows[kept]["srv_addr"] != "127.0.0.31" || rows[kept]["srv_op_state"] != "2" {
			t.Errorf("%s changed: %v", kept, rows[kept])
		}
		if got := showStat(t, sock)["be/"+kept]["stot"]; got != stotKept {
			t.Errorf("stot of %s went from %s to %s without traffic", kept, stotKept, got)
		}
		if r := rows[moved]; r["srv_addr"] != "-" && r["srv_addr"] != "127.0.0.33" {
			t.Errorf("%s kept the removed address: %v", moved, r)
		}
		names = counts(askN(t, listen, "127.0.0.2", 4))
		if names["b1"] != 2 || names["b3"] != 2 || names["b2"] != 0 {
			t.Errorf("traffic after the change: %v", names)
		}
		waitOutput(t, p, regexp.MustCompile(`be/w\d changed its IP from \S+ to 127\.0\.0\.33 by (dns/ns1|DNS cache)\.`))
		var onNew string
		for _, n := range []string{"w1", "w2", "w3"} {
			if rows[n]["srv_addr"] == "127.0.0.33" {
				onNew = n
			}
		}

		// The record of .31 disappears: after hold obsolete its server
		// goes into resolution maintenance.
		d.setHosts("127.0.0.33 web.test\n")
		rows = waitState(t, sock, "the removed record's server in maintenance", func(r map[string]serverState) bool {
			return r[kept]["srv_admin_state"] == "32" && r[kept]["srv_addr"] == "-"
		})
		if rows[onNew]["srv_addr"] != "127.0.0.33" || rows[onNew]["srv_op_state"] != "2" {
			t.Errorf("%s lost its address: %v", onNew, rows[onNew])
		}
		waitOutput(t, p, regexp.MustCompile(`Server be/`+kept+` is going DOWN for maintenance \(No IP for server \)\.`))
		if s := showStat(t, sock)["be/"+kept]["status"]; s != "MAINT (resolution)" {
			t.Errorf("status of %s after its record went: %q", kept, s)
		}
		names = counts(askN(t, listen, "127.0.0.2", 3))
		if names["b3"] != 3 {
			t.Errorf("traffic after the removal: %v", names)
		}

		// The record comes back: the server resolves again.
		d.setHosts("127.0.0.33 web.test\n127.0.0.31 web.test\n")
		waitState(t, sock, "the server back", func(r map[string]serverState) bool {
			return addrs(r, "w1", "w2", "w3") == "- 127.0.0.31 127.0.0.33"
		})
		waitOutput(t, p, regexp.MustCompile(`Server be/w\d \('web\.test'\) is UP/READY \(resolves again\)\.`))
	})
}

func TestE2EResolversSRVRecords(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		h1 := startNameServer(t, "h1", "127.0.0.41:0")
		h2 := startNameServer(t, "h2", "127.0.0.42:0")
		p1, p2 := h1.ln.Addr().(*net.TCPAddr).Port, h2.ln.Addr().(*net.TCPAddr).Port
		conf := func(both bool) string {
			c := fmt.Sprintf("host-record=h1.svc.test,127.0.0.41\nhost-record=h2.svc.test,127.0.0.42\nsrv-host=_app._tcp.svc.test,h1.svc.test,%d,0,256\n", p1)
			if both {
				c += fmt.Sprintf("srv-host=_app._tcp.svc.test,h2.svc.test,%d,0,512\n", p2)
			}
			return c
		}
		d := startDNSMasq(t, "", conf(true))
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		listen := loopAddr(t)
		p := startServing(t, bin, resolversCfg(dir, listen, d.addr(),
			"server-template s 3 _app._tcp.svc.test resolvers dns resolve-prefer ipv4 init-addr none"), listen)

		byTarget := func(r map[string]serverState, fqdn string) serverState {
			for _, row := range r {
				if row["srv_fqdn"] == fqdn {
					return row
				}
			}
			return nil
		}
		rows := waitState(t, sock, "both SRV records used", func(r map[string]serverState) bool {
			return byTarget(r, "h1.svc.test") != nil && byTarget(r, "h2.svc.test") != nil &&
				byTarget(r, "h1.svc.test")["srv_addr"] == "127.0.0.41" && byTarget(r, "h2.svc.test")["srv_addr"] == "127.0.0.42"
		})
		r1, r2 := byTarget(rows, "h1.svc.test"), byTarget(rows, "h2.svc.test")
		// Port from the record, weight (w+255)/256 from the SRV weight.
		if r1["srv_port"] != strconv.Itoa(p1) || r2["srv_port"] != strconv.Itoa(p2) {
			t.Errorf("ports: %s %s, want %d %d", r1["srv_port"], r2["srv_port"], p1, p2)
		}
		if r1["srv_uweight"] != "1" || r2["srv_uweight"] != "2" {
			t.Errorf("weights: %s %s, want 1 2", r1["srv_uweight"], r2["srv_uweight"])
		}
		for _, row := range rows {
			if row["srvrecord"] != "_app._tcp.svc.test" {
				t.Errorf("%s: srvrecord %q", row["srv_name"], row["srvrecord"])
			}
			if row["srv_fqdn"] == "-" && (row["srv_admin_state"] != "32" || row["srv_port"] != "0" || row["srv_addr"] != "-") {
				t.Errorf("spare server %s: %v", row["srv_name"], row)
			}
		}
		names := counts(askN(t, listen, "127.0.0.2", 6))
		if names["h1"] == 0 || names["h2"] == 0 || names["h1"]+names["h2"] != 6 {
			t.Errorf("traffic over the SRV targets: %v", names)
		}

		// The h2 record disappears: its server goes into maintenance.
		gone := r2["srv_name"]
		d.setConf(conf(false))
		waitState(t, sock, "the removed SRV record's server in maintenance", func(r map[string]serverState) bool {
			return r[gone]["srv_admin_state"] == "32" || r[gone]["srv_admin_state"] == "96"
		})
		waitOutput(t, p, regexp.MustCompile(`Server be/`+gone+` is going DOWN for maintenance \(entry removed from SRV record\)\.`))
		names = counts(askN(t, listen, "127.0.0.2", 3))
		if names["h1"] != 3 {
			t.Errorf("traffic after the removal: %v", names)
		}
	})
}

func TestE2EResolversCLI(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		a := startNameServer(t, "a", "127.0.0.51:0")
		port := a.ln.Addr().(*net.TCPAddr).Port
		listenSame(t, "b", "127.0.0.52", port)
		d := startDNSMasq(t, "127.0.0.51 a.test\n127.0.0.52 b.test\n", "")
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		listen := loopAddr(t)
		startServing(t, bin, resolversCfg(dir, listen, d.addr(),
			fmt.Sprintf("server s1 a.test:%d resolvers dns resolve-prefer ipv4 init-addr none", port),
			fmt.Sprintf("server s2 127.0.0.51:%d", port)), listen)
		waitState(t, sock, "s1 resolved", func(r map[string]serverState) bool { return r["s1"]["srv_addr"] == "127.0.0.51" })

		if got, want := strings.TrimSuffix(cli(t, sock, "set server be/s1 fqdn b.test"), "\n"), "be/s1 changed its FQDN from a.test to b.test by 'stats socket command'\n"; got != want {
			t.Errorf("set server fqdn: %q, want %q", got, want)
		}
		rows := waitState(t, sock, "s1 on the new name", func(r map[string]serverState) bool { return r["s1"]["srv_addr"] == "127.0.0.52" })
		if rows["s1"]["srv_fqdn"] != "b.test" || rows["s1"]["srv_admin_state"] != "0" {
			t.Errorf("s1 after set server fqdn: fqdn %s admin %s", rows["s1"]["srv_fqdn"], rows["s1"]["srv_admin_state"])
		}
		if got := strings.TrimSuffix(cli(t, sock, "set server be/s2 fqdn b.test"), "\n"); got != "set server <b>/<s> fqdn failed because no resolution is configured.\n" {
			t.Errorf("set server fqdn without resolvers: %q", got)
		}
		if got := strings.TrimSuffix(cli(t, sock, "set server be/s1 fqdn"), "\n"); got != "set server <b>/<s> fqdn requires a FQDN.\n" {
			t.Errorf("set server fqdn without a name: %q", got)
		}

		out := strings.TrimSuffix(cli(t, sock, "show resolvers dns"), "\n")
		re := regexp.MustCompile(`^Resolvers section dns\n nameserver ns1:\n  sent:        (\d+)\n  snd_error:   0\n  valid:       (\d+)\n  update:      (\d+)\n  cname:       0\n  cname_error: 0\n  any_err:     0\n  nx:          \d+\n  timeout:     0\n  refused:     \d+\n  other:       0\n  invalid:     0\n  too_big:     0\n  truncated:   0\n  outdated:    0\n$`)
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("show resolvers dns:\n%s", out)
		}
		if sent, _ := strconv.Atoi(m[1]); sent < 2 {
			t.Errorf("sent %s", m[1])
		}
		if up, _ := strconv.Atoi(m[3]); up < 2 {
			t.Errorf("update %s, want at least the two address changes", m[3])
		}
		if got := strings.TrimSuffix(cli(t, sock, "show resolvers nope"), "\n"); got != "Can't find that resolvers section\n" {
			t.Errorf("show resolvers nope: %q", got)
		}
		if all := cli(t, sock, "show resolvers"); !strings.HasPrefix(all, "Resolvers section dns\n") || !strings.Contains(all, "Resolvers section default\n") {
			t.Errorf("show resolvers:\n%s", all)
		}
	})
}

// waitOutput waits up to 5 s for re in the process's output.
func waitOutput(t *testing.T, p *e2eProc, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !re.MatchString(p.out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no line matching %s in the output:\n%s", re, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2EResolversInitAddrNone compares the start of servers without an
// address, with and without runtime resolution, line for line with what
// haproxy shows: all in resolution maintenance, no address, the FQDN or
// the SRV record kept.
func TestE2EResolversInitAddrNone(t *testing.T) {
	dead := fmt.Sprintf("127.0.0.1:%d", freeDNSPort(t)) // nobody answers there
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		listen := loopAddr(t)
		startServing(t, bin, resolversCfg(dir, listen, dead,
			"server s1 www.example.invalid:80 init-addr none",
			"server s2 www.example.invalid:80 resolvers dns init-addr none",
			"server-template t 2 _x._tcp.example.invalid resolvers dns init-addr none",
			"server s3 www.example.invalid:80 init-addr 192.0.2.7"), listen)
		var rows map[string]serverState
		waitState(t, sock, "the servers", func(r map[string]serverState) bool { rows = r; return len(r) == 5 })
		want := map[string]string{
			"s1": "- 0 32 www.example.invalid 80 -",
			"s2": "- 0 32 www.example.invalid 80 -",
			"t1": "- 0 32 - 0 _x._tcp.example.invalid",
			"t2": "- 0 32 - 0 _x._tcp.example.invalid",
			"s3": "192.0.2.7 2 0 www.example.invalid 80 -",
		}
		for name, w := range want {
			r := rows[name]
			got := strings.Join([]string{r["srv_addr"], r["srv_op_state"], r["srv_admin_state"], r["srv_fqdn"], r["srv_port"], r["srvrecord"]}, " ")
			if got != w {
				t.Errorf("%s: %s, want %s", name, got, w)
			}
		}
		st := showStat(t, sock)
		for _, n := range []string{"s1", "s2", "t1", "t2"} {
			if s := st["be/"+n]["status"]; s != "MAINT (resolution)" {
				t.Errorf("%s status %q", n, s)
			}
		}
		if s := st["be/s3"]["status"]; s != "no check" {
			t.Errorf("s3 status %q", s)
		}
	})
}
