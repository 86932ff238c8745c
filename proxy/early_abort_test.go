package proxy

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientAbortWhileWaiting: with option abortonclose, a client that
// closes while its session is queued or between connection attempts ends
// the session at once, and its server never sees a connection for it
// (HAProxy's CQ and CC). Without it, a FIN is a half-close and the session
// is served; a reset ends it at once either way.
func TestClientAbortWhileWaiting(t *testing.T) {
	t.Run("queued", func(t *testing.T) {
		var accepted atomic.Int64
		srv := startServer(t, func(c net.Conn) {
			accepted.Add(1)
			echo(c)
		})
		p := listenProxy(srv.port())
		p.Servers[0].MaxConn = 1
		p.Timeouts.Queue = 5 * time.Second
		p.Options.AbortOnClose = true
		g := startGraph(t, config(p))
		addr := feAddr(t, g, "li")
		first := dial(t, addr)
		roundTrip(t, first, "one")
		second := dial(t, addr)
		waitFor(t, "the second session to queue", func() bool { return queuedNow(g, true)+queuedNow(g, false) == 1 })
		second.Close()
		be := g.Backend("li")
		start := time.Now()
		waitFor(t, "the aborted session to leave the queue", func() bool { return queuedNow(g, true)+queuedNow(g, false) == 0 && be.Stats().Scur == 1 })
		if d := time.Since(start); d > time.Second {
			t.Errorf("the aborted session left the queue after %v", d)
		}
		first.Close()
		waitFor(t, "the first session to end", func() bool { return be.Stats().Scur == 0 })
		if n := accepted.Load(); n != 1 {
			t.Errorf("the server accepted %d connections, want 1: the aborted session must not reach it", n)
		}
	})

	t.Run("queued with a request and a half-close", func(t *testing.T) {
		g, first, second := queuedBehind(t, "roundrobin", 5*time.Second)
		if _, err := second.Write([]byte("request")); err != nil {
			t.Fatal(err)
		}
		second.CloseWrite()
		waitFor(t, "the second session to queue", func() bool { return queuedNow(g, true)+queuedNow(g, false) == 1 })
		time.Sleep(50 * time.Millisecond) // its FIN has arrived by now
		first.Close()
		_ = second.SetReadDeadline(time.Now().Add(3 * time.Second))
		got, err := io.ReadAll(second)
		if string(got) != "request" || err != nil {
			t.Errorf("a queued client that sent its request and half-closed got %q (%v), want it echoed", got, err)
		}
	})

	t.Run("turn-around", func(t *testing.T) {
		p := listenProxy(deadPort(t))
		p.Retries = 3
		p.Options.AbortOnClose = true
		g := startGraph(t, config(p))
		be := g.Backend("li")
		c := dial(t, feAddr(t, g, "li"))
		waitFor(t, "a first retry", func() bool { return be.Stats().Wretr >= 1 })
		c.Close()
		start := time.Now()
		waitFor(t, "the session to end", func() bool { return be.Stats().Scur == 0 })
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("the session ended %v after its client left, want at once (not after the retries)", d)
		}
		if st := be.Stats(); st.Econ != 0 || st.CliAbrt != 0 {
			t.Errorf("econ=%d cli_abrt=%d, want 0/0 as haproxy", st.Econ, st.CliAbrt)
		}
	})

	for _, tc := range []struct {
		name   string
		leave  func(c *net.TCPConn)
		served bool
	}{
		{"queued, FIN without abortonclose", func(c *net.TCPConn) { c.CloseWrite() }, true},
		{"queued, reset without abortonclose", func(c *net.TCPConn) { c.SetLinger(0); c.Close() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var accepted atomic.Int64
			srv := startServer(t, func(c net.Conn) {
				accepted.Add(1)
				c.Write([]byte("banner"))
				echo(c)
			})
			p := listenProxy(srv.port())
			p.Servers[0].MaxConn = 1
			p.Timeouts.Queue = 5 * time.Second
			g := startGraph(t, config(p))
			addr := feAddr(t, g, "li")
			first := dial(t, addr)
			first.Write([]byte("one"))
			buf := make([]byte, 9)
			if _, err := io.ReadFull(first, buf); err != nil || string(buf) != "bannerone" {
				t.Fatalf("first client got %q (%v)", buf, err)
			}
			second := dial(t, addr)
			waitFor(t, "the second session to queue", func() bool { return queuedNow(g, true)+queuedNow(g, false) == 1 })
			tc.leave(second)
			time.Sleep(100 * time.Millisecond)
			first.Close()
			be := g.Backend("li")
			waitFor(t, "every session to end", func() bool { return be.Stats().Scur == 0 })
			if tc.served {
				_ = second.SetReadDeadline(time.Now().Add(3 * time.Second))
				got, err := io.ReadAll(second)
				if string(got) != "banner" || err != nil {
					t.Errorf("the half-closed client got %q (%v), want the server's banner", got, err)
				}
			}
			want := int64(1)
			if tc.served {
				want = 2
			}
			if n := accepted.Load(); n != want {
				t.Errorf("the server accepted %d connections, want %d", n, want)
			}
		})
	}
}
