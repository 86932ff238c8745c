package proxy

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
)

// Session states.
const (
	stNew        uint8 = iota
	stHeader           // reading the PROXY header (accept-proxy)
	stQueued           // waiting for a server slot
	stTurnAround       // waiting before retrying the same server
	stConnecting       // non-blocking connect in progress
	stData             // both sides connected, bytes flow
	stClosed
	stHanded  // frozen for a handoff to a new process (see handoff.go)
	stInspect // waiting for the client's bytes the content rules need (inspect.go)
)

// Session flags. Sides: 0 client, 1 server. Directions: 0 client to server,
// 1 server to client; direction d reads side d and writes side 1-d.
const (
	fCliR      uint32 = 1 << iota // client readable (no EAGAIN since the last edge)
	fCliW                         // client writable
	fSrvR                         // server readable
	fSrvW                         // server writable
	fEOF0                         // end of input read from the client
	fEOF1                         // end of input read from the server
	fShut0                        // write side of the server shut
	fShut1                        // write side of the client shut
	fSlot                         // holds a slot on srv
	fConnected                    // a server connection was established
	fAgain                        // in the loop's again list
	fRedisp                       // redispatched at least once
	fDstKnown                     // dst is set
	fCliHup                       // epoll reported the client's FIN or hang-up
	fSrvHup                       // epoll reported the server's FIN or hang-up
	// fSrvTimedOut: timeout server expired while data flowed. As HAProxy,
	// the server is no longer read and the client gets a FIN, while what
	// the client sends still goes to the server; the session ends when the
	// client closes (or its own timeout), and its termination state is sD
	// whatever ends it.
	fSrvTimedOut
	// fFailed: side failSide had an error while data flowed (see fail).
	fFailed
	// fHandoff: a handoff waits for the session's buffers to drain: it
	// reads neither side.
	fHandoff
	// fLogged: the tcplog line was written at connect (option logasap).
	fLogged
	// fExpectProxy: a tcp-request connection expect-proxy layer4 rule
	// matched: the session reads a PROXY header first.
	fExpectProxy
	// fUID: the unique id was generated (lx.uid holds it, maybe empty).
	fUID
	// fEnding: the session is logged at its end: as in HAProxy's logs,
	// it no longer counts in its backend (be_conn).
	fEnding
	// fUnixCli: the client came on a UNIX listener and no PROXY header
	// gave it IP addresses: src and dst are unset, and HAProxy logs them
	// as "unix" with the listener's id for a port.
	fUnixCli
	// fCliOut, fSrvOut: the side's descriptor is registered for EPOLLOUT.
	// Write interest is taken only when a send would block (and for a
	// connect in progress), and dropped by the pump once that side took
	// every byte: an established socket that takes every send at once
	// never wakes the loop for its ACKs and FIN acknowledgements.
	// Invariant while data flows: a side that is not writable (no fW) has
	// its write interest.
	fCliOut
	fSrvOut
)

func fR(side int) uint32             { return fCliR << (2 * side) }
func fW(side int) uint32             { return fCliW << (2 * side) }
func fEOF(d int) uint32              { return fEOF0 << d }
func fShut(d int) uint32             { return fShut0 << d }
func fHup(side int) uint32           { return fCliHup << side }
func fOut(side int) uint32           { return fCliOut << side }
func (s *session) has(f uint32) bool { return s.flags&f != 0 }

// Termination states, HAProxy's two letters.
var (
	termNormal     = [2]byte{'-', '-'}
	termCliAbort   = [2]byte{'C', 'D'}
	termSrvAbort   = [2]byte{'S', 'D'}
	termCliTimeout = [2]byte{'c', 'D'}
	termSrvTimeout = [2]byte{'s', 'D'}
	termConnFail   = [2]byte{'S', 'C'}
	termQueueTO    = [2]byte{'s', 'Q'}
	termConnTO     = [2]byte{'s', 'C'}
	termCliAbortQ  = [2]byte{'C', 'Q'}
	termCliAbortC  = [2]byte{'C', 'C'}
	termKilled     = [2]byte{'K', 'D'}
	termDown       = [2]byte{'D', 'D'}
	termDenied     = [2]byte{'P', 'R'}
	termResource   = [2]byte{'R', 'C'}

	termCliTimeoutReq = [2]byte{'c', 'R'}
	termCliAbortReq   = [2]byte{'C', 'R'}
	termBadReq        = [2]byte{'P', 'R'}
)

