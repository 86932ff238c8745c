package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	tests := []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 123456789, 1 << 40, math.MaxUint64}
	prev := -1
	for _, v := range tests {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		low, width := bucketRange(i)
		if v < low || v-low >= width {
			t.Errorf("value %d in bucket %d = [%d, %d+%d)", v, i, low, low, width)
		}
		if float64(width) > float64(low)/float64(subCount)+1 {
			t.Errorf("bucket %d width %d too wide for %d", i, width, low)
		}
		if i < prev {
			t.Errorf("bucketOf not monotonic at %d", v)
		}
		prev = i
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
		tol    float64 // relative
	}{
		{"empty", nil, 0.5, 0, 0},
		{"single", []time.Duration{5 * time.Millisecond}, 0.99, 5 * time.Millisecond, 0.016},
		{"median of 1..100 ms", msRange(1, 100), 0.5, 50 * time.Millisecond, 0.016},
		{"p99 of 1..100 ms", msRange(1, 100), 0.99, 99 * time.Millisecond, 0.016},
		{"p100 of 1..100 ms", msRange(1, 100), 1, 100 * time.Millisecond, 0.016},
		{"p99 with one outlier in 1000", append(repeat(time.Millisecond, 999), time.Second), 0.99, time.Millisecond, 0.016},
		{"p99 with 2% outliers", append(repeat(time.Millisecond, 98), time.Second, time.Second), 0.99, time.Second, 0.016},
		{"small exact values", []time.Duration{1, 2, 3, 4}, 0.5, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := new(histogram)
			for i, v := range tt.values {
				h.Record(i, v)
			}
			counts := h.snapshot()
			if n := count(counts); n != uint64(len(tt.values)) {
				t.Fatalf("count %d, want %d", n, len(tt.values))
			}
			got := percentile(counts, tt.q)
			if diff := math.Abs(float64(got - tt.want)); diff > tt.tol*float64(tt.want) {
				t.Fatalf("percentile(%v) = %v, want %v within %.1f%%", tt.q, got, tt.want, tt.tol*100)
			}
		})
	}
}

