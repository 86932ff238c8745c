package stats

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// TestExporterBuildInfo checks goproxy_build_info beside HAProxy's
// haproxy_process_build_info, and that without a version it is left out.
func TestExporterBuildInfo(t *testing.T) {
	px := exporterProxy(t, "frontend prometheus\n  mode http\n  bind 127.0.0.1:1\n  timeout client 1s\n"+
		"  http-request use-service prometheus-exporter if { path /metrics }\n")
	e := NewExporter(px, newFakeSource(), nil)
	scrape := func() string {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		return w.Body.String()
	}
	if body := scrape(); strings.Contains(body, "goproxy_build_info") || !strings.Contains(body, "haproxy_process_build_info{") {
		t.Fatalf("without Build:\n%s", grepText(body, "build_info"))
	}
	e.Build = BuildInfo{Version: "1.2.3", Revision: "abc-dirty"}
	body := scrape()
	want := `goproxy_build_info{goversion="` + runtime.Version() + `",revision="abc-dirty",version="1.2.3"} 1`
	if !strings.Contains(body, "# TYPE goproxy_build_info gauge\n"+want+"\n") {
		t.Fatalf("want %s in:\n%s", want, grepText(body, "build_info"))
	}
}

func grepText(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