// session is one proxied client connection and, once connected, its server
// connection. It belongs to one loop and is touched only by it, except the
// queue links and qstate (guarded by the backend's qmu).
type session struct {
	id    uint64
	l     *loop
	ln    *Listener
	fe    *Frontend
	be    *Backend
	srv   *Server // server in use (slot held when fSlot)
	avoid *Server // server to avoid when redispatching

	src, dst netip.AddrPort
	cfd, sfd int32
	state    uint8
	qstate   uint8 // guarded by be.qmu
	term     [2]byte
	retries  int16 // retries left
	flags    uint32
	failSide int8    // with fFailed: the side whose error ends the session
	cerr     connErr // why the client connection failed before the session began (connerr.go)
	failTerm [2]byte // with fFailed: its termination state
	// logLevel is set-log-level's level plus one, -1 for silent, 0 when
	// no rule set it (traffic_log.go).
	logLevel int8
	// prioClass and prioOffset (ms) are the queue priority of
	// set-priority-class and set-priority-offset (queue.go).
	prioClass  int16
	prioOffset int32

	tls    *tlsConn // TLS termination of the client side, nil for plain TCP
	stls   *tlsConn // TLS to the server, nil for plain TCP (tls_origin.go)
	pend   [2]*pbuf // bytes read from side d that side 1-d could not take yet
	bytes  [2]int64 // bytes that flowed in each direction
	sq, bq int32    // server and backend queue sizes when queued

	// Times in loop nanoseconds (since the graph's base).
	tAccept, tQueue, tConnStart int64
	tw, tc                      int64 // queue and connect times in ms, -1 = not reached
	exp                         [2]int64
	stExp                       int64 // connect, queue or turn-around deadline
	when                        int64 // scheduled in the timer heap
	hidx                        int32

	// Queue links and the server given by dequeue, guarded by be.qmu.
	qprev, qnext *session
	qsrv         *Server
	qgot         *Server
	qSince       int64

	vars   *sessVars   // set-var's variables, nil until one is set
	forced *Server     // the server of a use-server rule, for the first pick
	pp     *ppInfo     // the TLVs of the client's PROXY header, if any
	caps   [][]byte    // tcp-request content captures, nil until one is made
	stk    *stickState // tracked entries and pending stores, nil without
	lx     *sessLog    // what the logs keep of the session (sess_log.go), nil until needed
}

// newSession starts a session for an accepted client connection. The
// connection slots (global, frontend, listener) are already taken.
func (l *loop) newSession(ln *Listener, fd int, src netip.AddrPort) {
	fe := ln.Frontend
	g := l.g
	l.clock()
	g.cumConns.Add(1)
	setMax(&g.connMax, g.connRate.inc(l.wall))
	fe.ctr.newConn(l.wall)
	if ln.stats {
		ln.ctr.newConn(l.wall)
	}
	s := l.getSession()
	*s = session{
		id: g.sessID.Add(1), l: l, ln: ln, fe: fe,
		src: src, cfd: int32(fd), sfd: -1, flags: fCliW,
		tAccept: l.now, tw: -1, tc: -1, hidx: -1, term: termNormal,
	}
	if ln.unix {
		s.flags |= fUnixCli | fDstKnown // no IP addresses to look up
	}
	ci := &l.ci
	*ci = connInfo{src: s.src, s: s, final: true}
	if fe.needDst {
		ci.dst = s.dstAddr()
	}
	if v := fe.acceptConn(ci); v != verdictAccept {
		if v == verdictDrop {
			// As HAProxy's silent-drop, a denied request, not connection.
			fe.ctr.dreq.Add(1)
			silentDrop(fd, !src.Addr().Is4())
		} else {
			fe.ctr.dcon.Add(1)
			if ln.stats {
				ln.ctr.dcon.Add(1)
			}
		}
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
		rawsys.Close(fd)
		g.releaseConnSlot(fe, ln)
		s.endStick()
		l.retire(s)
		return
	}
	setMax(&fe.ctr.max, fe.ctr.live.Add(1))
	if ln.stats {
		setMax(&ln.ctr.max, ln.ctr.live.Add(1))
	}
	if !ln.optsInherited {
		setConnOpts(fd, fe.keepalive)
	}
	if err := l.register(fd, s, nil, false); err != nil {
		rawsys.Close(fd)
		g.releaseSession(fe, ln)
		s.endStick()
		l.retire(s)
		return
	}
	l.nsess++
	if h := g.hooks.Accept; h != nil {
		h(&AcceptRecord{Frontend: fe.Name, Client: s.src, Local: s.dstAddr()})
	}
	if ln.Bind.AcceptProxy || s.has(fExpectProxy) {
		s.state = stHeader
		s.stExp = l.now + int64(headerTimeout(fe))
		s.arm()
		return
	}
	s.start(ci)
	s.arm()
}

