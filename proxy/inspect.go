package proxy

import (
	"time"

	"golang.org/x/sys/unix"
)

// Content inspection (tcp-request inspect-delay with content rules that
// read the client's bytes). The session peeks at what the client sent,
// with MSG_PEEK, into the loop's scratch buffer: the bytes stay in the
// socket, so once the rules decide, the data phase reads and forwards them
// first, in order, and a waiting session holds no buffer of its own.
//
// As HAProxy's tcp_inspect_request, the rules run in order; a rule whose
// condition needs more bytes (a fetch "too short", or a result that more
// data could change) stops the evaluation until more bytes come, the
// client closes, the buffer is full, or inspect-delay expires: then the
// rules run once more with what is there, as final. use_backend conditions
// always run final, once the content rules accepted.

// contentVerdict is the outcome of one run of content rules.
type contentVerdict uint8

const (
	contentAccept contentVerdict = iota
	contentReject
	contentWait
	contentDrop // silent-drop
)

// runContentRules runs tcp-request content rules against c: the other
// actions than accept, reject and silent-drop apply and the rules go on.
func runContentRules(rules []tcpRule, c *connInfo) contentVerdict {
	for i := range rules {
		r := &rules[i]
		res := r.cond.exec(c)
		if res == aclMiss {
			return contentWait
		}
		if (res == aclPass) != (r.cond != nil && r.cond.unless) {
			switch r.act {
			case actAccept:
				return contentAccept
			case actReject:
				return contentReject
			case actSilentDrop:
				return contentDrop
			}
			r.apply(c)
		}
	}
	return contentAccept
}

// deny ends a session a content rule refused (reject or silent-drop).
func (s *session) deny(v contentVerdict) {
	s.fe.ctr.dreq.Add(1) // haproxy counts backend denials on the frontend
	if v == contentDrop {
		silentDrop(int(s.cfd), !s.src.Addr().Is4())
	}
	s.finish(termDenied)
}

// inspectPhase starts waiting for the client's bytes before the rules of
// the frontend (s.be nil) or of the backend decide, for at most delay.
func (s *session) inspectPhase(delay time.Duration) {
	s.state = stInspect
	s.stExp = 0
	if delay > 0 {
		s.stExp = s.l.now + int64(delay)
	}
	if to := s.fe.timeoutClient; to > 0 && s.exp[0] == 0 {
		s.exp[0] = s.l.now + int64(to)
	}
	s.inspect(false)
}

// inspect peeks at the client's bytes and runs the rules of the current
// phase; expired means inspect-delay passed.
func (s *session) inspect(expired bool) {
	var n int
	// At most HAProxy's buffer (tune.bufsize) less its rewrite reserve
	// (tune.maxrewrite): a buffer that full makes the rules final.
	limit := s.l.g.inspectLimit
	buf := s.l.scratch[:limit]
	for i := 0; i < 4; i++ {
		m, _, err := unix.Recvfrom(int(s.cfd), buf, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			s.flags &^= fR(0)
			break
		}
		if err != nil {
			s.finish(termCliAbortReq)
			return
		}
		if m == 0 {
			s.flags |= fCliHup // the client closed: nothing more will come
		}
		n = m
		break
	}
	rules, delay := s.fe.content, s.fe.inspectDelay
	if s.be != nil {
		rules, delay = s.be.content, s.be.inspectDelay
	}
	ci := &s.l.ci
	*ci = connInfo{src: s.src, s: s, req: buf[:n], bufSize: s.l.g.bufSize}
	ci.final = expired || delay == 0 || n >= limit || s.has(fCliHup)
	if s.has(fDstKnown) {
		ci.dst = s.dst
	}
	switch v := runContentRules(rules, ci); v {
	case contentWait:
		return
	case contentReject, contentDrop:
		s.deny(v)
		return
	}
	s.state = stNew
	s.stExp, s.exp[0] = 0, 0
	ci.final = true
	if s.be == nil {
		if !s.chooseBackend(ci) {
			return
		}
		if s.be.Config != s.fe.Config && len(s.be.content) > 0 {
			if s.be.inspects {
				s.inspectPhase(s.be.inspectDelay)
				return
			}
			if v := runContentRules(s.be.content, ci); v == contentReject || v == contentDrop {
				s.deny(v)
				return
			}
		}
	}
	s.serverRules(ci)
	if len(s.be.stick) > 0 {
		// The sticking rules read the bytes inspected, as HAProxy's.
		s.stickingRules(ci)
	}
	s.assign()
}