func msRange(from, to int) []time.Duration {
	var out []time.Duration
	for i := to; i >= from; i-- { // reversed: order must not matter
		out = append(out, time.Duration(i)*time.Millisecond)
	}
	return out
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestMedianAndFormat(t *testing.T) {
	if m, ok := median([]float64{3, 1, 2}); !ok || m != 2 {
		t.Errorf("median odd = %v %v", m, ok)
	}
	if m, ok := median([]float64{4, 1, 2, 3}); !ok || m != 2.5 {
		t.Errorf("median even = %v %v", m, ok)
	}
	if _, ok := median(nil); ok {
		t.Error("median of nothing reported a value")
	}
	for _, tt := range []struct {
		v    float64
		want string
	}{{0, "0"}, {92345.6, "92346"}, {15.27, "15.3"}, {3.333, "3.33"}, {0.2849, "0.285"}, {0.0012345, "0.0012"}, {math.NaN(), "n/a"}} {
		if got := formatValue(tt.v); got != tt.want {
			t.Errorf("formatValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	for _, tt := range []struct {
		a, b float64
		want string
	}{{0.28, 3.3, "0.08x"}, {19000, 19000, "1.00x"}, {15, 0, "n/a"}, {math.NaN(), 1, "n/a"}, {3, 2, "1.50x"}} {
		if got := formatRatio(tt.a, tt.b); got != tt.want {
			t.Errorf("formatRatio(%v, %v) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	res := results{}
	res.add("goproxy", "a", 10)
	res.add("goproxy", "a", 30)
	res.add("goproxy", "a", 20)
	res.add("haproxy", "a", 40)
	res.add("haproxy", "b", 1)
	rows := []metric{{key: "a", label: "rate"}, {key: "b", label: "cpu", lowerBetter: true}, {key: "c", label: "absent"}}
	var buf bytes.Buffer
	if err := writeTable(&buf, []string{"goproxy", "haproxy"}, rows, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines, want header + 2 rows:\n%s", len(lines), buf.String())
	}
	if f := strings.Fields(lines[1]); strings.Join(f, " ") != "rate 20.0 40.0 0.50x higher" {
		t.Errorf("row a = %q", lines[1])
	}
	if f := strings.Fields(lines[2]); strings.Join(f, " ") != "cpu - 1.00 n/a lower" {
		t.Errorf("row b = %q", lines[2])
	}
	buf.Reset()
	if err := writeTable(&buf, []string{"goproxy"}, rows, res); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "x ") || strings.Contains(buf.String(), "/") {
		t.Errorf("single-proxy table has a ratio column:\n%s", buf.String())
	}
}

func TestProcParsers(t *testing.T) {
	stat := []byte("1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 100 1000 200\n")
	if got, err := parseStatCPU(stat); err != nil || got != 3250*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 3.25s", got, err)
	}
	if _, err := parseStatCPU([]byte("1234 (x) S 1 2")); err == nil {
		t.Error("parseStatCPU accepted a short line")
	}
	status := []byte("Name:\thaproxy\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t1\n")
	if got, err := parseVmRSS(status); err != nil || got != 12345*1024 {
		t.Errorf("parseVmRSS = %d, %v", got, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); err == nil {
		t.Error("parseVmRSS without VmRSS: no error")
	}
	if got, err := parseSchedstat([]byte("123456 7890 12\n")); err != nil || got != 7890 {
		t.Errorf("parseSchedstat = %v, %v", got, err)
	}
	if got, err := parseLoadavg([]byte("7.36 3.16 1.29 16/200 28239\n")); err != nil || got != 7.36 {
		t.Errorf("parseLoadavg = %v, %v", got, err)
	}
	// The real files of this process parse.
	if _, err := cpuOf(0); err != nil {
		t.Error(err)
	}
	if rss, err := rssOf(0); err != nil || rss <= 0 {
		t.Errorf("rssOf(self) = %d, %v", rss, err)
	}
}

func TestProxyConfig(t *testing.T) {
	routes := []route{
		{Name: "bulk", Listen: "127.0.0.1:4001", Server: "127.0.0.1:5001", Balance: "roundrobin"},
		{Name: "msg", Listen: "127.0.0.1:4002", Server: "127.0.0.1:5002", Balance: "source", MaxConns: 9800},
	}
	text, err := proxyConfig(9800, routes)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"global\n    nbthread 1\n    maxconn 9800\n",
		"    mode tcp\n",
		"frontend fe_bulk\n    bind 127.0.0.1:4001\n    default_backend be_bulk\n",
		"backend be_msg\n    balance source\n    server s1 127.0.0.1:5002\n",
		"frontend fe_msg\n    bind 127.0.0.1:4002\n    maxconn 9800\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []struct {
		name    string
		maxconn int
		r       route
	}{
		{"balance", 10, route{Name: "x", Listen: "a", Server: "b", Balance: "leastconn"}},
		{"name", 10, route{Name: "x y", Listen: "a", Server: "b", Balance: "source"}},
		{"maxconn", 0, routes[0]},
	} {
		if _, err := proxyConfig(bad.maxconn, []route{bad.r}); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
	// HAProxy, the oracle, accepts the generated text.
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed")
	}
	path := filepath.Join(t.TempDir(), "bench.cfg")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxy, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		want, limit, conns, maxconn int
	}{
		{9700, 20000, 9700, 9800},
		{9700, 10000, 4850, 4900},
		{1000, 20000, 1000, 1100},
		{9700, 100, 1, -49}, // nonsense limits still give one connection
	}
	for _, tt := range tests {
		if got := fitConns(tt.want, tt.limit); got != tt.conns {
			t.Errorf("fitConns(%d, %d) = %d, want %d", tt.want, tt.limit, got, tt.conns)
		}
		if tt.maxconn > 0 {
			if got := maxconnFor(tt.conns, tt.limit); got != tt.maxconn {
				t.Errorf("maxconnFor(%d, %d) = %d, want %d", tt.conns, tt.limit, got, tt.maxconn)
			}
		}
	}
	if _, err := parseWorkloads("short,msg1k,short"); err != nil {
		t.Error(err)
	}
	if _, err := parseWorkloads("bulk9"); err == nil {
		t.Error("unknown workload accepted")
	}
}

func TestParsePerfCounts(t *testing.T) {
	out := []byte("1234,,syscalls:sys_enter_epoll_wait,5000000,100.00,,\n" +
		"66,,syscalls:sys_enter_epoll_pwait,5000000,100.00,,\n")
	if got := parsePerfCounts(out); got != 1300 {
		t.Errorf("parsePerfCounts = %d, want 1300", got)
	}
	missing := []byte("<not counted>,,syscalls:sys_enter_epoll_wait,0,0.00,,\n66,,syscalls:sys_enter_epoll_pwait,5000000,100.00,,\n")
	if got := parsePerfCounts(missing); got != -1 {
		t.Errorf("a count not counted: %d, want -1", got)
	}
	if got := parsePerfCounts([]byte("66,,syscalls:sys_enter_epoll_pwait,1,100.00,,\n")); got != -1 {
		t.Errorf("a tracepoint missing: %d, want -1", got)
	}
}

func TestParseCtxSwitches(t *testing.T) {
	status := []byte("Name:\tgoproxy\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n")
	if got := parseCtxSwitches(status); got != 127 {
		t.Errorf("parseCtxSwitches = %d, want 127", got)
	}
}