// countSession counts a new session (stot, session rates) of the
// frontend, its listener and the process.
func (s *session) countSession() {
	l := s.l
	s.fe.ctr.newSession(l.wall)
	setMax(&l.g.sessMax, l.g.sessRate.inc(l.wall))
	if s.ln.stats {
		s.ln.ctr.newSession(l.wall)
	}
	s.countStickSession()
}

// start chooses the backend and a server once the client is known, or
// first waits for the client's bytes when content rules inspect them.
func (s *session) start(ci *connInfo) {
	if s.ln.tls != nil && s.tls == nil {
		s.startTLS()
		return
	}
	// As HAProxy, a session counts (stot) once its PROXY header and TLS
	// handshake completed and its session rules accepted it; then it is
	// accepted (frontend_accept()'s log line).
	if !s.sessionRules(ci) {
		return
	}
	s.countSession()
	s.logAccept()
	if s.fe.inspects {
		s.inspectPhase(s.fe.inspectDelay)
		return
	}
	ci.s = s
	ci.final = true
	if v := runContentRules(s.fe.content, ci); v == contentReject || v == contentDrop {
		s.deny(v)
		return
	}
	if !s.chooseBackend(ci) {
		return
	}
	be := s.be
	if be.Config != s.fe.Config && len(be.content) > 0 {
		if be.inspects {
			s.inspectPhase(be.inspectDelay)
			return
		}
		if be.needDst && !ci.dst.IsValid() {
			ci.dst = s.dstAddr()
		}
		if v := runContentRules(be.content, ci); v == contentReject || v == contentDrop {
			s.deny(v)
			return
		}
	}
	s.serverRules(ci)
	if len(be.stick) > 0 {
		s.stickingRules(ci)
	}
	s.assign()
}

// chooseBackend runs the use_backend rules and counts the session on the
// backend they choose; false when none applies (the session ended).
func (s *session) chooseBackend(ci *connInfo) bool {
	be := s.fe.pickBackend(ci)
	if be == nil {
		s.finish(termDenied)
		return false
	}
	s.be = be
	s.retries = int16(be.retry)
	be.ctr.incCur()
	be.ctr.newSession(s.l.wall)
	return true
}

// dstAddr returns the local address the client connected to.
func (s *session) dstAddr() netip.AddrPort {
	if !s.has(fDstKnown) {
		if ap, err := rawsys.Getsockname(int(s.cfd)); err == nil {
			s.dst = ap
		}
		s.flags |= fDstKnown
	}
	return s.dst
}

// assign picks a server for the session and connects to it, queues the
// session when the server (or every server) is full, or ends it when no
// server is usable.
func (s *session) assign() {
	be, l := s.be, s.l
	var srv *Server
	if s.forced != nil {
		srv, s.forced = s.forced, nil
	} else if be.lb != nil {
		srv = be.lb.pick(s.src.Addr(), s.avoid)
	}
	if srv == nil {
		if be.anyUsable() && !l.g.closing.Load() {
			s.enqueue(nil)
			return
		}
		be.ctr.econ.Add(1)
		s.finish(termConnFail)
		return
	}
	be.ctr.picked(l.wall)
	srv.ctr.picked(l.wall)
	if srv.queued.Load() > 0 || !srv.tryTakeLive() {
		s.enqueue(srv)
		return
	}
	s.gotSlot(srv)
	s.connect()
}

// enqueue puts the session in srv's queue (nil: the backend queue).
func (s *session) enqueue(srv *Server) {
	// As HAProxy's queue key, the offset moves the session's place among
	// those of its class.
	s.qSince = s.l.now + int64(s.prioOffset)*int64(time.Millisecond)
	if !s.be.enqueue(s, srv) {
		s.be.ctr.econ.Add(1)
		s.finish(termConnFail)
		return
	}
	s.state = stQueued
	s.tQueue = s.l.now

	s.stExp = 0
	if to := s.be.timeoutQueue; to > 0 {
		s.stExp = s.l.now + int64(to)
	}
}

