package proxy

import (
	"net/netip"

	"goproxy/internal/rawsys"
)

// sessLog is what a session keeps for its log line and unique id beyond
// what it needs to run: allocated only for frontends whose formats use
// it, so that other sessions stay small.
type sessLog struct {
	uid []byte // the unique id, with fUID
	// srv and back are the server address and the local end of the
	// latest server connection (%si:%sp, %bi:%bp), taken when it was
	// started: the descriptor may be closed (or, with TLS to the server,
	// replaced by a socket pair) by the time the line is written.
	srv, back netip.AddrPort
	// srvUnix: that connection is a UNIX one, whose ends HAProxy logs
	// as "unix" with port 0.
	srvUnix bool
}

// logState returns the session's sessLog, allocating it the first time.
func (s *session) logState() *sessLog {
	if s.lx == nil {
		s.lx = &sessLog{}
	}
	return s.lx
}

// logConnect records the addresses of a server connection just started
// on fd to dest (ux: a UNIX one), as HAProxy logs them even once the
// attempt failed.
func (s *session) logConnect(fd int, dest netip.AddrPort, ux bool) {
	lx := s.logState()
	lx.srv, lx.back, lx.srvUnix = dest, netip.AddrPort{}, ux
	if ux {
		return
	}
	if ap, err := rawsys.Getsockname(fd); err == nil {
		lx.back = ap
	}
}
