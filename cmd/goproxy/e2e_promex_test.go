package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sort"
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
	}
}
