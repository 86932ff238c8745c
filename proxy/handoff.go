package proxy

// Session handoff (global "session-handoff", a goproxy extension): on a
// -sf reload the old process hands its established sessions to the new
// one, so that no old process lingers with hours-long sessions and no
// session is re-dialled to its server.
//
// The old process listens on an abstract unix socket named after its pid
// (HandoffAddr). The new one connects once it serves, and the old one
// then hands over, in passes, every session that is established and holds
// no byte in a user-space buffer: a session still owed bytes stops reading
// both sides until its buffers drain. Each batch carries the sessions'
// descriptors (SCM_RIGHTS) and records (frontend, listener, backend and
// server by name, addresses, timers, byte counts). Only once the new
// process acknowledges a batch does the old one close its copies and
// forget the sessions; if the exchange fails, the old process takes them
// back and serves them to their end. A session is served by one of the
// two processes at every moment, never by neither.

import (
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
)

// HandoffAddr is the abstract unix socket on which process pid takes
// handoff requests.
func HandoffAddr(pid int) string { return "@goproxy-handoff-" + strconv.Itoa(pid) }

// handoffRecord is what the new process needs of a session besides its
// two descriptors.
type handoffRecord struct {
	Frontend string `json:"fe"`
	Listener string `json:"ln"`
	Backend  string `json:"be"`
	Server   string `json:"srv"`
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Flags    uint32 `json:"flags"` // the end-of-input and shutdown bits, and whether the client came over UNIX
	AgeMs    int64  `json:"age_ms"`
	Tw       int64  `json:"tw"`
	Tc       int64  `json:"tc"`
	BytesIn  int64  `json:"bin"`
	BytesOut int64  `json:"bout"`
	// UID is the unique id, when it was generated: the one the server
	// was sent and the logs print.
	UID *string `json:"uid,omitempty"`
	// LogLevel is what a set-log-level rule chose for the session's log
	// line (0: none ran).
	LogLevel int8 `json:"log_level,omitempty"`
}

// handoffFlags are the session flags a record carries.
const handoffFlags = fEOF0 | fEOF1 | fShut0 | fShut1 | fUnixCli

// handed is a session frozen for handoff: out of its loop's epoll set,
// its descriptors still open, waiting for the new process's answer.
type handed struct {
	s        *session
	rec      handoffRecord
	cfd, sfd int
}

// freezeForHandoff takes, from this loop, up to max established sessions
// that hold no buffered byte: they leave the epoll set and their timers,
// and wait in the handed state. The other established sessions stop
// reading both sides, so that their buffers drain for a later pass.
func (l *loop) freezeForHandoff(max int) []handed {
	var out []handed
	l.clock()
	l.sessions(func(s *session) {
		if s.state != stData || s.has(fFailed) || s.has(fSrvTimedOut) || s.srv == nil || s.tls != nil {
			return
		}
		s.flags |= fHandoff
		if len(out) >= max || s.pend[0] != nil || s.pend[1] != nil {
			return
		}
		out = append(out, handed{s: s, rec: s.handoffRecord(), cfd: int(s.cfd), sfd: int(s.sfd)})
	})
	for _, h := range out {
		s := h.s
		l.timers.remove(s)
		for _, fd := range []int{h.cfd, h.sfd} {
			_ = rawsys.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
			l.fds[fd] = fdEntry{}
		}
		s.state = stHanded
	}
	return out
}

// handoffRecord describes the session for the new process.
func (s *session) handoffRecord() handoffRecord {
	return handoffRecord{
		Frontend: s.fe.Name, Listener: s.ln.Name, Backend: s.be.Name, Server: s.srv.Name,
		Src: s.src.String(), Dst: s.dstAddr().String(),
		Flags: s.flags & handoffFlags,
		AgeMs: elapsedMs(s.l.now - s.tAccept), Tw: s.tw, Tc: s.tc,
		BytesIn: s.bytes[0], BytesOut: s.bytes[1],
		UID: s.handoffUID(), LogLevel: s.logLevel,
	}
}

