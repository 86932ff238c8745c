package proxy

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/internal/nettest"
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

func TestSoftStopServesQueuedSessions(t *testing.T) {
	g, first, second := queuedBehind(t, "roundrobin", 5*time.Second)
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
	p := listenProxy(srv.port(), nettest.Blackhole(t))
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
