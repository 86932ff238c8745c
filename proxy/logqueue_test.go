package proxy

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

func TestLineRing(t *testing.T) {
	var r lineRing
	r.init(4)
	for round := 0; round < 3; round++ {
		for i := 0; i < 4; i++ {
			if !r.push([]byte{byte('a' + i)}) {
				t.Fatalf("round %d: push %d refused", round, i)
			}
		}
		if r.push([]byte("x")) {
			t.Fatalf("round %d: push into a full ring accepted", round)
		}
		for i := 0; i < 4; i++ {
			b, ok := r.pop()
			if !ok || string(b) != string(rune('a'+i)) {
				t.Fatalf("round %d: pop %d = %q %v", round, i, b, ok)
			}
		}
		if _, ok := r.pop(); ok {
			t.Fatalf("round %d: pop from an empty ring", round)
		}
	}
}

// TestLineRingProducers: lines pushed from many goroutines are all taken
// once, in each producer's order.
func TestLineRingProducers(t *testing.T) {
	var r lineRing
	r.init(64)
	const producers, each = 4, 2000
	var wg sync.WaitGroup
	var refused atomic.Int64
	// A full ring makes a producer retry, yielding to the consumer, for as
	// long as the test may run: on a loaded machine the consumer can be
	// off its CPU for a while.
	deadline := time.Now().Add(10 * time.Second)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				for !r.push([]byte{byte(p), byte(i >> 8), byte(i)}) {
					if time.Now().After(deadline) {
						refused.Add(1)
						return
					}
					runtime.Gosched()
				}
			}
		}()
	}
	next := make([]int, producers)
	for got := 0; got < producers*each && time.Now().Before(deadline) && refused.Load() == 0; {
		b, ok := r.pop()
		if !ok {
			continue
		}
		p, i := int(b[0]), int(b[1])<<8|int(b[2])
		if i != next[p] {
			t.Fatalf("producer %d: got line %d, want %d", p, i, next[p])
		}
		next[p]++
		got++
	}
	wg.Wait()
	for p, n := range next {
		if n != each {
			t.Errorf("producer %d: %d lines taken, want %d", p, n, each)
		}
	}
}

// smallPipe returns a pipe whose buffer holds one page, so that a writer
// nobody reads fills it at once.
func smallPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Logf("F_SETPIPE_SZ: %v (keeping the default size)", err)
	}
	return r, w
}

// TestBlockedStdoutDoesNotStall: with "log stdout" on a pipe nobody reads,
// the loops keep serving sessions; the lines that do not fit are counted as
// dropped, and every other line arrives once the pipe is read.
func TestBlockedStdoutDoesNotStall(t *testing.T) {
	pr, pw := smallPipe(t)
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Options.TCPLog = true
	p.Logs = []parser.LogTarget{{Stream: "stdout", Format: "raw", Level: LogDebug}}
	g, err := Build(config(p), Options{LogStdout: pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	addr := feAddr(t, g, "li")

	// More sessions than the pipe and the queue hold lines.
	const sessions = logQueueLen + 600
	start := time.Now()
	served := 0
	for i := 0; i < sessions && time.Since(start) < 30*time.Second; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "ping")
		c.Close()
		served++
	}
	took := time.Since(start)
	if served != sessions {
		t.Fatalf("served %d sessions in %v, want %d", served, took, sessions)
	}
	waitFor(t, "the sessions to end", func() bool { return g.CurrConns() == 0 })
	dropped := g.Info().DroppedLogs
	t.Logf("%d sessions served in %v with stdout blocked, %d lines dropped", served, took, dropped)
	if dropped == 0 || dropped >= sessions {
		t.Fatalf("DroppedLogs = %d, want some but not all of %d", dropped, sessions)
	}

	// Reading the pipe now gets every line that was not dropped.
	want := sessions - int(dropped)
	_ = pr.SetReadDeadline(time.Now().Add(10 * time.Second))
	sc := bufio.NewScanner(pr)
	lines := 0
	for lines < want && sc.Scan() {
		if !strings.Contains(sc.Text(), " li li/s1 ") {
			t.Fatalf("unexpected line %q", sc.Text())
		}
		lines++
	}
	if lines != want {
		t.Fatalf("read %d lines (%v), want %d = %d sessions - %d dropped", lines, sc.Err(), want, sessions, dropped)
	}
	if d := g.Info().DroppedLogs; d != dropped {
		t.Errorf("DroppedLogs went from %d to %d while the pipe was read", dropped, d)
	}
}

// pipeSink returns a sink whose one target is "log stdout" on w.
func pipeSink(t *testing.T, w *os.File) *LogSink {
	t.Helper()
	target := parser.LogTarget{Stream: "stdout", Format: "raw", Level: LogDebug}
	s, err := newLogSink(&parser.Global{}, []parser.LogTarget{target}, false,
		"", logEnv{drops: new(atomic.Uint64), stdout: int(w.Fd()), stderr: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestLogSinkCloseFlushes: lines waiting for a slow reader are written
// before Close returns.
func TestLogSinkCloseFlushes(t *testing.T) {
	pr, pw := smallPipe(t)
	s := pipeSink(t, pw)
	const n = 200
	for i := 0; i < n; i++ {
		s.Log(LogInfo, strings.Repeat("x", 80))
	}
	got := make(chan int, 1)
	go func() {
		_ = pr.SetReadDeadline(time.Now().Add(10 * time.Second))
		sc := bufio.NewScanner(pr)
		lines := 0
		for lines < n && sc.Scan() {
			lines++
		}
		got <- lines
	}()
	time.Sleep(50 * time.Millisecond) // the reader starts late
	s.Close()
	if lines := <-got; lines != n || s.Dropped() != 0 {
		t.Errorf("read %d lines with %d dropped, want %d and 0", lines, s.Dropped(), n)
	}
	s.Log(LogInfo, "after close")
	if s.Dropped() != 1 {
		t.Errorf("a line after Close: dropped = %d, want 1", s.Dropped())
	}
}

// TestLogSinkCloseBounded: with nobody reading, Close gives up after the
// flush timeout and counts what it could not write.
func TestLogSinkCloseBounded(t *testing.T) {
	_, pw := smallPipe(t)
	s := pipeSink(t, pw)
	const n = 100
	for i := 0; i < n; i++ {
		s.Log(LogInfo, strings.Repeat("y", 80))
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d < logFlushTimeout/2 || d > logFlushTimeout+time.Second {
		t.Errorf("Close took %v, want about %v", d, logFlushTimeout)
	}
	if d := s.Dropped(); d == 0 || d > n {
		t.Errorf("dropped = %d, want the lines left in the queue (1..%d)", d, n)
	}
}
