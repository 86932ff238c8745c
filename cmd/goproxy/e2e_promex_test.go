package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promexConfig is a TCP frontend and backend (a live checked server, one in
// maintenance, one without a listener) beside two exporters: an HTTP
// frontend and an HTTP listen section.
func promexConfig(fe, prom, promListen, live, dead string) string {
	return "global\n    maxconn 200\n" +
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n" +
		"frontend fe\n    bind " + fe + "\n    default_backend be\n" +
		"backend be\n" +
		"    server s1 " + live + " check inter 100ms\n" +
		"    server s2 " + live + " check inter 100ms disabled\n" +
		"    server s3 " + dead + " check inter 100ms\n" +
		"    server s4 " + live + "\n" +
		"frontend prom\n    mode http\n    bind " + prom + "\n    timeout client 10s\n" +
		"    http-request use-service prometheus-exporter if { path /metrics }\n    no log\n" +
		"listen promlisten\n    mode http\n    bind " + promListen + "\n    timeout client 10s\n    timeout server 10s\n" +
		"    http-request use-service prometheus-exporter\n    no log\n"
}

// scrape fetches url and returns the status code and the body.
func scrape(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// seriesSet returns the series of a text-format page as name{labels} with
// the labels sorted (client_golang sorts them, promex prints code after
// proxy), values dropped, the version label masked and goproxy's own
// goproxy_* series left out.
func seriesSet(t *testing.T, body string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, hasLabels := strings.Cut(line, "{")
		var labels []string
		if hasLabels {
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				t.Fatalf("bad sample line %q", line)
			}
			labels = splitLabels(rest[:end])
		} else {
			name, _, _ = strings.Cut(line, " ")
		}
		if strings.HasPrefix(name, "goproxy_") {
			continue
		}
		for i, l := range labels {
			if strings.HasPrefix(l, "version=") {
				labels[i] = "version=*"
			}
		}
		sort.Strings(labels)
		out[name+"{"+strings.Join(labels, ",")+"}"] = true
	}
	return out
}

// splitLabels splits k="v",k="v" on the commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	inQ, esc, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '"':
			inQ = !inQ
		case c == ',' && !inQ:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// promexRun is one process of the promex differential, scraped.
type promexRun struct {
	pages map[string]string // query -> "code\nbody"
}

var promexQueries = []string{"", "?scope=frontend", "?scope=backend&scope=global", "?scope=server",
	"?no-maint", "?no-maint&scope=server", "?scope=", "?scope=&scope=backend", "?scope=*",
	"?scope=listener", "?scope=sticktable", "?scope=bogus", "?scope", "?extra-counters"}