// handoffUID is the session's unique id for its handoff record, nil when
// it was not generated.
func (s *session) handoffUID() *string {
	if !s.has(fUID) || s.lx == nil {
		return nil
	}
	id := string(s.lx.uid)
	return &id
}

// releaseHanded forgets sessions the new process took: their descriptors
// are closed (the new process has its own), their slots and counts given
// back, and nothing is logged (the new process logs their end).
func (l *loop) releaseHanded(list []handed) {
	for _, h := range list {
		s := h.s
		if s.state != stHanded {
			continue
		}
		s.state = stClosed
		rawsys.Close(h.cfd)
		rawsys.Close(h.sfd)
		s.cfd, s.sfd = -1, -1
		s.be.ctr.decCur()
		s.dropSlot()
		s.endStick() // the new process's tables do not know the session
		l.nsess--
		l.g.handedOff.Add(1)
		l.g.releaseSession(s.fe, s.ln)
	}
}

// thawHanded takes back sessions the new process did not take: they are
// registered again and served here to their end.
func (l *loop) thawHanded(list []handed) {
	l.clock()
	for _, h := range list {
		s := h.s
		if s.state != stHanded {
			continue
		}
		s.state = stData
		s.flags &^= fHandoff | fCliOut | fSrvOut
		if l.register(h.cfd, s, nil, false) != nil || l.register(h.sfd, s, nil, false) != nil {
			s.finish(termKilled)
			continue
		}
		s.flags |= fCliR | fSrvR | fCliW | fSrvW
		s.pump()
		s.arm()
	}
}

// resumeReading lets sessions that were asked to stop reading for a
// handoff that is over read again.
func (l *loop) resumeReading() {
	l.sessions(func(s *session) {
		if s.state == stData && s.has(fHandoff) {
			s.flags &^= fHandoff
			s.flags |= fCliR | fSrvR
			s.pump()
			s.arm()
		}
	})
}

// adoptHanded makes a handed-over session one of this loop's. The caller
// resolved its listener, backend and server.
func (l *loop) adoptHanded(r *handoffRecord, ln *Listener, be *Backend, srv *Server, cfd, sfd int) {
	g, fe := l.g, ln.Frontend
	l.clock()
	g.forceConnSlot(fe, ln)
	setMax(&fe.ctr.max, fe.ctr.live.Add(1))
	if ln.stats {
		setMax(&ln.ctr.max, ln.ctr.live.Add(1))
	}
	src, _ := netip.ParseAddrPort(r.Src)
	dst, _ := netip.ParseAddrPort(r.Dst)
	s := l.getSession()
	*s = session{
		id: g.sessID.Add(1), l: l, ln: ln, fe: fe, be: be,
		src: src, dst: dst, cfd: int32(cfd), sfd: int32(sfd), state: stData,
		flags:   fCliR | fCliW | fSrvR | fSrvW | fConnected | fDstKnown | r.Flags&handoffFlags,
		tAccept: l.now - r.AgeMs*int64(time.Millisecond), tw: r.Tw, tc: r.Tc,
		hidx: -1, term: termNormal, bytes: [2]int64{r.BytesIn, r.BytesOut},
		logLevel: r.LogLevel,
	}
	s.retries = int16(be.retry)
	be.ctr.incCur()
	srv.served.Add(1) // its slot, past maxconn if need be: it is established
	s.gotSlot(srv)
	if r.UID != nil {
		s.flags |= fUID
		s.logState().uid = []byte(*r.UID)
	}
	if fe.logAddrs {
		s.logConnect(sfd, s.serverAddr(), srv.dest.Load().ux != nil)
	}
	l.nsess++
	if l.register(cfd, s, nil, false) != nil || l.register(sfd, s, nil, false) != nil {
		s.finish(termKilled)
		return
	}
	g.takenOver.Add(1)
	s.touch(0)
	s.touch(1)
	s.pump()
	s.arm()
}
