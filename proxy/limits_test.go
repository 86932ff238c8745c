package proxy

import (
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/internal/srvstate"
)

// readWithin reads len(want) bytes and checks they arrive within d.
func readWithin(t *testing.T, c net.Conn, want string, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(buf) != want {
		t.Fatalf("got %q, want %q", buf, want)
	}
}

// expectNothing checks that nothing arrives on c for d.
func expectNothing(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	if n, err := c.Read(b[:]); n > 0 || err == nil {
		t.Fatalf("got %d bytes (%v) while waiting", n, err)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("connection ended while waiting: %v", err)
	}
}

func TestFrontendMaxConn(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.MaxConn = 1
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	first := dial(t, addr)
	roundTrip(t, first, "one")
	second := dial(t, addr) // completes in the kernel backlog
	if _, err := second.Write([]byte("two")); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, second, 300*time.Millisecond)
	if st := g.Frontend("li").Stats(); st.Scur != 1 || st.ConnTot != 1 {
		t.Fatalf("scur=%d conn_tot=%d while full, want 1/1", st.Scur, st.ConnTot)
	}
	first.Close()
	readWithin(t, second, "two", 2*time.Second)
}

func TestGlobalMaxConn(t *testing.T) {
	srv := startServer(t, echo)
	cfg := config(listenProxy(srv.port()))
	cfg.Global.MaxConn = 1
	g := startGraph(t, cfg)
	addr := feAddr(t, g, "li")
	first := dial(t, addr)
	roundTrip(t, first, "one")
	second := dial(t, addr)
	_, _ = second.Write([]byte("two"))
	expectNothing(t, second, 300*time.Millisecond)
	first.Close()
	readWithin(t, second, "two", 2*time.Second)
}

// queueCases: round robin skips a full server and queues in the backend;
// a map-based hash keeps its server and queues in the server's queue.
var queueCases = []struct {
	algo    string
	serverQ bool
}{{"roundrobin", false}, {"source", true}}

// queuedNow returns the queue length where the case queues.
func queuedNow(g *Graph, serverQ bool) int64 {
	be := g.Backend("li")
	if serverQ {
		return be.Servers[0].Queued()
	}
	return be.Queued()
}

// queuedBehind starts a listen section whose one server takes a single
// session, with the given algorithm and timeout queue, and returns the
// graph, a served client and a second client that waits in the queue.
func queuedBehind(t *testing.T, algo string, queue time.Duration) (*Graph, *net.TCPConn, *net.TCPConn) {
	t.Helper()
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Balance.Algo = algo
	p.Servers[0].MaxConn = 1
	p.Timeouts.Queue = queue
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	first := dial(t, addr)
	roundTrip(t, first, "one")
	return g, first, dial(t, addr)
}

func TestServerMaxConnQueue(t *testing.T) {
	for _, tc := range queueCases {
		t.Run(tc.algo, func(t *testing.T) {
			g, first, second := queuedBehind(t, tc.algo, 3*time.Second)
			_, _ = second.Write([]byte("two"))
			expectNothing(t, second, 300*time.Millisecond)
			be, s1 := g.Backend("li"), g.Backend("li").Servers[0]
			qs := be.Stats()
			if tc.serverQ {
				qs = s1.Stats()
			}
			if queuedNow(g, tc.serverQ) != 1 || qs.Qcur != 1 || s1.Served() != 1 {
				t.Fatalf("queued=%d qcur=%d served=%d, want 1/1/1", queuedNow(g, tc.serverQ), qs.Qcur, s1.Served())
			}
			first.Close()
			readWithin(t, second, "two", 2*time.Second)
			qs = be.Stats()
			if tc.serverQ {
				qs = s1.Stats()
			}
			if qs.Qcur != 0 || qs.Qmax != 1 {
				t.Errorf("qcur=%d qmax=%d, want 0/1", qs.Qcur, qs.Qmax)
			}
			second.Close()
			waitFor(t, "sessions to end", func() bool { return be.Stats().Scur == 0 && s1.Served() == 0 })
			if st := be.Stats(); st.Qtime == 0 || st.QtimeMax < 250 {
				t.Errorf("qtime=%d qtime_max=%d, want the wait of the second session", st.Qtime, st.QtimeMax)
			}
		})
	}
}

func TestQueueTimeout(t *testing.T) {
	for _, tc := range queueCases {
		t.Run(tc.algo, func(t *testing.T) {
			g, first, second := queuedBehind(t, tc.algo, 200*time.Millisecond)
			if d := expectClosed(t, second, 2*time.Second); d < 150*time.Millisecond || d > time.Second {
				t.Errorf("queued client closed after %v, want about 200ms", d)
			}
			be := g.Backend("li")
			wantSrvEcon := int64(0)
			if tc.serverQ {
				wantSrvEcon = 1
			}
			if queuedNow(g, tc.serverQ) != 0 || be.Stats().Econ != 1 || be.Servers[0].Stats().Econ != wantSrvEcon {
				t.Errorf("queued=%d econ=%d/%d, want 0 and 1/%d", queuedNow(g, tc.serverQ),
					be.Stats().Econ, be.Servers[0].Stats().Econ, wantSrvEcon)
			}
			roundTrip(t, first, "first still served")
		})
	}
}

