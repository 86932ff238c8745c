package health_test

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/health"
	"goproxy/internal/fakesrv"
	"goproxy/internal/nettest"
	"goproxy/parser"
	"goproxy/proxy"
)

// backendServer is a loopback test backend whose behaviour is a handler.
type backendServer struct {
	ln   net.Listener
	port int
	wg   sync.WaitGroup
}

func startBackend(t *testing.T, handler func(net.Conn)) *backendServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backendServer{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				handler(c)
			}()
		}
	}()
	t.Cleanup(b.stop)
	return b
}

func (b *backendServer) stop() {
	b.ln.Close()
	b.wg.Wait()
}

func freePort(t *testing.T) int { return nettest.FreePort(t) }

// showStat asks HAProxy's stats socket for "show stat" and returns, per
// "backend/server", the named columns.
func showStat(t *testing.T, sock string, cols []string) map[string][]string {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("show stat\n")); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	header, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(header, "# ") {
		t.Fatalf("show stat header %q: %v", header, err)
	}
	head := strings.Split(strings.TrimSpace(strings.TrimPrefix(header, "# ")), ",")
	var idx []int
	for _, want := range cols {
		for i, h := range head {
			if h == want {
				idx = append(idx, i)
			}
		}
	}
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	out := map[string][]string{}
	for {
		f, err := cr.Read()
		if err != nil {
			break
		}
		if len(f) < len(head) || f[1] == "FRONTEND" || f[1] == "BACKEND" {
			continue
		}
		var row []string
		for _, i := range idx {
			row = append(row, f[i])
		}
		out[f[0]+"/"+f[1]] = row
	}
	return out
}

var diffCols = []string{"status", "check_status", "last_chk", "check_health", "check_desc", "agent_status", "last_agt", "slim"}

// ourStat renders the same columns from our servers.
func ourStat(servers []*proxy.Server) map[string][]string {
	out := map[string][]string{}
	for _, s := range servers {
		snap := s.CheckSnapshot(time.Now())
		health := ""
		if snap.Check.Shown {
			health = fmt.Sprint(snap.Check.Health)
		}
		slim := ""
		if n := s.MaxConn(); n > 0 {
			slim = fmt.Sprint(n)
		}
		out[s.Backend.Name+"/"+s.Name] = []string{snap.Status, snap.Check.Status, snap.Check.LastChk,
			health, snap.Check.Desc, snap.Agent.Status, snap.Agent.LastChk, slim}
	}
	return out
}

// sameRow compares rows, ignoring a check caught in progress on either side.
func sameRow(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	inProgress := strings.HasPrefix(a[1], "* ") || strings.HasPrefix(b[1], "* ")
	for i := range a {
		x, y := strings.TrimPrefix(a[i], "* "), strings.TrimPrefix(b[i], "* ")
		if i == 2 && inProgress {
			continue
		}
		if i == 6 && (strings.HasPrefix(a[5], "* ") || strings.HasPrefix(b[5], "* ")) {
			continue
		}
		if x != y {
			return false
		}
	}
	return true
}

// diffServer is a server line present on both sides; each side gets its
// own instance of the backend behaviour (handler), or a closed port.
type diffServer struct {
	name    string
	handler func(n int, c net.Conn) // n counts connections from 1
	agent   func(n int, c net.Conn) // agent-check responder, if any
	drop    bool                    // a listener whose full queue drops SYNs
	params  func(p *parser.ServerParams)
}

type diffBackend struct {
	name    string
	lines   string // haproxy backend lines before the servers
	px      *parser.Proxy
	servers []diffServer
}

// side holds one instance of every backend behaviour.
type side struct {
	ports map[string]int // "backend/server" -> port
	agent map[string]int
}

// droppingPort returns a loopback port whose accept queue is full, so that
// connects to it time out.
func droppingPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	port := sa.(*syscall.SockaddrInet4).Port
	for range 2 {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return port
}

// refusingPort returns a loopback port that refuses connections.
func refusingPort(t *testing.T) int { return fakesrv.RefusingPort(t) }

func counting(t *testing.T, h func(n int, c net.Conn)) int {
	var mu sync.Mutex
	n := 0
	return startBackend(t, func(c net.Conn) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		h(k, c)
	}).port
}

func newSide(t *testing.T, backends []diffBackend) side {
	sd := side{ports: map[string]int{}, agent: map[string]int{}}
	for _, b := range backends {
		for _, s := range b.servers {
			key := b.name + "/" + s.name
			switch {
			case s.drop:
				sd.ports[key] = droppingPort(t)
			case s.handler == nil:
				sd.ports[key] = refusingPort(t)
			default:
				sd.ports[key] = counting(t, s.handler)
			}
			if s.agent != nil {
				sd.agent[key] = counting(t, s.agent)
			}
		}
	}
	return sd
}

func readN(c net.Conn, n int) bool {
	_, err := io.ReadFull(c, make([]byte, n))
	return err == nil
}

