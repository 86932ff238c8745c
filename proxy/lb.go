package proxy

import (
	"fmt"
	"strconv"
	"strings"
)

// Weight scales, as HAProxy's BE_WEIGHT_SCALE, SRV_UWGHT_RANGE and
// SRV_EWGHT_MAX.
const (
	weightScale   = 16
	uweightRange  = 256
	eweightMax    = uweightRange * weightScale
	defaultDraws  = 2
	maxActiveSrvs = 4095
)

// newBalancer builds the balancer that b's configuration asks for
// (balance and hash-type), with its first table already computed from the
// servers' current state. An empty algorithm means roundrobin.
func newBalancer(b *Backend) (balancer, error) {
	algo, draws := "", defaultDraws
	consistent, avalanche := false, false
	allBackups := false
	if c := b.Config; c != nil {
		algo = c.Balance.Algo
		if c.Balance.Draws > 0 {
			draws = c.Balance.Draws
		}
		consistent = c.HashType.Consistent
		// "hash-type consistent" with no function implies avalanche.
		avalanche = c.HashType.Avalanche || (consistent && c.HashType.Function == "")
		allBackups = c.Options.AllBackups
	}
	if n, ok, err := parseRandomDraws(algo); err != nil {
		return nil, fmt.Errorf("backend %q: %w", b.Name, err)
	} else if ok {
		algo, draws = "random", n
	}

	var lb balancer
	switch algo {
	case "", "roundrobin":
		if len(b.ServerList()) > maxActiveSrvs {
			return nil, fmt.Errorf("backend %q: roundrobin supports at most %d servers", b.Name, maxActiveSrvs)
		}
		lb = &rrBalancer{b: b, allBackups: allBackups}
	case "static-rr":
		lb = &staticRRBalancer{b: b, allBackups: allBackups, wmult: weightGCD(b)}
	case "leastconn":
		lb = &leastconnBalancer{b: b, allBackups: allBackups}
	case "first":
		lb = &firstBalancer{b: b, allBackups: allBackups}
	case "source":
		if consistent {
			lb = &chashSourceBalancer{b: b, allBackups: allBackups, avalanche: avalanche}
		} else {
			lb = &mapSourceBalancer{b: b, allBackups: allBackups, avalanche: avalanche, wmult: weightGCD(b)}
		}
	case "random":
		lb = &randomBalancer{b: b, allBackups: allBackups, draws: draws}
	default:
		return nil, fmt.Errorf("backend %q: unsupported balance algorithm %q", b.Name, algo)
	}
	lb.update()
	return lb, nil
}

// parseRandomDraws recognises the "random(N)" spelling of the algorithm.
func parseRandomDraws(algo string) (int, bool, error) {
	rest, ok := strings.CutPrefix(algo, "random(")
	if !ok {
		return 0, false, nil
	}
	num, ok := strings.CutSuffix(rest, ")")
	if !ok {
		return 0, false, fmt.Errorf("random : missing closing parenthesis")
	}
	if num == "" {
		return defaultDraws, true, nil
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return 0, false, fmt.Errorf("random : number of draws must be at least 1")
	}
	return n, true, nil
}

// lbPool is the set of servers a balancer draws from, chosen as HAProxy's
// recount_servers and update_backend_weight do: the usable active servers;
// when there are none, the first usable backup alone (single) unless
// allbackups is set, else all usable backups.
type lbPool struct {
	srvs   []*Server // usable servers of the chosen pool, declaration order
	ew     []int     // their effective weights
	single *Server   // set when only the first usable backup may serve
	tot    int       // total effective weight (tot_weight)
	used   int       // number of servers in use (tot_used)
}

// choosePool snapshots the usable servers of b with eweight computing each
// one's effective weight.
func choosePool(b *Backend, allBackups bool, eweight func(*Server) int) lbPool {
	var p lbPool
	for _, s := range b.ServerList() {
		if !s.Backup && s.usable() {
			p.add(s, eweight(s))
		}
	}
	if len(p.srvs) > 0 {
		p.used = len(p.srvs)
		return p
	}
	for _, s := range b.ServerList() {
		if s.Backup && s.usable() {
			p.add(s, eweight(s))
		}
	}
	if len(p.srvs) == 0 {
		return p
	}
	p.used = len(p.srvs)
	if !allBackups {
		p.single = p.srvs[0]
		p.tot = p.ew[0]
		p.used = 1
	}
	return p
}

func (p *lbPool) add(s *Server, ew int) {
	if ew <= 0 {
		return
	}
	p.srvs = append(p.srvs, s)
	p.ew = append(p.ew, ew)
	p.tot += ew
}

// warmingServer is implemented by servers whose health state may throttle
// their weight during a slowstart: effectiveWeightPercent is then below 100.
type warmingServer interface {
	effectiveWeightPercent() int
}

// dynamicEWeight is the effective weight of the dynamic algorithms:
// uweight*16, or uweight*w during a slowstart, w = 1..16 being HAProxy's
// server_recalc_eweight factor (a percentage of 100*w/16 rounded up, which
// pct*16/100 recovers exactly). Map-based algorithms ignore slowstart.
func dynamicEWeight(s *Server) int {
	f := weightScale
	if w, ok := any(s).(warmingServer); ok {
		if pct := w.effectiveWeightPercent(); pct > 0 && pct < 100 {
			f = max(1, pct*weightScale/100)
		}
	}
	return s.UWeight() * f
}

// mapEWeight returns the effective weight function of the map-based
// algorithms: ceil(uweight / wmult).
func mapEWeight(wmult int) func(*Server) int {
	return func(s *Server) int { return (s.UWeight() + wmult - 1) / wmult }
}

// weightGCD is HAProxy's wmult for map-based algorithms: the greatest common
// divisor of the configured (initial) weights that are not zero, 1 if none.
func weightGCD(b *Backend) int {
	g := 0
	for _, s := range b.ServerList() {
		w := s.Config.Weight
		if w <= 0 {
			continue
		}
		for w != 0 {
			g, w = w, g%w
		}
	}
	if g == 0 {
		return 1
	}
	return g
}

// runtimeMaxConn is implemented by servers whose maxconn can change at run
// time ("set maxconn server"); others use the configured value.
type runtimeMaxConn interface {
	MaxConn() int64
}

// lbMaxConn returns the server's current maxconn (0 = unlimited).
func lbMaxConn(s *Server) int64 {
	if r, ok := any(s).(runtimeMaxConn); ok {
		return r.MaxConn()
	}
	return int64(s.Config.MaxConn)
}

// lbSaturated reports whether s cannot take one more session now: it has a
// maxconn that is reached, or sessions already wait in its queue.
func lbSaturated(s *Server) bool {
	m := lbMaxConn(s)
	return m > 0 && (s.queued.Load() > 0 || s.served.Load() >= m)
}

// anyFree reports whether some server of srvs other than avoid is not
// saturated, and whether avoid itself is free.
func anyFree(srvs []*Server, avoid *Server) (other, avoidFree bool) {
	for _, s := range srvs {
		if lbSaturated(s) {
			continue
		}
		if s == avoid {
			avoidFree = true
			continue
		}
		return true, avoidFree
	}
	return false, avoidFree
}
