package stats

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"goproxy/internal/srvstate"
)

type promScope int

const (
	scopeProcess promScope = iota
	scopeFrontend
	scopeBackend
	scopeServer
)

// promMetric is one promex metric family.
type promMetric struct {
	scope   promScope
	name    string
	counter bool
	src     string // show info field or show stat column
	seconds bool   // milliseconds in show stat, seconds here
	http    bool   // only for HTTP-mode proxies
	help    string
}

// serverStates and checkCodes are the state label values of promex's
// enumerated metrics, in its order.
var (
	serverStates = []string{"DOWN", "UP", "MAINT", "DRAIN", "NOLB"}
	httpCodes    = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}
	checkCodes   = []srvstate.CheckStatus{srvstate.CheckHana, srvstate.CheckSockErr, srvstate.CheckL4OK, srvstate.CheckL4TOut, srvstate.CheckL4Con, srvstate.CheckL6OK,
		srvstate.CheckL6TOut, srvstate.CheckL6Rsp, srvstate.CheckL7TOut, srvstate.CheckL7Rsp, srvstate.CheckL7OK, srvstate.CheckL7OKC, srvstate.CheckL7Sts,
		srvstate.CheckProcErr, srvstate.CheckProcTOut, srvstate.CheckProcOK}
)

var columnPos = func() map[string]int {
	m := make(map[string]int, len(fieldMeta))
	for i, f := range fieldMeta {
		m[f.name] = i
	}
	return m
}()

// promDesc is a metric family with its prometheus.Desc.
type promDesc struct {
	promMetric
	desc     *prometheus.Desc
	col      int  // show stat column, -1 for special ones
	perState bool // one sample per state label
}

var promDescs = func() []promDesc {
	out := make([]promDesc, 0, len(promMetrics))
	for _, m := range promMetrics {
		d := promDesc{promMetric: m, col: -1}
		var labels []string
		switch m.scope {
		case scopeFrontend, scopeBackend:
			labels = []string{"proxy"}
		case scopeServer:
			labels = []string{"proxy", "server"}
		}
		switch m.src {
		case "status", "count", "same", "check_status":
			d.perState = true
			labels = append(labels, "state")
		case "hrsp":
			labels = append(labels, "code")
		}
		if m.name == "haproxy_process_build_info" {
			labels = []string{"version"}
		}
		if pos, ok := columnPos[m.src]; ok && m.scope != scopeProcess {
			d.col = pos
		}
		d.desc = prometheus.NewDesc(m.name, m.help, labels, nil)
		out = append(out, d)
	}
	return out
}()

// Collector exports the Source in HAProxy's built-in Prometheus exporter
// (promex) names: haproxy_process_*, haproxy_frontend_*, haproxy_backend_*
// and haproxy_server_*, with labels proxy, server and state. Values are read
// at scrape time; Collect may run concurrently.
type Collector struct {
	src Source
	srv *Server // adds the CLI's own connections to process metrics; may be nil
	// NoMaint omits servers in maintenance, as promex's ?no-maint.
	NoMaint bool
	// Scopes selects the families sent, as promex's ?scope=; zero sends
	// every one.
	Scopes Scope
}

// Scope is a set of promex scopes.
type Scope uint8

// The scopes of promex's ?scope= parameter.
const (
	ScopeGlobal Scope = 1 << iota
	ScopeFrontend
	ScopeBackend
	ScopeServer
	ScopeListener
	ScopeStickTable
	ScopeAll Scope = 1<<iota - 1
)

// has reports whether the selection includes s (zero includes all).
func (sc Scope) has(s Scope) bool { return sc == 0 || sc&s != 0 }

// scopeBit is the Scope of a family's scope.
func scopeBit(s promScope) Scope {
	switch s {
	case scopeFrontend:
		return ScopeFrontend
	case scopeBackend:
		return ScopeBackend
	case scopeServer:
		return ScopeServer
	}
	return ScopeGlobal
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector reading src.
func NewCollector(src Source) *Collector { return &Collector{src: src} }

// Collector returns a Collector over the server's Source that also counts
// the CLI connections in the process metrics, as HAProxy does.
func (s *Server) Collector() *Collector { return &Collector{src: s.src, srv: s} }

// Describe sends the descriptors of every family.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for i := range promDescs {
		ch <- promDescs[i].desc
	}
}

// Collect sends the current values.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	cc := cliCounts{start: time.Now()}
	if c.srv != nil {
		cc = c.srv.cliCounts()
	}
	info := infoValues(c.src.Info(), cc)
	rows := c.src.Stats()
	aggs := aggregate(rows)
	for i := range promDescs {
		d := &promDescs[i]
		if !c.Scopes.has(scopeBit(d.scope)) {
			continue
		}
		if d.scope == scopeProcess {
			c.collectProcess(ch, d, info)
			continue
		}
		for k := range rows {
			r := &rows[k]
			if !inScope(d.scope, r) || (c.NoMaint && r.Type == TypeServer && r.Server.Admin&srvstate.AdminMaint != 0) {
				continue
			}
			if d.http && r.Mode != "http" {
				continue
			}
			ctx := rowCtx{be: aggs[r.IID]}
			if ctx.be == nil {
				ctx.be = &beAgg{}
			}
			c.collectRow(ch, d, r, &ctx, rows)
		}
	}
}

