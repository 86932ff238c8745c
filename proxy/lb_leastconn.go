package proxy

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// leastconnBalancer is balance leastconn (HAProxy's lb_fwlc). A server's key
// is 0 when it has nothing in flight, else (served+queued+1)*4096/eweight;
// the lowest key wins. HAProxy keeps servers in a tree where equal keys stay
// in insertion order and a server is reinserted each time its load changes;
// here each server carries in lbKey the stamp of its last reinsertion and
// equal keys go to the oldest stamp, which gives the same round-robin among
// equally loaded servers without a shared tree on the hot path.
type leastconnBalancer struct {
	b          *Backend
	allBackups bool

	seq atomic.Int64 // reinsertion stamps

	mu  sync.Mutex
	tab atomic.Pointer[lbPool]
}

func (lb *leastconnBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	old := lb.tab.Load()
	p := choosePool(lb.b, lb.allBackups, dynamicEWeight)
	// A server that joins the pool or changes weight is (re)inserted at
	// the end of its key group; the first build stamps declaration order.
	for i, s := range p.srvs {
		if old == nil || !old.hasWeight(s, p.ew[i]) {
			s.lbKey.Store(lb.seq.Add(1))
		}
	}
	lb.tab.Store(&p)
}

// hasWeight reports whether s is in the pool with effective weight ew.
func (p *lbPool) hasWeight(s *Server, ew int) bool {
	for i, x := range p.srvs {
		if x == s {
			return p.ew[i] == ew
		}
	}
	return false
}

func (lb *leastconnBalancer) pick(_ netip.Addr, avoid *Server) *Server {
	p := lb.tab.Load()
	if p.single != nil {
		return p.single
	}
	var best, avoided *Server
	var bestKey, bestStamp int64
	for i, s := range p.srvs {
		inflight := s.served.Load() + s.queued.Load()
		if m := lbMaxConn(s); m > 0 && inflight >= m+int64(s.Config.MaxQueue) {
			continue
		}
		if s == avoid {
			avoided = s
			continue
		}
		var key int64
		if inflight > 0 {
			key = (inflight + 1) * eweightMax / int64(p.ew[i])
		}
		stamp := s.lbKey.Load()
		if best == nil || key < bestKey || (key == bestKey && stamp < bestStamp) {
			best, bestKey, bestStamp = s, key, stamp
		}
	}
	if best == nil {
		return avoided
	}
	return best
}

// taken and released move s to the end of its new key group.
func (lb *leastconnBalancer) taken(s *Server)    { s.lbKey.Store(lb.seq.Add(1)) }
func (lb *leastconnBalancer) released(s *Server) { s.lbKey.Store(lb.seq.Add(1)) }
