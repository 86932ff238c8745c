package proxy

import "net/netip"

// balancer picks a server for a new session. Implementations live in
// lb_*.go, one algorithm per file, as HAProxy's src/lb_*.c.
//
// pick runs on the hot path: it reads an immutable table (behind an
// atomic.Pointer) or atomics, never takes a lock shared with other picks for
// long, and never allocates. update runs after any change of a server's
// state, admin state or weight, and rebuilds the table; it may lock.
type balancer interface {
	// pick returns the server for a client whose source address is src,
	// avoiding avoid when another usable server exists (redispatch), or nil
	// when no server is usable.
	pick(src netip.Addr, avoid *Server) *Server
	// update rebuilds the balancer's view after a state or weight change.
	update()
	// taken and released tell the balancer that a session started or ended
	// on s (leastconn reorders; others ignore it).
	taken(s *Server)
	released(s *Server)
}
