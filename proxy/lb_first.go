package proxy

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
)

// firstBalancer is balance first (HAProxy's lb_fas): the usable server with
// the lowest id that has a free slot; weights only decide usability.
type firstBalancer struct {
	b          *Backend
	allBackups bool

	mu  sync.Mutex
	tab atomic.Pointer[lbPool]
}

func (lb *firstBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	p := choosePool(lb.b, lb.allBackups, dynamicEWeight)
	p.ew = nil // only the order by id matters
	slices.SortStableFunc(p.srvs, func(a, b *Server) int { return a.ID - b.ID })
	lb.tab.Store(&p)
}

func (lb *firstBalancer) pick(_ netip.Addr, avoid *Server) *Server {
	p := lb.tab.Load()
	if p.single != nil {
		return p.single
	}
	var avoided *Server
	for _, s := range p.srvs {
		if lbSaturated(s) {
			continue
		}
		if s == avoid {
			avoided = s
			continue
		}
		return s
	}
	return avoided
}

func (lb *firstBalancer) taken(*Server)    {}
func (lb *firstBalancer) released(*Server) {}
