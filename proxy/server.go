package proxy

import (
	"net/netip"
	"sync/atomic"

	"goproxy/internal/srvstate"
	"goproxy/internal/uxsock"
	"goproxy/parser"
)

// adminState holds a server's forced admin flags (AdminForcedMaint,
// AdminForcedDrain), read lock-free by the balancers.
type adminState struct{ v atomic.Uint32 }

func (a *adminState) Load() srvstate.Admin   { return srvstate.Admin(a.v.Load()) }
func (a *adminState) Store(f srvstate.Admin) { a.v.Store(uint32(f)) }
func (a *adminState) Or(f srvstate.Admin)    { a.v.Or(uint32(f)) }
func (a *adminState) clear(f srvstate.Admin) { a.v.And(^uint32(f)) }

// Server is one server of a backend. Identity is fixed at Build; the rest is
// atomic. A Server must not be copied.
type Server struct {
	Name    string
	ID      int // sid: 1, 2, ... in declaration order, or the configured id
	Backend *Backend
	Addr    parser.Addr
	Config  parser.ServerParams
	Backup  bool
	// Pos is the server line; parser.DynamicPos for a server added at
	// run time (Dynamic).
	Pos     parser.Pos
	Dynamic bool

	// pinned: a use-server rule names the server, which cannot be deleted
	// (HAProxy's SRV_F_NON_PURGEABLE). Set at Build.
	pinned bool
	// deleted is set once "del server" removed the server (dynserver.go).
	deleted atomic.Bool

	// DNS is what runtime resolution starts from (server_resolution.go).
	DNS ServerDNS

	running atomic.Bool // operational state: true = UP (or going down)
	admin   adminState
	uweight atomic.Int32 // user weight, 0..256
	// maintWeight is the user weight when the server entered maintenance:
	// HAProxy's effective weight is not recomputed while in MAINT.
	maintWeight atomic.Int32

	served atomic.Int64 // sessions currently established or being set up on it
	queued atomic.Int64 // sessions waiting in its queue

	// lbKey is private to the backend's balancer (e.g. a leastconn position).
	lbKey atomic.Int64

	check checkState // checks, operational state and its transitions (server_check.go, server_transition.go)

	tls *tlsOrigin // TLS to the server ("ssl"), nil for plain TCP (tls_origin.go)

	serverRuntime
}

// Running reports whether the server is operationally up.
func (s *Server) Running() bool { return s.running.Load() }

// Admin returns the server's administrative flags as HAProxy reports them:
// the forced ones, and AdminConfigMaint for a server `disabled` in the
// configuration.
func (s *Server) Admin() srvstate.Admin {
	a := s.admin.Load()
	if s.Config.Disabled {
		a |= srvstate.AdminConfigMaint
	}
	return a
}

// UWeight returns the user weight (0..256).
func (s *Server) UWeight() int { return int(s.uweight.Load()) }

// ShownWeight is the weight show stat reports: the user weight, except in
// maintenance, where HAProxy keeps showing the weight the server had when
// it entered it (a weight set meanwhile shows once it leaves).
func (s *Server) ShownWeight() int {
	if s.admin.Load()&srvstate.AdminForcedMaint != 0 {
		return int(s.maintWeight.Load())
	}
	return int(s.uweight.Load())
}

// Served returns the number of sessions on the server.
func (s *Server) Served() int64 { return s.served.Load() }

// Queued returns the number of sessions waiting in the server's queue.
func (s *Server) Queued() int64 { return s.queued.Load() }

// usable reports whether the server may take new sessions from the balancer:
// running, not in maintenance or drain, with a non-zero weight.
func (s *Server) usable() bool {
	return s.running.Load() && s.admin.Load()&(maintBlocksUp|srvstate.AdminForcedDrain) == 0 && s.uweight.Load() > 0
}

// full reports whether the server reached its maxconn (0 = unlimited).
func (s *Server) full() bool {
	m := s.Config.MaxConn
	return m > 0 && s.served.Load() >= int64(m)
}

// setRunning flips the operational state and, on a real change, rebuilds the
// backend's balancer. It reports whether the state changed.
func (s *Server) setRunning(up bool) bool {
	if !s.running.CompareAndSwap(!up, up) {
		return false
	}
	if s.Backend != nil && s.Backend.lb != nil {
		s.Backend.lb.update()
	}
	return true
}

// serverDest is a server's connect address.
type serverDest struct {
	ux      *uxsock.Addr // a UNIX or abstract socket server (ip, port unset)
	ip      netip.Addr
	port    int  // 0 with portMap: the client's destination port (+ offset)
	portMap bool // port taken from the client's destination
	offset  int
}

// serverRuntime is the runtime part of a Server, kept apart from the shared
// identity and state fields.
type serverRuntime struct {
	ctr      Counters
	q        queue                      // sessions waiting for this server, guarded by Backend.qmu
	dest     atomic.Pointer[serverDest] // where to connect; replaced by SetAddr
	maxConnR atomic.Int64               // effective maxconn, 0 = unlimited (set maxconn server)
	obs      observed                   // timing distributions, cut sessions (histograms.go)
	res      resolveState               // runtime DNS resolution (server_resolution.go)
}
