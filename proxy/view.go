package proxy

import (
	"net/netip"
	"sync"
	"time"
)

// Stats is a plain copy of the counters of a frontend, backend, server or
// listener, with the names of HAProxy's "show stat" columns. Values that do
// not apply to a kind of object are zero.
type Stats struct {
	Qcur, Qmax        int64
	Scur, Smax, Slim  int64
	Stot              int64
	Bin, Bout         int64
	Econ, Eresp       int64
	Wretr, Wredis     int64
	Lbtot             int64
	Rate, RateMax     int64
	ConnRate, ConnMax int64 // conn_rate, conn_rate_max (frontends)
	ConnTot           int64 // conn_tot (frontends)
	Dcon              int64
	Dses              int64 // denied by tcp-request session (frontends, listeners)
	Ereq              int64
	Dreq              int64
	CliAbrt, SrvAbrt  int64
	// LastSess is the number of seconds since the last session was
	// assigned, -1 if never.
	LastSess                     int64
	Connect                      int64
	Qtime, Ctime, Ttime          int64 // averages over the last 512 sessions, ms
	QtimeMax, CtimeMax, TtimeMax int64
}

// sessMax is smax where sessions are counted past accept (frontends and
// listeners): Scur also holds slots taken for an accept still under way,
// which smax does not follow.
func (c *Counters) sessMax() int64 { return max(c.max.Load(), c.live.Load()) }

// snapshot copies the counters.
func (c *Counters) snapshot(now time.Time) Stats {
	st := Stats{
		Qcur: c.qcur.Load(), Qmax: c.qmax.Load(),
		Scur: c.cur.Load(), Smax: c.max.Load(), Stot: c.tot.Load(),
		Bin: c.bin.Load(), Bout: c.bout.Load(),
		Econ: c.econ.Load(), Eresp: c.eresp.Load(),
		Wretr: c.wretr.Load(), Wredis: c.wredis.Load(),
		Lbtot: c.lbtot.Load(),
		Rate:  c.rate.read(now), RateMax: c.rateMax.Load(),
		ConnRate: c.connRate.read(now), ConnMax: c.connMax.Load(), ConnTot: c.connTot.Load(),
		Dcon: c.dcon.Load(), Dses: c.dses.Load(), Ereq: c.ereq.Load(), Dreq: c.dreq.Load(),
		CliAbrt: c.cliAbrt.Load(), SrvAbrt: c.srvAbrt.Load(),
		LastSess: -1,
		Connect:  c.connect.Load(),
		QtimeMax: c.qtimeMax.Load(), CtimeMax: c.ctimeMax.Load(), TtimeMax: c.ttimeMax.Load(),
	}
	if ls := c.lastSess.Load(); ls != 0 {
		st.LastSess = max(int64(now.Sub(time.Unix(0, ls))/time.Second), 0)
	}
	st.Qtime = c.qtime.avg(st.Lbtot)
	st.Ctime = c.ctime.avg(st.Lbtot)
	st.Ttime = c.ttime.avg(st.Lbtot)
	if st.Smax < st.Scur {
		st.Smax = st.Scur
	}
	return st
}

// Stats returns the frontend's counters; Slim is its maxconn.
func (f *Frontend) Stats() Stats {
	st := f.ctr.snapshot(time.Now())
	st.Smax = f.ctr.sessMax()
	st.Slim = f.maxConn.Load()
	return st
}

// Stats returns the backend's counters; Slim is its fullconn.
func (b *Backend) Stats() Stats {
	st := b.ctr.snapshot(time.Now())
	st.Slim = b.slim
	return st
}

// Stats returns the server's counters; Slim is its maxconn (0 = none).
func (s *Server) Stats() Stats {
	st := s.ctr.snapshot(time.Now())
	st.Slim = s.maxConnR.Load()
	return st
}

// Stats returns the listener's counters (kept with option socket-stats;
// Scur is always live). Slim is the bind's maxconn.
func (ln *Listener) Stats() Stats {
	st := ln.ctr.snapshot(time.Now())
	if ln.stats {
		st.Smax = ln.ctr.sessMax()
	}
	st.Slim = ln.maxConn
	return st
}

// SocketStats reports whether the listener keeps its own counters (option
// socket-stats).
func (ln *Listener) SocketStats() bool { return ln.stats }

