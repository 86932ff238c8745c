package proxy

import (
	"golang.org/x/sys/unix"
)

// tcp-request session rules run once per session, after the connection
// rules and after the PROXY header and the TLS handshake the bind asks
// for, before the content rules: HAProxy's layer-5 rules
// (tcp_exec_l5_rules), run when the session is complete and before it
// counts (stot). As at the connection stage no stream exists yet: the
// client's bytes never match and only proc and sess variables exist.

// sessionRules runs the frontend's tcp-request session rules; false when
// they refused the session, which then ended.
func (s *session) sessionRules(ci *connInfo) bool {
	rules := s.fe.sessRules
	if len(rules) == 0 {
		return true
	}
	if s.fe.needDst && !ci.dst.IsValid() {
		ci.dst = s.dstAddr()
	}
	ci.conn = true
	v := runTCPRules(rules, ci)
	ci.conn = false
	if v == verdictAccept {
		return true
	}
	s.refuseSession(v)
	return false
}

// refuseSession ends a session its session rules refused (reject or
// silent-drop). reject counts a denied session (dses), silent-drop a
// denied request (dreq), on the frontend and on its listener. As in
// HAProxy, no traffic log line is written; a session that went through a
// handshake (PROXY header or TLS) logs the connection error line with no
// error ("Success"), which option dontlognull drops.
func (s *session) refuseSession(v tcpVerdict) {
	fe, ln := s.fe, s.ln
	if v == verdictDrop {
		fe.ctr.dreq.Add(1)
		if ln.stats {
			ln.ctr.dreq.Add(1)
		}
		silentDrop(int(s.cfd), !s.src.Addr().Is4())
	} else {
		fe.ctr.dses.Add(1)
		if ln.stats {
			ln.ctr.dses.Add(1)
		}
	}
	if s.embryonic() {
		s.cerr = cerrNone
		s.logConnError()
	}
	if v == verdictDrop {
		_ = unix.SetsockoptLinger(int(s.cfd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	}
	s.flags |= fLogged
	s.finish(termDenied)
}

// embryonic reports whether the session waited for a handshake (a PROXY
// header or TLS) before it could start, HAProxy's embryonic session.
func (s *session) embryonic() bool {
	return s.ln.Bind.AcceptProxy || s.has(fExpectProxy) || s.ln.tls != nil
}
