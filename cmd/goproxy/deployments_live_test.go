package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"goproxy/internal/fakesrv"
)

// The live half of the deployments corpus: each file of
// testdata/deployments runs on goproxy and, where installed, on haproxy,
// rewritten by liveConfig so that every address is a loopback port picked
// now, in front of the same fake backends (internal/fakesrv); both must
// show the same servers UP and DOWN in "show stat" (status and
// check_status) and spread the same connections over the same servers.

// liveNode is the fake behind one address of a corpus file.
type liveNode struct {
	proto  fakesrv.Proto
	refuse bool // nothing listens: connections are refused
}

func up(p fakesrv.Proto) liveNode { return liveNode{proto: p} }

var refused = liveNode{refuse: true}

// liveKind is one deployment of the corpus, live.
type liveKind struct {
	file string
	// nodes maps each "host:port" the file names (server addresses, and
	// host:N for "check port N") to its fake.
	nodes map[string]liveNode
	// down are the "proxy/server" expected DOWN; the others are expected UP.
	down []string
	// conns connections go through each bind, from distinct sources,
	// all held open until the last one is answered (leastconn sees them).
	conns int
	// want is the expected number of sessions per "proxy/server" (those
	// not listed: none), as haproxy distributes them.
	want map[string]int
	// priv: the file drops privileges (user, group, chroot).
	priv bool
	// statsPage is the HTTP statistics listener: no traffic goes through
	// it; its ";csv" export must list the servers.
	statsPage string
}

