package proxy

import (
	"fmt"
	"net/netip"
	"testing"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// srvSpec describes one server of a test backend.
type srvSpec struct {
	weight   int
	backup   bool
	down     bool // not running
	maint    bool // srvstate.AdminForcedMaint (config "disabled")
	drain    bool
	maxconn  int
	maxqueue int
	id       int // 0 = position
}

// lbConf is the balancing part of a test backend's configuration.
type lbConf struct {
	algo       string
	draws      int
	consistent bool
	function   string
	avalanche  bool
	allBackups bool
}

// newTestBackend builds a backend named "be" with servers s1, s2, ... and
// its balancer.
func newTestBackend(t testing.TB, c lbConf, specs ...srvSpec) *Backend {
	t.Helper()
	b := &Backend{Name: "be", ID: 1, Config: &parser.Proxy{
		Name:     "be",
		Balance:  parser.Balance{Algo: c.algo, Draws: c.draws},
		HashType: parser.HashType{Consistent: c.consistent, Function: c.function, Avalanche: c.avalanche},
		Options:  parser.ProxyOptions{AllBackups: c.allBackups},
	}}
	for i, sp := range specs {
		id := sp.id
		if id == 0 {
			id = i + 1
		}
		s := &Server{
			Name:    fmt.Sprintf("s%d", i+1),
			ID:      id,
			Backend: b,
			Backup:  sp.backup,
			Config:  parser.ServerParams{Weight: sp.weight, Backup: sp.backup, MaxConn: sp.maxconn, MaxQueue: sp.maxqueue},
		}
		s.uweight.Store(int32(sp.weight))
		initMaxConn(s)
		s.running.Store(!sp.down)
		if sp.maint {
			s.admin.Store(srvstate.AdminForcedMaint)
		}
		if sp.drain {
			s.admin.Or(srvstate.AdminForcedDrain)
		}
		b.Servers = append(b.Servers, s)
	}
	lb, err := newBalancer(b)
	if err != nil {
		t.Fatalf("newBalancer: %v", err)
	}
	b.lb = lb
	return b
}

// weights returns specs of active servers with the given weights.
func weights(ws ...int) []srvSpec {
	out := make([]srvSpec, len(ws))
	for i, w := range ws {
		out[i] = srvSpec{weight: w}
	}
	return out
}

func name(s *Server) string {
	if s == nil {
		return "<nil>"
	}
	return s.Name
}

// picks returns the names of n successive picks for src with no avoid.
func picks(b *Backend, src netip.Addr, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = name(b.lb.pick(src, nil))
	}
	return out
}

// counts picks n times (holding nothing) and counts servers by name.
func counts(b *Backend, n int, src func(i int) netip.Addr) map[string]int {
	m := map[string]int{}
	for i := 0; i < n; i++ {
		var a netip.Addr
		if src != nil {
			a = src(i)
		}
		m[name(b.lb.pick(a, nil))]++
	}
	return m
}

// ip4 returns 127.a.b.c for a small index (1..2^24-1).
func ip4(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(i >> 16), byte(i >> 8), byte(i)})
}

// take simulates a session starting on s, as the session code does.
func take(b *Backend, s *Server) {
	s.served.Add(1)
	b.lb.taken(s)
}

// release simulates a session ending on s.
func release(b *Backend, s *Server) {
	s.served.Add(-1)
	b.lb.released(s)
}

// setWeight changes a server's user weight as the stats socket does.
func setWeight(s *Server, w int) {
	s.uweight.Store(int32(w))
	s.Backend.lb.update()
}

// maxConnSetter is implemented by servers with a runtime maxconn, which
// the graph initialises from the configuration; test backends do the same.
type maxConnSetter interface {
	SetMaxConn(n int64)
}

func initMaxConn(s *Server) {
	if m, ok := any(s).(maxConnSetter); ok {
		m.SetMaxConn(int64(s.Config.MaxConn))
	}
}