func diffBackends() []diffBackend {
	cmppReply, _ := hex.DecodeString("0000000d800000080000000100")
	cmpp := func(n int, c net.Conn) {
		if readN(c, 12) {
			c.Write(cmppReply)
		}
		io.Copy(io.Discard, c)
	}
	greeting, mysqlErr := fakesrv.MySQLGreeting, fakesrv.MySQLDenied
	return []diffBackend{
		{name: "be_tcp", lines: "    option tcp-check\n    tcp-check send-binary 0000000c0000000800000001\n    tcp-check expect binary 0000000d80000008\n",
			px: &parser.Proxy{CheckKind: parser.CheckTCP, TCPChecks: []*parser.TCPCheckRule{
				{Kind: "send-binary", Data: []byte{0, 0, 0, 0x0c, 0, 0, 0, 0x08, 0, 0, 0, 1}},
				{Kind: "expect", Match: "binary", Pattern: "0000000d80000008", Data: []byte{0, 0, 0, 0x0d, 0x80, 0, 0, 0x08}, MinRecv: -1},
			}},
			servers: []diffServer{
				{name: "good", handler: cmpp},
				{name: "wrong", handler: func(n int, c net.Conn) { readN(c, 12); c.Write([]byte("garbage answer\r\n")) }},
				{name: "silent", handler: func(n int, c net.Conn) { io.Copy(io.Discard, c) }},
				{name: "closes", handler: func(n int, c net.Conn) { readN(c, 12) }},
				{name: "refused"},
				{name: "blackhole", drop: true},
			}},
		{name: "be_l4", px: &parser.Proxy{CheckKind: parser.CheckL4},
			servers: []diffServer{
				{name: "good", handler: func(n int, c net.Conn) {}},
				{name: "refused"},
				{name: "agent_down", handler: func(n int, c net.Conn) {},
					agent: func(n int, c net.Conn) { c.Write([]byte("down # maintenance window\n")) }},
				{name: "agent_weird", handler: func(n int, c net.Conn) {},
					agent: func(n int, c net.Conn) { c.Write([]byte("hello\n")) }},
				{name: "agent_maxconn", handler: func(n int, c net.Conn) {},
					agent: func(n int, c net.Conn) { c.Write([]byte("up maxconn:7\n")) }},
				{name: "agent_badmaxconn", handler: func(n int, c net.Conn) {},
					agent: func(n int, c net.Conn) { c.Write([]byte("up 50% maxconn:7x\n")) }},
			}},
		{name: "be_redis", lines: "    option redis-check\n", px: &parser.Proxy{CheckKind: parser.CheckRedis},
			servers: []diffServer{
				{name: "good", handler: func(n int, c net.Conn) { readN(c, 14); c.Write([]byte("+PONG\r\n")) }},
				{name: "auth", handler: func(n int, c net.Conn) { readN(c, 14); c.Write([]byte("-NOAUTH Authentication required.\r\n")) }},
			}},
		{name: "be_mysql", lines: "    option mysql-check\n", px: &parser.Proxy{CheckKind: parser.CheckMySQL},
			servers: []diffServer{
				{name: "good", handler: func(n int, c net.Conn) { c.Write(greeting) }},
				{name: "denied", handler: func(n int, c net.Conn) { c.Write(mysqlErr) }},
				{name: "flap", handler: func(n int, c net.Conn) {
					if n == 2 {
						c.Write(greeting)
					} else {
						c.Write(mysqlErr)
					}
				}},
			}},
		{name: "be_smtp", lines: "    option smtpchk EHLO example.org\n",
			px: &parser.Proxy{CheckKind: parser.CheckSMTP, CheckArgs: parser.CheckArgs{Verb: "EHLO", Domain: "example.org"}},
			servers: []diffServer{
				{name: "good", handler: func(n int, c net.Conn) {
					c.Write([]byte("220 mx.example.org ESMTP\r\n"))
					rd := bufio.NewReader(c)
					if l, _ := rd.ReadString('\n'); l == "EHLO example.org\r\n" {
						c.Write([]byte("250-mx.example.org\r\n250 PIPELINING\r\n"))
					}
					if l, _ := rd.ReadString('\n'); l == "QUIT\r\n" {
						c.Write([]byte("221 2.0.0 Bye\r\n"))
					}
				}},
				{name: "busy", handler: func(n int, c net.Conn) { c.Write([]byte("421 too busy, try later\r\n")) }},
			}},
		{name: "be_pgsql", lines: "    option pgsql-check user hc\n",
			px: &parser.Proxy{CheckKind: parser.CheckPgSQL, CheckArgs: parser.CheckArgs{User: "hc"}},
			servers: []diffServer{
				{name: "good", handler: func(n int, c net.Conn) { readN(c, 17); c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 0}) }},
				{name: "fatal", handler: func(n int, c net.Conn) {
					readN(c, 17)
					c.Write(append([]byte{'E', 0, 0, 0, 40}, "SFATAL\x00C28000\x00Mno pg_hba.conf entry\x00\x00"...))
				}},
			}},
		{name: "be_ldap", lines: "    option ldap-check\n", px: &parser.Proxy{CheckKind: parser.CheckLDAP},
			servers: []diffServer{
				{name: "good", handler: func(n int, c net.Conn) {
					readN(c, 14)
					c.Write(fakesrv.LDAPBindResponse(0))
				}},
				{name: "refusing", handler: func(n int, c net.Conn) {
					readN(c, 14)
					c.Write(fakesrv.LDAPBindResponse(0x31))
				}},
			}},
		{name: "be_ssl", lines: "    option ssl-hello-chk\n", px: &parser.Proxy{CheckKind: parser.CheckSSLHello},
			servers: []diffServer{
				{name: "good", handler: func(n int, c net.Conn) { readN(c, 5); c.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x02, 0x02, 0x00}) }},
				{name: "ssh", handler: func(n int, c net.Conn) { readN(c, 5); c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")) }},
			}},
	}
}

