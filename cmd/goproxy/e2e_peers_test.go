package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peersNode is one process of a peers test: its frontend, its stats
// socket and its name among the peers.
type peersNode struct {
	name, bin, fe, sock string
	port                int
	proc                *e2eProc
}

// peersCfg is a node's configuration: a peers section naming both nodes
// (the other one first, so that "show peers" lists the remote peer first
// on either side), a frontend tracking the source in the backend's
// table, a backend sticking on it.
func peersCfg(me, other *peersNode, servers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    stats socket %s level admin\n", me.sock)
	b.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n")
	fmt.Fprintf(&b, "peers mesh\n    peer %s 127.0.0.1:%d\n    peer %s 127.0.0.1:%d\n", other.name, other.port, me.name, me.port)
	b.WriteString("    table names type string len 16 size 1k expire 1h store gpc0,gpt0,bytes_in_cnt,sess_rate(5s)\n")
	b.WriteString("    table nums type integer size 1k store server_id\n")
	fmt.Fprintf(&b, "frontend fe\n    bind %s\n    tcp-request connection track-sc0 src table be\n    default_backend be\n", me.fe)
	b.WriteString("backend be\n    balance roundrobin\n")
	b.WriteString("    stick-table type ip size 1k expire 10m peers mesh store conn_cnt,conn_rate(10s),server_id,gpc0\n")
	b.WriteString("    stick on src\n")
	for _, s := range servers {
		b.WriteString("    " + s + "\n")
	}
	return b.String()
}

// tableRow is what a "show table" line says of a key that both sides
// must agree on.
var tableRowRe = regexp.MustCompile(`key=(\S+) .*server_id=(\d+) .*conn_cnt=(\d+)`)

// tableRows returns "key server_id conn_cnt" for each entry, sorted.
func tableRows(out string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if m := tableRowRe.FindStringSubmatch(l); m != nil {
			rows = append(rows, m[1]+" server_id="+m[2]+" conn_cnt="+m[3])
		}
	}
	sort.Strings(rows)
	return rows
}

