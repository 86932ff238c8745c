package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/sirupsen/logrus"

	"goproxy/health"
	"goproxy/internal/resolver"
	"goproxy/internal/sockxfer"
	"goproxy/parser"
	"goproxy/proxy"
	"goproxy/stats"
)

// graph is what the process lifecycle needs of a running configuration
// (*procRuntime satisfies it).
type graph interface {
	// Start binds every listener and starts serving. On error nothing is
	// left bound, and Start may be called again.
	Start() error
	// StopListening closes the listeners; established sessions go on.
	StopListening()
	// Pause stops accepting without closing the listeners (SIGTTOU).
	Pause()
	// Resume accepts again after Pause (SIGTTIN).
	Resume()
	// Close closes the listeners and every session.
	Close()
	// Done is closed once the graph has stopped listening and its last
	// session has ended.
	Done() <-chan struct{}
	// ListenerFiles returns dups of the listening sockets, for handoff.
	ListenerFiles() []*os.File
}

// buildOptions mirror proxy.Options.
type buildOptions struct {
	Log            logrus.FieldLogger
	InheritedFDs   map[int]*os.File // fd@N binds handed down by a parent
	DefaultMaxConn int              // -N; 0 means the global maxconn
	// MaxSock is the descriptor count the process sized itself for (show
	// info Maxsock); 0 means the open files limit.
	MaxSock int
	// StateLog receives the server state file messages (configLog);
	// nil means Log.
	StateLog logrus.FieldLogger
	// Takeover is set when the process replaces older ones (-sf/-st): the
	// stats sockets they still listen on are taken over.
	Takeover bool
	// Transferred are the listening sockets taken from the old process
	// (-x).
	Transferred []proxy.TransferredSocket
	// CPUs is the number of CPUs the process may use (startCPUs).
	CPUs int
}

// buildRuntime turns a configuration into a running process: the proxy
// graph, the saved server states applied, its health checks and its stats
// sockets (seams.build).
func buildRuntime(cfg *parser.Config, o buildOptions) (graph, error) {
	return newRuntime(cfg, o)
}

// procRuntime owns the pieces of a running configuration: the proxy graph, the
// health checks that drive its servers' states, and the runtime API.
//
// Start order: listeners, then Prometheus exporters (promex frontends) and
// stats sockets, then checks. On a soft stop the stats sockets and the
// exporters close at once (the new process owns them) while
// the checks keep running until the last session ends (on-marked-down
// needs them); Done is closed once everything has stopped.
type procRuntime struct {
	g      *proxy.Graph
	checks *health.Manager
	dns    *resolver.Manager // runtime DNS resolution (resolvers.go)
	api    *stats.Server
	chAPI  *stats.Server     // the master's channel (ServeCLI)
	promex []*stats.Exporter // HTTP frontends: promex stanzas, statistics pages
	log    logrus.FieldLogger

	ctx    context.Context
	cancel context.CancelFunc

	handoff bool // session-handoff: serve handoffs, pull on reload

	mu      sync.Mutex
	bound   bool // the graph's listeners are bound
	started bool
	apiOpen bool
	done    chan struct{}
}

func newRuntime(cfg *parser.Config, o buildOptions) (*procRuntime, error) {
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.Out = discard{}
		log = l
	}
	g, err := proxy.Build(cfg, proxy.Options{Log: log, InheritedFDs: o.InheritedFDs, DefaultMaxConn: o.DefaultMaxConn, Takeover: o.Takeover, Transferred: o.Transferred, CPUs: o.CPUs})
	if err != nil {
		return nil, err
	}
	src := stats.NewProxySource(g, cfg, log)
	src.MaxSock = o.MaxSock
	// Saved states apply before anything is served or checked.
	stateLog := o.StateLog
	if stateLog == nil {
		stateLog = log
	}
	stats.LoadServerState(cfg, src, stateLog)

	var targets []health.Server
	for _, px := range cfg.Proxies {
		if px.Cap&parser.CapBackend == 0 {
			continue
		}
		if b := g.Backend(px.Name); b != nil {
			for _, s := range b.ServerList() {
				targets = append(targets, health.Server{Backend: b.Config, Name: s.Name, Addr: s.Addr, Params: s.Config, Target: s})
			}
		}
	}
	checks, err := health.New(targets, health.Options{Log: log, SpreadChecks: cfg.Global.SpreadChecks, MaxSpreadChecks: cfg.Global.MaxSpreadChecks, BufSize: cfg.Global.BufSize()})
	if err != nil {
		return nil, err
	}
	api, err := stats.NewServer(cfg.Global, src, log)
	if err != nil {
		return nil, err
	}
	api.Takeover = o.Takeover
	api.Maps = g
	api.Tables = g
	api.Peers = g
	api.Listeners = func() []sockxfer.Socket {
		var out []sockxfer.Socket
		for _, l := range g.ExportListeners() {
			out = append(out, sockxfer.Socket{FD: l.FD, Interface: l.Interface})
		}
		return out
	}
	// The master's channel (master-worker mode) has a server of its own,
	// without sockets: it keeps answering after a soft stop closes the
	// stats sockets, so that "@!<pid>" reaches an old worker.
	chg := cfg.Global
	chg.StatsSockets = nil
	chAPI, err := stats.NewServer(chg, src, log)
	if err != nil {
		return nil, err
	}
	chAPI.Listeners = api.Listeners
	chAPI.Maps = g
	chAPI.Tables = g
	chAPI.Peers = g
	dns := newResolvers(cfg, g, log)
	api.Resolvers, chAPI.Resolvers = dns, dns
	rt := &procRuntime{g: g, checks: checks, dns: dns, api: api, chAPI: chAPI, log: log, done: make(chan struct{}), handoff: cfg.Global.SessionHandoff}
	g.SetServerWatcher(rt)
	for _, px := range cfg.Proxies {
		if px.ServesHTTP() && !px.Disabled {
			e := stats.NewHTTPService(cfg, px, src, log)
			e.Build = stats.BuildInfo{Version: version, Revision: revision}
			src.AddHTTPFrontend(px.Name, e.Rows)
			rt.promex = append(rt.promex, e)
		}
	}
	rt.ctx, rt.cancel = context.WithCancel(context.Background())
	return rt, nil
}

