package proxy

import (
	"sync"
	"sync/atomic"
	"time"

	"goproxy/parser"
)

// Backend is a backend (or the backend half of a listen section).
type Backend struct {
	Name   string
	ID     int // iid
	Config *parser.Proxy
	// Servers are the servers of the configuration, as built. The current
	// list, with the servers added at run time and without those deleted,
	// is ServerList: read that one everywhere after Build.
	Servers []*Server
	lb      balancer

	backendRuntime
}

// backendRuntime is the runtime part of a Backend, kept apart from the
// shared identity fields.
type backendRuntime struct {
	g    *Graph
	ctr  Counters
	obs  observed // timing distributions (histograms.go)
	logs *LogSink
	// state records the backend's up/down transitions (backend_state.go).
	state backendState

	srvList atomic.Pointer[[]*Server] // current servers (ServerList), copy-on-write
	srvMu   sync.Mutex                // serializes AddServer and DeleteServer

	q       queue // sessions waiting for any server (backend queue)
	qlen    atomic.Int64
	qmu     sync.Mutex // guards q and every server's queue
	hash    bool       // hash-based algorithm (no immediate redispatch)
	slim    int64      // fullconn, or the computed default
	content []tcpRule  // tcp-request content rules
	// use-server and force-persist|ignore-persist rules (useserver.go).
	useServers []useServerRule
	persist    []persistRule
	// inspects: the content rules read the client's bytes (inspect.go).
	inspects     bool
	inspectDelay time.Duration
	needDst      bool
	retry        int

	timeoutConnect, timeoutServer, timeoutServerFin, timeoutTunnel, timeoutQueue time.Duration
	keepalive                                                                    bool
}
