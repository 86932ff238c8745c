package proxy

import "time"

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
