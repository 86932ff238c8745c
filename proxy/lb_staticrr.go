package proxy

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// staticRRBalancer is balance static-rr (HAProxy's map_get_server_rr): the
// server map of buildMap is walked cyclically from a rotating index, skipping
// full servers. The index survives rebuilds, as HAProxy's rr_idx does.
type staticRRBalancer struct {
	b          *Backend
	allBackups bool
	wmult      int

	idx atomic.Int64 // rr_idx: next slot to try

	mu  sync.Mutex
	tab atomic.Pointer[[]*Server]
}

func (lb *staticRRBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	p := choosePool(lb.b, lb.allBackups, mapEWeight(lb.wmult))
	m := buildMap(&p)
	lb.tab.Store(&m)
}

// casRetries bounds how often a pick retries when another pick moved the
// index under it; after that it keeps its result (a rare duplicate pick).
const casRetries = 4

func (lb *staticRRBalancer) pick(_ netip.Addr, avoid *Server) *Server {
	m := *lb.tab.Load()
	tot := int64(len(m))
	if tot == 0 {
		return nil
	}
	var srv *Server
	for try := 0; try < casRetries; try++ {
		start := lb.idx.Load()
		var next int64
		srv, next = walkMap(m, start, avoid)
		if lb.idx.CompareAndSwap(start, next) {
			break
		}
	}
	return srv
}

// walkMap looks for a free server from slot start (reset to 0 when out of
// range) and returns it with the index to store: just past the server taken,
// or the (reset) start when every server is full. avoid is taken only when it
// is the only free server.
func walkMap(m []*Server, start int64, avoid *Server) (*Server, int64) {
	tot := int64(len(m))
	first := start
	if first < 0 || first >= tot {
		first = 0
	}
	var avoided *Server
	var avoidIdx int64
	i := first
	for {
		s := m[i]
		i++
		if !lbSaturated(s) {
			if s != avoid {
				return s, i
			}
			avoided, avoidIdx = s, i
		}
		if i == tot {
			i = 0
		}
		if i == first {
			break
		}
	}
	if avoided != nil {
		return avoided, avoidIdx
	}
	return nil, first
}

func (lb *staticRRBalancer) taken(*Server)    {}
func (lb *staticRRBalancer) released(*Server) {}
