package proxy

// Queue states of a session, guarded by the backend's qmu.
const (
	qNone     uint8 = iota
	qQueued         // waiting in a server or backend queue
	qDequeued       // given a server slot; its loop has a command pending
)

// queue is an intrusive list of sessions waiting for a server slot, in
// HAProxy's order: by priority class (set-priority-class, lowest first),
// then by the time each was queued plus its priority offset; without
// priorities, a FIFO.
type queue struct {
	head, tail *session
	n          int64
}

// before reports whether a is served before b.
func before(a, b *session) bool {
	if a.prioClass != b.prioClass {
		return a.prioClass < b.prioClass
	}
	return a.qSince < b.qSince
}

// push inserts s after every session served before it or at its rank;
// sessions without priorities go to the tail at once.
func (q *queue) push(s *session) {
	at := q.tail // s goes after at (nil: first)
	for at != nil && before(s, at) {
		at = at.qprev
	}
	s.qprev = at
	if at != nil {
		s.qnext = at.qnext
		at.qnext = s
	} else {
		s.qnext = q.head
		q.head = s
	}
	if s.qnext != nil {
		s.qnext.qprev = s
	} else {
		q.tail = s
	}
	q.n++
}

func (q *queue) remove(s *session) {
	if s.qprev != nil {
		s.qprev.qnext = s.qnext
	} else {
		q.head = s.qnext
	}
	if s.qnext != nil {
		s.qnext.qprev = s.qprev
	} else {
		q.tail = s.qprev
	}
	s.qprev, s.qnext = nil, nil
	q.n--
}

// enqueue puts s in srv's queue, or in the backend queue when srv is nil.
// It reports false when the server's maxqueue is reached.
func (b *Backend) enqueue(s *session, srv *Server) bool {
	b.qmu.Lock()
	defer b.qmu.Unlock()
	if srv != nil && srv.deleted.Load() {
		srv = nil // deleted since it was picked: any server will do
	}
	if srv != nil {
		if mq := int64(srv.Config.MaxQueue); mq > 0 && srv.q.n >= mq {
			return false
		}
		srv.q.push(s)
		srv.queued.Add(1)
		srv.ctr.queued()
		s.sq = int32(min(srv.q.n, 1<<30)) // haproxy's %sq: the queue with itself
	} else {
		b.q.push(s)
		b.qlen.Add(1)
		b.ctr.queued()
		s.bq = int32(min(b.q.n, 1<<30))
	}
	s.qsrv = srv
	s.qstate = qQueued
	return true
}

// unqueue takes s out of its queue if it is still there. It returns the
// queue state s had: qQueued (removed now), qDequeued (a slot was reserved
// for it and a command is on its way) or qNone.
func (b *Backend) unqueue(s *session) uint8 {
	b.qmu.Lock()
	defer b.qmu.Unlock()
	st := s.qstate
	if st == qQueued {
		b.removeLocked(s)
		s.qstate = qNone
	}
	return st
}

func (b *Backend) removeLocked(s *session) {
	if srv := s.qsrv; srv != nil {
		srv.q.remove(s)
		srv.queued.Add(-1)
		srv.ctr.qcur.Add(-1)
	} else {
		b.q.remove(s)
		b.qlen.Add(-1)
		b.ctr.qcur.Add(-1)
	}
}

// dequeue gives srv's freed slot to the oldest session waiting for srv or
// for any server of the backend, and tells that session's loop. It reports
// whether a session got the slot. A session whose loop refuses the command
// (the loop is exiting, and its shutdown ends the session) gives the slot
// straight back, and the next session in line is tried: each pass takes one
// session out of a queue, so the passes end when the queues do.
func (b *Backend) dequeue(srv *Server) bool {
	for {
		s := b.reserveNext(srv)
		if s == nil {
			return false
		}
		if s.l.post(func(*loop) { s.dequeued() }) {
			return true
		}
		b.qmu.Lock()
		if s.qstate == qDequeued {
			s.qstate = qNone
			s.qgot = nil
		}
		b.qmu.Unlock()
		srv.served.Add(-1)
	}
}

// reserveNext takes a slot on srv for the oldest session that may use it,
// takes that session out of its queue and returns it; nil when no session
// waits or srv is full.
func (b *Backend) reserveNext(srv *Server) *session {
	if srv.queued.Load() == 0 && (b.qlen.Load() == 0 || !srv.usable()) {
		return nil
	}
	b.qmu.Lock()
	defer b.qmu.Unlock()
	var s *session
	sh, bh := srv.q.head, b.q.head
	if !srv.usable() {
		bh = nil
	}
	switch {
	case sh != nil && bh != nil:
		s = sh
		if before(bh, sh) {
			s = bh
		}
	case sh != nil:
		s = sh
	default:
		s = bh
	}
	if s == nil || !srv.tryTake() {
		return nil
	}
	b.removeLocked(s)
	s.qstate = qDequeued
	s.qgot = srv
	return s
}

// redispatchQueue moves the sessions waiting for s (which went down or
// stopped taking sessions) to the backend queue, in their order, lets the
// other servers take them, and returns how many moved.
func (s *Server) redispatchQueue() int {
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
		for _, o := range b.ServerList() {
			if o != s {
				o.ServeQueue()
			}
		}
	}
	return n
}