func liveKinds(t *testing.T) []liveKind {
	cert, _ := fakesrv.SelfSignedCert(t)
	plain := up(fakesrv.Plain())
	tlsOnly := up(fakesrv.OverTLS(fakesrv.Plain(), &cert))
	httpsStatus := func(code int) liveNode { return up(fakesrv.OverTLS(fakesrv.Status(code), &cert)) }
	patroni := func(primary bool) liveNode {
		p, r := 200, 503
		if !primary {
			p, r = r, p
		}
		return up(fakesrv.ByPath(map[string]int{"/primary": p, "/replica": r}))
	}
	debian := map[string]liveNode{"127.0.0.1:15001": plain}
	rhel := map[string]liveNode{"127.0.0.1:5001": plain, "127.0.0.1:5002": plain, "127.0.0.1:5003": plain, "127.0.0.1:5004": refused}
	return []liveKind{
		{file: "debian-default-nopriv.cfg", nodes: debian, conns: 4, want: map[string]int{"be_tcp/app1": 4}},
		{file: "debian-default.cfg", priv: true, nodes: debian, conns: 4, want: map[string]int{"be_tcp/app1": 4}},
		{file: "rhel-default-nopriv.cfg", nodes: rhel, down: []string{"app/app4"}, conns: 6,
			want: map[string]int{"app/app1": 2, "app/app2": 2, "app/app3": 2}},
		{file: "rhel-default.cfg", priv: true, nodes: rhel, down: []string{"app/app4"}, conns: 6,
			want: map[string]int{"app/app1": 2, "app/app2": 2, "app/app3": 2}},
		{file: "k8s-kubeadm.cfg", nodes: map[string]liveNode{
			"192.168.10.11:6443": httpsStatus(200), "192.168.10.12:6443": httpsStatus(200), "192.168.10.13:6443": httpsStatus(503),
		}, down: []string{"apiserverbackend/cp3"}, conns: 4,
			want: map[string]int{"apiserverbackend/cp1": 2, "apiserverbackend/cp2": 2}},
		{file: "k8s-kubeadm-tcpcheck.cfg", nodes: map[string]liveNode{
			"192.168.10.11:6443": plain, "192.168.10.12:6443": plain, "192.168.10.13:6443": refused,
		}, down: []string{"apiserverbackend/cp3"}, conns: 4,
			want: map[string]int{"apiserverbackend/cp1": 2, "apiserverbackend/cp2": 2}},
		{file: "k3s.cfg", nodes: map[string]liveNode{
			"10.10.10.50:6443": plain, "10.10.10.51:6443": plain, "10.10.10.52:6443": refused,
		}, down: []string{"k3s-backend/server-3"}, conns: 4,
			want: map[string]int{"k3s-backend/server-1": 2, "k3s-backend/server-2": 2}},
		{file: "k0s.cfg", nodes: map[string]liveNode{
			"10.0.0.11:6443": tlsOnly, "10.0.0.12:6443": tlsOnly, "10.0.0.13:6443": refused,
			"10.0.0.11:8132": tlsOnly, "10.0.0.12:8132": refused, "10.0.0.13:8132": tlsOnly,
			"10.0.0.11:9443": refused, "10.0.0.12:9443": tlsOnly, "10.0.0.13:9443": tlsOnly,
		}, down: []string{"kubeAPI_backend/k0s-controller3", "konnectivity_backend/k0s-controller2", "controllerJoinAPI_backend/k0s-controller1"},
			conns: 2, want: map[string]int{
				"kubeAPI_backend/k0s-controller1": 1, "kubeAPI_backend/k0s-controller2": 1,
				"konnectivity_backend/k0s-controller1": 1, "konnectivity_backend/k0s-controller3": 1,
				"controllerJoinAPI_backend/k0s-controller2": 1, "controllerJoinAPI_backend/k0s-controller3": 1,
			}},
		{file: "patroni.cfg", nodes: map[string]liveNode{
			"10.0.1.11:5432": plain, "10.0.1.12:5432": plain, "10.0.1.13:5432": plain,
			"10.0.1.11:8008": patroni(true), "10.0.1.12:8008": patroni(false), "10.0.1.13:8008": patroni(false),
		}, down: []string{"primary/postgresql_10.0.1.12_5432", "primary/postgresql_10.0.1.13_5432", "replicas/postgresql_10.0.1.11_5432"},
			conns: 4, want: map[string]int{
				"primary/postgresql_10.0.1.11_5432":  4,
				"replicas/postgresql_10.0.1.12_5432": 2, "replicas/postgresql_10.0.1.13_5432": 2,
			}},
		{file: "galera-clustercheck.cfg", nodes: map[string]liveNode{
			"10.0.12.11:3306": plain, "10.0.12.12:3306": plain, "10.0.12.13:3306": plain,
			"10.0.12.11:9200": up(fakesrv.Status(200)), "10.0.12.12:9200": up(fakesrv.Status(503)), "10.0.12.13:9200": up(fakesrv.Status(200)),
		}, down: []string{"mysql-cluster/db02"}, conns: 4, want: map[string]int{"mysql-cluster/db01": 4}},
		{file: "galera.cfg", nodes: map[string]liveNode{
			"10.0.2.11:3306": up(fakesrv.MySQL(false)), "10.0.2.12:3306": up(fakesrv.MySQL(true)), "10.0.2.13:3306": up(fakesrv.MySQL(true)),
		}, down: []string{"galera-writer/db1", "galera-readers/db1"}, conns: 4,
			want: map[string]int{"galera-writer/db2": 4, "galera-readers/db2": 2, "galera-readers/db3": 2}},
		{file: "patroni-stats.cfg", nodes: map[string]liveNode{
			"10.0.1.21:5432": plain, "10.0.1.22:5432": plain, "10.0.1.23:5432": plain,
			"10.0.1.21:8008": up(fakesrv.ByPath(map[string]int{"/": 200})), "10.0.1.22:8008": up(fakesrv.Status(503)), "10.0.1.23:8008": up(fakesrv.Status(503)),
		}, down: []string{"batman/postgresql_10.0.1.22_5432", "batman/postgresql_10.0.1.23_5432"}, conns: 3,
			statsPage: "stats", want: map[string]int{"batman/postgresql_10.0.1.21_5432": 3}},
		{file: "redis.cfg", nodes: map[string]liveNode{
			"10.0.3.11:6379": up(fakesrv.Redis(true)), "10.0.3.12:6379": up(fakesrv.Redis(false)), "10.0.3.13:6379": up(fakesrv.Redis(false)),
		}, down: []string{"bk_redis/R2", "bk_redis/R3"}, conns: 3, want: map[string]int{"bk_redis/R1": 3}},
		{file: "rabbitmq.cfg", nodes: map[string]liveNode{
			"10.0.4.11:5672": plain, "10.0.4.12:5672": plain, "10.0.4.13:5672": plain,
			"10.0.4.11:5671": plain, "10.0.4.12:5671": refused, "10.0.4.13:5671": plain,
		}, down: []string{"rabbitmq-amqps/rabbit2"}, conns: 6, want: map[string]int{
			"rabbitmq-amqp/rabbit1": 2, "rabbitmq-amqp/rabbit2": 2, "rabbitmq-amqp/rabbit3": 2,
			"rabbitmq-amqps/rabbit1": 3, "rabbitmq-amqps/rabbit3": 3,
		}},
		{file: "mqtt.cfg", nodes: map[string]liveNode{
			"10.0.5.11:1883": plain, "10.0.5.12:1883": plain, "10.0.5.13:1883": plain,
			"10.0.5.11:8883": plain, "10.0.5.12:8883": plain, "10.0.5.13:8883": refused,
		}, down: []string{"mqtts_brokers/broker3"}, conns: 8, want: map[string]int{
			"mqtt_brokers/broker1": 5, "mqtt_brokers/broker2": 1, "mqtt_brokers/broker3": 2,
			"mqtts_brokers/broker1": 3, "mqtts_brokers/broker2": 5,
		}},
		{file: "smtp.cfg", nodes: map[string]liveNode{
			"10.0.6.11:10025": up(fakesrv.SMTP(true)), "10.0.6.12:10025": up(fakesrv.SMTP(false)),
		}, down: []string{"postfix/mx2"}, conns: 2, want: map[string]int{"postfix/mx1": 4}},
		{file: "ldap.cfg", nodes: map[string]liveNode{
			"10.0.7.11:389": up(fakesrv.LDAP(true)), "10.0.7.12:389": up(fakesrv.LDAP(false)),
			"10.0.7.11:636": plain, "10.0.7.12:636": plain,
		}, down: []string{"ldap/ldap2"}, conns: 4,
			want: map[string]int{"ldap/ldap1": 4, "ldaps/ldap1": 2, "ldaps/ldap2": 2}},
		{file: "zookeeper.cfg", nodes: map[string]liveNode{
			"10.0.8.11:2181": up(fakesrv.ZooKeeper(true)), "10.0.8.12:2181": up(fakesrv.ZooKeeper(true)), "10.0.8.13:2181": up(fakesrv.ZooKeeper(false)),
		}, down: []string{"zookeeper/zk3"}, conns: 4, want: map[string]int{"zookeeper/zk1": 2, "zookeeper/zk2": 2}},
		{file: "vault.cfg", nodes: map[string]liveNode{
			"10.0.9.11:8200": httpsStatus(200), "10.0.9.12:8200": httpsStatus(429), "10.0.9.13:8200": httpsStatus(503),
		}, down: []string{"vault/vault2", "vault/vault3"}, conns: 3, want: map[string]int{"vault/vault1": 3}},
		{file: "cmpp.cfg", nodes: map[string]liveNode{"10.0.10.11:7890": plain, "10.0.10.12:7890": plain}, conns: 8,
			want: map[string]int{"cmpp_gw/gw1": 4, "cmpp_gw/gw2": 4}},
		{file: "smpp.cfg", nodes: map[string]liveNode{
			"10.0.11.11:2775": plain, "10.0.11.12:2775": plain, "10.0.11.13:2775": plain,
		}, conns: 2, want: map[string]int{"smsc/smsc1": 2, "smsc/smsc2": 2}},
	}
}