// ServerAdded prepares the checks of a server added by "add server"; they
// run once the manager runs and the server's checks are enabled.
func (rt *procRuntime) ServerAdded(s *proxy.Server) error {
	return rt.checks.Add(health.Server{Backend: s.Backend.Config, Name: s.Name, Addr: s.Addr, Params: s.Config, Target: s})
}

// ServerDeleted stops the checks of a server removed by "del server".
func (rt *procRuntime) ServerDeleted(s *proxy.Server) { rt.checks.Remove(s) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Start binds the listeners, then the Prometheus exporters and the stats
// sockets, then starts the checks. When an exporter or a stats socket
// cannot be bound, the listeners stay bound and Start may be called again
// (a reload waiting for the old process); the caller closes the runtime if
// it gives up, as the process cannot go on without its runtime API.
func (rt *procRuntime) Start() error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.started {
		return fmt.Errorf("runtime already started")
	}
	if !rt.bound {
		reserveSpareProc(rt.g.LoopCount())
		if err := rt.g.Start(); err != nil {
			return err
		}
		rt.bound = true
	}
	for i, e := range rt.promex {
		if err := e.Start(); err != nil {
			closeExporters(rt.promex[:i])
			return err
		}
	}
	if err := rt.api.Start(); err != nil {
		closeExporters(rt.promex)
		return err
	}
	rt.apiOpen = true
	if rt.handoff {
		if err := rt.g.ServeHandoffs(); err != nil {
			rt.log.WithError(err).Warn("session-handoff: a newer process cannot take this one's sessions")
		}
	}
	rt.checks.Start(rt.ctx)
	rt.dns.Start(rt.ctx)
	rt.started = true
	go rt.watch()
	return nil
}

// DumpServerStates answers SIGHUP (see proxy.Graph.DumpServerStates).
func (rt *procRuntime) DumpServerStates() []string { return rt.g.DumpServerStates() }

// PullSessions takes the established sessions of the old processes pids
// (session-handoff), one after the other.
func (rt *procRuntime) PullSessions(pids []int) {
	if !rt.handoff {
		return
	}
	for _, pid := range pids {
		adopted, cut, err := rt.g.PullSessions(pid)
		entry := rt.log.WithFields(logrus.Fields{"pid": pid, "adopted": adopted, "cut": cut})
		if err != nil {
			entry.WithError(err).Warn("session handoff from the old process incomplete")
			continue
		}
		entry.Info("session handoff from the old process done")
	}
}

// watch stops the checks and the stats sockets once the graph is done.
func (rt *procRuntime) watch() {
	<-rt.g.Done()
	rt.checks.Stop()
	rt.dns.Stop()
	rt.closeAPI()
	rt.chAPI.Close()
	rt.cancel()
	close(rt.done)
}

// closeAPI closes the stats sockets and the Prometheus exporters, once.
func (rt *procRuntime) closeAPI() {
	rt.mu.Lock()
	open := rt.apiOpen
	rt.apiOpen = false
	rt.mu.Unlock()
	if open {
		rt.api.Close()
		closeExporters(rt.promex)
	}
}

func closeExporters(es []*stats.Exporter) {
	for _, e := range es {
		e.Close()
	}
}

// StopListening is the soft stop: the listeners and the stats sockets
// close, sessions and checks go on until the last session ends.
func (rt *procRuntime) StopListening() {
	rt.g.StopListening()
	rt.closeAPI()
}

// Pause stops accepting (SIGTTOU).
func (rt *procRuntime) Pause() { rt.g.Pause() }

// Resume accepts again (SIGTTIN).
func (rt *procRuntime) Resume() { rt.g.Resume() }

// Close stops everything now.
func (rt *procRuntime) Close() {
	rt.checks.Stop()
	rt.dns.Stop()
	rt.closeAPI()
	rt.chAPI.Close()
	rt.g.Close()
	rt.cancel()
}

// Done is closed once the graph is done and the checks and stats sockets
// have stopped. Before a successful Start it is the graph's.
func (rt *procRuntime) Done() <-chan struct{} {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if !rt.started {
		return rt.g.Done()
	}
	return rt.done
}

// ListenerFiles returns dups of the listening sockets.
func (rt *procRuntime) ListenerFiles() []*os.File { return rt.g.ListenerFiles() }
