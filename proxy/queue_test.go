package proxy

import (
	"sync"
	"testing"
	"time"
)

// TestDequeueToExitedLoop: a freed server slot given to a queued session
// whose loop no longer takes commands (it is exiting) must not be lost: it
// goes to the next session in the queue, and the server's count stays right.
func TestDequeueToExitedLoop(t *testing.T) {
	for _, tc := range queueCases {
		t.Run(tc.algo, func(t *testing.T) {
			srv := startServer(t, echo)
			p := listenProxy(srv.port())
			p.Balance.Algo = tc.algo
			p.Servers[0].MaxConn = 1
			p.Timeouts.Queue = 10 * time.Second
			cfg := config(p)
			cfg.Global.NbThread = 2
			g := startGraph(t, cfg)
			addr := feAddr(t, g, "li")
			first := dial(t, addr)
			roundTrip(t, first, "one")
			second := dial(t, addr)
			waitFor(t, "the second client to queue", func() bool { return queuedNow(g, tc.serverQ) == 1 })

			// Find the loop holding the queued session, stop it accepting
			// and make it refuse commands, as an exiting loop does.
			var mu sync.Mutex
			var dead *loop
			g.onLoops(func(l *loop) {
				l.sessions(func(s *session) {
					if s.state == stQueued {
						mu.Lock()
						dead = l
						mu.Unlock()
					}
				})
			})
			mu.Lock()
			x := dead
			mu.Unlock()
			if x == nil {
				t.Fatal("no loop holds the queued session")
			}
			refused := make(chan struct{})
			x.post(func(l *loop) {
				for _, ln := range append([]*Listener(nil), l.listeners...) {
					l.dropListener(ln)
				}
				l.cmdMu.Lock()
				l.dead = true
				l.cmdMu.Unlock()
				close(refused)
			})
			select {
			case <-refused:
			case <-time.After(2 * time.Second):
				t.Fatal("the loop did not run the command")
			}
			// Revive it before the graph's Close (cleanups run last first).
			t.Cleanup(func() {
				x.cmdMu.Lock()
				x.dead = false
				x.cmdMu.Unlock()
			})

			third := dial(t, addr) // served by the other loop
			waitFor(t, "the third client to queue", func() bool { return queuedNow(g, tc.serverQ) == 2 })
			_, _ = third.Write([]byte("three"))
			first.Close()
			readWithin(t, third, "three", 2*time.Second)
			s1 := g.Backend("li").Servers[0]
			if n, q := s1.Served(), queuedNow(g, tc.serverQ); n != 1 || q != 0 {
				t.Errorf("served=%d queued=%d after the dequeue failure, want 1/0", n, q)
			}
			third.Close()
			waitFor(t, "the slot to be free", func() bool { return s1.Served() == 0 })
			second.Close()
		})
	}
}
