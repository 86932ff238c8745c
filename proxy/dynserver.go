package proxy

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// Servers added and deleted at run time ("add server", "del server"), as
// HAProxy 2.6's dynamic servers.
//
// A backend's server list is copy-on-write: readers (the balancers'
// rebuilds, the stats, the fetches, the queue) load the published slice
// and never see it change under them; add and delete build a new slice
// under the backend's srvMu and publish it, then rebuild the balancer. The
// data path is untouched: a pick reads the balancer's table, which carries
// the servers it was built from.
//
// A server is deleted only once in maintenance with no session and no
// queued session. The deleted flag closes the race with a pick that loaded
// a table from before the maintenance: such a pick sees the flag after
// taking its slot and gives the slot back (tryTakeLive), and a queue does
// not take a session for a deleted server.

// Errors of AddServer and DeleteServer; the runtime API answers them with
// HAProxy's words (package stats holds that table).
var (
	// ErrStaticLB: the backend's algorithm cannot take servers at run time.
	ErrStaticLB = errors.New("backend must use a dynamic load balancing to support dynamic servers")
	// ErrServerExists: the backend already has a server of that name.
	ErrServerExists = errors.New("a server with the same name already exists in the backend")
	// ErrNoServer: the backend has no server of that name.
	ErrNoServer = errors.New("no such server")
	// ErrServerPinned: a use-server rule names the server.
	ErrServerPinned = errors.New("server referenced by the configuration")
	// ErrServerNotMaint: the server is not in maintenance.
	ErrServerNotMaint = errors.New("only servers in maintenance mode can be deleted")
	// ErrServerBusy: the server still has sessions or queued sessions.
	ErrServerBusy = errors.New("server still has connections attached to it")
)

// ServerWatcher is told of servers added and deleted at run time (the
// process starts and stops their checks). ServerAdded runs before the
// server is published; its error cancels the addition. ServerDeleted runs
// once the server left the backend.
type ServerWatcher interface {
	ServerAdded(s *Server) error
	ServerDeleted(s *Server)
}

// SetServerWatcher installs w; call it before the runtime API serves.
func (g *Graph) SetServerWatcher(w ServerWatcher) { g.watcher = w }

// ServerList returns the backend's current servers in their order: those
// of the configuration, then those added at run time, without those
// deleted. The slice is shared and must not be modified.
func (b *Backend) ServerList() []*Server {
	if p := b.srvList.Load(); p != nil {
		return *p
	}
	return b.Servers
}

func (b *Backend) publishServers(list []*Server) { b.srvList.Store(&list) }

