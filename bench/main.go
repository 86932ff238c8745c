// Command bench measures goproxy against HAProxy on the same machine, the
// same backends and the same workloads, one proxy at a time, and prints each
// figure for both with their ratio (goproxy/haproxy).
//
//	go run ./bench                     # about 4 minutes
//	go run ./bench -quick              # about 30 seconds, a smoke run
//	go run ./bench -workloads short,msg1k -duration 10s -reps 5
//
// The proxy runs alone on one CPU (taskset -c 1, one thread); the harness,
// which is both the load generator and the backend servers, runs on another,
// so the proxy's CPU time (utime+stime from /proc/PID/stat) and memory
// (VmRSS from /proc/PID/status) are its own. All traffic stays on 127.0.0.1.
// The short and persistent workloads run in one epoll loop of raw
// non-blocking system calls (engine.go), cheaper per connection than the
// proxies, so that the proxy, not the harness, sets the rate.
//
// Workloads:
//
//	bulk1, bulk4  one or four streams of 64 KiB writes: Gbit/s, CPU-s per GB
//	short         connect, 64 B each way, close, 32 at a time: conn/s, CPU-s per 100k
//	msg1k         1,000 connections, one 150 B request in flight each, 30 B reply:
//	              messages/s, p50/p99 latency, CPU-s per 100k messages
//	msg9k         ~9,700 connections (as many as the file-descriptor limit allows):
//	              proxy RSS growth per idle connection, then one message per
//	              second each (same figures), then RSS per connection again
//
// Each figure is the median of -reps runs; the two proxies alternate run by
// run so that drift on a shared machine hits both alike. Differences under
// about 10% are noise. A second table shows how busy the proxy and the
// harness were and how long they waited for a CPU that other programs held:
// when the waiting columns are high, rates and latencies are unreliable,
// while CPU-s per unit of work and RSS per connection still hold (HAProxy
// measured against itself on a busy machine: CPU per unit 0.95-1.14x, RSS
// 1.00x, rates and latencies 0.7-1.5x).
//
// It imports internal/rawsys and x/sys, and runs goproxy and haproxy as
// processes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// allWorkloads in the order they run.
var allWorkloads = append([]string{"bulk1", "bulk4", "short", "msg1k", "msg9k"}, tlsWorkloads...)

// rows of the result table, in order.
var rows = []metric{
	{key: "bulk1.gbps", label: "bulk, 1 stream: Gbit/s"},
	{key: "bulk1.cpugb", label: "bulk, 1 stream: CPU-s per GB", lowerBetter: true},
	{key: "bulk4.gbps", label: "bulk, 4 streams: Gbit/s"},
	{key: "bulk4.cpugb", label: "bulk, 4 streams: CPU-s per GB", lowerBetter: true},
	{key: "bulk1.cs", label: "bulk, 1 stream: context switches per GB", lowerBetter: true},
	{key: "bulk1.epw", label: "bulk, 1 stream: epoll waits per GB", lowerBetter: true},
	{key: "short.rate", label: "short conns (32 at a time): conn/s"},
	{key: "short.cpu100k", label: "short conns: CPU-s per 100k conns", lowerBetter: true},
	{key: "short.cs", label: "short conns: context switches per conn", lowerBetter: true},
	{key: "short.epw", label: "short conns: epoll waits per conn", lowerBetter: true},
	{key: "msg1k.rate", label: "1,000 conns, closed loop: msg/s"},
	{key: "msg1k.p50", label: "1,000 conns: p50 latency ms", lowerBetter: true},
	{key: "msg1k.p99", label: "1,000 conns: p99 latency ms", lowerBetter: true},
	{key: "msg1k.cpu100k", label: "1,000 conns: CPU-s per 100k msg", lowerBetter: true},
	{key: "msg1k.cs", label: "1,000 conns: context switches per msg", lowerBetter: true},
	{key: "msg1k.epw", label: "1,000 conns: epoll waits per msg", lowerBetter: true},
	{key: "msg9k.rssidle", label: "N conns idle: RSS KiB per conn", lowerBetter: true},
	{key: "msg9k.rate", label: "N conns at 1 msg/s each: msg/s"},
	{key: "msg9k.p50", label: "N conns: p50 latency ms", lowerBetter: true},
	{key: "msg9k.p99", label: "N conns: p99 latency ms", lowerBetter: true},
	{key: "msg9k.cpu100k", label: "N conns: CPU-s per 100k msg", lowerBetter: true},
	{key: "msg9k.cs", label: "N conns: context switches per msg", lowerBetter: true},
	{key: "msg9k.epw", label: "N conns: epoll waits per msg", lowerBetter: true},
	{key: "msg9k.rssafter", label: "N conns idle after traffic: RSS KiB/conn", lowerBetter: true},
}