func inScope(s promScope, r *Row) bool {
	switch s {
	case scopeFrontend:
		return r.Type == TypeFrontend
	case scopeBackend:
		return r.Type == TypeBackend
	case scopeServer:
		return r.Type == TypeServer
	}
	return false
}

func valueType(d *promDesc) prometheus.ValueType {
	if d.counter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

func toFloat(v value, seconds bool) float64 {
	if !v.ok {
		return math.NaN()
	}
	var f float64
	switch v.typ {
	case tS32:
		f = float64(v.neg)
	case tStr:
		return math.NaN()
	default:
		f = float64(v.num)
	}
	if seconds {
		f /= 1000
	}
	return f
}

func (c *Collector) collectProcess(ch chan<- prometheus.Metric, d *promDesc, info map[string]value) {
	if d.name == "haproxy_process_build_info" {
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, 1, info["Build info"].str)
		return
	}
	v, ok := info[d.src]
	if !ok {
		v = value{}
	}
	ch <- prometheus.MustNewConstMetric(d.desc, valueType(d), toFloat(v, d.seconds))
}

// promServerState is the state label promex gives a server.
func promServerState(s *ServerState) string {
	switch {
	case s.Admin&srvstate.AdminMaint != 0:
		return "MAINT"
	case s.Op == srvstate.OpRunning || s.Op == srvstate.OpStarting:
		if s.Admin&srvstate.AdminDrain != 0 {
			return "DRAIN"
		}
		return "UP"
	case s.Op == srvstate.OpStopping:
		return "NOLB"
	}
	return "DOWN"
}

func (c *Collector) collectRow(ch chan<- prometheus.Metric, d *promDesc, r *Row, ctx *rowCtx, rows []Row) {
	labels := []string{r.Proxy}
	if r.Type == TypeServer {
		labels = append(labels, r.Name)
	}
	emit := func(v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(d.desc, valueType(d), v, append(labels[:len(labels):len(labels)], extra...)...)
	}
	sv := &r.Server
	checking := checkActive(&sv.Check)
	switch d.name {
	case "haproxy_frontend_status":
		emit(b2f(r.FrontState == FrontStopped), "DOWN")
		emit(b2f(r.FrontState != FrontStopped), "UP")
		return
	case "haproxy_backend_status":
		up := ctx.be.weight > 0 || ctx.be.nbsrv == 0
		emit(b2f(!up), "DOWN")
		emit(b2f(up), "UP")
		return
	case "haproxy_server_status":
		st := promServerState(sv)
		for _, s := range serverStates {
			emit(b2f(s == st), s)
		}
		return
	case "haproxy_backend_agg_server_status", "haproxy_backend_agg_server_check_status":
		counts, n := map[string]int{}, 0
		for k := range rows {
			if rows[k].Type == TypeServer && rows[k].IID == r.IID {
				counts[promServerState(&rows[k].Server)]++
				n++
			}
		}
		if n == 0 {
			return // promex skips a backend without servers
		}
		for _, s := range serverStates {
			emit(float64(counts[s]), s)
		}
		return
	case "haproxy_backend_agg_check_status":
		counts, n := map[srvstate.CheckStatus]int{}, 0
		for k := range rows {
			// Every server counts with its last result, paused or not.
			if rows[k].Type == TypeServer && rows[k].IID == r.IID {
				counts[rows[k].Server.Check.Status]++
				n++
			}
		}
		if n == 0 {
			return
		}
		for _, s := range checkCodes {
			emit(float64(counts[s]), s.Name())
		}
		return
	case "haproxy_frontend_http_responses_total", "haproxy_backend_http_responses_total":
		for _, code := range httpCodes {
			emit(toFloat(field(columnPos["hrsp_"+code], r, ctx), false), code)
		}
		return
	case "haproxy_server_check_status":
		if !checking {
			return
		}
		for _, s := range checkCodes {
			emit(b2f(sv.Check.Status == s), s.Name())
		}
		return
	case "haproxy_server_check_code":
		if !checking {
			return
		}
		v := field(d.col, r, ctx)
		if !v.ok {
			v = num(0)
		}
		emit(toFloat(v, false))
		return
	case "haproxy_server_check_duration_seconds":
		v := field(d.col, r, ctx)
		if !v.ok {
			return
		}
		emit(toFloat(v, true))
		return
	}
	if d.col < 0 {
		return
	}
	emit(toFloat(field(d.col, r, ctx), d.seconds))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