// ServerByName returns the current server of that name, or nil.
func (b *Backend) ServerByName(name string) *Server {
	for _, s := range b.ServerList() {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// DynamicLB reports whether the backend's algorithm takes servers at run
// time: every algorithm but static-rr and the map-based hashes, as HAProxy
// (BE_LB_PROP_DYN).
func (b *Backend) DynamicLB() bool {
	sv := &Server{Backend: b}
	return !sv.staticAlgo()
}

// AddServer adds the server ps (parsed by parser.ParseDynamicServer) at
// the end of the backend, as HAProxy's "add server": in forced
// maintenance, stopped, with its checks configured but switched off until
// "enable health" / "enable agent", and the lowest free id unless ps sets
// one. The balancer learns of it at once; it takes traffic once out of
// maintenance.
func (b *Backend) AddServer(ps *parser.Server) (*Server, error) {
	if !b.DynamicLB() {
		return nil, ErrStaticLB
	}
	b.srvMu.Lock()
	defer b.srvMu.Unlock()
	cur := b.ServerList()
	used := map[int]bool{}
	for _, s := range cur {
		if s.Name == ps.Name {
			return nil, ErrServerExists
		}
		used[s.ID] = true
	}
	if _, rr := b.lb.(*rrBalancer); rr && len(cur) >= maxActiveSrvs {
		return nil, fmt.Errorf("roundrobin supports at most %d servers", maxActiveSrvs)
	}
	s := &Server{Name: ps.Name, ID: ps.ID, Backend: b, Addr: ps.Addr, Config: ps.ServerParams,
		Backup: ps.Backup, Pos: ps.Pos, Dynamic: true}
	if s.ID == 0 {
		s.ID = 1
		for used[s.ID] {
			s.ID++
		}
	}
	if err := s.setAddr(); err != nil {
		return nil, err
	}
	if b.g != nil {
		if err := b.g.setupServerTLS(s, ps); err != nil {
			return nil, err
		}
	}
	s.uweight.Store(int32(min(max(ps.Weight, 0), 256)))
	s.maxConnR.Store(int64(max(ps.MaxConn, 0)))
	s.initDynamicState(time.Now())
	if b.g != nil && b.g.watcher != nil {
		if err := b.g.watcher.ServerAdded(s); err != nil {
			return nil, err
		}
	}
	if len(cur) == 0 {
		// A backend without servers has no usable one: it is down, and
		// this server (in maintenance) changes nothing of that.
		b.state.mu.Lock()
		b.state.down = true
		b.state.mu.Unlock()
	}
	b.publishServers(append(slices.Clip(cur), s))
	if b.lb != nil {
		b.lb.update()
	}
	return s, nil
}

// initDynamicState is a dynamic server's first state (HAProxy's
// _srv_parse_init and cli_parse_add_server): forced maintenance, stopped,
// checks configured but disabled, health 0.
func (s *Server) initDynamicState(now time.Time) {
	c := &s.check
	c.mu.Lock()
	defer c.mu.Unlock()
	s.initCheckLocked(now)
	c.hc.enabled, c.agent.enabled = false, false
	c.hc.health, c.agent.health = 0, 0
	// "disabled" pauses the checks (HAProxy's srv_parse_disabled), and
	// leaving the forced maintenance does not resume them: the
	// configuration's maintenance stays.
	c.paused = s.Config.Disabled
	c.op = srvstate.OpStopped
	// HAProxy computes the effective weight before reading the options,
	// with the dynamic server's weight of 1: that is what show stat shows
	// until the server leaves maintenance.
	s.maintWeight.Store(1)
	s.admin.Or(srvstate.AdminForcedMaint)
	s.running.Store(false)
}

// DeleteServer removes the server of that name, as HAProxy's "del
// server": it must be in maintenance, with no session and no queued
// session, and no use-server rule may name it. Sessions already ended on
// it keep their records; nothing else refers to it afterwards.
func (b *Backend) DeleteServer(name string) (*Server, error) {
	b.srvMu.Lock()
	defer b.srvMu.Unlock()
	cur := b.ServerList()
	i := slices.IndexFunc(cur, func(s *Server) bool { return s.Name == name })
	if i < 0 {
		return nil, ErrNoServer
	}
	s := cur[i]
	if s.pinned {
		return nil, ErrServerPinned
	}
	if s.Admin()&srvstate.AdminMaint == 0 {
		return nil, ErrServerNotMaint
	}
	// Under qmu no queue takes a session for s meanwhile; a pick racing
	// with us either sees deleted or is seen in served.
	b.qmu.Lock()
	s.deleted.Store(true)
	if s.served.Load() > 0 || s.queued.Load() > 0 {
		s.deleted.Store(false)
		b.qmu.Unlock()
		return nil, ErrServerBusy
	}
	b.qmu.Unlock()
	b.publishServers(slices.Delete(slices.Clone(cur), i, i+1))
	if b.lb != nil {
		b.lb.update()
	}
	if b.g != nil && b.g.watcher != nil {
		b.g.watcher.ServerDeleted(s)
	}
	return s, nil
}

// tryTakeLive is tryTake for a server the balancer just picked: a server
// deleted meanwhile gives the slot back and is not taken.
func (s *Server) tryTakeLive() bool {
	if !s.tryTake() {
		return false
	}
	if s.deleted.Load() {
		s.served.Add(-1)
		return false
	}
	return true
}

// UsesSSL reports whether connections to the server use TLS ("ssl").
func (s *Server) UsesSSL() bool { return s.tls != nil }

// Deleted reports whether the server was deleted at run time.
func (s *Server) Deleted() bool { return s.deleted.Load() }
