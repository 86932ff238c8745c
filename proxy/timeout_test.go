package proxy

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"goproxy/internal/nettest"
	"goproxy/parser"
)

func TestIdleTimeouts(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name      string
		timeouts  parser.Timeouts
		wantAfter time.Duration // closed no earlier than this
		wantMax   time.Duration // and no later
		cliAbrt   int64
		srvAbrt   int64
		// oneWay: the session outlives the FIN the client got, until the
		// client closes (timeout server, as HAProxy).
		oneWay bool
	}{
		{"client", parser.Timeouts{Connect: time.Second, Client: 200 * ms, Server: 5 * time.Second}, 190 * ms, 800 * ms, 1, 0, false},
		{"server", parser.Timeouts{Connect: time.Second, Client: 5 * time.Second, Server: 200 * ms}, 190 * ms, 800 * ms, 0, 1, true},
		{"tunnel replaces both", parser.Timeouts{Connect: time.Second, Client: 100 * ms, Server: 100 * ms, Tunnel: 400 * ms}, 390 * ms, 1200 * ms, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, echo)
			p := listenProxy(srv.port())
			p.Timeouts = tt.timeouts
			g := startGraph(t, config(p))
			c := dial(t, feAddr(t, g, "li"))
			roundTrip(t, c, "ping")
			start := time.Now()
			_ = c.SetReadDeadline(start.Add(3 * time.Second))
			_, err := c.Read(make([]byte, 1))
			d := time.Since(start)
			if err == nil || d < tt.wantAfter || d > tt.wantMax {
				t.Fatalf("closed after %v (err %v), want between %v and %v", d, err, tt.wantAfter, tt.wantMax)
			}
			be := g.Backend("li")
			if tt.oneWay {
				time.Sleep(100 * ms)
				if cur := be.Stats().Scur; cur != 1 {
					t.Errorf("%d sessions after the client got its FIN, want 1 until it closes", cur)
				}
			}
			c.Close()
			waitFor(t, "session end", func() bool { return be.Stats().Scur == 0 })
			if st := be.Stats(); st.CliAbrt != tt.cliAbrt || st.SrvAbrt != tt.srvAbrt || st.Eresp != 0 {
				t.Errorf("cli_abrt=%d srv_abrt=%d, want %d/%d", st.CliAbrt, st.SrvAbrt, tt.cliAbrt, tt.srvAbrt)
			}
		})
	}
}

func TestActivityKeepsSessionAlive(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Timeouts.Client = 300 * time.Millisecond
	p.Timeouts.Server = 300 * time.Millisecond
	g := startGraph(t, config(p))
	c := dial(t, feAddr(t, g, "li"))
	for i := 0; i < 6; i++ {
		roundTrip(t, c, "beat")
		time.Sleep(150 * time.Millisecond)
	}
	roundTrip(t, c, "still here")
}

func TestClientFinTimeout(t *testing.T) {
	// The server answers and closes; the client never closes: once the
	// proxy has shut the client's side, client-fin applies instead of the
	// long client timeout.
	srv := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("bye")) })
	p := listenProxy(srv.port())
	p.Timeouts.Client = 10 * time.Second
	p.Timeouts.ClientFin = 200 * time.Millisecond
	g := startGraph(t, config(p))
	c := dial(t, feAddr(t, g, "li"))
	start := time.Now()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "bye" {
		t.Fatalf("read %q, %v", b, err)
	}
	fe := g.Frontend("li")
	waitFor(t, "session end", func() bool { return fe.Stats().Scur == 0 })
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("session lasted %v, want about 200ms", d)
	}
}

func TestServerFinTimeout(t *testing.T) {
	// The client shuts its side and waits; the server never answers nor
	// closes: server-fin ends the session.
	accepted := make(chan struct{}, 1)
	srv := startServer(t, func(c net.Conn) {
		accepted <- struct{}{}
		time.Sleep(3 * time.Second)
	})
	p := listenProxy(srv.port())
	p.Timeouts.ServerFin = 200 * time.Millisecond
	g := startGraph(t, config(p))
	c := dial(t, feAddr(t, g, "li"))
	// Shut the client side only once the server connection is up: a client
	// that leaves with nothing sent while the proxy is still connecting
	// ends the session at once (CC), as HAProxy does.
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("the server connection was never made")
	}
	waitFor(t, "session in data state", func() bool { ss := g.Sessions(); return len(ss) == 1 && ss[0].State == "established" })
	_ = c.CloseWrite()
	if d := expectClosed(t, c, 2*time.Second); d < 150*time.Millisecond {
		t.Errorf("closed after %v, want about 200ms", d)
	}
}

func TestConnectTimeoutAndRetries(t *testing.T) {
	p := listenProxy(nettest.Blackhole(t))
	p.Timeouts.Connect = 150 * time.Millisecond
	p.Retries = 1
	g := startGraph(t, config(p))
	c := dial(t, feAddr(t, g, "li"))
	// Two attempts of 150ms and one turn-around of 150ms.
	if d := expectClosed(t, c, 3*time.Second); d < 400*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("closed after %v, want about 450ms", d)
	}
	// HAProxy: econ counts the session that gave up, stot every attempt.
	s := g.Backend("li").Servers[0].Stats()
	if s.Econ != 1 || s.Wretr != 1 || s.Connect != 2 || s.Stot != 2 {
		t.Errorf("econ=%d wretr=%d connect=%d stot=%d, want 1/1/2/2", s.Econ, s.Wretr, s.Connect, s.Stot)
	}
}

func TestRetriesPacing(t *testing.T) {
	for _, retries := range []int{0, 2} {
		t.Run(strconv.Itoa(retries), func(t *testing.T) {
			p := listenProxy(deadPort(t))
			p.Retries = retries
			p.Timeouts.Connect = 200 * time.Millisecond
			g := startGraph(t, config(p))
			c := dial(t, feAddr(t, g, "li"))
			d := expectClosed(t, c, 3*time.Second)
			want := time.Duration(retries) * 200 * time.Millisecond
			if d < want-20*time.Millisecond || d > want+700*time.Millisecond {
				t.Errorf("closed after %v, want about %v", d, want)
			}
			st := g.Backend("li").Stats()
			if st.Econ != 1 || st.Wretr != int64(retries) || st.Connect != int64(retries+1) || st.Stot != 1 {
				t.Errorf("econ=%d wretr=%d connect=%d stot=%d, want 1/%d/%d/1", st.Econ, st.Wretr, st.Connect, st.Stot, retries, retries+1)
			}
		})
	}
}

func TestRedispatch(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(deadPort(t), srv.port())
	p.Options.Redispatch = true
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")
	start := time.Now()
	for i := 0; i < 4; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "via the live one")
		c.Close()
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v: redispatch with round robin should not wait", d)
	}
	// As haproxy 2.6 counts it: a redispatch is not a retry, and the
	// session that succeeded elsewhere is no connection error.
	be := g.Backend("li")
	dead := be.Servers[0].Stats()
	if st := be.Stats(); st.Wredis < 1 || st.Wredis != dead.Wredis || st.Wretr != 0 || st.Econ != 0 || dead.Econ != 0 ||
		st.Lbtot != 4+st.Wredis || st.Connect != 4+st.Wredis {
		t.Errorf("backend wredis=%d wretr=%d econ=%d lbtot=%d connect=%d, dead server wredis=%d econ=%d",
			st.Wredis, st.Wretr, st.Econ, st.Lbtot, st.Connect, dead.Wredis, dead.Econ)
	}
	if st := be.Servers[1].Stats(); st.Stot != 4 {
		t.Errorf("live server stot=%d, want 4", st.Stot)
	}
}
