package stats

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollectorFamiliesMatchPromex(t *testing.T) {
	// The seed's proxies and the capture's own exporter frontend, whose
	// HTTP families promex prints.
	src := newFakeSource()
	e := NewExporter(exporterProxy(t, "frontend prometheus\n    mode http\n    bind 127.0.0.1:19404\n"+
		"    http-request use-service prometheus-exporter if { path /metrics }\n"), src, nil)
	src.rows = append(src.rows, e.Rows(50000)...)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector(src)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetHelp() + "|" + strings.ToLower(mf.GetType().String())
	}
	f, err := os.Open(filepath.Join(goldenDir, "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	help := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "# HELP "); ok {
			name, h, _ := strings.Cut(rest, " ")
			help[name] = h
		}
		if rest, ok := strings.CutPrefix(l, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			want[name] = help[name] + "|" + typ
		}
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("family %s missing", name)
		case g != w:
			t.Errorf("family %s: got %q want %q", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("family %s not in promex", name)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d families, promex has %d", len(got), len(want))
	}
}

func TestCollectorValues(t *testing.T) {
	f := newFakeSource()
	// server1 in maintenance, server2 drained: the state of
	// golden/metrics-server1-maint-server2-drain.txt.
	srv := newTestServer(t, f)
	run(srv, LevelAdmin, "disable server persistent_connection_backend/server1;"+
		"set server persistent_connection_backend/server2 state drain")
	c := NewCollector(f)
	const want = `
# HELP haproxy_server_status Current status of the service, per state label value.
# TYPE haproxy_server_status gauge
haproxy_server_status{proxy="persistent_connection_backend",server="server1",state="DOWN"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server1",state="DRAIN"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server1",state="MAINT"} 1
haproxy_server_status{proxy="persistent_connection_backend",server="server1",state="NOLB"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server1",state="UP"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server2",state="DOWN"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server2",state="DRAIN"} 1
haproxy_server_status{proxy="persistent_connection_backend",server="server2",state="MAINT"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server2",state="NOLB"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server2",state="UP"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server3",state="DOWN"} 1
haproxy_server_status{proxy="persistent_connection_backend",server="server3",state="DRAIN"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server3",state="MAINT"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server3",state="NOLB"} 0
haproxy_server_status{proxy="persistent_connection_backend",server="server3",state="UP"} 0
# HELP haproxy_backend_status Current status of the service, per state label value.
# TYPE haproxy_backend_status gauge
haproxy_backend_status{proxy="persistent_connection_backend",state="DOWN"} 1
haproxy_backend_status{proxy="persistent_connection_backend",state="UP"} 0
# HELP haproxy_server_check_code layer5-7 code, if available of the last health check.
# TYPE haproxy_server_check_code gauge
haproxy_server_check_code{proxy="persistent_connection_backend",server="server2"} 0
haproxy_server_check_code{proxy="persistent_connection_backend",server="server3"} 0
# HELP haproxy_server_limit_sessions Configured session limit
# TYPE haproxy_server_limit_sessions gauge
haproxy_server_limit_sessions{proxy="persistent_connection_backend",server="server1"} NaN
haproxy_server_limit_sessions{proxy="persistent_connection_backend",server="server2"} NaN
haproxy_server_limit_sessions{proxy="persistent_connection_backend",server="server3"} NaN
# HELP haproxy_server_total_time_average_seconds Avg. total time for last 1024 successful connections.
# TYPE haproxy_server_total_time_average_seconds gauge
haproxy_server_total_time_average_seconds{proxy="persistent_connection_backend",server="server1"} 0.001
haproxy_server_total_time_average_seconds{proxy="persistent_connection_backend",server="server2"} 0.001
haproxy_server_total_time_average_seconds{proxy="persistent_connection_backend",server="server3"} 0
# HELP haproxy_frontend_bytes_in_total Total number of request bytes since process started
# TYPE haproxy_frontend_bytes_in_total counter
haproxy_frontend_bytes_in_total{proxy="persistent_connection_frontend"} 324
# HELP haproxy_process_build_info Build info
# TYPE haproxy_process_build_info gauge
haproxy_process_build_info{version="2.6.12-1+deb12u4"} 1
# HELP haproxy_process_max_connections Maximum number of concurrent connections
# TYPE haproxy_process_max_connections gauge
haproxy_process_max_connections 50000
`
	names := []string{"haproxy_server_status", "haproxy_backend_status", "haproxy_server_check_code",
		"haproxy_server_limit_sessions", "haproxy_server_total_time_average_seconds",
		"haproxy_frontend_bytes_in_total", "haproxy_process_build_info", "haproxy_process_max_connections"}
	// HELP texts come from the capture; check them there rather than here.
	wantText := want
	for _, d := range promMetrics {
		for _, n := range names {
			if d.name == n {
				wantText = replaceHelp(wantText, n, d.help)
			}
		}
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantText), names...); err != nil {
		t.Fatal(err)
	}
	// check_status is omitted for the server in maintenance (checks paused).
	if n := testutil.CollectAndCount(c, "haproxy_server_check_status"); n != 2*16 {
		t.Fatalf("check_status samples: %d, want 32", n)
	}
	c.NoMaint = true
	if n := testutil.CollectAndCount(c, "haproxy_server_weight"); n != 2 {
		t.Fatalf("no-maint weight samples: %d, want 2", n)
	}
}

// replaceHelp sets the HELP line of metric name in text.
func replaceHelp(text, name, help string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "# HELP "+name+" ") {
			lines[i] = "# HELP " + name + " " + help
		}
	}
	return strings.Join(lines, "\n")
}

// goldenFamilies returns the HELP, TYPE and sample lines of the given
// families from a promex capture, without the prometheus frontend.
func goldenFamilies(t *testing.T, file string, names ...string) string {
	t.Helper()
	text := golden(t, file)
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		for _, n := range names {
			if strings.HasPrefix(l, "# HELP "+n+" ") || strings.HasPrefix(l, "# TYPE "+n+" ") ||
				(strings.HasPrefix(l, n+"{") && !strings.Contains(l, `proxy="prometheus"`)) {
				b.WriteString(l + "\n")
			}
		}
	}
	return b.String()
}

func TestCollectorMaintDrainGolden(t *testing.T) {
	f := newFakeSource()
	run(newTestServer(t, f), LevelAdmin, "disable server persistent_connection_backend/server1;"+
		"set server persistent_connection_backend/server2 state drain")
	names := []string{"haproxy_backend_weight", "haproxy_backend_active_servers", "haproxy_backend_uweight",
		"haproxy_backend_agg_server_status", "haproxy_backend_agg_server_check_status",
		"haproxy_backend_agg_check_status", "haproxy_server_weight", "haproxy_server_uweight",
		"haproxy_server_check_code", "haproxy_server_status", "haproxy_backend_status",
		"haproxy_server_limit_sessions", "haproxy_server_queue_limit", "haproxy_server_idle_connections_limit"}
	want := goldenFamilies(t, "metrics-server1-maint-server2-drain.txt", names...)
	if err := testutil.CollectAndCompare(NewCollector(f), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
}
