package stats

import (
	"github.com/prometheus/client_golang/prometheus"

	"goproxy/internal/srvstate"
	"goproxy/proxy"
)

// Extended is what goproxy observes beyond HAProxy's fields, exported as
// the goproxy_* metrics beside promex's.
type Extended struct {
	HandedOff int64 // sessions handed over to the next process at reloads
	TakenOver int64 // sessions adopted from the previous process
	Backends  []BackendExtended
}

// BackendExtended is a backend's share of Extended.
type BackendExtended struct {
	Name    string
	Times   proxy.SessionTimes
	Servers []ServerExtended
}

// ServerExtended is a server's share of Extended.
type ServerExtended struct {
	Name     string
	Maint    bool // in maintenance: left out with ?no-maint
	Times    proxy.SessionTimes
	Shutdown int64 // sessions cut by shutdown sessions or on-marked-down
}

// ExtendedSource is a Source that also has goproxy's own observations.
type ExtendedSource interface {
	Extended() Extended
}

// Extended returns the graph's timing distributions and counters.
func (p *ProxySource) Extended() Extended {
	out := Extended{HandedOff: p.g.HandedOff(), TakenOver: p.g.TakenOver()}
	for _, b := range p.g.Backends() {
		be := BackendExtended{Name: b.Name, Times: b.Times()}
		for _, s := range b.ServerList() {
			be.Servers = append(be.Servers, ServerExtended{Name: s.Name, Maint: s.Admin()&srvstate.AdminMaint != 0,
				Times: s.Times(), Shutdown: s.SessionsShutdown()})
		}
		out.Backends = append(out.Backends, be)
	}
	return out
}

var (
	extHandedOff = prometheus.NewDesc("goproxy_process_sessions_handed_over_total",
		"Total number of established sessions this process handed over to its successor at a reload (session-handoff)", nil, nil)
	extTakenOver = prometheus.NewDesc("goproxy_process_sessions_taken_over_total",
		"Total number of established sessions this process took over from its predecessor at a reload (session-handoff)", nil, nil)
	extBackend = extDescs("goproxy_backend_", []string{"proxy"})
	extServer  = extDescs("goproxy_server_", []string{"proxy", "server"})
	extCut     = prometheus.NewDesc("goproxy_server_sessions_shutdown_total",
		"Total number of sessions cut on the server by 'shutdown sessions', 'shutdown session' or on-marked-down shutdown-sessions",
		[]string{"proxy", "server"}, nil)
)

// timeDescs are the three histograms of a backend or a server.
type timeDescs struct{ queue, connect, duration *prometheus.Desc }

func extDescs(prefix string, labels []string) timeDescs {
	return timeDescs{
		queue: prometheus.NewDesc(prefix+"queue_time_seconds",
			"Time the sessions that reached a server waited in a queue (Tw, millisecond resolution)", labels, nil),
		connect: prometheus.NewDesc(prefix+"connect_time_seconds",
			"Time to establish the server connection of the sessions that reached a server (Tc)", labels, nil),
		duration: prometheus.NewDesc(prefix+"session_duration_seconds",
			"Duration of the sessions that reached a server, from accept to close (Tt)", labels, nil),
	}
}

// extCollector exports an ExtendedSource under the goproxy_ prefix, with
// the scopes and no-maint of the promex query.
type extCollector struct {
	src     ExtendedSource
	scopes  Scope
	noMaint bool
}

func (c extCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- extHandedOff
	ch <- extTakenOver
	for _, d := range []timeDescs{extBackend, extServer} {
		ch <- d.queue
		ch <- d.connect
		ch <- d.duration
	}
	ch <- extCut
}

func (c extCollector) Collect(ch chan<- prometheus.Metric) {
	x := c.src.Extended()
	if c.scopes.has(ScopeGlobal) {
		ch <- prometheus.MustNewConstMetric(extHandedOff, prometheus.CounterValue, float64(x.HandedOff))
		ch <- prometheus.MustNewConstMetric(extTakenOver, prometheus.CounterValue, float64(x.TakenOver))
	}
	if c.scopes.has(ScopeBackend) {
		for _, b := range x.Backends {
			sendTimes(ch, extBackend, &b.Times, b.Name)
		}
	}
	if c.scopes.has(ScopeServer) {
		for _, b := range x.Backends {
			for _, s := range b.Servers {
				if c.noMaint && s.Maint {
					continue
				}
				sendTimes(ch, extServer, &s.Times, b.Name, s.Name)
				ch <- prometheus.MustNewConstMetric(extCut, prometheus.CounterValue, float64(s.Shutdown), b.Name, s.Name)
			}
		}
	}
}

func sendTimes(ch chan<- prometheus.Metric, d timeDescs, t *proxy.SessionTimes, labels ...string) {
	ch <- constHistogram(d.queue, &t.Queue, labels)
	ch <- constHistogram(d.connect, &t.Connect, labels)
	ch <- constHistogram(d.duration, &t.Duration, labels)
}

// constHistogram turns a snapshot into a Prometheus histogram in seconds.
func constHistogram(d *prometheus.Desc, h *proxy.Histogram, labels []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var n uint64
	for i, c := range h.Counts {
		n += c
		if i < len(h.Bounds) {
			buckets[h.Bounds[i].Seconds()] = n
		}
	}
	return prometheus.MustNewConstHistogram(d, n, h.Sum.Seconds(), buckets, labels...)
}
