package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// dashboardPath is the shipped Grafana dashboard.
var dashboardPath = filepath.Join("..", "..", "contrib", "grafana", "goproxy.json")

// dashboardExprs returns the PromQL of every panel target (rows' nested
// panels included) and the queries of the templating variables.
func dashboardExprs(t *testing.T) (exprs, variables []string) {
	t.Helper()
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var d struct {
		Title      string            `json:"title"`
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	var walk func(raw []json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: panel: %v", dashboardPath, err)
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					t.Errorf("panel %q has a target without expr", p.Title)
					continue
				}
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			variables = append(variables, v.Definition)
		}
	}
	return exprs, variables
}

// grafanaVars replaces the dashboard's variables by what "All" selects (job
// by the regexp given) and the rate interval by a range the test's 1 s
// scrapes fill.
func grafanaVars(job string) *strings.Replacer {
	return strings.NewReplacer("$__rate_interval", "30s", "$job", job, "$frontend", ".*",
		"$backend", ".*", "$server", ".*")
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// promQuery runs an instant query and returns the number of series of the
// result and their label sets.
func promQuery(base, expr string) (int, []map[string]string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, nil, err
	}
	if r.Status != "success" {
		return 0, nil, errors.New(r.Error)
	}
	var labels []map[string]string
	for _, s := range r.Data.Result {
		labels = append(labels, s.Metric)
	}
	return len(r.Data.Result), labels, nil
}

// promtoolKnown are lint findings on HAProxy's own names, which goproxy
// keeps as promex spells them (haproxy's own scrape has the same finding).
var promtoolKnown = map[string]bool{
	`haproxy_process_failed_resolutions counter metrics should have "_total" suffix`: true,
}

// TestDashboardOnPrometheus runs every PromQL expression of the shipped
// Grafana dashboard against a real Prometheus server scraping goproxy's
// exporter every second under traffic: each one must return data. Where
// haproxy is installed it is scraped too, on the same configuration, and
// the expressions without goproxy_ series must return data for it as well.
// The scrape also goes through promtool check metrics.
func TestDashboardOnPrometheus(t *testing.T) {
	exprs, variables := dashboardExprs(t)
	if len(exprs) < 20 {
		t.Fatalf("only %d expressions in %s", len(exprs), dashboardPath)
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("SKIP: prometheus is not installed (apt-get install prometheus)")
	}
	s1 := startNameServer(t, "s1", "127.0.0.1:0")
	s2 := startNameServer(t, "s2", "127.0.0.1:0")
	config := func(fe, prom string) string {
		return "global\n    maxconn 200\n" +
			"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n" +
			"frontend fe\n    bind " + fe + "\n    default_backend be\n" +
			"backend be\n    server s1 " + s1.addr() + " check inter 200ms\n    server s2 " + s2.addr() + "\n" +
			"frontend prom\n    mode http\n    bind " + prom + "\n" +
			"    http-request use-service prometheus-exporter if { path /metrics }\n    no log\n"
	}
	fe, prom := loopAddr(t), loopAddr(t)
	startGoproxy(t, config(fe, prom), prom)
	fes := []string{fe}
	targets := "      - targets: ['" + prom + "']\n        labels: {job: goproxy}\n"
	haproxy, _ := exec.LookPath("haproxy")
	if haproxy != "" {
		hfe, hprom := loopAddr(t), loopAddr(t)
		startServing(t, haproxy, config(hfe, hprom), hprom)
		fes = append(fes, hfe)
		targets += "      - targets: ['" + hprom + "']\n        labels: {job: haproxy}\n"
	} else {
		t.Log("SKIP: the dashboard on haproxy: haproxy is not on PATH")
	}

	// Traffic for the whole test: short sessions, a few held ones.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if c, err := dialFrom("127.0.0.1", fes[i%len(fes)]); err == nil {
				_, _ = readName(c)
				c.Close()
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
	for _, f := range fes {
		for i := 0; i < 3; i++ {
			openName(t, srcIP(i), f)
		}
	}

	// promtool check metrics on one scrape.
	if promtool, err := exec.LookPath("promtool"); err != nil {
		t.Log("SKIP: promtool check metrics: promtool is not installed")
	} else {
		_, body := scrape(t, "http://"+prom+"/metrics")
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var unknown []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if l != "" && !promtoolKnown[l] {
				unknown = append(unknown, l)
			}
		}
		var ee *exec.ExitError
		// Exit 3 means lint findings only: accepted when they are the known ones.
		if (err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 3)) || len(unknown) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out.String())
		} else {
			t.Logf("promtool check metrics: parsed; findings on HAProxy's own names only: %q", strings.TrimSpace(out.String()))
		}
	}

	// Prometheus, scraping the exporter every second.
	dir := t.TempDir()
	promAddr := loopAddr(t)
	pcfg := writeFile(t, dir, "prometheus.yml", "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"+
		"scrape_configs:\n  - job_name: lb\n    static_configs:\n"+targets)
	p := startCmd(t, exec.Command(promBin, "--config.file="+pcfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=warn"), dir)
	base := "http://" + promAddr
	waitFor(t, 30*time.Second, "prometheus ready", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("prometheus exited: %v\n%s", p.err, p.stderr.String())
		default:
		}
		c := &http.Client{Timeout: time.Second}
		resp, err := c.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	// Enough scrapes for rates over 30 s windows: at least five.
	jobs := []string{"goproxy"}
	if haproxy != "" {
		jobs = append(jobs, "haproxy")
	}
	for _, job := range jobs {
		waitFor(t, 40*time.Second, "five scrapes of "+job, func() bool {
			n, _, err := promQuery(base, `count_over_time(up{job="`+job+`"}[1m]) >= 5`)
			return err == nil && n > 0
		})
		if n, _, err := promQuery(base, `up{job="`+job+`"} == 1`); err != nil || n != 1 {
			t.Fatalf("%s's exporter is not up in prometheus: %d %v", job, n, err)
		}
	}

	sort.Strings(exprs)
	failed, onHAProxy := 0, 0
	for _, e := range exprs {
		for _, job := range jobs {
			if job == "haproxy" && strings.Contains(e, "goproxy_") {
				continue
			}
			q := grafanaVars(job).Replace(e)
			var n int
			var err error
			// A rate needs two scrapes with the new samples: retry briefly.
			for try := 0; try < 10; try++ {
				if n, _, err = promQuery(base, q); err == nil && n > 0 {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if job == "haproxy" {
				onHAProxy++
			}
			if err != nil || n == 0 {
				failed++
				t.Errorf("%s (%s): %d series, %v", q, job, n, err)
			}
		}
	}
	for _, v := range variables {
		m := labelValuesRE.FindStringSubmatch(v)
		if m == nil {
			t.Errorf("variable query %q is not label_values(metric, label)", v)
			continue
		}
		n, labels, err := promQuery(base, grafanaVars("goproxy").Replace(m[1]))
		ok := err == nil && n > 0
		for _, l := range labels {
			if l[m[2]] == "" {
				ok = false
			}
		}
		if !ok {
			t.Errorf("variable %s: %d series with label %s, %v", v, n, m[2], err)
		}
	}
	t.Logf("%d dashboard expressions and %d variables run on prometheus over goproxy, %d of the expressions over haproxy: %d without data",
		len(exprs), len(variables), onHAProxy, failed)
}
