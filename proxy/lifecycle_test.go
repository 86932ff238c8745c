package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/parser"
)

func TestSoftStopKeepsSessions(t *testing.T) {
	srv := startServer(t, echo)
	log, hook := test.NewNullLogger()
	g, err := Build(config(listenProxy(srv.port())), Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	addr := feAddr(t, g, "li")
	c := dial(t, addr)
	roundTrip(t, c, "before")
	g.StopListening()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("new connection accepted after soft stop")
	}
	roundTrip(t, c, "after the stop")
	select {
	case <-g.Done():
		t.Fatal("Done closed while a session remains")
	default:
	}
	c.Close()
	select {
	case <-g.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("Done not closed after the last session ended")
	}
	var found bool
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel && e.Message == "Proxy li stopped (cumulated conns: FE: 1, BE: 1)." {
			found = true
		}
	}
	if !found {
		t.Errorf("no stop message; got %v", hook.AllEntries())
	}
}

func TestCloseKillsAll(t *testing.T) {
	srv := startServer(t, echo)
	g := startGraph(t, config(listenProxy(srv.port())))
	addr := feAddr(t, g, "li")
	var conns []*net.TCPConn
	for i := 0; i < 5; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "hi")
		conns = append(conns, c)
	}
	g.Close()
	for _, c := range conns {
		expectClosed(t, c, 2*time.Second)
	}
	select {
	case <-g.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("Done not closed")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still accepting after Close")
	}
}

func TestBindError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		cap  parser.Cap
		kind string
	}{{parser.CapFrontend | parser.CapBackend, "proxy"}, {parser.CapFrontend, "frontend"}} {
		p := listenProxy(deadPort(t))
		p.Cap = tc.cap
		p.DefaultBackend = ""
		p.Binds = append(p.Binds, &parser.Bind{Pos: parser.Pos{File: "x.cfg", Line: 9}, Addr: tcpAddr(port)})
		g, err := Build(config(p), Options{})
		if err != nil {
			t.Fatal(err)
		}
		fds := countFDs(t)
		err = g.Start()
		want := "Binding [x.cfg:9] for " + tc.kind + " li: cannot bind socket (Address already in use) for [127.0.0.1:" + strconvItoa(port) + "]"
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
		if n := countFDs(t); n != fds {
			t.Errorf("%d descriptors before a failed Start, %d after", fds, n)
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("%v does not unwrap to EADDRINUSE", err)
		}
	}
}

func TestStartAgainAfterBindError(t *testing.T) {
	srv := startServer(t, echo)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := listenProxy(srv.port())
	p.Binds[0].Addr = tcpAddr(busy.Addr().(*net.TCPAddr).Port)
	g, err := Build(config(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err == nil {
		t.Fatal("Start succeeded on a busy port")
	}
	busy.Close()
	if err := g.Start(); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	defer g.Close()
	roundTrip(t, dial(t, busy.Addr().String()), "bound at the second try")
}

func strconvItoa(n int) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(n)).String()[8:]
}

func TestPauseResume(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	// An explicit port: a socket bound to port 0 gets a new one when it
	// listens again.
	p.Binds[0].Addr = tcpAddr(deadPort(t))
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	c := dial(t, addr)
	roundTrip(t, c, "a")
	g.Pause()
	if c2, err := net.DialTimeout("tcp", addr, 500*time.Millisecond); err == nil {
		c2.Close()
		t.Fatal("connect succeeded while paused")
	}
	roundTrip(t, c, "established session still served")
	g.Resume()
	roundTrip(t, dial(t, addr), "resumed")
}