func TestMaxQueue(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Balance.Algo = "source"
	p.Servers[0].MaxConn = 1
	p.Servers[0].MaxQueue = 1
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	first := dial(t, addr)
	roundTrip(t, first, "one")
	second := dial(t, addr)
	waitFor(t, "second queued", func() bool { return g.Backend("li").Servers[0].Queued() == 1 })
	third := dial(t, addr)
	if d := expectClosed(t, third, 2*time.Second); d > 500*time.Millisecond {
		t.Errorf("third client closed after %v, want at once", d)
	}
	first.Close()
	roundTrip(t, second, "second served")
}

func TestResetsCounted(t *testing.T) {
	t.Run("client reset", func(t *testing.T) {
		srv := startServer(t, echo)
		g := startGraph(t, config(listenProxy(srv.port())))
		c := dial(t, feAddr(t, g, "li"))
		roundTrip(t, c, "x")
		_ = c.SetLinger(0)
		c.Close()
		be := g.Backend("li")
		waitFor(t, "session end", func() bool { return be.Stats().Scur == 0 })
		if st := be.Stats(); st.CliAbrt != 1 || st.SrvAbrt != 0 {
			t.Errorf("cli_abrt=%d srv_abrt=%d, want 1/0", st.CliAbrt, st.SrvAbrt)
		}
	})
	t.Run("server reset", func(t *testing.T) {
		srv := startServer(t, func(c net.Conn) {
			b := make([]byte, 1)
			_, _ = c.Read(b)
			_ = c.(*net.TCPConn).SetLinger(0)
		})
		g := startGraph(t, config(listenProxy(srv.port())))
		c := dial(t, feAddr(t, g, "li"))
		_, _ = c.Write([]byte("x"))
		_, err := io.ReadAll(c)
		_ = err // a reset or an end, depending on timing
		be := g.Backend("li")
		waitFor(t, "session end", func() bool { return be.Stats().Scur == 0 })
		if st := be.Stats(); st.SrvAbrt != 1 || st.CliAbrt != 0 || st.Eresp != 1 || be.Servers[0].Stats().SrvAbrt != 1 {
			t.Errorf("cli_abrt=%d srv_abrt=%d, want 0/1", st.CliAbrt, st.SrvAbrt)
		}
	})
}

func TestManyConnectionsNoLeak(t *testing.T) {
	srv := startServer(t, echo)
	fdsBefore := countFDs(t)
	goBefore := runtime.NumGoroutine()
	g, err := Build(config(listenProxy(srv.port())), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	addr := feAddr(t, g, "li")
	const n, par = 2000, 100
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, par)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			if i%2 == 0 {
				msg := []byte("ping")
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, msg); err != nil {
					errs <- err
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, "all sessions established", func() bool { return g.CurrConns() == n })
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	fe := g.Frontend("li")
	waitFor(t, "sessions to end", func() bool { return fe.Stats().Scur == 0 && g.CurrConns() == 0 })
	if st := fe.Stats(); st.Stot != n || st.Smax != n {
		t.Errorf("stot=%d smax=%d, want %d", st.Stot, st.Smax, n)
	}
	g.Close()
	srv.close()
	waitFor(t, "descriptors to be released", func() bool { return countFDs(t) <= fdsBefore })
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= goBefore })
}

func TestServerStateActsOnQueueAndSessions(t *testing.T) {
	log, _ := test.NewNullLogger()
	srvA := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("A")); echo(c) })
	srvB := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("B")); echo(c) })
	p := listenProxy(srvA.port(), srvB.port())
	p.Balance.Algo = "source"
	for _, s := range p.Servers {
		s.MaxConn = 1
		s.Check = true
		s.OnMarkedDown = "shutdown-sessions"
	}
	p.Timeouts.Queue = 5 * time.Second
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	first := dial(t, addr)
	b := make([]byte, 1)
	if _, err := io.ReadFull(first, b); err != nil {
		t.Fatal(err)
	}
	be := g.Backend("li")
	x, y := be.Servers[0], be.Servers[1]
	if b[0] == 'B' {
		x, y = y, x
	}
	second := dial(t, addr) // same source: waits in x's queue
	waitFor(t, "second queued on "+x.Name, func() bool { return x.Queued() == 1 })

	x.SetMaint(true, log)
	if _, err := io.ReadFull(second, b); err != nil || b[0] != y.Name[1]-'1'+'A' {
		t.Fatalf("requeued session answered %q (%v), want the other server", b, err)
	}
	// on-marked-down shutdown-sessions: going down kills x's session.
	expectClosed(t, first, 2*time.Second)

	// A failed health check marks y down and kills its sessions too.
	roundTrip(t, second, "alive")
	reportCheck(y, srvstate.CheckL4Con, 0, "Connection refused", 0, log)
	if y.Running() {
		t.Fatal("server still running after a failed check")
	}
	expectClosed(t, second, 2*time.Second)
	waitFor(t, "no session", func() bool { return be.Stats().Scur == 0 })
}