// waitSameTable waits up to 10 s for b's table to hold what a's holds
// and returns how long it took.
func waitSameTable(t *testing.T, a, b *peersNode, wantRows int) time.Duration {
	t.Helper()
	start := time.Now()
	var ra, rb []string
	for time.Since(start) < 10*time.Second {
		ra, rb = tableRows(cli(t, a.sock, "show table be")), tableRows(cli(t, b.sock, "show table be"))
		if len(ra) == wantRows && strings.Join(ra, "\n") == strings.Join(rb, "\n") {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("after 10 s, %s's table:\n%s\n%s's table:\n%s", a.name, strings.Join(ra, "\n"), b.name, strings.Join(rb, "\n"))
	return 0
}

// showPeersMasks turn "show peers" into what two peers of one another
// must agree on: pointers, dates, timers, counters, names and addresses
// masked, the accepted side's connection line dropped.
var showPeersMasks = []struct {
	re  *regexp.Regexp
	rep string
}{
	{regexp.MustCompile(`(?m)^ *xprt=.*\n`), ""},
	{regexp.MustCompile(`0x[0-9a-f]{6,}`), "PTR"},
	{regexp.MustCompile(`\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\]`), "[DATE]"},
	{regexp.MustCompile(`\b(resync_timeout|last_hdshk|reconnect|heartbeat)=\S+`), "$1=T"},
	{regexp.MustCompile(`\b(task_calls|tx_hbt|rx_hbt|no_hbt|new_conn|coll|flags|last_acked|last_pushed|last_get|teaching_origin|update|localupdate|commitupdate|confirm)=\S+`), "$1=N"},
	{regexp.MustCompile(`\bid=\w+\((local|remote)`), "id=NAME($1"},
	{regexp.MustCompile(`addr=127\.0\.0\.1:\d+`), "addr=ADDR"},
}

// samePeers polls cmd on both nodes for up to 10 s (a heartbeat or an
// ack may land between the two answers) until the masked answers agree,
// and returns goproxy's.
func samePeers(t *testing.T, gp, hp *peersNode, cmd string) string {
	t.Helper()
	var mg, mh string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mg, mh = maskShowPeers(cli(t, gp.sock, cmd)), maskShowPeers(cli(t, hp.sock, cmd))
		if mg == mh {
			return mg
		}
	}
	t.Errorf("%s differs once masked\n--- goproxy\n%s--- haproxy\n%s", cmd, mg, mh)
	return mg
}

func maskShowPeers(s string) string {
	for _, m := range showPeersMasks {
		s = m.re.ReplaceAllString(s, m.rep)
	}
	return s
}

// TestE2EPeersHAProxy declares a goproxy and an haproxy peers of each
// other: clients through goproxy make entries (server_id, conn_cnt) that
// haproxy's "show table" shows within the sync delay, and the other way
// round; a client that goproxy stuck to a server is sent to the same one
// by haproxy; "show peers" says the same on both sides once masked.
func TestE2EPeersHAProxy(t *testing.T) {
	hap, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH: the peers differential needs it")
	}
	ss := nameServers(t, 3)
	var servers []string
	for i, s := range ss {
		servers = append(servers, fmt.Sprintf("server s%d %s", i+1, s.addr()))
	}
	dir := t.TempDir()
	gp := &peersNode{name: "gp", bin: goproxyBin, fe: loopAddr(t), sock: filepath.Join(dir, "gp.sock"), port: freePort(t)}
	hp := &peersNode{name: "hap", bin: hap, fe: loopAddr(t), sock: filepath.Join(dir, "hap.sock"), port: freePort(t)}
	cfgs := map[*peersNode]string{}
	start := func(n *peersNode) {
		n.proc = startBin(t, n.bin, cfgs[n], "-L", n.name)
		waitSocket(t, n.sock)
		for deadline := time.Now().Add(5 * time.Second); !portListening(t, n.fe); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s does not listen on %s:\n%s", n.name, n.fe, n.proc.out.String())
			}
		}
	}
	for _, n := range []*peersNode{gp, hp} {
		other := hp
		if n == hp {
			other = gp
		}
		cfgs[n] = writeFile(t, dir, n.name+".cfg", peersCfg(n, other, servers))
		start(n)
	}
	var worst time.Duration
	rows := 0
	for round, dir := range [][2]*peersNode{{gp, hp}, {hp, gp}, {gp, hp}} {
		from, to := dir[0], dir[1]
		for i := 0; i < 4; i++ {
			ip := srcIP(round*10 + i)
			for j := 0; j <= i; j++ {
				if _, err := ask(ip, from.fe); err != nil {
					t.Fatalf("client %s through %s: %v", ip, from.name, err)
				}
			}
		}
		rows += 4
		d := waitSameTable(t, from, to, rows)
		worst = max(worst, d)
		t.Logf("round %d: %s's entries on %s after %v", round, from.name, to.name, d.Round(time.Millisecond))
	}
	// The tables of the peers section, with string and integer keys and
	// 32- and 64-bit counters and a rate, set on either side.
	cli(t, gp.sock, "set table mesh/names key alice data.gpc0 5 data.gpt0 7 data.bytes_in_cnt 123456789012 data.sess_rate 4;set table mesh/nums key 42 data.server_id 9")
	cli(t, hp.sock, "set table mesh/names key bob data.gpc0 1;set table mesh/nums key 4000000000 data.server_id 2")
	strip := regexp.MustCompile(`(?m)^0x[0-9a-f]+: (key=\S+) use=\d+ exp=\d+ `)
	for _, tbl := range []string{"mesh/names", "mesh/nums"} {
		var g, h string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			g = strip.ReplaceAllString(cli(t, gp.sock, "show table "+tbl), "$1 ")
			h = strip.ReplaceAllString(cli(t, hp.sock, "show table "+tbl), "$1 ")
			if g == h && strings.Contains(g, "used:2") {
				break
			}
		}
		if g != h || !strings.Contains(g, "used:2") {
			t.Errorf("show table %s\n--- goproxy\n%s--- haproxy\n%s", tbl, g, h)
		}
	}
	// Stickiness across the pair: the client goproxy sent somewhere goes
	// to the same server through haproxy, and the other way.
	for _, c := range []struct {
		ip       string
		src, dst *peersNode
	}{{srcIP(3), gp, hp}, {srcIP(13), hp, gp}} {
		first, err := ask(c.ip, c.src.fe)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			got, err := ask(c.ip, c.dst.fe)
			if err != nil || got != first {
				t.Errorf("client %s: %s through %s, %q (%v) through %s", c.ip, first, c.src.name, got, err, c.dst.name)
			}
		}
	}
	t.Logf("sync delay: at most %v over 3 rounds of 4 new keys", worst.Round(time.Millisecond))
	// show peers: the same lines once masked (polled: a heartbeat or an
	// ack may land between the two answers).
	mg := samePeers(t, gp, hp, "show peers")
	for _, want := range []string{"id=mesh disabled=0", "(remote,active)", "last_status=ESTA", "remote_data=0x80035", "state=EST"} {
		if !strings.Contains(mg, want) {
			t.Errorf("goproxy's show peers lacks %q:\n%s", want, mg)
		}
	}
	infoPeers := func(sock string) string {
		var out []string
		for _, l := range strings.Split(cli(t, sock, "show info"), "\n") {
			if strings.HasPrefix(l, "ActivePeers:") || strings.HasPrefix(l, "ConnectedPeers:") {
				out = append(out, l)
			}
		}
		return strings.Join(out, ", ")
	}
	if g, h := infoPeers(gp.sock), infoPeers(hp.sock); g != h || g != "ActivePeers: 1, ConnectedPeers: 1" {
		t.Errorf("show info: goproxy %q, haproxy %q", g, h)
	}
	for _, cmd := range []string{"show peers nope", "show peers dict nope", "show peers - nope"} {
		if g, h := cli(t, gp.sock, cmd), cli(t, hp.sock, cmd); g != h {
			t.Errorf("%s: goproxy %q, haproxy %q", cmd, g, h)
		}
	}
	samePeers(t, gp, hp, "show peers dict")
	samePeers(t, gp, hp, "show peers - mesh")
	// Each side restarted learns the whole table from the other (the
	// resync a starting process asks of a remote peer).
	for _, n := range []*peersNode{hp, gp} {
		other := gp
		if n == gp {
			other = hp
		}
		n.proc.cmd.Process.Kill()
		n.proc.waitExit(t, 5*time.Second)
		start(n)
		d := waitSameTable(t, other, n, rows)
		t.Logf("%s restarted: the %d entries learnt from %s %v after its start", n.name, rows, other.name, d.Round(time.Millisecond))
	}
}