func TestInheritedFD(t *testing.T) {
	srv := startServer(t, echo)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := listenProxy(srv.port())
	p.Binds[0].Addr = parser.Addr{Family: parser.FamilyFD, FD: 42, Text: "fd@42"}
	g, err := Build(config(p), Options{InheritedFDs: map[int]*os.File{42: f}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	roundTrip(t, dial(t, feAddr(t, g, "li")), "through an inherited socket")
	files := g.ListenerFiles()
	if len(files) != 1 {
		t.Fatalf("%d listener files, want 1", len(files))
	}
	files[0].Close()
}

func TestRulesAndACLs(t *testing.T) {
	one := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("one")) })
	two := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("two")) })
	fe := &parser.Proxy{
		Pos: parser.Pos{File: "t.cfg", Line: 1}, Kind: "frontend", Name: "fe", Cap: parser.CapFrontend, ID: 2,
		Binds:          []*parser.Bind{{Pos: parser.Pos{File: "t.cfg", Line: 2}, Addr: tcpAddr(0)}},
		DefaultBackend: "b1",
		ACLs: []*parser.ACL{
			{Name: "from2", Criterion: "src", Values: []string{"127.0.0.2"}},
			{Name: "from3", Criterion: "src", Values: []string{"127.0.0.3/32"}},
			{Name: "lowport", Criterion: "dst_port", Values: []string{"1:1023"}},
		},
		TCPReqConn: []*parser.TCPRule{{Action: "reject", Cond: &parser.Condition{Terms: [][]parser.CondTerm{{{ACL: "from3"}}}}}},
		UseBackends: []*parser.UseBackend{{Backend: "b2", Cond: &parser.Condition{
			Terms: [][]parser.CondTerm{{{ACL: "from2"}, {ACL: "lowport", Negate: true}}}}}},
		Timeouts: parser.Timeouts{Client: 5 * time.Second},
	}
	b1, b2 := listenProxy(one.port()), listenProxy(two.port())
	for i, b := range []*parser.Proxy{b1, b2} {
		b.Kind, b.Cap, b.Binds, b.ID = "backend", parser.CapBackend, nil, 3+i
		b.Name = "b" + string(rune('1'+i))
	}
	g := startGraph(t, config(fe, b1, b2))
	addr := feAddr(t, g, "fe")
	for _, tc := range []struct{ src, want string }{
		{"127.0.0.1", "one"}, {"127.0.0.2", "two"}, {"127.0.0.3", ""},
	} {
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if tc.want == "" {
				continue // rejected with a reset before the dial returned
			}
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != tc.want {
			t.Errorf("from %s: got %q, want %q", tc.src, got, tc.want)
		}
	}
	if st := g.Frontend("fe").Stats(); st.Dcon != 1 || st.ConnTot != 3 || st.Stot != 2 {
		t.Errorf("dcon=%d conn_tot=%d stot=%d, want 1/3/2", st.Dcon, st.ConnTot, st.Stot)
	}
}

func TestSendProxy(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		name := "v1"
		if v2 {
			name = "v2"
		}
		t.Run(name, func(t *testing.T) {
			got := make(chan []byte, 1)
			srv := startServer(t, func(c net.Conn) {
				r := bufio.NewReader(c)
				var hdr []byte
				if v2 {
					hdr = make([]byte, 28)
					_, _ = io.ReadFull(r, hdr)
				} else {
					hdr, _ = r.ReadBytes('\n')
				}
				got <- hdr
				_, _ = io.Copy(c, r)
			})
			p := listenProxy(srv.port())
			p.Servers[0].SendProxy = !v2
			p.Servers[0].SendProxyV2 = v2
			g := startGraph(t, config(p))
			c := dial(t, feAddr(t, g, "li"))
			roundTrip(t, c, "payload")
			h := <-got
			src := c.LocalAddr().(*net.TCPAddr)
			dst := c.RemoteAddr().(*net.TCPAddr)
			if !v2 {
				want := "PROXY TCP4 127.0.0.1 127.0.0.1 " + strconvItoa(src.Port) + " " + strconvItoa(dst.Port) + "\r\n"
				if string(h) != want {
					t.Errorf("header %q, want %q", h, want)
				}
				return
			}
			if !bytes.Equal(h[:12], proxyV2Sig[:]) || h[12] != 0x21 || h[13] != 0x11 ||
				binary.BigEndian.Uint16(h[14:]) != 12 ||
				int(binary.BigEndian.Uint16(h[24:])) != src.Port || int(binary.BigEndian.Uint16(h[26:])) != dst.Port {
				t.Errorf("bad v2 header % x", h)
			}
		})
	}
}