// startChecks runs our checkers on servers until the test ends and
// returns the hook that collects their log lines.
func startChecks(t *testing.T, servers []*proxy.Server) *test.Hook {
	t.Helper()
	log, hook := test.NewNullLogger()
	m, err := health.New(serversOf(servers...), health.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(t.Context())
	t.Cleanup(m.Stop)
	return hook
}

// TestAgainstHAProxy runs the real haproxy and our checkers against twin
// backends and compares status, check_status, last_chk, check_health,
// check_desc, agent_status and last_agt, and the state change log lines.
func TestAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	nettest.HAProxyPath(t) // skips without haproxy
	backends := diffBackends()
	theirSide, ourSide := newSide(t, backends), newSide(t, backends)
	fePort := freePort(t)

	dir := t.TempDir()
	sock := filepath.Join(dir, "h.sock")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global\n    stats socket %s mode 600 level admin\n", sock)
	cfg.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n    timeout check 300ms\n")
	fmt.Fprintf(&cfg, "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be_tcp\n", fePort)
	for _, b := range backends {
		fmt.Fprintf(&cfg, "backend %s\n%s", b.name, b.lines)
		for _, s := range b.servers {
			key := b.name + "/" + s.name
			fmt.Fprintf(&cfg, "    server %s 127.0.0.1:%d check inter 200ms rise 2 fall 3", s.name, theirSide.ports[key])
			if p, ok := theirSide.agent[key]; ok {
				fmt.Fprintf(&cfg, " agent-check agent-port %d agent-inter 200ms", p)
			}
			cfg.WriteString("\n")
		}
	}
	hap := nettest.StartHAProxy(t, dir, cfg.String())

	timeouts := parser.Timeouts{Connect: time.Second, Client: 10 * time.Second, Server: 10 * time.Second, Check: 300 * time.Millisecond}
	var servers []*proxy.Server
	for _, b := range backends {
		px := b.px
		px.Name, px.Cap, px.Timeouts = b.name, parser.CapBackend, timeouts
		be := &proxy.Backend{Name: b.name, Config: px}
		for i, ds := range b.servers {
			key := b.name + "/" + ds.name
			params := parser.ServerParams{Check: true, Inter: 200 * time.Millisecond, Rise: 2, Fall: 3, Weight: 1}
			if p, ok := ourSide.agent[key]; ok {
				params.AgentCheck, params.AgentPort, params.AgentInter = true, p, 200*time.Millisecond
			}
			s := &proxy.Server{Name: ds.name, ID: i + 1, Backend: be, Config: params,
				Addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: ourSide.ports[key]}}
			be.Servers = append(be.Servers, s)
			servers = append(servers, s)
		}
	}
	hook := startChecks(t, servers)

	hap.WaitUnix(t, sock)
	time.Sleep(2 * time.Second)
	// Checks are not synchronised between the two sides: sample until they
	// agree, and report the last difference after a few intervals.
	var theirs, ours map[string][]string
	for range 40 {
		theirs = showStat(t, sock, diffCols)
		ours = ourStat(servers)
		same := len(theirs) == len(ours)
		for k, row := range ours {
			same = same && sameRow(row, theirs[k])
		}
		if same {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(theirs) != len(servers) {
		t.Errorf("haproxy shows %d servers, we have %d", len(theirs), len(servers))
	}
	for k, row := range ours {
		if !sameRow(row, theirs[k]) {
			t.Errorf("%s\n  haproxy: %q\n  goproxy: %q", k, theirs[k], row)
		}
	}

	// Every state change line of HAProxy's has its twin in our log (the
	// server counts and durations depend on timing: compare up to the
	// check duration).
	var our []string
	for _, e := range hook.AllEntries() {
		our = append(our, e.Message)
	}
	for _, line := range strings.Split(hap.Output(), "\n") {
		_, msg, ok := strings.Cut(line, ") : ")
		if !ok || !strings.HasPrefix(msg, "Server ") && !strings.HasPrefix(msg, "backend ") {
			continue
		}
		msg, _, _ = strings.Cut(msg, ", check duration")
		msg, _, _ = strings.Cut(msg, ". ")
		found := false
		for _, o := range our {
			found = found || strings.HasPrefix(o, msg)
		}
		if !found {
			t.Errorf("haproxy logged %q; ours:\n%s", msg, strings.Join(our, "\n"))
		}
	}
	if t.Failed() {
		t.Logf("haproxy stderr:\n%s", hap.Output())
	}
}
