package proxy

import (
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
	"goproxy/internal/uxsock"
)

// serverAddr returns the address to connect to for the session (unset for
// a UNIX server).
func (s *session) serverAddr() netip.AddrPort {
	d := s.srv.dest.Load()
	if d.ux != nil {
		return netip.AddrPort{}
	}
	port := d.port
	if d.portMap {
		port = int(s.dstAddr().Port()) + d.offset
	}
	return netip.AddrPortFrom(d.ip.Unmap(), uint16(port))
}

// connect starts a non-blocking connection to s.srv.
func (s *session) connect() {
	l, srv, be := s.l, s.srv, s.be
	s.tConnStart = l.now
	srv.ctr.connect.Add(1)
	be.ctr.connect.Add(1)
	srv.ctr.newSession(l.wall) // HAProxy counts a server's stot per attempt
	d := srv.dest.Load()
	dest := s.serverAddr()
	family := unix.AF_INET
	switch {
	case d.ux != nil:
		family = unix.AF_UNIX
	case !dest.Addr().Is4():
		family = unix.AF_INET6
	}
	fd, err := rawsys.Socket(family)
	if err != nil {
		l.g.log.WithError(err).Warn("cannot create a socket for a server connection")
		srv.ctr.econ.Add(1)
		be.ctr.econ.Add(1)
		s.finish(termResource)
		return
	}
	if d.ux != nil {
		// A full accept queue answers EAGAIN at once: a failed
		// attempt, as HAProxy counts it.
		err = uxsock.Connect(fd, *d.ux)
	} else {
		setConnOpts(fd, be.keepalive)
		err = rawsys.Connect(fd, dest)
	}
	if s.fe.logAddrs {
		s.logConnect(fd, dest, d.ux != nil)
	}
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		rawsys.Close(fd)
		s.connFailed(false)
		return
	}
	if err := l.register(fd, s, nil, true); err != nil {
		rawsys.Close(fd)
		s.connFailed(false)
		return
	}
	s.sfd = int32(fd)
	s.flags &^= fSrvR | fSrvW | fSrvHup
	s.flags |= fSrvOut // the connect's completion
	s.state = stConnecting
	s.stExp = 0
	if to := be.timeoutConnect; to > 0 {
		s.stExp = l.now + int64(to)
	}
}

// closeServer closes the server connection, if any.
func (s *session) closeServer() {
	if s.sfd >= 0 {
		s.l.unregister(int(s.sfd))
		rawsys.Close(int(s.sfd))
		s.sfd = -1
	}
	s.serverTLSEnded()
	s.flags &^= fSrvR | fSrvW | fSrvHup | fSrvOut
}

// connFailed handles a failed connection attempt (timedOut: timeout
// connect expired): retry the same server after HAProxy's turn-around
// delay, redispatch, or give up (SC, or sC after a timeout).
func (s *session) connFailed(timedOut bool) {
	s.l.clock()
	s.closeServer()
	srv, be := s.srv, s.be
	if s.retries <= 0 {
		// As HAProxy, econ counts sessions that gave up, not attempts.
		srv.ctr.econ.Add(1)
		be.ctr.econ.Add(1)
		if timedOut {
			s.finish(termConnTO)
		} else {
			s.finish(termConnFail)
		}
		return
	}
	s.retries--
	if s.abortsOnClose() {
		s.finish(termCliAbortC)
		return
	}
	if s.shouldRedispatch() {
		srv.ctr.wredis.Add(1)
		be.ctr.wredis.Add(1)
		s.flags |= fRedisp
		s.dropSlot()
		s.avoid = srv
		s.srv = nil
		s.assign()
		return
	}
	srv.ctr.wretr.Add(1)
	be.ctr.wretr.Add(1)
	delay := time.Second
	if to := be.timeoutConnect; to > 0 && to < delay {
		delay = to
	}
	s.state = stTurnAround
	s.stExp = s.l.now + int64(delay)
}

// shouldRedispatch applies option redispatch: leave the server when it is
// no longer usable, on the configured retry, or at once for non-hash
// algorithms with more than one usable server.
func (s *session) shouldRedispatch() bool {
	be := s.be
	o := be.Config.Options
	if !o.Redispatch || o.RedispatchInterval == 0 {
		return false
	}
	if !s.srv.usable() {
		return true
	}
	done := be.retry - int(s.retries) // retries done, this one included
	if n := o.RedispatchInterval; n > 0 && done%n == 0 {
		return true
	} else if n < 0 && int(s.retries) == -n-1 {
		return true
	}
	return !be.hash && be.usableCount(2) > 1
}

// connected runs when the non-blocking connect completed.
func (s *session) connected() {
	if s.srv.tls != nil && s.stls == nil {
		s.startServerTLS()
		return
	}
	l := s.l
	s.state = stData
	s.flags |= fConnected | fSrvW
	s.stExp = 0
	s.tc = elapsedMs(l.now - s.tConnStart)
	s.observeConnected()
	s.touch(0)
	s.touch(1)
	if (s.srv.Config.SendProxyV2 || s.srv.Config.SendProxy) && s.stls == nil {
		s.sendProxyHeader()
	}
	s.logConnected()
	s.applyStores()
	s.pump()
}
