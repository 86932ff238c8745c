package proxy

// Sessions are reused, so that accepting, proxying and closing a
// connection allocates nothing in steady state: connection churn then
// neither makes garbage for the collector nor lifts the heap goal (and the
// process's RSS) with the connection rate.
//
// A finished session is retired first and becomes reusable only at the end
// of its loop's turn, once nothing of that turn can still refer to it (an
// event batch, the again list). A session that left a queue while a server
// slot was on its way is never reused: the command that brings the slot
// holds it and runs later.

// maxFreeSessions caps a loop's free list.
const maxFreeSessions = 4096

// getSession returns a zeroed session record.
func (l *loop) getSession() *session {
	if n := len(l.freeSess); n > 0 {
		s := l.freeSess[n-1]
		l.freeSess[n-1] = nil
		l.freeSess = l.freeSess[:n-1]
		return s
	}
	return &session{}
}

// retire hands a finished session back for reuse after this turn.
func (l *loop) retire(s *session) {
	l.retired = append(l.retired, s)
}

// recycle makes the sessions retired during the turn reusable, except
// those still on the again list (they wait for the next turn).
func (l *loop) recycle() {
	if len(l.retired) == 0 {
		return
	}
	keep := l.retired[:0]
	for i, s := range l.retired {
		l.retired[i] = nil
		switch {
		case s.has(fAgain):
			keep = append(keep, s)
		case len(l.freeSess) < maxFreeSessions:
			*s = session{}
			l.freeSess = append(l.freeSess, s)
		}
	}
	l.retired = keep
}