// dequeued runs in the session's loop once a queue gave it a server slot.
func (s *session) dequeued() {
	s.be.qmu.Lock()
	srv := s.qgot
	s.qgot = nil
	s.qstate = qNone
	s.be.qmu.Unlock()
	if s.state == stClosed {
		srv.unreserve()
		return
	}
	s.tw = elapsedMs(s.l.now - s.tQueue)
	s.gotSlot(srv)
	s.connect()
	s.arm()
}

// gotSlot records that the session holds a slot on srv.
func (s *session) gotSlot(srv *Server) {
	s.srv = srv
	s.flags |= fSlot
	if s.be.lb != nil {
		s.be.lb.taken(srv)
	}
	srv.ctr.incCur()
	if s.tw < 0 {
		s.tw = s.handshakeMs()
	}
}

// dropSlot gives the server slot back.
func (s *session) dropSlot() {
	if !s.has(fSlot) {
		return
	}
	s.flags &^= fSlot
	s.srv.ctr.decCur()
	s.srv.release()
}

// event handles epoll events on one side of the session.
func (s *session) event(side int, ev uint32) {
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		s.flags |= fR(side)
	}
	if ev&unix.EPOLLOUT != 0 {
		s.flags |= fW(side)
	}
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		s.flags |= fHup(side)
	}
	if side == 0 && ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 && s.earlyClientAbort(ev) {
		return
	}
	if side == 1 && s.state == stConnecting {
		if s.stls != nil {
			return // the TLS handshake goroutine reports (tls_origin.go)
		}
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		// EPOLLOUT without EPOLLERR or EPOLLHUP means the connection is
		// established: a failed connect sets the socket's error, which
		// epoll reports as EPOLLERR. SO_ERROR is only read otherwise.
		ok := ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == unix.EPOLLOUT
		if !ok && ev&unix.EPOLLOUT != 0 {
			soerr, err := rawsys.GetsockoptInt(int(s.sfd), unix.SOL_SOCKET, unix.SO_ERROR)
			ok = err == nil && soerr == 0
		}
		if ok {
			s.connected()
		} else {
			s.connFailed(false)
		}
		s.arm()
		return
	}
	if s.state == stInspect {
		if side == 0 {
			if ev&unix.EPOLLERR != 0 {
				s.finish(termCliAbortReq)
				return
			}
			s.inspect(false)
			s.arm()
		}
		return
	}
	if s.state == stHandshake {
		return // the handshake goroutine reports through the command queue
	}
	if s.state == stHeader {
		if ev&unix.EPOLLERR != 0 {
			s.connFailedEarly(cerrPrxAbort, termCliAbortReq)
			return
		}
		s.readProxyHeader()
		s.arm()
		return
	}
	if ev&unix.EPOLLERR != 0 {
		if s.state != stData {
			s.abort(side, abortTerm(side))
			return
		}
		s.fail(side)
	}
	if s.state == stData {
		s.pump()
		s.arm()
	}
}

// earlyClientAbort ends a session whose client failed (a reset) while it
// waited in a queue or for its server connection (CQ, CC, no abort
// counted). A client's FIN alone is a half-close: the client may still
// wait for the answer (a server that speaks first, a request sent in one
// go), so the session goes on and the FIN is forwarded once connected.
// Only option abortonclose gives such a session up, as HAProxy documents.
// It reports whether the session ended.
func (s *session) earlyClientAbort(ev uint32) bool {
	if s.state != stQueued && s.state != stConnecting && s.state != stTurnAround {
		return false
	}
	if ev&(unix.EPOLLERR|unix.EPOLLHUP) == 0 && !s.be.Config.Options.AbortOnClose {
		return false
	}
	switch s.state {
	case stQueued:
		if s.be.unqueue(s) != qQueued {
			return false // a slot is on its way: the data phase sees the close
		}
		s.tw = elapsedMs(s.l.now - s.tQueue)
		s.finish(termCliAbortQ)
		return true
	case stConnecting:
		if !s.connectPending() {
			return false // connected or failed: its own event comes next
		}
		s.finish(termCliAbortC)
		return true
	case stTurnAround:
		s.finish(termCliAbortC)
		return true
	}
	return false
}

