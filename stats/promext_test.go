package stats

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"goproxy/proxy"
)

type fakeExtended struct{ x Extended }

func (f fakeExtended) Extended() Extended { return f.x }

func TestExtCollectorHistogramsAndScopes(t *testing.T) {
	bounds := []time.Duration{time.Millisecond, time.Second}
	h := proxy.Histogram{Bounds: bounds, Counts: []uint64{2, 1, 1}, Sum: 3500 * time.Millisecond}
	times := proxy.SessionTimes{Queue: h, Connect: h, Duration: h}
	src := fakeExtended{Extended{HandedOff: 4, TakenOver: 5, Backends: []BackendExtended{{
		Name: "be", Times: times,
		Servers: []ServerExtended{{Name: "s1", Times: times, Shutdown: 2}, {Name: "s2", Maint: true, Times: times}},
	}}}}
	const want = `
# HELP goproxy_server_connect_time_seconds Time to establish the server connection of the sessions that reached a server (Tc)
# TYPE goproxy_server_connect_time_seconds histogram
goproxy_server_connect_time_seconds_bucket{proxy="be",server="s1",le="0.001"} 2
goproxy_server_connect_time_seconds_bucket{proxy="be",server="s1",le="1"} 3
goproxy_server_connect_time_seconds_bucket{proxy="be",server="s1",le="+Inf"} 4
goproxy_server_connect_time_seconds_sum{proxy="be",server="s1"} 3.5
goproxy_server_connect_time_seconds_count{proxy="be",server="s1"} 4
# HELP goproxy_server_sessions_shutdown_total Total number of sessions cut on the server by 'shutdown sessions', 'shutdown session' or on-marked-down shutdown-sessions
# TYPE goproxy_server_sessions_shutdown_total counter
goproxy_server_sessions_shutdown_total{proxy="be",server="s1"} 2
# HELP goproxy_process_sessions_taken_over_total Total number of established sessions this process took over from its predecessor at a reload (session-handoff)
# TYPE goproxy_process_sessions_taken_over_total counter
goproxy_process_sessions_taken_over_total 5
`
	c := extCollector{src: src, noMaint: true}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "goproxy_server_connect_time_seconds",
		"goproxy_server_sessions_shutdown_total", "goproxy_process_sessions_taken_over_total"); err != nil {
		t.Fatal(err)
	}
	// 1 process x 2 + 3 backend histograms + 2 servers x 4.
	if n := testutil.CollectAndCount(extCollector{src: src}); n != 2+3+2*4 {
		t.Errorf("%d samples, want 13", n)
	}
	if n := testutil.CollectAndCount(extCollector{src: src, scopes: ScopeBackend}); n != 3 {
		t.Errorf("scope backend: %d samples, want 3", n)
	}
	if n := testutil.CollectAndCount(extCollector{src: src, scopes: ScopeFrontend}); n != 0 {
		t.Errorf("scope frontend: %d samples, want 0", n)
	}
}
