package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The active/standby pair of contrib/keepalived, built in network
// namespaces of the test's own: a switch namespace holds a bridge, the
// clients and the gateways; two node namespaces each run goproxy and
// keepalived with the shipped configuration and check script. Addresses are
// in 10.213.0.0/24, which exists only inside those namespaces.
const (
	kaNet     = "10.213.0."
	kaVIP     = kaNet + "100"
	kaPort    = "7890"
	kaSources = 20
)

// netnsSet is the namespaces a test created, deleted at its end.
type netnsSet struct {
	prefix string
	names  []string
}

// ipCmd runs ip with args and returns its combined output.
func ipCmd(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (n *netnsSet) add(t *testing.T, name string) string {
	t.Helper()
	full := n.prefix + name
	if _, err := ipCmd("netns", "add", full); err != nil {
		t.Skipf("SKIP: cannot create a network namespace here: %v", err)
	}
	n.names = append(n.names, full)
	if _, err := ipCmd("-n", full, "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	return full
}

func (n *netnsSet) cleanup() {
	for _, name := range n.names {
		_, _ = ipCmd("netns", "del", name)
	}
}

// inNetns runs fn on a thread moved into namespace ns: the sockets fn
// creates (listeners, client connections) belong to ns for their life.
func inNetns(t *testing.T, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer home.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("setns %s: %v", ns, err)
	}
	defer func() {
		// A thread that cannot go home stays locked: it ends with its
		// goroutine instead of serving others in the wrong namespace.
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	fn()
}

// vipHolders returns the node namespaces that have the virtual address.
func vipHolders(nodes []string) []string {
	var out []string
	for _, ns := range nodes {
		if a, err := ipCmd("-n", ns, "-4", "addr", "show", "dev", "eth0"); err == nil && strings.Contains(a, " "+kaVIP+"/") {
			out = append(out, ns)
		}
	}
	return out
}

// keepalivedConf is contrib/keepalived/keepalived.conf for one node: the
// shipped file with the test's virtual address, priority, check script
// and stats socket put in place of the example's.
func keepalivedConf(t *testing.T, priority int, sock string) string {
	t.Helper()
	b, err := os.ReadFile("../../contrib/keepalived/keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../../contrib/keepalived/check_goproxy")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, r := range [][2]string{
		{"192.168.122.100/24", kaVIP + "/24"},
		{"priority 100", "priority " + strconv.Itoa(priority)},
		{`"/usr/local/sbin/check_goproxy /var/run/haproxy.sock"`, `"` + script + " " + sock + `"`},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("contrib/keepalived/keepalived.conf has no %q any more", r[0])
		}
		text = strings.ReplaceAll(text, r[0], r[1])
	}
	return text
}

// kaPair is the two nodes of contrib/keepalived, built by startKaPair.
type kaPair struct {
	sw         string   // the switch namespace: clients and gateways
	nodes      []string // the node namespaces, a then b
	socks      []string // their goproxy stats sockets
	procs, kas []*proc
	gws        []*nameServer
}

// kaNodeConfig is a node's goproxy configuration: the stats socket line
// and the gateways are given, rest the lines that route to them.
type kaNodeConfig func(node int, gws []*nameServer) (globalLines, rest string, args []string)

// startKaPair builds the namespaces, the gateways, and both nodes with
// goproxy (configured by cfg) and keepalived, and waits for node a to hold
// the virtual address.
func startKaPair(t *testing.T, cfg kaNodeConfig) *kaPair {
	t.Helper()
	for _, tool := range []string{"ip", "keepalived", "socat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: %s is not installed", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIP: network namespaces need root")
	}
	nss := &netnsSet{prefix: fmt.Sprintf("gpka%d-%s-", os.Getpid(), strings.TrimPrefix(t.Name(), "TestKeepalived"))}
	if len(nss.prefix) > 20 {
		nss.prefix = nss.prefix[:20]
	}
	t.Cleanup(nss.cleanup)
	kp := &kaPair{sw: nss.add(t, "sw")}
	sw := kp.sw
	// The topology needs bridges and veth pairs: a kernel without them
	// skips the test rather than failing it.
	mustIP := func(args ...string) {
		t.Helper()
		if _, err := ipCmd(args...); err != nil {
			t.Skipf("SKIP: cannot build the test network: %v", err)
		}
	}
	mustIP("-n", sw, "link", "add", "br0", "type", "bridge")
	mustIP("-n", sw, "link", "set", "br0", "up")
	mustIP("-n", sw, "addr", "add", kaNet+"10/24", "dev", "br0")
	for i := 0; i < 3; i++ {
		mustIP("-n", sw, "addr", "add", kaNet+strconv.Itoa(11+i)+"/24", "dev", "br0")
	}
	for i := 0; i < kaSources; i++ {
		mustIP("-n", sw, "addr", "add", kaNet+strconv.Itoa(50+i)+"/24", "dev", "br0")
	}
	for i, name := range []string{"a", "b"} {
		ns := nss.add(t, name)
		peer := "v" + name
		mustIP("-n", sw, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", ns)
		mustIP("-n", sw, "link", "set", peer, "master", "br0", "up")
		mustIP("-n", ns, "addr", "add", kaNet+strconv.Itoa(2+i)+"/24", "dev", "eth0")
		mustIP("-n", ns, "link", "set", "eth0", "up")
		kp.nodes = append(kp.nodes, ns)
	}

	// Three gateways that greet with their names.
	inNetns(t, sw, func() {
		for i := 0; i < 3; i++ {
			kp.gws = append(kp.gws, startNameServer(t, "gw"+strconv.Itoa(i+1), kaNet+strconv.Itoa(11+i)+":"+kaPort))
		}
	})

	dir := t.TempDir()
	for i, ns := range kp.nodes {
		sock := filepath.Join(dir, "node"+strconv.Itoa(i)+".sock")
		globalLines, rest, args := cfg(i, kp.gws)
		var b strings.Builder
		fmt.Fprintf(&b, "global\n    stats socket %s mode 600 level admin\n%s", sock, globalLines)
		b.WriteString("defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 1m\n    timeout server 1m\n")
		b.WriteString(rest)
		file := writeFile(t, dir, "node"+strconv.Itoa(i)+".cfg", b.String())
		cmdArgs := append([]string{"netns", "exec", ns, goproxyBin, "-db", "-f", file}, args...)
		gp := startProcess(t, exec.Command("ip", cmdArgs...))
		waitFor(t, 10*time.Second, "goproxy's stats socket in "+ns, func() bool {
			_, err := cliErr(sock, "show info")
			return err == nil
		})
		kp.procs = append(kp.procs, gp)
		kp.socks = append(kp.socks, sock)
		kcfg := writeFile(t, dir, "keepalived"+strconv.Itoa(i)+".conf", keepalivedConf(t, 150-50*i, sock))
		pidf := func(n string) string { return filepath.Join(dir, n+strconv.Itoa(i)+".pid") }
		ka := exec.Command("ip", "netns", "exec", ns, "keepalived", "--dont-fork", "--log-console", "--vrrp",
			"-f", kcfg, "-p", pidf("keepalived"), "-r", pidf("vrrp"), "-c", pidf("checkers"))
		kap := startProcess(t, ka)
		kp.kas = append(kp.kas, kap)
		t.Cleanup(func() {
			// keepalived takes its address away and ends its VRRP child
			// on SIGTERM; the namespaces go after it.
			_ = kap.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-kap.exited:
			case <-time.After(5 * time.Second):
			}
		})
	}
	waitFor(t, 20*time.Second, "the virtual address on node a alone", func() bool {
		h := vipHolders(kp.nodes)
		return len(h) == 1 && h[0] == kp.nodes[0]
	})
	return kp
}

// failover kills node a's goproxy and returns how long the virtual
// address took to serve again, from node b.
func (kp *kaPair) failover(t *testing.T) time.Duration {
	t.Helper()
	vip := kaVIP + ":" + kaPort
	killed := time.Now()
	if err := syscall.Kill(kp.procs[0].cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var served time.Duration
	deadline := killed.Add(30 * time.Second)
	for try := 0; time.Now().Before(deadline) && try < 3000; try++ {
		var err error
		inNetns(t, kp.sw, func() { _, err = askTimeout(kaNet+"50", vip, 300*time.Millisecond) })
		if err == nil {
			served = time.Since(killed)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if served == 0 {
		t.Fatalf("the virtual address never served again after the active goproxy died; holders %v; keepalived a:\n%s\nkeepalived b:\n%s",
			vipHolders(kp.nodes), kp.kas[0].stderr.String(), kp.kas[1].stderr.String())
	}
	if h := vipHolders(kp.nodes); len(h) != 1 || h[0] != kp.nodes[1] {
		t.Fatalf("after the failover the virtual address is on %v, want node b alone", h)
	}
	return served
}

// sources are the client addresses, in the order they first connect.
func kaSourceList() []string {
	var out []string
	for i := 0; i < kaSources; i++ {
		out = append(out, kaNet+strconv.Itoa(50+i))
	}
	return out
}

// TestKeepalivedFailover kills the active node's goproxy and measures how
// long the virtual address takes to serve again from the standby node, and
// checks that every client that reconnects reaches the gateway it had:
// both nodes hash sources on the same consistent ring.
func TestKeepalivedFailover(t *testing.T) {
	t.Parallel()
	kp := startKaPair(t, func(_ int, gws []*nameServer) (string, string, []string) {
		var b strings.Builder
		b.WriteString("frontend cmpp\n    bind :" + kaPort + "\n    default_backend gateways\n")
		b.WriteString("backend gateways\n    balance source\n    hash-type consistent\n")
		for _, gw := range gws {
			fmt.Fprintf(&b, "    server %s %s check inter 500ms\n", gw.name, gw.addr())
		}
		return "", b.String(), nil
	})

	// The clients' long sessions through the active node.
	vip := kaVIP + ":" + kaPort
	before := map[string]string{}
	inNetns(t, kp.sw, func() {
		for _, src := range kaSourceList() {
			_, name := openName(t, src, vip)
			before[src] = name
		}
	})
	if n := len(counts(values(before))); n < 2 {
		t.Fatalf("%d sources reached %d gateway(s): the hash spreads nothing to compare", kaSources, n)
	}
	served := kp.failover(t)
	t.Logf("failover: the virtual address served from node b %v after node a's goproxy was killed", served.Round(10*time.Millisecond))

	moved := 0
	inNetns(t, kp.sw, func() {
		for src, want := range before {
			got, err := askTimeout(src, vip, 3*time.Second)
			if err != nil {
				t.Errorf("client %s after the failover: %v", src, err)
				continue
			}
			if got != want {
				moved++
				t.Errorf("client %s reached %s through node a and %s through node b", src, want, got)
			}
		}
	})
	t.Logf("%d clients reconnected through node b, %d on another gateway than before", len(before), moved)
}

// TestKeepalivedFailoverPeers is the pair with client stickiness kept in
// a stick table the two nodes replicate by peers, over round robin (which
// alone would place the clients anew): every entry made on node a is on
// node b before the failover, and every client that reconnects through
// node b, in another order, reaches the gateway it had.
func TestKeepalivedFailoverPeers(t *testing.T) {
	t.Parallel()
	kp := startKaPair(t, func(node int, gws []*nameServer) (string, string, []string) {
		var b strings.Builder
		b.WriteString("peers pair\n    peer a " + kaNet + "2:10000\n    peer b " + kaNet + "3:10000\n")
		b.WriteString("frontend cmpp\n    bind :" + kaPort + "\n    default_backend gateways\n")
		b.WriteString("backend gateways\n    balance roundrobin\n")
		b.WriteString("    stick-table type ip size 1k expire 1h peers pair\n    stick on src\n")
		for _, gw := range gws {
			fmt.Fprintf(&b, "    server %s %s check inter 500ms\n", gw.name, gw.addr())
		}
		return "", b.String(), []string{"-L", []string{"a", "b"}[node]}
	})
	vip := kaVIP + ":" + kaPort
	before := map[string]string{}
	made := time.Now()
	inNetns(t, kp.sw, func() {
		for _, src := range kaSourceList() {
			_, name := openName(t, src, vip)
			before[src] = name
		}
	})
	if n := len(counts(values(before))); n < 3 {
		t.Fatalf("round robin spread %d sources over %d gateway(s)", kaSources, n)
	}
	// Every entry of node a is on node b, with the same server.
	ids := map[string]string{} // gateway name -> server id, from node a's stat
	rows, _ := parseStat(t, cli(t, kp.socks[0], "show stat"))
	for _, gw := range kp.gws {
		ids[gw.name] = rows["gateways/"+gw.name]["sid"]
	}
	var synced time.Duration
	waitFor(t, 10*time.Second, "node b's table to hold every entry of node a", func() bool {
		tbl := cli(t, kp.socks[1], "show table gateways")
		for src, gw := range before {
			if !strings.Contains(lineOf(tbl, " key="+src+" "), " server_id="+ids[gw]+" ") {
				return false
			}
		}
		synced = time.Since(made)
		return true
	})
	t.Logf("peers: node b held all %d entries %v after the first connection to node a", len(before), synced.Round(time.Millisecond))

	served := kp.failover(t)
	t.Logf("failover: the virtual address served from node b %v after node a's goproxy was killed", served.Round(10*time.Millisecond))
	srcs := kaSourceList()
	moved := 0
	inNetns(t, kp.sw, func() {
		for i := len(srcs) - 1; i >= 0; i-- { // reversed: round robin alone would move them
			src := srcs[i]
			got, err := askTimeout(src, vip, 3*time.Second)
			if err != nil {
				t.Errorf("client %s after the failover: %v", src, err)
				continue
			}
			if got != before[src] {
				moved++
				t.Errorf("client %s reached %s through node a and %s through node b", src, before[src], got)
			}
		}
	})
	tbl := cli(t, kp.socks[1], "show table gateways")
	if n := len(tableEntryRE.FindAllString(tbl, -1)); n != kaSources {
		t.Errorf("node b's table has %d entries after the failover, want %d:\n%s", n, kaSources, tbl)
	}
	t.Logf("%d clients reconnected through node b in reverse order, %d on another gateway than before", len(before), moved)
}

// tableEntryRE is the start of one entry of show table's dump.
var tableEntryRE = regexp.MustCompile(`(?m)^0x[0-9a-f]+: key=`)

// lineOf returns the line of text that contains sub, "" if none.
func lineOf(text, sub string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// askTimeout is ask with its own bound on connecting and reading.
func askTimeout(ip, addr string, d time.Duration) (string, error) {
	dl := net.Dialer{Timeout: d, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := dl.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(d))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(buf[:n]), "\n"), nil
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