// liveSetup is a corpus file rewritten for one run.
type liveSetup struct {
	cfg   string
	sock  string
	binds []liveBinds // per frontend, in order
}

// liveBinds are the loopback addresses of a frontend's binds.
type liveBinds struct {
	proxy string
	addrs []string
}

// liveConfig rewrites a corpus file for a live run in dir: binds on fresh
// loopback ports, servers (and their check ports) on their fakes' ports,
// one admin stats socket in dir in place of the file's, log targets other
// than stdout/stderr to a UDP sink, the pidfile and chroot in dir, missing
// errorfiles replaced by files in dir. It adds "max-spread-checks 200" to
// the global section so that the first checks of servers with long
// intervals come within the test's seconds, and "no strict-limits" so that
// a maxconn above this machine's fd limit is lowered (as goproxy does by
// default) instead of stopping haproxy.
func liveConfig(t *testing.T, src, dir string, ports map[string]int, sink string) liveSetup {
	t.Helper()
	st := liveSetup{sock: filepath.Join(dir, "admin.sock")}
	var out strings.Builder
	section := ""
	for _, line := range strings.Split(src, "\n") {
		w := strings.Fields(line)
		if len(w) == 0 || strings.HasPrefix(w[0], "#") {
			out.WriteString(line + "\n")
			continue
		}
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		switch w[0] {
		case "global", "defaults", "frontend", "backend", "listen":
			section = w[0]
			out.WriteString(line + "\n")
			if section == "global" {
				fmt.Fprintf(&out, "    stats socket %s mode 600 level admin\n    max-spread-checks 200\n    no strict-limits\n", st.sock)
			}
			if section == "frontend" || section == "listen" {
				st.binds = append(st.binds, liveBinds{proxy: w[1]})
			}
			continue
		}
		switch {
		case section == "global" && w[0] == "stats" && len(w) > 1 && w[1] == "socket":
			continue
		case section == "global" && w[0] == "log" && len(w) > 1 && w[1] != "stdout" && w[1] != "stderr":
			w[1] = sink
		case section == "global" && w[0] == "pidfile" && len(w) > 1:
			w[1] = filepath.Join(dir, "pid")
		case section == "global" && w[0] == "chroot" && len(w) > 1:
			root := filepath.Join(dir, "root")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			w[1] = root
		case w[0] == "errorfile" && len(w) > 2:
			if _, err := os.Stat(w[2]); err != nil {
				w[2] = writeFile(t, dir, w[1]+".http", "HTTP/1.0 "+w[1]+" Error\r\nContent-Length: 0\r\n\r\n")
			}
		case w[0] == "bind" && len(w) > 1:
			a := loopAddr(t)
			w[1] = a
			fe := &st.binds[len(st.binds)-1]
			fe.addrs = append(fe.addrs, a)
		case w[0] == "server" && len(w) > 2:
			host, _, err := net.SplitHostPort(w[2])
			if err != nil {
				t.Fatalf("server line %q: %v", line, err)
			}
			p, ok := ports[w[2]]
			if !ok {
				t.Fatalf("no fake for server address %s (line %q)", w[2], line)
			}
			w[2] = "127.0.0.1:" + strconv.Itoa(p)
			for i := 3; i+1 < len(w); i++ {
				if w[i] == "port" {
					cp, ok := ports[net.JoinHostPort(host, w[i+1])]
					if !ok {
						t.Fatalf("no fake for check port %s:%s (line %q)", host, w[i+1], line)
					}
					w[i+1] = strconv.Itoa(cp)
				}
			}
		}
		out.WriteString(indent + strings.Join(w, " ") + "\n")
	}
	st.cfg = out.String()
	return st
}

