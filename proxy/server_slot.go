package proxy

import (
	"net/netip"
	"time"
)

// tryTake reserves a session slot on s when it has not reached its maxconn.
func (s *Server) tryTake() bool {
	m := s.maxConnR.Load()
	for {
		n := s.served.Load()
		if m > 0 && n >= m {
			return false
		}
		if s.served.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release frees a slot taken by tryTake and hands it to a queued session.
func (s *Server) release() {
	s.served.Add(-1)
	if b := s.Backend; b != nil {
		if b.lb != nil {
			b.lb.released(s)
		}
		b.dequeue(s)
	}
}

// unreserve frees a slot that dequeue reserved for a session that ended
// before using it (the balancer was never told it was taken).
func (s *Server) unreserve() {
	s.served.Add(-1)
	if b := s.Backend; b != nil {
		b.dequeue(s)
	}
}

// MaxConn returns the server's effective maxconn (0 = unlimited).
func (s *Server) MaxConn() int64 { return s.maxConnR.Load() }

// SetMaxConn changes the server's maxconn at runtime (set maxconn server);
// 0 means unlimited. Queued sessions are served if the limit grew.
func (s *Server) SetMaxConn(n int64) {
	s.maxConnR.Store(max(n, 0))
	s.ServeQueue()
}

// ServeQueue gives the server's free slots to queued sessions and returns
// how many it took. Call it when the server becomes usable again (UP,
// enabled, ready): sessions waiting in the backend queue can then use it.
func (s *Server) ServeQueue() int {
	n := 0
	if b := s.Backend; b != nil {
		for n < 1<<20 && b.dequeue(s) {
			n++
		}
	}
	return n
}

// Dest returns the address new sessions connect to; port 0 means the
// client's destination port.
func (s *Server) Dest() (netip.Addr, int) {
	d := s.dest.Load()
	if d == nil {
		return netip.Addr{}, 0
	}
	return d.ip, d.port
}

// IsUnix reports whether new sessions connect to a UNIX or abstract
// socket (show stat's addr "unix").
func (s *Server) IsUnix() bool {
	d := s.dest.Load()
	return d != nil && d.ux != nil
}

// SetAddr changes the address new sessions connect to (set server addr);
// a port of 0 keeps the current one. Established sessions are untouched.
func (s *Server) SetAddr(ip netip.Addr, port int) {
	old := s.dest.Load()
	d := &serverDest{ip: ip.Unmap()}
	if old != nil {
		*d = *old
		d.ip, d.ux = ip.Unmap(), nil
	}
	if port > 0 {
		d.port, d.portMap, d.offset = port, false, 0
	}
	s.dest.Store(d)
}

// ShutdownSessions closes every session established on s (on-marked-down
// shutdown-sessions, "shutdown sessions server"). It returns how many were
// closed, or -1 when the graph is not running.
func (s *Server) ShutdownSessions() int {
	if s.Backend == nil || s.Backend.g == nil {
		return -1
	}
	return s.Backend.g.ShutdownServerSessions(s)
}

// elapsedMs converts a duration in nanoseconds to whole milliseconds.
func elapsedMs(ns int64) int64 { return ns / int64(time.Millisecond) }
