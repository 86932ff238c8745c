package health_test

import (
	"context"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/health"
	"goproxy/internal/srvstate"
	"goproxy/parser"
	"goproxy/proxy"
)

// fakeTarget records when its checks ran, with a fixed interval.
type fakeTarget struct {
	px     *parser.Proxy
	addr   parser.Addr
	params parser.ServerParams
	mu     sync.Mutex
	starts []time.Time
	ends   []time.Time
	last   srvstate.CheckStatus
}

func (f *fakeTarget) server() health.Server {
	return health.Server{Backend: f.px, Name: "s", Addr: f.addr, Params: f.params, Target: f}
}
func (f *fakeTarget) CheckConfigured(k srvstate.CheckKind) bool      { return k == srvstate.HealthCheck }
func (f *fakeTarget) CheckInterval(srvstate.CheckKind) time.Duration { return f.params.Inter }
func (f *fakeTarget) StartCheck(srvstate.CheckKind) bool {
	f.mu.Lock()
	f.starts = append(f.starts, time.Now())
	f.mu.Unlock()
	return true
}
func (f *fakeTarget) Report(r srvstate.Report, log logrus.FieldLogger) {
	f.mu.Lock()
	f.ends = append(f.ends, time.Now())
	f.last = r.Status
	f.mu.Unlock()
}

// serversOf pairs proxy servers with their configuration, as the runtime
// does.
func serversOf(ss ...*proxy.Server) []health.Server {
	var out []health.Server
	for _, s := range ss {
		out = append(out, health.Server{Backend: s.Backend.Config, Name: s.Name, Addr: s.Addr, Params: s.Config, Target: s})
	}
	return out
}

func listen(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

func l4Proxy() *parser.Proxy {
	return &parser.Proxy{Name: "be", Cap: parser.CapBackend, CheckKind: parser.CheckTCP,
		Timeouts: parser.Timeouts{Connect: time.Second, Check: time.Second}}
}

// TestManyServersNoDrift checks 500 servers every 200 ms for about 1.5 s:
// first checks are spread over the interval, no time slice sees a burst,
// and each server keeps its own period.
func TestManyServersNoDrift(t *testing.T) {
	const n, inter = 500, 200 * time.Millisecond
	_, port := listen(t)
	px := l4Proxy()
	var targets []health.Server
	var fakes []*fakeTarget
	for range n {
		f := &fakeTarget{px: px, addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port},
			params: parser.ServerParams{Check: true, Inter: inter, Rise: 2, Fall: 3}}
		fakes = append(fakes, f)
		targets = append(targets, f.server())
	}
	m, err := health.New(targets, health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m.Start(t.Context())
	time.Sleep(1500 * time.Millisecond)
	m.Stop()

	// The machine running the tests is shared: judge the bulk (90th
	// percentile), allow a few late wake-ups.
	var offs, lags []time.Duration
	buckets := map[int]int{}
	for i, f := range fakes {
		f.mu.Lock()
		starts := append([]time.Time(nil), f.starts...)
		ends := append([]time.Time(nil), f.ends...)
		f.mu.Unlock()
		if len(starts) < 3 || len(starts) > 8 { // 7 due; a loaded machine may delay a few
			t.Fatalf("server %d checked %d times in 1.5 s at 200 ms", i, len(starts))
		}
		want := inter * time.Duration(i) / n
		offs = append(offs, (starts[0].Sub(start) - want).Abs())
		// Each check starts one interval after the previous one ended
		// (HAProxy's rule): the scheduler adds no lag of its own.
		for k := 1; k < len(starts) && k <= len(ends); k++ {
			lags = append(lags, (starts[k].Sub(ends[k-1]) - inter).Abs())
		}
		for _, s := range starts {
			buckets[int(s.Sub(start)/(20*time.Millisecond))]++
		}
	}
	var counts []time.Duration
	for _, c := range buckets {
		counts = append(counts, time.Duration(c))
	}
	// A scheduler that drifts or bunches is off by an interval (200 ms)
	// or more; a loaded 2-core machine delays wake-ups by tens of ms.
	const tolerance = 120 * time.Millisecond
	if p := pct(offs, 90); p > tolerance {
		t.Errorf("first checks: 90%% within %v of their spread slot, want %v", p, tolerance)
	}
	if p := pct(lags, 90); p > tolerance {
		t.Errorf("checks: 90%% start within %v of their time, want %v", p, tolerance)
	}
	// 500 checks per 200 ms = 50 per 20 ms slice on average; a scheduler
	// that bunched them would put hundreds in a slice. A stall of the shared
	// machine also bunches the checks that were due during it, so allow up
	// to three times the average in the busiest tenth of the slices.
	if p := pct(counts, 90); p > 150 {
		t.Errorf("bursts: 10%% of 20 ms slices hold more than %d checks", p)
	}
}

func pct(v []time.Duration, p int) time.Duration {
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[(len(v)-1)*p/100]
}

// TestStopNoLeak stops checks that are in progress (connects to a port
// nobody answers) and leaves no goroutine behind.
func TestStopNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	_, port := listen(t)
	px := l4Proxy()
	var targets []health.Server
	for range 50 {
		f := &fakeTarget{px: px, addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port},
			params: parser.ServerParams{Check: true, Inter: 10 * time.Millisecond}}
		targets = append(targets, f.server())
	}
	m, err := health.New(targets, health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	m.Start(ctx)
	time.Sleep(100 * time.Millisecond)
	done := make(chan struct{})
	go func() { m.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Stop did not return")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+1 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left (before %d)\n%s", g, before, buf[:runtime.Stack(buf, true)])
	}
}

