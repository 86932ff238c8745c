package proxy

import (
	"net"
	"testing"
	"time"
)

// TestMaxAcceptBatch: one wake-up of a listener accepts at most
// tune.maxaccept connections in a row (-1: all of them), then the loop
// turns to other work; the rest are accepted at the next turn.
func TestMaxAcceptBatch(t *testing.T) {
	const pending = 6
	for _, tc := range []struct{ maxaccept, want int }{{2, 2}, {1, 1}, {0, pending}, {-1, pending}} {
		srv := startServer(t, echo)
		p := listenProxy(srv.port())
		cfg := config(p)
		cfg.Global.NbThread = 1
		cfg.Global.TuneMaxAccept = tc.maxaccept
		g := startGraph(t, cfg)
		addr := feAddr(t, g, "li")
		got := -1
		g.onLoops(func(l *loop) {
			if len(l.listeners) == 0 {
				return
			}
			// The loop runs this: it cannot accept meanwhile, so the
			// connections wait in the kernel's queue.
			for i := 0; i < pending; i++ {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				t.Cleanup(func() { c.Close() })
			}
			before := 0
			l.sessions(func(*session) { before++ })
			l.accept(l.listeners[0])
			after := 0
			l.sessions(func(*session) { after++ })
			got = after - before
		})
		if got != tc.want {
			t.Errorf("tune.maxaccept %d: one turn accepted %d of %d, want %d", tc.maxaccept, got, pending, tc.want)
		}
		waitFor(t, "the other connections to be accepted", func() bool { return g.CumConns() == pending })
	}
}
