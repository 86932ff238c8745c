package proxy

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// Frontend is a frontend (or the frontend half of a listen section).
type Frontend struct {
	Name      string
	ID        int // iid
	Config    *parser.Proxy
	Listeners []*Listener

	g        *Graph
	maxConn  atomic.Int64 // effective maxconn (slim)
	ctr      Counters
	paused   atomic.Bool // disable frontend / Pause
	stopped  atomic.Bool // soft stop done
	defBE    *Backend
	rules    []useRule
	tcpRules []tcpRule // tcp-request connection (tcpactions.go)
	// sessRules: tcp-request session (tcp_session.go)
	sessRules []tcpRule
	content   []tcpRule // tcp-request content
	needDst   bool      // some rule looks at the destination address
	// inspects: the content rules or use_backend conditions read the
	// client's bytes, which the session waits for (inspect.go).
	inspects     bool
	inspectDelay time.Duration
	logs         *LogSink
	logCount     atomic.Uint64                   // lines logged, HAProxy's %lc
	logExprs     map[*parser.LogNode]*sampleExpr // the %[...] of the log formats and unique-id-format
	captures     []int                           // lengths of the capture slots
	logAddrs     bool                            // the logs print %si/%sp/%bi/%bp (sess_log.go)

	timeoutClient, timeoutClientFin time.Duration
	keepalive                       bool
}

// useRule is a compiled use_backend rule.
type useRule struct {
	be   *Backend
	dyn  *dynName // a name built for each session (be is nil)
	cond *cond
}

// MaxConn returns the frontend's effective maxconn.
func (f *Frontend) MaxConn() int64 { return f.maxConn.Load() }

// SetMaxConn changes the frontend's maxconn at runtime (set maxconn frontend).
func (f *Frontend) SetMaxConn(n int64) {
	f.maxConn.Store(n)
	if f.g != nil {
		f.g.wakeListeners()
	}
}

// Paused reports whether the frontend was paused (disable frontend).
func (f *Frontend) Paused() bool { return f.paused.Load() }

// Pause stops accepting on the frontend's listeners (disable frontend); it
// reports false when none was listening.
func (f *Frontend) Pause() bool { return f.g.pauseListeners(f.Listeners) > 0 }

// Resume accepts again on the frontend's paused listeners (enable
// frontend); it reports false when none was paused ("All sockets are
// already enabled.").
func (f *Frontend) Resume() bool { return f.g.resumeListeners(f.Listeners) > 0 }

// Shutdown stops the frontend for good (shutdown frontend): its listeners
// close, its established sessions go on. It reports false when it was
// already stopped.
func (f *Frontend) Shutdown() bool {
	if f.stopped.Swap(true) {
		return false
	}
	g := f.g
	g.onLoops(func(l *loop) {
		for _, ln := range f.Listeners {
			l.dropListener(ln)
		}
	})
	for _, ln := range f.Listeners {
		if ln.state.Swap(lnClosed) != lnClosed && ln.fd >= 0 {
			unix.Close(ln.fd)
			ln.fd = -1
		}
	}
	be := int64(0)
	if f.Config.Cap&parser.CapBackend != 0 {
		if b := g.Backend(f.Name); b != nil {
			be = b.ctr.tot.Load()
		}
	}
	g.logStopped(f.Name, f.ctr.connTot.Load(), be, f.logs)
	return true
}

// Stopped reports whether the frontend stopped listening (soft stop).
func (f *Frontend) Stopped() bool { return f.stopped.Load() }

// acceptConn runs the tcp-request connection rules.
func (f *Frontend) acceptConn(ci *connInfo) tcpVerdict {
	ci.conn = true
	v := runTCPRules(f.tcpRules, ci)
	ci.conn = false
	return v
}

// pickBackend runs the use_backend rules and falls back to the default
// backend; nil when none applies.
func (f *Frontend) pickBackend(ci *connInfo) *Backend {
	for i := range f.rules {
		r := &f.rules[i]
		if !r.cond.eval(ci) {
			continue
		}
		if r.dyn != nil {
			var buf [128]byte
			if be := r.dyn.resolve(ci, buf[:0]); be != nil {
				return be
			}
			break // no backend of that name: the default one, as HAProxy
		}
		return r.be
	}
	return f.defBE
}

// Listener is one bound address of a frontend (one per address of a bind
// line).
type Listener struct {
	Name     string // bind "name", or "sock-N"
	ID       int
	Frontend *Frontend
	Bind     *parser.Bind
	Addr     string // as HAProxy prints it

	fd      int // -1 until bound, and again once closed
	backlog int
	// optsInherited: the listening socket carries the options of proxied
	// connections (setListenerOpts), so accepted sockets need no setsockopt.
	optsInherited bool
	// unix: a UNIX or abstract socket; its clients have no IP address.
	unix bool

	maxConn int64
	ctr     Counters
	// stats are kept only with option socket-stats.
	stats bool
	// state: 0 not started, 1 listening, 2 paused, 3 closed.
	state atomic.Int32
	// tls is the bind's TLS termination, nil for plain TCP (tls_certs.go).
	tls *tlsBind
}

// IsUnix reports whether ln is a UNIX or abstract socket (show stat's
// addr "unix").
func (ln *Listener) IsUnix() bool { return ln.unix }

// Listener states.
const (
	lnIdle int32 = iota
	lnReady
	lnPaused
	lnClosed
)
