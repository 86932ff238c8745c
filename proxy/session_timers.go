package proxy

import (
	"time"
)

// touch re-arms side's idle timer after activity on it. After timeout
// server the server side keeps only a write timer: armed while bytes wait
// for it, off otherwise (see srvWriteTimer).
func (s *session) touch(side int) {
	if side == 1 && s.has(fSrvTimedOut) && s.pend[0] == nil {
		s.exp[1] = 0
		return
	}
	if to := s.idleTimeout(side); to > 0 {
		s.exp[side] = s.l.now + int64(to)
	} else {
		s.exp[side] = 0
	}
}

// idleTimeout is the inactivity timeout of a side, as HAProxy sets it:
// client/server, replaced by tunnel once connected, replaced by
// client-fin/server-fin once that side was sent a shutdown.
func (s *session) idleTimeout(side int) time.Duration {
	if side == 0 {
		if s.has(fShut1) && s.fe.timeoutClientFin > 0 {
			return s.fe.timeoutClientFin
		}
		if s.be.timeoutTunnel > 0 {
			return s.be.timeoutTunnel
		}
		return s.fe.timeoutClient
	}
	if s.has(fShut0) && s.be.timeoutServerFin > 0 {
		return s.be.timeoutServerFin
	}
	if s.be.timeoutTunnel > 0 {
		return s.be.timeoutTunnel
	}
	return s.be.timeoutServer
}

// finTimeout is side's half-closed timeout (client-fin, server-fin), 0
// when not set.
func (s *session) finTimeout(side int) time.Duration {
	if side == 0 {
		return s.fe.timeoutClientFin
	}
	return s.be.timeoutServerFin
}

// deadline returns the session's real next deadline, 0 for none.
func (s *session) deadline() int64 {
	switch s.state {
	case stData:
		a, b := s.exp[0], s.exp[1]
		if a == 0 || (b != 0 && b < a) {
			return b
		}
		return a
	case stHeader, stQueued, stConnecting, stTurnAround, stHandshake:
		return s.stExp
	case stInspect:
		a, b := s.stExp, s.exp[0]
		if a == 0 || (b != 0 && b < a) {
			return b
		}
		return a
	}
	return 0
}

// arm makes sure the timer heap wakes the session by its deadline.
func (s *session) arm() {
	if s.state == stClosed {
		return
	}
	d := s.deadline()
	if d == 0 {
		s.l.timers.remove(s)
		return
	}
	if s.hidx < 0 || d < s.when {
		s.l.timers.schedule(s, d)
	}
}

// expire runs when the session's deadline passed.
func (s *session) expire() {
	switch s.state {
	case stHeader:
		s.proxyHeaderExpired()
	case stHandshake:
		s.handshakeExpired()
	case stInspect:
		if s.exp[0] != 0 && s.exp[0] <= s.l.now {
			s.finish(termCliTimeoutReq)
			return
		}
		s.stExp = 0
		s.inspect(true)
	case stQueued:
		if s.be.unqueue(s) != qQueued {
			return // a slot is on its way
		}
		s.be.ctr.econ.Add(1)
		if s.qsrv != nil {
			s.qsrv.ctr.econ.Add(1)
		}
		s.tw = elapsedMs(s.l.now - s.tQueue)
		s.finish(termQueueTO)
	case stTurnAround:
		s.connect()
	case stConnecting:
		s.connFailed(true)
	case stData:
		if s.exp[0] != 0 && s.exp[0] <= s.l.now {
			s.abort(0, termCliTimeout)
		} else {
			s.serverTimedOut()
		}
	}
}

// serverTimedOut handles timeout server (or tunnel) on the server side:
// the first time, as HAProxy 2.6, reading from the server stops and the
// client is sent a FIN once the bytes it is owed are written, while the
// client's bytes still reach the server; the session then ends with the
// client. A second expiry (the server takes no more of the client's
// bytes) ends it at once.
func (s *session) serverTimedOut() {
	if s.has(fSrvTimedOut) {
		s.finish(termSrvTimeout)
		return
	}
	if s.be != nil {
		s.be.ctr.srvAbrt.Add(1)
	}
	if s.srv != nil {
		s.srv.ctr.srvAbrt.Add(1)
	}
	s.flags |= fSrvTimedOut | fEOF1
	s.exp[1] = 0
	s.pump() // also starts the write timer if client bytes wait
}

// srvWriteTimer keeps, after timeout server (fSrvTimedOut), the server
// side's only timer: running while client bytes wait for the server
// (started when they begin to wait, pushed back by each write that makes
// progress), off when none do. Its expiry ends the session.
func (s *session) srvWriteTimer() {
	switch {
	case s.state != stData:
	case s.pend[0] == nil:
		s.exp[1] = 0
	case s.exp[1] == 0:
		if to := s.idleTimeout(1); to > 0 {
			s.exp[1] = s.l.now + int64(to)
		}
	}
}
