package stats

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"goproxy/parser"
	"goproxy/proxy"
)

// httpCounters are the show stat counters of an HTTP frontend the process
// serves itself (statistics page, exporter): each connection is a session,
// as in HAProxy.
type httpCounters struct {
	start             time.Time
	scur, smax, stot  atomic.Int64
	bin, bout         atomic.Int64
	rsp               [6]atomic.Int64
	reqTot, intercept atomic.Int64
	sessRate, reqRate proxy.Rate
	sessMax, reqMax   atomic.Int64
	lastReq           atomic.Int64 // unix time of the last request, 0 before any
	stopped           atomic.Bool
}

func storeMax(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}

// countingListener counts the connections it accepts and their bytes.
type countingListener struct {
	net.Listener
	c *httpCounters
}

func (l countingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := l.c
	storeMax(&c.smax, c.scur.Add(1))
	c.stot.Add(1)
	storeMax(&c.sessMax, c.sessRate.Inc(time.Now()))
	return &countingConn{Conn: conn, c: c}, nil
}

type countingConn struct {
	net.Conn
	c    *httpCounters
	once sync.Once
}

func (cc *countingConn) Read(b []byte) (int, error) {
	n, err := cc.Conn.Read(b)
	cc.c.bin.Add(int64(n))
	return n, err
}

func (cc *countingConn) Write(b []byte) (int, error) {
	n, err := cc.Conn.Write(b)
	cc.c.bout.Add(int64(n))
	return n, err
}

func (cc *countingConn) Close() error {
	cc.once.Do(func() { cc.c.scur.Add(-1) })
	return cc.Conn.Close()
}

// statusRecorder remembers the status code a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// count wraps h: every request is counted with its status class; all but
// HAProxy's "no server" 503 are answered by the process itself
// (intercepted).
func (c *httpCounters) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		c.reqTot.Add(1)
		c.lastReq.Store(time.Now().Unix())
		storeMax(&c.reqMax, c.reqRate.Inc(time.Now()))
		i := 5
		if rec.code >= 100 && rec.code < 600 {
			i = rec.code/100 - 1
		}
		c.rsp[i].Add(1)
		if rec.code != http.StatusServiceUnavailable {
			c.intercept.Add(1)
		}
	})
}

// rows renders the frontend's FRONTEND row and, for a listen section, its
// BACKEND row (no servers: always UP).
func (c *httpCounters) rows(px *parser.Proxy, globalMaxConn int) []Row {
	now := time.Now()
	slim := uint64(px.MaxConn)
	if slim == 0 {
		slim = uint64(max(globalMaxConn, 0))
	}
	var h HTTPCounters
	for i := range h.Rsp {
		h.Rsp[i] = u(c.rsp[i].Load())
	}
	h.ReqTot, h.Intercepted = u(c.reqTot.Load()), u(c.intercept.Load())
	h.ReqRate, h.ReqRateMax = u(c.reqRate.Read(now)), u(c.reqMax.Load())
	fe := Row{Type: TypeFrontend, Proxy: px.Name, IID: px.ID, Mode: "http",
		SCur: u(c.scur.Load()), SMax: u(c.smax.Load()), SLim: slim, STot: u(c.stot.Load()),
		BIn: u(c.bin.Load()), BOut: u(c.bout.Load()),
		Rate: u(c.sessRate.Read(now)), RateMax: u(c.sessMax.Load()),
		ConnRate: u(c.sessRate.Read(now)), ConnRateMax: u(c.sessMax.Load()), ConnTot: u(c.stot.Load()),
		HTTP: h}
	if c.stopped.Load() {
		fe.FrontState = FrontStopped
	}
	rows := []Row{fe}
	if px.Cap&parser.CapBackend != 0 {
		fullconn := uint64(px.FullConn)
		if fullconn == 0 {
			fullconn = max((slim+9)/10, 1)
		}
		last := int64(-1)
		if t := c.lastReq.Load(); t > 0 {
			last = max(now.Unix()-t, 0)
		}
		be := Row{Type: TypeBackend, Proxy: px.Name, IID: px.ID, Mode: "http", SLim: fullconn,
			BIn: fe.BIn, BOut: fe.BOut, LastChg: u(int64(now.Sub(c.start) / time.Second)), LastSess: last,
			Algo: "roundrobin"}
		rows = append(rows, be)
	}
	return rows
}
