package proxy

import (
	"errors"
	"net/netip"
	"sync/atomic"
)

// testBalancer is a plain round robin over usable servers, standing in for
// the real algorithms in this package's tests.
type testBalancer struct {
	b    *Backend
	next atomic.Uint64
}

func newBalancer(b *Backend) (balancer, error) {
	switch b.Config.Balance.Algo {
	case "", "roundrobin", "static-rr", "leastconn", "first", "source", "random":
		return &testBalancer{b: b}, nil
	}
	return nil, errors.New("unknown balancing algorithm '" + b.Config.Balance.Algo + "'")
}

func (t *testBalancer) pick(_ netip.Addr, avoid *Server) *Server {
	var cands []*Server
	for _, s := range t.b.Servers {
		if s.usable() && !s.Backup {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	if len(cands) > 1 && avoid != nil {
		for i, s := range cands {
			if s == avoid {
				cands = append(cands[:i:i], cands[i+1:]...)
				break
			}
		}
	}
	return cands[int(t.next.Add(1)-1)%len(cands)]
}

func (t *testBalancer) update()          {}
func (t *testBalancer) taken(*Server)    {}
func (t *testBalancer) released(*Server) {}