// TestE2EPeersReloadKeepsTable reloads a goproxy whose table has a peers
// section (its local peer only): at "-sf" the old process teaches its
// entries to the new one before it exits, so the new process keeps every
// key with its server and counters, and sticks the clients as before.
// Without the peers section the same reload starts with an empty table.
func TestE2EPeersReloadKeepsTable(t *testing.T) {
	ss := nameServers(t, 3)
	type chain struct {
		name      string
		withPeers bool
		bins      []string // the first process, then each reload's
	}
	chains := []chain{{"peers", true, []string{goproxyBin, goproxyBin}}, {"no-peers", false, []string{goproxyBin, goproxyBin}}}
	if h, err := exec.LookPath("haproxy"); err == nil {
		// haproxy -> goproxy -> haproxy: each old process teaches the
		// new one, whichever they are.
		chains = append(chains, chain{"migration", true, []string{h, goproxyBin, h}})
	} else {
		t.Log("SKIP: the reloads to and from haproxy: haproxy is not on PATH")
	}
	for _, ch := range chains {
		withPeers := ch.withPeers
		t.Run(ch.name, func(t *testing.T) {
			dir := t.TempDir()
			sock := filepath.Join(dir, "stats.sock")
			fe := loopAddr(t)
			var b strings.Builder
			fmt.Fprintf(&b, "global\n    stats socket %s level admin expose-fd listeners\n", sock)
			b.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n")
			peers := ""
			if withPeers {
				fmt.Fprintf(&b, "peers local\n    peer me 127.0.0.1:%d\n", freePort(t))
				peers = " peers local"
			}
			fmt.Fprintf(&b, "frontend fe\n    bind %s\n    tcp-request connection track-sc0 src table be\n    default_backend be\n", fe)
			b.WriteString("backend be\n    balance roundrobin\n")
			b.WriteString("    stick-table type ip size 1k expire 10m" + peers + " store conn_cnt,server_id,gpc0\n    stick on src\n")
			for i, s := range ss {
				fmt.Fprintf(&b, "    server s%d %s\n", i+1, s.addr())
			}
			cfg := writeFile(t, dir, "reload.cfg", b.String())
			old := startBin(t, ch.bins[0], cfg, "-L", "me")
			waitSocket(t, sock)
			for deadline := time.Now().Add(5 * time.Second); !portListening(t, fe); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("goproxy does not listen:\n%s", old.out.String())
				}
			}
			const n = 30
			first := map[string]string{}
			for i := 0; i < n; i++ {
				ip := srcIP(i)
				name, err := ask(ip, fe)
				if err != nil {
					t.Fatal(err)
				}
				first[ip] = name
			}
			before := tableRows(cli(t, sock, "show table be"))
			if len(before) != n {
				t.Fatalf("%d entries before the reload, want %d", len(before), n)
			}
			var after []string
			var took time.Duration
			oldBin := ch.bins[0]
			for i, bin := range ch.bins[1:] {
				if oldBin != goproxyBin {
					// An haproxy 2.6 that started alone teaches a new
					// process only once its own resync is over (its 5 s
					// resync timeout).
					time.Sleep(5500 * time.Millisecond)
				}
				oldBin = bin
				start := time.Now()
				nu := startBin(t, bin, cfg, "-L", "me", "-x", sock, "-sf", strconv.Itoa(old.pid()))
				if code := old.waitExit(t, 15*time.Second); code != 0 {
					t.Fatalf("step %d: the old process exited %d:\n%s", i, code, old.out.String())
				}
				took = max(took, time.Since(start))
				if !nu.running() {
					t.Fatalf("step %d: the new process is gone:\n%s", i, nu.out.String())
				}
				waitSocket(t, sock)
				after = tableRows(cli(t, sock, "show table be"))
				if withPeers && strings.Join(after, "\n") != strings.Join(before, "\n") {
					t.Fatalf("step %d (%s): the new process's table differs:\n--- before\n%s\n--- after\n%s", i, filepath.Base(bin),
						strings.Join(before, "\n"), strings.Join(after, "\n"))
				}
				old = nu
			}
			if !withPeers {
				if len(after) != 0 {
					t.Fatalf("without peers the new table has %d entries: the test shows nothing", len(after))
				}
				return
			}
			t.Logf("%s: %d reloads with %d entries: each old process exited within %v", ch.name, len(ch.bins)-1, n, took.Round(time.Millisecond))
			if strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Fatalf("the new process's table differs:\n--- before\n%s\n--- after\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
			}
			for ip, name := range first {
				if got, err := ask(ip, fe); err != nil || got != name {
					t.Errorf("client %s: %s before the reload, %q (%v) after", ip, name, got, err)
				}
			}
			if out := cli(t, sock, "show peers"); !strings.Contains(out, "id=me(local,inactive)") {
				t.Errorf("show peers after the reload:\n%s", out)
			}
		})
	}
}

