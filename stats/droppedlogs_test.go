package stats

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"goproxy/proxy"
)

// TestDroppedLogs: the count of dropped log lines is shown where HAProxy
// 2.6 shows it: the 58th field of show info (56th line of the text form),
// and haproxy_process_dropped_logs_total.
func TestDroppedLogs(t *testing.T) {
	f := newFakeSource()
	f.info.DroppedLogs = 7
	srv := newTestServer(t, f)

	lines := strings.Split(run(srv, LevelAdmin, "show info"), "\n")
	golden := strings.Split(golden(t, "show-info.txt"), "\n")
	if len(lines) < 56 || len(golden) < 56 || lines[55] != "DroppedLogs: 7" || golden[55] != "DroppedLogs: 0" {
		t.Errorf("show info line 56 = %q, want %q (HAProxy's: %q)", at(lines, 55), "DroppedLogs: 7", at(golden, 55))
	}
	if got := run(srv, LevelAdmin, "show info typed"); !strings.Contains(got, "\n58.DroppedLogs.1:MGP:u32:7\n") {
		t.Errorf("show info typed has no 58.DroppedLogs.1:MGP:u32:7:\n%s", got)
	}
	want := `{"field":{"pos":58,"name":"DroppedLogs"},"processNum":1,"tags":{"origin":"Metric","nature":"Gauge","scope":"Process"},"value":{"type":"u32","value":7}}`
	if got := run(srv, LevelAdmin, "show info json"); !strings.Contains(got, want) {
		t.Errorf("show info json has no %s", want)
	}

	const metric = `
# HELP haproxy_process_dropped_logs_total Total number of dropped logs for current worker process since started
# TYPE haproxy_process_dropped_logs_total counter
haproxy_process_dropped_logs_total 7
`
	if err := testutil.CollectAndCompare(NewCollector(f), strings.NewReader(metric), "haproxy_process_dropped_logs_total"); err != nil {
		t.Error(err)
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// TestDroppedLogsFromGraph: show info reports the lines the graph dropped.
// The log target is a unix datagram socket nobody reads: once its queue is
// full, each line is dropped and counted, as HAProxy counts them.
func TestDroppedLogsFromGraph(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log.sock")
	rx, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	backend, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		for i := 0; i < 1000; i++ {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	fe := freeAddr(t)
	cfg := parseConfig(t, "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"+
		"listen li\n  bind "+fe+"\n  log "+sock+" local0\n  option tcplog\n  server s "+backend.Addr().String()+"\n")
	g, err := proxy.Build(cfg, proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	src := NewProxySource(g, cfg, nil)
	srv := newTestServer(t, src)

	const sessions = 50
	for i := 0; i < sessions; i++ {
		c, err := net.DialTimeout("tcp4", fe, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.Copy(io.Discard, c) // the server closes at once
		c.Close()
	}
	// The lines are written by the target's writer: wait until each one
	// is either in the socket's queue or dropped.
	var delivered int
	buf := make([]byte, 2048)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if g.CurrConns() == 0 && delivered+int(src.Info().DroppedLogs) == sessions {
			break
		}
		_ = rx.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if g.Info().DroppedLogs > 0 {
			if _, err := rx.Read(buf); err == nil {
				delivered++
			}
		}
	}
	dropped := src.Info().DroppedLogs
	if dropped == 0 || delivered+int(dropped) != sessions {
		t.Fatalf("%d lines delivered, %d dropped, want some dropped and %d in all", delivered, dropped, sessions)
	}
	want := fmt.Sprintf("\nDroppedLogs: %d\n", dropped)
	if got := run(srv, LevelAdmin, "show info"); !strings.Contains(got, want) {
		t.Errorf("show info has no %q", want)
	}
}
