package proxy

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
)

// randomBalancer is balance random / random(N) (HAProxy's get_server_rnd):
// N random keys are looked up on the consistent-hash ring and the server
// with the lowest served/eweight among the draws wins. A full winner gives
// no server, so that the session waits in the backend queue.
type randomBalancer struct {
	b          *Backend
	allBackups bool
	draws      int

	mu  sync.Mutex
	tab atomic.Pointer[chashTable]
}

func (lb *randomBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.tab.Store(newChashTable(lb.b, lb.allBackups))
}

func (lb *randomBalancer) pick(_ netip.Addr, avoid *Server) *Server {
	t := lb.tab.Load()
	if t.pool.used == 0 {
		return nil
	}
	var curr *Server
	ci := int32(-1)
	for d := 0; d < lb.draws; d++ {
		prev, pi := curr, ci
		curr, ci = t.lookup(rand.Uint32(), avoid)
		if curr == nil {
			break
		}
		if prev != nil && prev != curr {
			cw, pw := int64(t.ewAt(ci)), int64(t.ewAt(pi))
			if curr.Served()*pw > prev.Served()*cw {
				curr, ci = prev, pi
			}
		}
	}
	if curr != nil && lbSaturated(curr) {
		return nil
	}
	return curr
}

// ewAt returns the effective weight of the pool's server i.
func (t *chashTable) ewAt(i int32) int {
	if t.pool.single != nil {
		return t.pool.tot
	}
	return t.pool.ew[i]
}

func (lb *randomBalancer) taken(*Server)    {}
func (lb *randomBalancer) released(*Server) {}