// TestE2EPeersPushRate creates 20,000 entries on goproxy with "set table"
// and measures how fast they reach haproxy, its peer: every one must
// arrive, with its server_id, within 30 s.
func TestE2EPeersPushRate(t *testing.T) {
	hap, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH: the push rate is measured against it")
	}
	ss := nameServers(t, 1)
	servers := []string{"server s1 " + ss[0].addr()}
	dir := t.TempDir()
	gp := &peersNode{name: "gp", bin: goproxyBin, fe: loopAddr(t), sock: filepath.Join(dir, "gp.sock"), port: freePort(t)}
	hp := &peersNode{name: "hap", bin: hap, fe: loopAddr(t), sock: filepath.Join(dir, "hap.sock"), port: freePort(t)}
	cfgs := map[*peersNode]string{}
	for _, n := range []*peersNode{gp, hp} {
		other := hp
		if n == hp {
			other = gp
		}
		cfgs[n] = writeFile(t, dir, n.name+".cfg", strings.Replace(peersCfg(n, other, servers), "stick-table type ip size 1k", "stick-table type ip size 100k", 1))
		n.proc = startBin(t, n.bin, cfgs[n], "-L", n.name)
		waitSocket(t, n.sock)
	}
	// Wait for the session: show peers says ESTA on both sides.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(cli(t, gp.sock, "show peers"), "(remote,active) addr=127.0.0.1:"+strconv.Itoa(hp.port)+" last_status=ESTA") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session between the peers:\n%s", cli(t, gp.sock, "show peers"))
		}
	}
	for round, dir := range [][2]*peersNode{{gp, hp}, {hp, gp}} {
		pushRate(t, dir[0], dir[1], round)
	}
	// haproxy restarted learns the 40,000 entries from goproxy: the
	// full resync, sent in parts.
	hp.proc.cmd.Process.Kill()
	hp.proc.waitExit(t, 5*time.Second)
	start := time.Now()
	hp.proc = startBin(t, hap, cfgs[hp], "-L", hp.name)
	waitSocket(t, hp.sock)
	re := regexp.MustCompile(`# table: be, .*used:(\d+)`)
	for deadline := start.Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		m := re.FindStringSubmatch(cli(t, hp.sock, "show table"))
		if m != nil && m[1] == "40000" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy restarted has %v entries after 30 s, want 40000", m)
		}
	}
	d := time.Since(start)
	t.Logf("haproxy restarted: 40000 entries learnt from goproxy %v after its start (%.0f entries/s)", d.Round(time.Millisecond), 40000/d.Seconds())
}