// target is one proxy under test.
type target struct {
	name, bin string
}

// bench holds what the runs share.
type bench struct {
	duration, warmup time.Duration
	conns            int // persistent connections for msg9k
	proxyCPU         int // -1: no pinning
	verbose          bool
	done             <-chan struct{} // closed on Ctrl-C: runs stop early
	dir              string
	cfg              string

	sources []net.IP          // client source addresses
	fe      map[string]string // route name -> proxy listen address
	sink    *backend          // bulk: reads and discards
	echo    *rawBackend       // short: 64 B for 64 B
	msg     *rawBackend       // msg1k, msg9k: 30 B for 150 B
	tlsEcho *echoServer       // tlshs, tlsresume: 64 B for 64 B (tls.go)
}

func (b *bench) logf(format string, args ...any) {
	if b.verbose {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := flag.Duration("duration", 5*time.Second, "measuring window of each run")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "traffic before each window")
	reps := flag.Int("reps", 3, "runs per workload and proxy; the table shows medians")
	workloads := flag.String("workloads", strings.Join(allWorkloads, ","), "comma-separated workloads: "+strings.Join(allWorkloads, ", "))
	goproxyBin := flag.String("goproxy", "bin/goproxy", `goproxy binary ("none": HAProxy alone)`)
	haproxyBin := flag.String("haproxy", "", `HAProxy binary (default: haproxy from PATH; "none": goproxy alone)`)
	conns := flag.Int("conns", 9700, "persistent connections for msg9k (capped by the file-descriptor limit)")
	proxyCPU := flag.Int("proxy-cpu", 1, "CPU the proxy runs on (-1: no pinning)")
	loadCPU := flag.Int("load-cpu", 0, "CPU the harness runs on (-1: no pinning)")
	quick := flag.Bool("quick", false, "smoke run: -duration 1s -warmup 300ms -reps 1")
	verbose := flag.Bool("v", false, "print each run's figures as it ends")
	keep := flag.Bool("keep", false, "keep the temporary directory (config, proxy logs)")
	flag.Parse()
	if *quick {
		*duration, *warmup, *reps = time.Second, 300*time.Millisecond, 1
	}
	if *reps < 1 || *reps > 20 || *duration <= 0 || *duration > 5*time.Minute {
		return fmt.Errorf("-reps 1..20 and -duration up to 5m, got %d and %v", *reps, *duration)
	}
	wl, err := parseWorkloads(*workloads)
	if err != nil {
		return err
	}
	targets, err := findTargets(*goproxyBin, *haproxyBin)
	if err != nil {
		return err
	}

	b := &bench{duration: *duration, warmup: *warmup, verbose: *verbose, proxyCPU: *proxyCPU}
	if err := b.pin(*loadCPU); err != nil {
		return err
	}
	b.conns = fitConns(*conns, fdLimit())
	b.dir, err = os.MkdirTemp("", "goproxy-bench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "bench: files in", b.dir)
	} else {
		defer os.RemoveAll(b.dir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b.done = ctx.Done()
	if err := b.setup(); err != nil {
		return err
	}
	defer b.teardown()

	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
	}
	fmt.Printf("bench: %s; window %v after %v warm-up, %d rep(s); msg9k uses %d connections; proxy on CPU %d\n",
		strings.Join(names, " vs "), *duration, *warmup, *reps, b.conns, b.proxyCPU)
	if load, err := loadAverage(); err == nil && load > 1 {
		fmt.Printf("bench: load average %.1f before the first run: other work shares these CPUs: CPU-s per unit and RSS hold, rates and latencies get noisy (see the waiting columns)\n", load)
	}
	res := results{}
	var failures []string
	for _, w := range wl {
		for rep := range *reps {
			order := slices.Clone(targets)
			if rep%2 == 1 {
				slices.Reverse(order)
			}
			for _, t := range order {
				if ctx.Err() != nil {
					return errInterrupted
				}
				out, err := b.runOne(t, w)
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s %s rep %d: %v", t.name, w, rep+1, err))
					fmt.Fprintf(os.Stderr, "bench: %s %s rep %d: %v\n", t.name, w, rep+1, err)
					continue
				}
				keys := make([]string, 0, len(out))
				for k, v := range out {
					res.add(t.name, k, v)
					keys = append(keys, k)
				}
				slices.Sort(keys)
				var parts []string
				for _, k := range keys {
					parts = append(parts, k+"="+formatValue(out[k]))
				}
				b.logf("%s %s rep %d: %s", t.name, w, rep+1, strings.Join(parts, " "))
			}
		}
	}
	fmt.Println()
	if err := writeTable(os.Stdout, names, append(rows, tlsRows...), res); err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("How busy each side was (medians, % of one CPU; waiting = ready to run but another task had the CPU):")
	if err := writeBusyTable(os.Stdout, names, wl, res); err != nil {
		return err
	}
	fmt.Printf("\nMedians of %d run(s). CPU-s = utime+stime of the proxy.", *reps)
	if slices.Contains(wl, "msg9k") {
		fmt.Printf(" N = %d persistent connections.", b.conns)
	}
	if len(names) == 2 {
		fmt.Printf(" Ratio = %s/%s; differences under ~10%% are noise.", names[0], names[1])
	}
	fmt.Println()
	if len(failures) > 0 {
		return fmt.Errorf("%d run(s) failed:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	return nil
}

func parseWorkloads(s string) ([]string, error) {
	var out []string
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		if !slices.Contains(allWorkloads, w) {
			return nil, fmt.Errorf("unknown workload %q (have %s)", w, strings.Join(allWorkloads, ", "))
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no workload")
	}
	return out, nil
}

// findTargets resolves the two binaries; a missing HAProxy leaves goproxy
// alone, a missing goproxy is an error unless it is "none".
func findTargets(goproxyBin, haproxyBin string) ([]target, error) {
	var ts []target
	if goproxyBin != "none" {
		p, err := exec.LookPath(goproxyBin)
		if err != nil && !strings.Contains(goproxyBin, "/") {
			p, err = exec.LookPath("./" + goproxyBin)
		}
		if err != nil {
			return nil, fmt.Errorf("goproxy binary %q: %w (build it with `make build`, or pass -goproxy none)", goproxyBin, err)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		ts = append(ts, target{"goproxy", abs})
	}
	if haproxyBin != "none" {
		name := haproxyBin
		if name == "" {
			name = "haproxy"
		}
		p, err := exec.LookPath(name)
		switch {
		case err == nil:
			ts = append(ts, target{"haproxy", p})
		case haproxyBin != "":
			return nil, fmt.Errorf("haproxy binary %q: %w", haproxyBin, err)
		default:
			fmt.Fprintln(os.Stderr, "bench: haproxy not in PATH: absolute figures of goproxy only")
		}
	}
	if len(ts) == 0 {
		return nil, errors.New("nothing to measure")
	}
	return ts, nil
}

// fdLimit returns the soft limit on open files (Go raises it to the hard
// limit at start-up).
func fdLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return int(min(rl.Cur, 1<<20))
}

// fitConns caps the persistent connections so that both the proxy (a client
// and a server socket per connection) and the harness (the client end and
// the backend end of each) stay under limit, with room for listeners and
// the rest.
func fitConns(want, limit int) int {
	const reserve = 300
	return max(1, min(want, (limit-reserve)/2))
}

// maxconnFor returns the maxconn of the generated configuration: room for
// the persistent connections plus a margin, within the fd limit.
func maxconnFor(conns, limit int) int {
	return min(conns+100, (limit-200)/2)
}

// pin puts the harness on cpu and leaves the proxy CPU to the proxy, when
// the machine has both.
func (b *bench) pin(loadCPU int) error {
	cpus := usableCPUs()
	if b.proxyCPU < 0 || loadCPU < 0 || !slices.Contains(cpus, b.proxyCPU) || !slices.Contains(cpus, loadCPU) || b.proxyCPU == loadCPU {
		fmt.Fprintf(os.Stderr, "bench: no CPU pinning (usable CPUs %v, proxy %d, load %d)\n", cpus, b.proxyCPU, loadCPU)
		b.proxyCPU = -1
		return nil
	}
	runtime.GOMAXPROCS(1)
	return pinProcess(0, loadCPU)
}