func TestShutdownSessions(t *testing.T) {
	srv := startServer(t, echo)
	g := startGraph(t, config(listenProxy(srv.port())))
	addr := feAddr(t, g, "li")
	a, b := dial(t, addr), dial(t, addr)
	roundTrip(t, a, "a")
	roundTrip(t, b, "b")
	list := g.Sessions()
	if len(list) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(list))
	}
	for _, s := range list {
		if s.Frontend != "li" || s.Backend != "li" || s.Server != "s1" || s.State != "established" ||
			!strings.HasPrefix(s.Source.String(), "127.0.0.1:") {
			t.Errorf("bad session %+v", s)
		}
	}
	if !g.ShutdownSession(list[0].ID) {
		t.Fatal("ShutdownSession did not find the session")
	}
	if g.ShutdownSession(1 << 60) {
		t.Error("ShutdownSession found a session that does not exist")
	}
	left := 0
	for _, c := range []*net.TCPConn{a, b} {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			continue
		}
		left++
	}
	if left != 1 {
		t.Fatalf("%d sessions left, want 1", left)
	}
	if n := g.Backend("li").Servers[0].ShutdownSessions(); n != 1 {
		t.Errorf("ShutdownSessions closed %d, want 1", n)
	}
	waitFor(t, "no session", func() bool { return len(g.Sessions()) == 0 })
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestFrontendPauseAndSocketStats(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Binds[0].Addr = tcpAddr(deadPort(t))
	p.Binds[0].MaxConn = 7
	p.Options.SocketStats = true
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	f := g.Frontend("li")
	c := dial(t, addr)
	roundTrip(t, c, "abc")
	if !f.Pause() || f.Pause() || !f.Paused() {
		t.Fatal("Pause should act once")
	}
	if c2, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		c2.Close()
		t.Fatal("connect succeeded on a paused frontend")
	}
	if !f.Resume() || f.Resume() {
		t.Fatal("Resume should act once")
	}
	roundTrip(t, dial(t, addr), "defg")
	ln := f.Listeners[0]
	if st := ln.Stats(); st.Stot != 2 || st.Bin != 7 || st.Slim != 7 || ln.Name != "sock-1" || !ln.SocketStats() {
		t.Errorf("listener %s stats %+v", ln.Name, st)
	}
	in := g.Info()
	if in.CumConns != 2 || in.CurrConns != 2 || in.Listeners != 1 || in.Stopping || in.TotalBytesOut != 7 {
		t.Errorf("info %+v", in)
	}
	g.ClearCounters(false)
	if st := f.Stats(); st.Stot != 2 || st.Smax != 2 {
		t.Errorf("after clear counters: stot=%d smax=%d, want 2/2 (smax floors at scur)", st.Stot, st.Smax)
	}
	g.ClearCounters(true)
	if st := f.Stats(); st.Stot != 0 || st.Bin != 0 {
		t.Errorf("after clear counters all: stot=%d bin=%d", st.Stot, st.Bin)
	}
}

func TestFrontendShutdownAndSetAddr(t *testing.T) {
	one := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("one")) })
	two := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("two")) })
	g := startGraph(t, config(listenProxy(one.port())))
	addr := feAddr(t, g, "li")
	read := func() string {
		c := dial(t, addr)
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if got := read(); got != "one" {
		t.Fatalf("got %q", got)
	}
	s1 := g.Backend("li").Servers[0]
	s1.SetAddr(netip.MustParseAddr("127.0.0.1"), two.port())
	ip, port := s1.Dest()
	if got := read(); got != "two" || port != two.port() || ip.String() != "127.0.0.1" {
		t.Fatalf("after SetAddr got %q (dest %v:%d)", got, ip, port)
	}
	f := g.Frontend("li")
	if !f.Shutdown() || f.Shutdown() || !f.Stopped() {
		t.Fatal("Shutdown should act once")
	}
	if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("accepting after shutdown frontend")
	}
	if len(g.ListenerFiles()) != 0 {
		t.Error("a stopped frontend still hands over listeners")
	}
}