// pushRate makes 20,000 entries on from with "set table" and waits for
// them on to.
func pushRate(t *testing.T, from, to *peersNode, round int) {
	const n, batch = 20000, 200
	start := time.Now()
	for i := 0; i < n; i += batch {
		var cmds []string
		for j := i; j < i+batch; j++ {
			cmds = append(cmds, fmt.Sprintf("set table be key 10.%d.%d.%d data.server_id 1", round+1, j>>8&255, j&255))
		}
		cli(t, from.sock, strings.Join(cmds, ";"))
	}
	made := time.Since(start)
	usedRe := regexp.MustCompile(`# table: be, .*used:(\d+)`)
	used := func(sock string) int {
		m := usedRe.FindStringSubmatch(cli(t, sock, "show table"))
		if m == nil {
			return -1
		}
		v, _ := strconv.Atoi(m[1])
		return v
	}
	if got := used(from.sock); got != n*(round+1) {
		t.Fatalf("%s's table has %d entries, want %d", from.name, got, n)
	}
	for deadline := start.Add(30 * time.Second); used(to.sock) < n*(round+1); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d of the %d entries after 30 s", to.name, used(to.sock), n*(round+1))
		}
	}
	took := time.Since(start)
	t.Logf("%d entries made in %v on %s, all on %s after %v: %.0f entries/s", n, made.Round(time.Millisecond), from.name, to.name,
		took.Round(time.Millisecond), float64(n)/took.Seconds())
	out := cli(t, to.sock, fmt.Sprintf("show table be key 10.%d.78.31", round+1))
	if !strings.Contains(out, "server_id=1") {
		t.Errorf("an entry on %s: %q", to.name, out)
	}
}
