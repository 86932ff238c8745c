package stats

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"goproxy/internal/nettest"
	"goproxy/parser"
)

// TestSocat drives the server with socat, as operators' scripts do.
func TestSocat(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat not installed")
	}
	_, path := startServer(t, parser.Global{}, newFakeSource())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "socat", "stdio", path)
	cmd.Stdin = strings.NewReader("show stat\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	diffText(t, string(out), golden(t, "show-stat.csv"))
}

func freePort(t *testing.T) int { return nettest.FreePort(t) }

// TestHAProxyExporter points the real prometheus-haproxy-exporter at the
// socket: it must parse every row and report the servers.
func TestHAProxyExporter(t *testing.T) {
	const bin = "/usr/bin/prometheus-haproxy-exporter"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("prometheus-haproxy-exporter not installed")
	}
	_, path := startServer(t, parser.Global{}, newFakeSource())
	port := freePort(t)
	cmd := exec.Command(bin, "--haproxy.scrape-uri=unix:"+path,
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	client := &http.Client{Timeout: 2 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if body == "" {
		t.Fatal("exporter never answered")
	}
	want := []string{
		"haproxy_up 1",
		"haproxy_exporter_csv_parse_failures_total 0",
		`haproxy_server_up{backend="persistent_connection_backend",server="server1"} 1`,
		`haproxy_server_up{backend="persistent_connection_backend",server="server3"} 0`,
		`haproxy_server_bytes_in_total{backend="persistent_connection_backend",server="server2"} 162`,
		`haproxy_backend_weight{backend="persistent_connection_backend"} 2`,
		`haproxy_frontend_current_sessions{frontend="persistent_connection_frontend"} 1`,
		`haproxy_version_info{release_date="2026/10/17",version="2.6.12-1+deb12u4"} 1`,
	}
	lines := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		lines[sc.Text()] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("missing %q", w)
		}
	}
}