func TestIPv6Binds(t *testing.T) {
	srv := startServer(t, echo)
	tests := []struct {
		name     string
		host     string
		v6only   bool
		v4v6     bool
		v4Served bool
	}{
		{"loopback", "::1", false, false, false},
		{"any v6only", "", true, false, false},
		{"any v4v6", "", false, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A wildcard port may be taken by some connection's ephemeral
			// port between the probe and the bind: try a few.
			var g *Graph
			var port int
			for try := 0; g == nil; try++ {
				p := listenProxy(srv.port())
				port = deadPort(t)
				p.Binds[0].Addr = parser.Addr{Family: parser.FamilyTCP6, Host: tc.host, Port: port}
				p.Binds[0].V6Only, p.Binds[0].V4V6 = tc.v6only, tc.v4v6
				var err error
				if g, err = Build(config(p), Options{}); err != nil {
					t.Fatal(err)
				}
				if err = g.Start(); err != nil {
					if try < 5 && strings.Contains(err.Error(), "Address already in use") {
						g = nil
						continue
					}
					t.Fatal(err)
				}
				t.Cleanup(g.Close)
			}
			roundTrip(t, dial(t, net.JoinHostPort("::1", strconvItoa(port))), "over v6")
			c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconvItoa(port)), time.Second)
			if (err == nil) != tc.v4Served {
				t.Fatalf("IPv4 connect: err=%v, want served=%v", err, tc.v4Served)
			}
			if err == nil {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				roundTrip(t, c, "over v4")
				c.Close()
			}
			for _, s := range g.Sessions() {
				if s.Source.Addr().Is4In6() {
					t.Errorf("source %v kept as a mapped address", s.Source)
				}
			}
		})
	}
}

func TestTCPRequestContent(t *testing.T) {
	srv := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("ok")) })
	fe := &parser.Proxy{
		Pos: parser.Pos{File: "t.cfg", Line: 1}, Kind: "frontend", Name: "fe", Cap: parser.CapFrontend, ID: 2,
		Binds:          []*parser.Bind{{Pos: parser.Pos{File: "t.cfg", Line: 2}, Addr: tcpAddr(0)}},
		DefaultBackend: "be",
		ACLs:           []*parser.ACL{{Name: "from2", Criterion: "src", Values: []string{"127.0.0.2"}}},
		TCPReqContent: []*parser.TCPRule{{Action: "reject", Cond: &parser.Condition{
			Terms: [][]parser.CondTerm{{{ACL: "from2"}}}}}},
		Timeouts: parser.Timeouts{Client: 5 * time.Second},
	}
	be := listenProxy(srv.port())
	be.Kind, be.Cap, be.Binds, be.Name, be.ID = "backend", parser.CapBackend, nil, "be", 3
	be.ACLs = []*parser.ACL{{Name: "from3", Criterion: "src", Values: []string{"127.0.0.3"}}}
	be.TCPReqContent = []*parser.TCPRule{{Action: "reject", Cond: &parser.Condition{
		Terms: [][]parser.CondTerm{{{ACL: "from3"}}}}}}
	g := startGraph(t, config(fe, be))
	addr := feAddr(t, g, "fe")
	for _, tc := range []struct{ src, want string }{{"127.0.0.1", "ok"}, {"127.0.0.2", ""}, {"127.0.0.3", ""}} {
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != tc.want {
			t.Errorf("from %s: got %q, want %q", tc.src, got, tc.want)
		}
	}
	// As haproxy 2.6: both denials count on the frontend.
	if f, b := g.Frontend("fe").Stats(), g.Backend("be").Stats(); f.Dreq != 2 || b.Dreq != 0 || f.Stot != 3 || b.Stot != 2 {
		t.Errorf("frontend dreq=%d stot=%d, backend dreq=%d stot=%d; want 2/3 and 0/2", f.Dreq, f.Stot, b.Dreq, b.Stot)
	}
}

