package stats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"goproxy/parser"
)

// noServerBody is what HAProxy answers on an HTTP frontend when no rule
// serves the request and there is no backend.
const noServerBody = "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"

// Exporter serves HAProxy's built-in Prometheus exporter on the binds of a
// frontend written as HAProxy's promex stanza:
//
//	frontend prometheus
//	    mode http
//	    bind 127.0.0.1:8405
//	    http-request use-service prometheus-exporter if { path /metrics }
//
// It answers the metrics of the Collector on the rule's path (every path
// when the rule has no condition), with ?no-maint as promex does, and
// HAProxy's 503 page elsewhere.
type Exporter struct {
	px   *parser.Proxy
	src  Source
	page *Page // the statistics page, or nil
	cnt  *httpCounters
	log  logrus.FieldLogger
	srvs []*http.Server
	lns  []net.Listener
	wg   sync.WaitGroup

	// Build, when its Version is set, adds goproxy_build_info to the
	// metrics. Set it before Start.
	Build BuildInfo
}

// NewExporter prepares the exporter of one frontend; Start listens.
func NewExporter(px *parser.Proxy, src Source, log logrus.FieldLogger) *Exporter {
	if log == nil {
		l := logrus.New()
		l.Out = discard{}
		log = l
	}
	return &Exporter{px: px, src: src, log: log, cnt: &httpCounters{start: time.Now()}}
}

// Rows returns the frontend's show stat rows (FRONTEND, and BACKEND for a
// listen section) with its HTTP counters; a frontend without maxconn shows
// globalMaxConn as its limit.
func (e *Exporter) Rows(globalMaxConn int) []Row { return e.cnt.rows(e.px, globalMaxConn) }

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// Start binds every address of the frontend and serves. On error nothing
// stays bound.
func (e *Exporter) Start() error {
	for _, b := range e.px.Binds {
		network := "tcp4"
		if b.Addr.Family == parser.FamilyTCP6 {
			network = "tcp6"
		}
		addr := net.JoinHostPort(b.Addr.Host, strconv.Itoa(b.Addr.Port))
		var ln net.Listener
		var err error
		if b.Addr.Family == parser.FamilyFD {
			// bind fd@N: the socket the parent handed down.
			ln, err = listenFD(b.Addr.FD)
		} else {
			// SO_REUSEPORT, as every HAProxy listener: a reloading
			// process binds beside the old one.
			ln, err = reusePortConfig.Listen(context.Background(), network, addr)
		}
		if err != nil {
			e.Close()
			reason := err.Error()
			var en syscall.Errno
			if errors.As(err, &en) {
				reason = strerror(en)
			}
			return &BindError{Msg: fmt.Sprintf("Binding [%s:%d] for proxy %s: cannot bind socket (%s) for [%s]", b.File, b.Line, e.px.Name, reason, b.Addr.String()), Err: err}
		}
		e.lns = append(e.lns, countingListener{Listener: ln, c: e.cnt})
	}
	for _, ln := range e.lns {
		srv := &http.Server{
			Handler:           e.cnt.count(e),
			ReadHeaderTimeout: e.timeout(),
			IdleTimeout:       e.timeout(),
			MaxHeaderBytes:    16 << 10,
		}
		e.srvs = append(e.srvs, srv)
		e.wg.Add(1)
		go func(ln net.Listener) {
			defer e.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.log.WithError(err).Warn("prometheus exporter stopped")
			}
		}(ln)
	}
	return nil
}

// timeout is the frontend's client timeout, 10 s when unset.
func (e *Exporter) timeout() time.Duration {
	if t := e.px.Timeouts.Client; t > 0 {
		return t
	}
	return 10 * time.Second
}

// NewHTTPService prepares an HTTP frontend goproxy serves itself: the
// statistics page when px has one (with its http-request rules and
// userlists, and the exporter's rule if any), else the Prometheus exporter.
func NewHTTPService(cfg *parser.Config, px *parser.Proxy, src Source, log logrus.FieldLogger) *Exporter {
	e := NewExporter(px, src, log)
	if px.Stats != nil || len(px.HTTPRules) > 0 {
		e.page = NewPage(px, cfg.Userlists, src, http.HandlerFunc(e.serveMetrics))
	}
	return e
}

// ServeHTTP answers one request.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.page != nil {
		e.page.ServeHTTP(w, r)
		return
	}
	if e.px.PromPath != "" && r.URL.Path != e.px.PromPath {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(noServerBody))
		return
	}
	e.serveMetrics(w, r)
}

// badRequestBody is HAProxy's 400 page.
const badRequestBody = "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"

// parsePromQuery reads promex's query string as HAProxy 2.6 does: pairs
// split on '&', key and value URL-decoded; scope=<name> adds a scope
// (global, frontend, backend, server, listener, sticktable; '*' all), an
// empty scope= clears the selection, a scope without '=' or with an unknown
// name is an error; no-maint omits servers in maintenance; anything else is
// ignored. scoped reports whether some scope= was given (then sc is the
// selection, maybe empty).
func parsePromQuery(raw string) (sc Scope, scoped, noMaint, ok bool) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, hasV := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		switch key {
		case "scope":
			scoped = true
			if !hasV {
				return 0, false, false, false
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				val = v
			}
			switch {
			case val == "":
				sc = 0
			case val[0] == '*':
				sc = ScopeAll
			case val == "global":
				sc |= ScopeGlobal
			case val == "frontend":
				sc |= ScopeFrontend
			case val == "backend":
				sc |= ScopeBackend
			case val == "server":
				sc |= ScopeServer
			case val == "listener":
				sc |= ScopeListener
			case val == "sticktable":
				sc |= ScopeStickTable
			default:
				return 0, false, false, false
			}
		case "no-maint":
			noMaint = true
		}
	}
	return sc, scoped, noMaint, true
}

// serveMetrics answers with the metrics of the Collector.
func (e *Exporter) serveMetrics(w http.ResponseWriter, r *http.Request) {
	sc, scoped, noMaint, ok := parsePromQuery(r.URL.RawQuery)
	if !ok {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(badRequestBody))
		return
	}
	if scoped && sc == 0 {
		// scope= alone: nothing selected, an empty page.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.WriteHeader(http.StatusOK)
		return
	}
	c := NewCollector(e.src)
	c.NoMaint, c.Scopes = noMaint, sc
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if x, ok := e.src.(ExtendedSource); ok {
		if err := reg.Register(extCollector{src: x, scopes: sc, noMaint: noMaint}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if e.Build.Version != "" && sc.has(ScopeGlobal) {
		if err := reg.Register(buildInfoCollector{e.Build}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	gather := inPromexOrder[prometheus.GathererFunc](reg.Gather)
	promhttp.HandlerFor(gather, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

// Close stops listening, ends open requests and waits for the servers.
func (e *Exporter) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range e.srvs {
		_ = s.Shutdown(ctx)
	}
	for _, ln := range e.lns {
		ln.Close()
	}
	e.wg.Wait()
	e.srvs, e.lns = nil, nil
	e.cnt.stopped.Store(true)
}