// connectPending reports whether the server has not yet answered the
// connection request, the window in which option abortonclose gives up.
func (s *session) connectPending() bool {
	info, err := unix.GetsockoptTCPInfo(int(s.sfd), unix.IPPROTO_TCP, unix.TCP_INFO)
	return err != nil || info.State == tcpSynSent
}

// tcpSynSent is the kernel's TCP_SYN_SENT state in tcp_info.
const tcpSynSent = 2

// abortsOnClose reports whether option abortonclose gives the session up
// now that its client closed its side before the server connection was
// established.
func (s *session) abortsOnClose() bool {
	return s.be.Config.Options.AbortOnClose && s.has(fCliHup)
}

// abort ends the session because of side (0 client, 1 server): an error, a
// reset or a timeout. Aborts are counted as cli_abrt or srv_abrt.
func (s *session) abort(side int, term [2]byte) {
	if s.state == stClosed {
		return
	}
	s.countAbort(side, term)
	s.finish(term)
}

// countAbort counts an abort of side in cli_abrt or srv_abrt (and a
// server error in eresp).
func (s *session) countAbort(side int, term [2]byte) {
	if s.has(fSrvTimedOut) && (side == 1 || term == termCliTimeout) {
		// As HAProxy: after timeout server, neither a server error nor
		// the client's timeout counts again; a client error does.
		return
	}
	if side == 0 {
		s.fe.ctr.cliAbrt.Add(1)
		if s.be != nil {
			s.be.ctr.cliAbrt.Add(1)
		}
		if s.srv != nil {
			s.srv.ctr.cliAbrt.Add(1)
		}
	} else {
		// A server error is also a response error; a server timeout is not.
		eresp := term != termSrvTimeout
		if s.be != nil {
			s.be.ctr.srvAbrt.Add(1)
			if eresp {
				s.be.ctr.eresp.Add(1)
			}
		}
		if s.srv != nil {
			s.srv.ctr.srvAbrt.Add(1)
			if eresp {
				s.srv.ctr.eresp.Add(1)
			}
		}
	}
}

// finish closes the session: both connections, its queue place, its slots,
// and samples its timings.
func (s *session) finish(term [2]byte) {
	if s.state == stClosed {
		return
	}
	l, g := s.l, s.l.g
	prev := s.state
	s.state = stClosed
	if s.has(fSrvTimedOut) {
		term = termSrvTimeout
	}
	s.term = term
	s.logEnd()
	if h := g.hooks.End; h != nil {
		s.dstAddr()
		var r SessionRecord
		s.record(&r)
		h(&r)
	}
	l.timers.remove(s)
	reusable := true
	if prev == stQueued && s.be.unqueue(s) == qDequeued {
		// dequeued() gives the slot back later through this record, or
		// dequeue does if the loop refused it: it is not reused.
		reusable = false
	}
	if s.has(fFailed) {
		// The healthy side may have sent bytes that are no longer read:
		// closing it with them unread would reset its connection and
		// could destroy the answer still in flight to it.
		if fd := s.fdOf(1 - int(s.failSide)); fd >= 0 {
			s.discardInput(fd)
		}
	}
	s.closeServer()
	if s.cfd >= 0 {
		l.unregister(int(s.cfd))
		rawsys.Close(int(s.cfd))
		s.cfd = -1
	}
	s.tlsEnded()
	for d := range s.pend {
		if s.pend[d] != nil {
			l.bufs.put(s.pend[d])
			s.pend[d] = nil
		}
	}
	tt := elapsedMs(l.now - s.tAccept)
	if s.be != nil {
		if s.has(fConnected) {
			s.be.ctr.sample(s.tw, s.tc, tt)
			s.srv.ctr.sample(s.tw, s.tc, tt)
			s.observeEnd()
		}
		s.be.ctr.decCur()
	}
	s.dropSlot()
	s.endStick()
	l.nsess--
	g.releaseSession(s.fe, s.ln)
	if reusable {
		l.retire(s)
	}
}

// discardInput reads and drops what fd has received (a bounded amount).
func (s *session) discardInput(fd int) {
	for i := 0; i < 4; i++ {
		n, err := rawsys.Recv(fd, s.l.scratch)
		if err != nil || n < len(s.l.scratch) {
			return
		}
	}
}
