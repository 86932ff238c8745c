package proxy

// timerHeap is a loop's min-heap of sessions ordered by their scheduled
// wake-up time (session.when). A session is in it at most once (hidx >= 0).
// Deadlines are lazy: activity only moves a session's real deadline later
// without touching the heap; when the scheduled time comes, the loop
// recomputes the real deadline and either expires the session or
// reschedules it.
type timerHeap []*session

func (h *timerHeap) less(i, j int) bool { return (*h)[i].when < (*h)[j].when }

func (h *timerHeap) swap(i, j int) {
	a := *h
	a[i], a[j] = a[j], a[i]
	a[i].hidx = int32(i)
	a[j].hidx = int32(j)
}

func (h *timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *timerHeap) down(i int) {
	n := len(*h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// schedule puts s in the heap at time when, or moves it there.
func (h *timerHeap) schedule(s *session, when int64) {
	if s.hidx >= 0 {
		old := s.when
		s.when = when
		if when < old {
			h.up(int(s.hidx))
		} else {
			h.down(int(s.hidx))
		}
		return
	}
	s.when = when
	s.hidx = int32(len(*h))
	*h = append(*h, s)
	h.up(int(s.hidx))
}

// remove takes s out of the heap if it is there.
func (h *timerHeap) remove(s *session) {
	i := int(s.hidx)
	if i < 0 {
		return
	}
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	s.hidx = -1
	if i != last {
		h.down(i)
		h.up(i)
	}
}

// peek returns the session with the earliest wake-up time, or nil.
func (h *timerHeap) peek() *session {
	if len(*h) == 0 {
		return nil
	}
	return (*h)[0]
}
