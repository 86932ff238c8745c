package stats

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"goproxy/parser"
)

func exporterProxy(t *testing.T, src string) *parser.Proxy {
	t.Helper()
	cfg, err := parser.Parse("p.cfg", src, parser.Options{})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return cfg.Proxies[0]
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestExporterServesMetricsOnItsPath(t *testing.T) {
	px := exporterProxy(t, "frontend prometheus\n    mode http\n    bind "+freeAddr(t)+"\n    timeout client 10s\n"+
		"    http-request use-service prometheus-exporter if { path /metrics }\n    no log\n")
	e := NewExporter(px, newFakeSource(), nil)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := "http://" + e.lns[0].Addr().String()
	code, body := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, `haproxy_server_status{proxy="persistent_connection_backend",server="server1",state="UP"} 1`) {
		t.Fatalf("/metrics = %d\n%.500s", code, body)
	}
	if !strings.Contains(body, "haproxy_frontend_current_sessions") {
		t.Errorf("frontend series missing")
	}
	code, body = get(t, base+"/other")
	if code != 503 || body != noServerBody {
		t.Errorf("/other = %d %q, want HAProxy's 503 page", code, body)
	}
}

func TestExporterNoMaint(t *testing.T) {
	f := newFakeSource()
	srv := newTestServer(t, f)
	run(srv, LevelAdmin, "disable server persistent_connection_backend/server1")
	px := exporterProxy(t, "frontend p\n    mode http\n    bind "+freeAddr(t)+"\n    timeout client 10s\n"+
		"    http-request use-service prometheus-exporter\n")
	e := NewExporter(px, f, nil)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := "http://" + e.lns[0].Addr().String()
	_, all := get(t, base+"/anything")
	_, nomaint := get(t, base+"/anything?no-maint")
	if !strings.Contains(all, `server="server1"`) || strings.Contains(nomaint, `server="server1"`) {
		t.Errorf("?no-maint must drop the server in maintenance")
	}
}

func TestExporterBindError(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	px := exporterProxy(t, "frontend p\n    mode http\n    bind "+ln.Addr().String()+"\n    timeout client 10s\n"+
		"    http-request use-service prometheus-exporter\n")
	e := NewExporter(px, newFakeSource(), nil)
	err = e.Start()
	if err == nil || !strings.Contains(err.Error(), "Binding [p.cfg:3] for proxy p: cannot bind socket (Address already in use) for ["+ln.Addr().String()+"]") {
		t.Errorf("bind error = %v", err)
	}
}

func TestParsePromQuery(t *testing.T) {
	for _, tc := range []struct {
		q       string
		sc      Scope
		scoped  bool
		noMaint bool
		ok      bool
	}{
		{"", 0, false, false, true},
		{"scope=frontend", ScopeFrontend, true, false, true},
		{"scope=backend&scope=global", ScopeBackend | ScopeGlobal, true, false, true},
		{"scope=", 0, true, false, true},
		{"scope=server&scope=", 0, true, false, true},
		{"scope=&scope=server", ScopeServer, true, false, true},
		{"scope=*", ScopeAll, true, false, true},
		{"scope=*x", ScopeAll, true, false, true},
		{"scope=%73erver", ScopeServer, true, false, true},
		{"scope=listener&scope=sticktable", ScopeListener | ScopeStickTable, true, false, true},
		{"scope=bad", 0, false, false, false},
		{"scope=server,backend", 0, false, false, false},
		{"scope", 0, false, false, false},
		{"no-maint", 0, false, true, true},
		{"no-maint=1&scope=server&extra-counters", ScopeServer, true, true, true},
		{"metrics=haproxy_process_nbthread", 0, false, false, true},
	} {
		sc, scoped, nm, ok := parsePromQuery(tc.q)
		if sc != tc.sc || scoped != tc.scoped || nm != tc.noMaint || ok != tc.ok {
			t.Errorf("%q: got %v %v %v %v, want %v %v %v %v", tc.q, sc, scoped, nm, ok, tc.sc, tc.scoped, tc.noMaint, tc.ok)
		}
	}
}

func TestExporterScope(t *testing.T) {
	px := exporterProxy(t, "frontend p\n    mode http\n    bind "+freeAddr(t)+"\n    timeout client 10s\n"+
		"    http-request use-service prometheus-exporter\n")
	e := NewExporter(px, newFakeSource(), nil)
	e.Build = BuildInfo{Version: "t"}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := "http://" + e.lns[0].Addr().String() + "/metrics"
	families := func(body string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(body, "\n") {
			if f := strings.Fields(l); len(f) == 4 && f[1] == "TYPE" {
				m[strings.SplitN(strings.TrimPrefix(f[2], "haproxy_"), "_", 2)[0]] = true
			}
		}
		return m
	}
	code, body := get(t, base+"?scope=backend&scope=server")
	if got := families(body); code != 200 || len(got) != 2 || !got["backend"] || !got["server"] {
		t.Errorf("scope=backend&scope=server: %d %v", code, got)
	}
	code, body = get(t, base+"?scope=global")
	if got := families(body); code != 200 || !got["process"] || !got["goproxy"] || got["frontend"] {
		t.Errorf("scope=global: %d %v", code, got)
	}
	if code, body = get(t, base+"?scope="); code != 200 || body != "" {
		t.Errorf("scope= : %d %q, want an empty page", code, body)
	}
	if code, body = get(t, base+"?scope=nope"); code != 400 || body != badRequestBody {
		t.Errorf("scope=nope: %d %q, want HAProxy's 400 page", code, body)
	}
}