func TestHandoffWhilePaused(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Binds[0].Addr = tcpAddr(deadPort(t))
	old := startGraph(t, config(p))
	addr := feAddr(t, old, "li")
	old.Pause()
	files := old.ListenerFiles()
	if len(files) != 1 {
		t.Fatalf("%d listener files, want 1", len(files))
	}
	defer files[0].Close()
	q := listenProxy(srv.port())
	q.Binds[0].Addr = parser.Addr{Family: parser.FamilyFD, FD: 3, Text: "fd@3"}
	g, err := Build(config(q), Options{InheritedFDs: map[int]*os.File{3: files[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	roundTrip(t, dial(t, addr), "served by the new graph")
	old.StopListening()
	roundTrip(t, dial(t, addr), "still served after the old one stopped")
}

func TestReloadBindsBesideTheOldGraph(t *testing.T) {
	srv := startServer(t, echo)
	port := deadPort(t)
	mk := func() *Graph {
		p := listenProxy(srv.port())
		p.Binds[0].Addr = tcpAddr(port)
		return startGraph(t, config(p))
	}
	old := mk()
	addr := feAddr(t, old, "li")
	long := dial(t, addr)
	roundTrip(t, long, "before the reload")
	fresh := mk() // SO_REUSEPORT: binds while the old one listens
	old.StopListening()
	for i := 0; i < 20; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "new connections reach the new graph")
		c.Close()
	}
	roundTrip(t, long, "the old session lives on")
	if st := fresh.Frontend("li").Stats(); st.ConnTot != 20 {
		t.Errorf("new graph accepted %d, want 20", st.ConnTot)
	}
	long.Close()
	select {
	case <-old.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("old graph not done after its last session")
	}
}

func TestSoftStopServesQueuedSessions(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Servers[0].MaxConn = 1
	p.Timeouts.Queue = 5 * time.Second
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	first := dial(t, addr)
	roundTrip(t, first, "one")
	second := dial(t, addr)
	_, _ = second.Write([]byte("two"))
	waitFor(t, "second queued", func() bool { return g.Backend("li").Queued() == 1 })
	g.StopListening()
	first.Close()
	readWithin(t, second, "two", 2*time.Second)
	second.Close()
	select {
	case <-g.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("not done after the queued session ended")
	}
}

func TestCloseWithQueuedAndConnecting(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port(), blackhole(t))
	p.Balance.Algo = "source"
	p.Servers[0].MaxConn = 1
	p.Timeouts.Connect = 5 * time.Second
	p.Timeouts.Queue = 5 * time.Second
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	var conns []*net.TCPConn
	for i := 0; i < 4; i++ {
		conns = append(conns, dial(t, addr))
	}
	waitFor(t, "sessions waiting", func() bool {
		n := 0
		for _, s := range g.Sessions() {
			if s.State == "queued" || s.State == "connecting" {
				n++
			}
		}
		return n >= 3
	})
	g.Close()
	for _, c := range conns {
		expectClosed(t, c, 2*time.Second)
	}
	be := g.Backend("li")
	if be.Queued() != 0 || be.Servers[0].Queued() != 0 || be.Servers[0].Served() != 0 || be.Servers[1].Served() != 0 {
		t.Errorf("after Close: queued %d/%d served %d/%d", be.Queued(), be.Servers[0].Queued(),
			be.Servers[0].Served(), be.Servers[1].Served())
	}
}
