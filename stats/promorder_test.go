package stats

import (
	"strings"
	"testing"
)

// TestExporterFamiliesInPromexOrder checks that the exporter prints the
// metric families in HAProxy's order (promMetrics), not in the client
// library's order by name, with goproxy's own families after HAProxy's.
func TestExporterFamiliesInPromexOrder(t *testing.T) {
	px := exporterProxy(t, "frontend prometheus\n    mode http\n    bind "+freeAddr(t)+"\n    timeout client 10s\n"+
		"    http-request use-service prometheus-exporter if { path /metrics }\n    no log\n")
	e := NewExporter(px, newFakeSource(), nil)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	code, body := get(t, "http://"+e.lns[0].Addr().String()+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	var names []string
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, name)
		}
	}
	if len(names) < 100 {
		t.Fatalf("only %d families:\n%.300s", len(names), body)
	}
	// HAProxy's first two are not in name order: a sorted page fails here.
	if names[0] != "haproxy_process_nbthread" || names[1] != "haproxy_process_nbproc" {
		t.Errorf("first families %q, want HAProxy's haproxy_process_nbthread, haproxy_process_nbproc", names[:2])
	}
	for i := 1; i < len(names); i++ {
		if rankOf(names[i-1]) > rankOf(names[i]) {
			t.Errorf("%s before %s: not HAProxy's order", names[i-1], names[i])
		}
	}
}