// liveResult is what one side showed.
type liveResult struct {
	rows  map[string]statRow // servers only, "proxy/server"
	order []string
	conns int // connections answered
}

func (r liveResult) stot() map[string]int {
	m := map[string]int{}
	for k, row := range r.rows {
		if n, _ := strconv.Atoi(row["stot"]); n > 0 {
			m[k] = n
		}
	}
	return m
}

// runLive starts bin on the kind's rewritten file, waits until every
// server has been checked and shows its expected state, sends the traffic
// and returns "show stat".
func runLive(t *testing.T, bin string, k liveKind, src string, ports map[string]int, sink string) liveResult {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st := liveConfig(t, src, dir, ports, sink)
	if len(st.binds) == 0 || len(st.binds[len(st.binds)-1].addrs) == 0 {
		t.Fatalf("%s: no bind", k.file)
	}
	p := startServing(t, bin, st.cfg, st.binds[len(st.binds)-1].addrs[0])
	down := map[string]bool{}
	for _, d := range k.down {
		down[d] = true
	}
	settled := func(rows map[string]statRow) bool {
		n := 0
		for key, row := range rows {
			if isProxyRow(key) {
				continue
			}
			n++
			want := "UP"
			if down[key] {
				want = "DOWN"
			}
			if row["status"] != want || row["check_status"] == "" || strings.HasPrefix(row["check_status"], "INI") {
				return false
			}
		}
		return n > 0
	}
	waitStat(t, st.sock, 8*time.Second, "the servers' first checks and expected states (DOWN: "+strings.Join(k.down, ", ")+")", settled)

	var res liveResult
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	src0 := 0
	var statsAddrs []string
	for _, fe := range st.binds {
		if fe.proxy == k.statsPage {
			statsAddrs = append(statsAddrs, fe.addrs...)
			continue
		}
		for _, a := range fe.addrs {
			for i := 0; i < k.conns; i++ {
				name, c, err := fakesrv.Ask(srcIP(src0), a)
				src0++
				if err != nil {
					t.Fatalf("connection %d to %s: %v\n%s", i, a, err, p.out.String())
				}
				if name == "" {
					t.Fatalf("connection %d to %s: empty name", i, a)
				}
				open = append(open, c)
				res.conns++
			}
		}
	}
	rows, order := parseStat(t, cli(t, st.sock, "show stat"))
	res.rows = map[string]statRow{}
	for _, key := range order {
		if !isProxyRow(key) {
			res.rows[key] = rows[key]
			res.order = append(res.order, key)
		}
	}
	for _, a := range statsAddrs {
		checkStatsPage(t, a, res.order)
	}
	return res
}