func runPromex(t *testing.T, bin string) promexRun {
	t.Helper()
	live := nameServers(t, 1)[0]
	fe, prom, promL, dead := loopAddr(t), loopAddr(t), loopAddr(t), loopAddr(t)
	startServing(t, bin, promexConfig(fe, prom, promL, live.addr(), dead), promL)
	// Until every check ran at least once and s3 is down: the families
	// that depend on it (check duration) are then stable.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := scrape(t, "http://"+prom+"/metrics?scope=server")
		if strings.Contains(body, `haproxy_server_status{proxy="be",server="s3",state="DOWN"} 1`) &&
			strings.Contains(body, `haproxy_server_check_duration_seconds{proxy="be",server="s1"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: checks did not settle:\n%s", bin, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	askN(t, fe, "127.0.0.1", 6)
	r := promexRun{pages: map[string]string{}}
	for _, q := range promexQueries {
		code, body := scrape(t, "http://"+prom+"/metrics"+q)
		r.pages[q] = fmt.Sprintf("%d\n%s", code, body)
	}
	_, r.pages["listen"] = scrape(t, "http://"+promL+"/anything")
	return r
}

// TestPromexSeriesAsHAProxy compares the series (names and label sets,
// values aside) goproxy's exporter and haproxy's promex serve on the same
// configuration, for every query form.
func TestPromexSeriesAsHAProxy(t *testing.T) {
	h, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	want := runPromex(t, h)
	got := runPromex(t, goproxyBin)
	for _, q := range append(promexQueries, "listen") {
		wc, wb, _ := strings.Cut(want.pages[q], "\n")
		gc, gb, _ := strings.Cut(got.pages[q], "\n")
		if q == "listen" {
			wc, gc = "", ""
			wb, gb = want.pages[q], got.pages[q]
		}
		if wc != gc {
			t.Errorf("%q: status %s, haproxy %s", q, gc, wc)
			continue
		}
		if wc != "200" && wc != "" {
			if wb != gb {
				t.Errorf("%q: body %q, haproxy %q", q, gb, wb)
			}
			continue
		}
		ws, gs := seriesSet(t, wb), seriesSet(t, gb)
		var missing, extra []string
		for s := range ws {
			if !gs[s] {
				missing = append(missing, s)
			}
		}
		for s := range gs {
			if !ws[s] {
				extra = append(extra, s)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing)+len(extra) > 0 {
			t.Errorf("%q: %d series as haproxy's %d; missing %d:\n  %s\nextra %d:\n  %s", q, len(gs), len(ws),
				len(missing), strings.Join(missing, "\n  "), len(extra), strings.Join(extra, "\n  "))
		} else {
			t.Logf("%q: %d series, as haproxy", q, len(gs))
		}
		if wo, gro := commonFamilies(wb, gb), commonFamilies(gb, wb); !slices.Equal(wo, gro) {
			t.Errorf("%q: families in the order\n  %s\nhaproxy's\n  %s", q, strings.Join(gro, "\n  "), strings.Join(wo, "\n  "))
		}
	}
}

// commonFamilies returns the metric families of page, in its order, that
// other has too.
func commonFamilies(page, other string) []string {
	families := func(body string) []string {
		var out []string
		for _, line := range strings.Split(body, "\n") {
			if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
				name, _, _ := strings.Cut(rest, " ")
				out = append(out, name)
			}
		}
		return out
	}
	in := families(other)
	var out []string
	for _, f := range families(page) {
		if slices.Contains(in, f) {
			out = append(out, f)
		}
	}
	return out
}

// sampleValue returns the value of the sample whose name{labels} text is
// series in a text-format page, and whether it is there.
func sampleValue(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f, true
			}
		}
	}
	return 0, false
}

// TestExporterGoproxySeries runs sessions through goproxy and reads the
// goproxy_* extension series: the timing histograms count each session
// that reached its server, and a session cut by "shutdown sessions" counts
// once.
func TestExporterGoproxySeries(t *testing.T) {
	live := startNameServer(t, "s1", "127.0.0.1:0", holding)
	sock := filepath.Join(t.TempDir(), "stats.sock")
	fe, prom := loopAddr(t), loopAddr(t)
	cfg := "global\n    maxconn 200\n    stats socket " + sock + " level admin\n" +
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n" +
		"frontend fe\n    bind " + fe + "\n    default_backend be\n" +
		"backend be\n    server s1 " + live.addr() + "\n" +
		"frontend prom\n    mode http\n    bind " + prom + "\n" +
		"    http-request use-service prometheus-exporter if { path /metrics }\n"
	startGoproxy(t, cfg, prom)
	askN(t, fe, "127.0.0.1", 5)
	held, _ := openName(t, "127.0.0.1", fe)
	const (
		durCount  = `goproxy_server_session_duration_seconds_count{proxy="be",server="s1"}`
		connCount = `goproxy_server_connect_time_seconds_count{proxy="be",server="s1"}`
		cut       = `goproxy_server_sessions_shutdown_total{proxy="be",server="s1"}`
	)
	waitMetric := func(series string, want float64) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, body := scrape(t, "http://"+prom+"/metrics")
			if v, ok := sampleValue(body, series); ok && v == want {
				return body
			}
			if time.Now().After(deadline) {
				v, _ := sampleValue(body, series)
				t.Fatalf("%s = %v, want %v; page:\n%s", series, v, want, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	body := waitMetric(durCount, 5)
	for series, want := range map[string]float64{
		connCount: 6,
		`goproxy_server_queue_time_seconds_count{proxy="be",server="s1"}`:              6,
		`goproxy_server_queue_time_seconds_bucket{proxy="be",server="s1",le="0.0001"}`: 6,
		`goproxy_backend_connect_time_seconds_count{proxy="be"}`:                       6,
		`goproxy_backend_session_duration_seconds_count{proxy="be"}`:                   5,
		cut: 0,
		`goproxy_process_sessions_handed_over_total`: 0,
	} {
		if v, ok := sampleValue(body, series); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	if v, _ := sampleValue(body, `goproxy_server_connect_time_seconds_sum{proxy="be",server="s1"}`); v <= 0 || v >= 6 {
		t.Errorf("connect time sum %v s for 6 loopback connects", v)
	}
	if got := cli(t, sock, "shutdown sessions server be/s1"); got != "\n" {
		t.Errorf("shutdown sessions: %q", got)
	}
	expectClosed(t, held, 5*time.Second)
	body = waitMetric(cut, 1)
	if v, _ := sampleValue(body, durCount); v != 6 {
		t.Errorf("%s = %v after the cut, want 6", durCount, v)
	}
	_, scoped := scrape(t, "http://"+prom+"/metrics?scope=backend")
	if strings.Contains(scoped, "goproxy_server_") || !strings.Contains(scoped, "goproxy_backend_connect_time_seconds") {
		t.Errorf("?scope=backend must keep goproxy_backend_* only")
	}
}

// TestExporterSessionsTakenOver reloads with session-handoff while three
// sessions are open: the new process counts them as taken over.
func TestExporterSessionsTakenOver(t *testing.T) {
	live := startNameServer(t, "s1", "127.0.0.1:0", holding)
	fe, prom := loopAddr(t), loopAddr(t)
	text := "global\n    maxconn 200\n.if feature(GOPROXY)\n    session-handoff\n.endif\n" +
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1m\n    timeout server 1m\n" +
		"frontend fe\n    bind " + fe + "\n    default_backend be\n" +
		"backend be\n    server s1 " + live.addr() + "\n" +
		"frontend prom\n    mode http\n    bind " + prom + "\n" +
		"    http-request use-service prometheus-exporter if { path /metrics }\n"
	cfg := writeFile(t, t.TempDir(), "takeover.cfg", text)
	old := startServing(t, goproxyBin, text, fe)
	for i := 0; i < 3; i++ {
		openName(t, srcIP(i), fe)
	}
	nu := startBin(t, goproxyBin, cfg, "-sf", strconv.Itoa(old.pid()))
	if code := old.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("old process exited %d:\n%s", code, old.out.String())
	}
	const series = "goproxy_process_sessions_taken_over_total"
	deadline := time.Now().Add(10 * time.Second)
	for {
		if !nu.running() {
			t.Fatalf("the new process is gone:\n%s", nu.out.String())
		}
		c := &http.Client{Timeout: time.Second}
		if resp, err := c.Get("http://" + prom + "/metrics?scope=global"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if v, ok := sampleValue(string(b), series); ok && v == 3 {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("%s = %v (present %v), want 3", series, v, ok)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("scrape: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestExporterOnMarkedDownCut: a server marked down with on-marked-down
// shutdown-sessions cuts its session, counted in
// goproxy_server_sessions_shutdown_total.
func TestExporterOnMarkedDownCut(t *testing.T) {
	live := startNameServer(t, "s1", "127.0.0.1:0", holding)
	fe, prom := loopAddr(t), loopAddr(t)
	startGoproxy(t, "global\n    maxconn 200\n"+
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1m\n    timeout server 1m\n"+
		"frontend fe\n    bind "+fe+"\n    default_backend be\n"+
		"backend be\n    server s1 "+live.addr()+" check inter 100ms fall 1 on-marked-down shutdown-sessions\n"+
		"frontend prom\n    mode http\n    bind "+prom+"\n"+
		"    http-request use-service prometheus-exporter if { path /metrics }\n", prom)
	held, _ := openName(t, "127.0.0.1", fe)
	live.ln.Close() // checks fail from now on; the session stays open on the server
	expectClosed(t, held, 5*time.Second)
	const series = `goproxy_server_sessions_shutdown_total{proxy="be",server="s1"}`
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := scrape(t, "http://"+prom+"/metrics?scope=server")
		v, ok := sampleValue(body, series)
		if ok && v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (present %v), want 1", series, v, ok)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
