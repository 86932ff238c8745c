package proxy

import (
	"net/netip"
	"time"
)

// AcceptRecord describes a connection just accepted (HAProxy's "Connect
// from" log line when option tcplog is off).
type AcceptRecord struct {
	Frontend string
	Client   netip.AddrPort
	Local    netip.AddrPort // the frontend address the client reached
}

// SessionRecord describes a finished session: what a tcplog line needs.
type SessionRecord struct {
	ID       uint64
	Frontend *Frontend
	Backend  *Backend // nil when no backend was chosen
	Server   *Server  // nil when no server was reached (<NOSRV>)
	Client   netip.AddrPort
	Local    netip.AddrPort
	// Unix: the client came on a UNIX listener (Client and Local are
	// unset); HAProxy logs its addresses as "unix" and its ports as the
	// listener's id, ListenerID.
	Unix              bool
	ListenerID        int
	Accept            time.Time
	Tw, Tc, Tt        int64 // queue, connect and total times in ms; -1 = not reached
	BytesIn, BytesOut int64 // from the client, to the client
	Term              string
	// Concurrent connections when the session ended: process and frontend
	// (itself included), backend and server (itself excluded), as haproxy
	// logs %ac/%fc/%bc/%sc.
	ActConn, FeConn, BeConn, SrvConn int64
	Retries                          int
	Redispatched                     bool
	// Queue sizes when the session was queued, itself included (0 if it
	// never was), as haproxy's %sq/%bq.
	SrvQueue, BeQueue int64
}

// Hooks are optional callbacks run by the event loops. They run on the
// loop's goroutine, so they must be quick and must not block (format a line
// and hand it to a buffered writer); the records are only valid during the
// call.
type Hooks struct {
	Accept func(*AcceptRecord)
	End    func(*SessionRecord)
}

// SetHooks installs the hooks; call it before Start.
func (g *Graph) SetHooks(h Hooks) { g.hooks = h }

// record fills a session record; it runs before the session's counters are
// released.
func (s *session) record(r *SessionRecord) {
	l, g := s.l, s.l.g
	*r = SessionRecord{
		ID: s.id, Frontend: s.fe, Backend: s.be, Client: s.src,
		Accept: g.base.Add(time.Duration(s.tAccept)),
		Tw:     s.tw, Tc: s.tc, Tt: elapsedMs(l.now - s.tAccept),
		BytesIn: s.bytes[0], BytesOut: s.bytes[1],
		Term:    string(s.term[:]),
		ActConn: g.cur.Load(), FeConn: s.fe.ctr.cur.Load(),
		SrvQueue: int64(s.sq), BeQueue: int64(s.bq),
		Redispatched: s.has(fRedisp),
		Unix:         s.has(fUnixCli), ListenerID: s.ln.ID,
	}
	if s.cfd >= 0 {
		r.Local = s.dstAddr()
	} else {
		r.Local = s.dst
	}
	// As haproxy logs them, the backend and server counts no longer
	// include the session itself; the process and frontend ones do.
	if s.be != nil {
		r.BeConn = s.be.ctr.cur.Load() - 1
		r.Retries = s.be.retry - int(s.retries)
	}
	switch {
	case s.has(fConnected) || s.has(fSlot):
		r.Server = s.srv
	case s.qsrv != nil:
		r.Server = s.qsrv // waited in that server's queue
	}
	if r.Server != nil {
		r.SrvConn = r.Server.ctr.cur.Load()
		if s.has(fSlot) {
			r.SrvConn--
		}
	}
}