// checkStatsPage asks the statistics page at addr for its CSV export and
// checks that it lists every server of keys ("proxy/server").
func checkStatsPage(t *testing.T, addr string, keys []string) {
	t.Helper()
	cl := http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get("http://" + addr + "/;csv")
	if err != nil {
		t.Fatalf("statistics page: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "# pxname,svname,") {
		t.Fatalf("statistics page: %s, %v\n%.300s", resp.Status, err, body)
	}
	for _, k := range keys {
		if !strings.Contains(string(body), "\n"+strings.Replace(k, "/", ",", 1)+",") {
			t.Errorf("statistics page CSV has no row for %s", k)
		}
	}
}

func isProxyRow(key string) bool {
	return strings.HasSuffix(key, "/FRONTEND") || strings.HasSuffix(key, "/BACKEND")
}

// liveColumns are the columns compared between goproxy and haproxy.
var liveColumns = []string{"status", "check_status", "stot"}

func liveTable(r liveResult) string {
	var b strings.Builder
	for _, k := range r.order {
		fmt.Fprintf(&b, "  %-45s", k)
		for _, c := range liveColumns {
			fmt.Fprintf(&b, " %s=%s", c, r.rows[k][c])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func sortedCounts(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q: %d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// TestDeploymentsLive runs every kind of deployment of the corpus live
// (see liveKinds), the kinds in parallel.
func TestDeploymentsLive(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Log("SKIP: the haproxy half of TestDeploymentsLive: haproxy is not on PATH; goproxy is compared with the expected states and distributions")
		haproxy = ""
	}
	kinds := liveKinds(t)
	seen := map[string]bool{}
	for _, k := range kinds {
		seen[k.file] = true
	}
	files, _ := filepath.Glob(filepath.Join(deploymentsDir, "*.cfg"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no live test: add it to liveKinds", filepath.Base(f))
		}
	}
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	for _, k := range kinds {
		t.Run(strings.TrimSuffix(k.file, ".cfg"), func(t *testing.T) {
			t.Parallel()
			if k.priv {
				if os.Geteuid() != 0 {
					t.Skip("SKIP: drops privileges: needs root")
				}
				if _, err := user.Lookup("haproxy"); err != nil {
					t.Skip("SKIP: drops privileges to user haproxy, which does not exist")
				}
			}
			b, err := os.ReadFile(filepath.Join(deploymentsDir, k.file))
			if err != nil {
				t.Fatal(err)
			}
			ports := map[string]int{}
			for addr, n := range k.nodes {
				if n.refuse {
					ports[addr] = fakesrv.RefusingPort(t)
				} else {
					ports[addr] = fakesrv.Start(t, addr, n.proto).Port
				}
			}
			g := runLive(t, goproxyBin, k, string(b), ports, sink.LocalAddr().String())
			check := func(who string, r liveResult) {
				total := 0
				for _, n := range r.stot() {
					total += n
				}
				if total != r.conns {
					t.Errorf("%s: %d sessions counted on servers, %d connections answered\n%s", who, total, r.conns, liveTable(r))
				}
				if sortedCounts(r.stot()) != sortedCounts(k.want) {
					t.Errorf("%s: sessions per server %s, want %s\n%s", who, sortedCounts(r.stot()), sortedCounts(k.want), liveTable(r))
				}
			}
			check("goproxy", g)
			t.Logf("goproxy show stat:\n%s", liveTable(g))
			if haproxy == "" {
				return
			}
			h := runLive(t, haproxy, k, string(b), ports, sink.LocalAddr().String())
			check("haproxy", h)
			if lg, lh := liveTable(g), liveTable(h); lg != lh {
				t.Errorf("show stat differs\n--- goproxy\n%s--- haproxy\n%s", lg, lh)
			}
		})
	}
}