// newServer builds a checked server of a one-server backend.
func newServer(px *parser.Proxy, port int, params parser.ServerParams) *proxy.Server {
	be := &proxy.Backend{Name: px.Name, Config: px}
	s := &proxy.Server{Name: "s1", ID: 1, Backend: be, Config: params,
		Addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port}}
	be.Servers = []*proxy.Server{s}
	return s
}

func waitStatus(t *testing.T, s *proxy.Server, want string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s.CheckSnapshot(time.Now()).Status == want {
			return time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("status %q not reached within %v (now %q)", want, within, s.CheckSnapshot(time.Now()).Status)
	return time.Time{}
}

// TestTimingWindows: a fully UP server whose listener goes away is DOWN
// after fall checks (not before fall-1 intervals, within fall intervals);
// back, it is UP after rise checks.
func TestTimingWindows(t *testing.T) {
	const inter = 300 * time.Millisecond
	ln, port := listen(t)
	px := l4Proxy()
	s := newServer(px, port, parser.ServerParams{Check: true, Inter: inter, Rise: 2, Fall: 3, Weight: 1})
	log, hook := test.NewNullLogger()
	m, err := health.New(serversOf(s), health.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(t.Context())
	defer m.Stop()
	waitStatus(t, s, "UP", inter)

	ln.Close()
	t0 := time.Now()
	tDown := waitStatus(t, s, "DOWN", 4*inter)
	if d := tDown.Sub(t0); d < 2*inter || d > 3*inter+200*time.Millisecond {
		t.Fatalf("DOWN after %v, want within [%v, %v]", d, 2*inter, 3*inter)
	}
	ln2, err := net.Listen("tcp", ln.Addr().String())
	if err != nil {
		t.Skipf("cannot listen again on the same port: %v", err)
	}
	defer ln2.Close()
	go func() {
		for {
			c, err := ln2.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t1 := time.Now()
	tUp := waitStatus(t, s, "UP", 4*inter)
	if d := tUp.Sub(t1); d < inter || d > 2*inter+200*time.Millisecond {
		t.Fatalf("UP after %v, want within [%v, %v]", d, inter, 2*inter)
	}
	var msgs []string
	for _, e := range hook.AllEntries() {
		msgs = append(msgs, e.Message)
	}
	joined := strings.Join(msgs, "\n")
	if !strings.Contains(joined, `Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused at initial connection step of tcp-check"`) ||
		!strings.Contains(joined, "backend 'be' has no server available!") ||
		!strings.Contains(joined, "Server be/s1 is UP, reason: Layer4 check passed") {
		t.Fatalf("log lines:\n%s", joined)
	}
}

// TestFlapping: a server answering right and wrong in turn never goes
// DOWN with fall 2 (one failure is absorbed), and counts each failure.
func TestFlapping(t *testing.T) {
	var mu sync.Mutex
	n := 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			ok := n <= 2 || n%2 == 0
			mu.Unlock()
			if ok {
				c.Write([]byte("ok\n"))
			} else {
				c.Write([]byte("ko\n"))
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	px := l4Proxy()
	px.TCPChecks = []*parser.TCPCheckRule{{Kind: "expect", Match: "string", Pattern: "ok", MinRecv: 2}}
	s := newServer(px, ln.Addr().(*net.TCPAddr).Port, parser.ServerParams{Check: true, Inter: 20 * time.Millisecond, Rise: 2, Fall: 2, Weight: 1})
	log, hook := test.NewNullLogger()
	m, err := health.New(serversOf(s), health.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(t.Context())
	time.Sleep(500 * time.Millisecond)
	m.Stop()
	snap := s.CheckSnapshot(time.Now())
	if snap.ChkDown != 0 || snap.ChkFail < 5 || !s.Running() {
		t.Fatalf("flapping server: chkdown %d chkfail %d running %v", snap.ChkDown, snap.ChkFail, s.Running())
	}
	if len(hook.AllEntries()) != 0 {
		t.Fatalf("unexpected state changes: %v", hook.AllEntries()[0].Message)
	}
}

// *proxy.Server is the production Target.
var _ health.Target = (*proxy.Server)(nil)