// Listening reports whether the listener is bound and accepting (not
// paused, not stopped).
func (ln *Listener) Listening() bool { return ln.state.Load() == lnReady }

// Full reports whether the listener waits for a free slot (maxconn).
func (ln *Listener) Full() bool {
	f := ln.Frontend
	return !f.g.canAccept(f, ln)
}

// Slim returns the backend's session limit (fullconn).
func (b *Backend) Slim() int64 { return b.slim }

// Queued returns the number of sessions in the backend queue.
func (b *Backend) Queued() int64 { return b.qlen.Load() }

// ClearCounters resets the maxima of every counter (clear counters), or
// every counter when all is set (clear counters all).
func (g *Graph) ClearCounters(all bool) {
	g.connMax.Store(0)
	g.sessMax.Store(0)
	if all {
		g.cumConns.Store(0)
		g.connRate.reset()
		g.sessRate.reset()
	}
	for _, f := range g.frontends {
		f.ctr.clear(all)
		for _, ln := range f.Listeners {
			ln.ctr.clear(all)
		}
	}
	for _, b := range g.backends {
		b.ctr.clear(all)
		for _, s := range b.ServerList() {
			s.ctr.clear(all)
		}
	}
}

// SessionInfo describes one session for "show sess".
type SessionInfo struct {
	ID       uint64
	Frontend string
	Source   netip.AddrPort
	Backend  string // empty before a backend is chosen
	Server   string // empty before a server is chosen
	Age      time.Duration
	State    string // queued, turn-around, connecting, established
}

var stateNames = [...]string{stNew: "new", stHeader: "proxy-header", stQueued: "queued", stTurnAround: "turn-around",
	stConnecting: "connecting", stData: "established", stClosed: "closed", stHanded: "handed", stInspect: "inspecting", stHandshake: "handshake"}

// Sessions lists the live sessions.
func (g *Graph) Sessions() []SessionInfo {
	var mu sync.Mutex
	var out []SessionInfo
	g.onLoops(func(l *loop) {
		var mine []SessionInfo
		l.clock()
		l.sessions(func(s *session) {
			si := SessionInfo{ID: s.id, Frontend: s.fe.Name, Source: s.src,
				Age: time.Duration(l.now - s.tAccept), State: stateNames[s.state]}
			if s.be != nil {
				si.Backend = s.be.Name
			}
			if s.srv != nil {
				si.Server = s.srv.Name
			}
			mine = append(mine, si)
		})
		mu.Lock()
		out = append(out, mine...)
		mu.Unlock()
	})
	return out
}

// ShutdownSession closes the session with that id; it reports whether it
// existed.
func (g *Graph) ShutdownSession(id uint64) bool {
	found := make(chan struct{}, len(g.loops)+1)
	g.onLoops(func(l *loop) {
		var hit *session
		l.sessions(func(s *session) {
			if s.id == id {
				hit = s
			}
		})
		if hit != nil {
			l.clock()
			hit.countShutdown()
			hit.finish(termKilled)
			found <- struct{}{}
		}
	})
	return len(found) > 0
}

// ShutdownServerSessions closes every session using s (connecting or
// established) and returns how many.
func (g *Graph) ShutdownServerSessions(srv *Server) int {
	counts := make(chan int, len(g.loops)+1)
	g.onLoops(func(l *loop) {
		var list []*session
		l.sessions(func(s *session) {
			if s.srv == srv && s.has(fSlot) {
				list = append(list, s)
			}
		})
		l.clock()
		for _, s := range list {
			s.countShutdown()
			s.finish(termKilled)
		}
		counts <- len(list)
	})
	close(counts)
	n := 0
	for c := range counts {
		n += c
	}
	return n
}

// anyUsable reports whether some server of the backend is usable.
func (b *Backend) anyUsable() bool { return b.usableCount(1) > 0 }

// usableCount counts the usable active servers, up to limit.
func (b *Backend) usableCount(limit int) int {
	n := 0
	for _, s := range b.ServerList() {
		if !s.Backup && s.usable() {
			n++
			if n >= limit {
				return n
			}
		}
	}
	if n == 0 {
		for _, s := range b.ServerList() {
			if s.Backup && s.usable() {
				n++
				if n >= limit {
					return n
				}
			}
		}
	}
	return n
}
