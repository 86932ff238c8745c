package proxy

// The health state machine (check_state.go) acts on sessions and queues
// through these hooks when a server changes state.
func init() {
	serverShutdownSessions = func(s *Server) { s.ShutdownSessions() }
	serverRedispatchQueue = redispatchServerQueue
	serverGrabQueue = func(s *Server) int { return s.ServeQueue() }
}

// redispatchServerQueue moves the sessions waiting for s (which went down or
// stopped taking sessions) to the backend queue, in their order, lets the
// other servers take them, and returns how many moved.
func redispatchServerQueue(s *Server) int {
	b := s.Backend
	if b == nil {
		return 0
	}
	b.qmu.Lock()
	n := 0
	for x := s.q.head; x != nil; x = s.q.head {
		b.removeLocked(x)
		b.q.push(x)
		b.qlen.Add(1)
		b.ctr.queued()
		x.qsrv = nil
		n++
	}
	b.qmu.Unlock()
	if n > 0 {
		for _, o := range b.Servers {
			if o != s {
				o.ServeQueue()
			}
		}
	}
	return n
}
