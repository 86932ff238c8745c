package proxy

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// mapSourceBalancer is balance source with hash-type map-based (HAProxy's
// get_server_sh over the server map): the folded client address, maybe
// avalanched, modulo the total weight indexes the map of buildMap.
//
// As in HAProxy it ignores avoid (a redispatch hashes to the same server)
// and does not skip a full server (the session waits in its queue).
type mapSourceBalancer struct {
	b          *Backend
	allBackups bool
	avalanche  bool
	wmult      int

	mu  sync.Mutex
	tab atomic.Pointer[mapSourceTable]
	// rrIdx walks the map for clients without an IP address (a UNIX
	// listener's), which HAProxy sends round robin over the map.
	rrIdx atomic.Int64
}

type mapSourceTable struct {
	m    []*Server
	used int
}

func (lb *mapSourceBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	p := choosePool(lb.b, lb.allBackups, mapEWeight(lb.wmult))
	lb.tab.Store(&mapSourceTable{m: buildMap(&p), used: p.used})
}

func (lb *mapSourceBalancer) pick(src netip.Addr, avoid *Server) *Server {
	t := lb.tab.Load()
	if len(t.m) == 0 {
		return nil
	}
	var h uint32
	if t.used > 1 {
		var ok bool
		if h, ok = sourceFold(src); !ok {
			return lb.pickRR(t.m, avoid)
		}
		if lb.avalanche {
			h = fullHash(h)
		}
	}
	return t.m[h%uint32(len(t.m))]
}

// pickRR is HAProxy's map_get_server_rr, its fallback when the hashed
// parameter is missing: the map walked cyclically, skipping full servers.
func (lb *mapSourceBalancer) pickRR(m []*Server, avoid *Server) *Server {
	var srv *Server
	for try := 0; try < casRetries; try++ {
		start := lb.rrIdx.Load()
		var next int64
		srv, next = walkMap(m, start, avoid)
		if lb.rrIdx.CompareAndSwap(start, next) {
			break
		}
	}
	return srv
}

func (lb *mapSourceBalancer) taken(*Server)    {}
func (lb *mapSourceBalancer) released(*Server) {}

// chashSourceBalancer is balance source with hash-type consistent: the
// folded (and by default avalanched) client address is looked up on the
// consistent-hash ring, so a server going down only moves its own clients.
// avoid moves to the next point of another server; a full server is not
// skipped (the session waits in its queue), as in HAProxy.
type chashSourceBalancer struct {
	b          *Backend
	allBackups bool
	avalanche  bool

	mu  sync.Mutex
	tab atomic.Pointer[chashTable]
	// next rotates over the ring's points for clients without an IP
	// address, HAProxy's chash_get_next_server fallback.
	next atomic.Uint32
}

// chashTable is the ring of the chosen pool, or the single backup.
type chashTable struct {
	pool lbPool
	ring chashRing
}

func newChashTable(b *Backend, allBackups bool) *chashTable {
	t := &chashTable{pool: choosePool(b, allBackups, dynamicEWeight)}
	if t.pool.single == nil {
		t.ring = buildRing(&t.pool)
	}
	return t
}

// lookup returns the server for h, avoiding avoid when possible.
func (t *chashTable) lookup(h uint32, avoid *Server) (*Server, int32) {
	if t.pool.single != nil {
		return t.pool.single, 0
	}
	a := int32(-1)
	if avoid != nil {
		for i, s := range t.pool.srvs {
			if s == avoid {
				a = int32(i)
				break
			}
		}
	}
	i := t.ring.lookup(h, a)
	if i < 0 {
		return nil, -1
	}
	return t.pool.srvs[i], i
}

func (lb *chashSourceBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.tab.Store(newChashTable(lb.b, lb.allBackups))
}

func (lb *chashSourceBalancer) pick(src netip.Addr, avoid *Server) *Server {
	t := lb.tab.Load()
	if t.pool.used == 0 {
		return nil
	}
	var h uint32
	if t.pool.used > 1 {
		var ok bool
		if h, ok = sourceFold(src); !ok {
			if n := len(t.ring.keys); n > 0 {
				// The server of the next point of the ring.
				h = t.ring.keys[int(lb.next.Add(1)%uint32(n))]
			}
		} else if lb.avalanche {
			h = fullHash(h)
		}
	}
	s, _ := t.lookup(h, avoid)
	return s
}

func (lb *chashSourceBalancer) taken(*Server)    {}
func (lb *chashSourceBalancer) released(*Server) {}
