package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

var errInterrupted = errors.New("interrupted")

// measurement is what every workload reads around its measuring window.
type measurement struct {
	start               time.Time
	proxyCPU, selfCPU   time.Duration
	proxyWait, selfWait time.Duration // run-queue wait so far, then in the window
	elapsed             time.Duration
	proxyUsed, selfUse  time.Duration
}

func beginMeasure(pid int) (*measurement, error) {
	pc, err := cpuOf(pid)
	if err != nil {
		return nil, err
	}
	sc, err := cpuOf(0)
	if err != nil {
		return nil, err
	}
	return &measurement{start: time.Now(), proxyCPU: pc, selfCPU: sc,
		proxyWait: runWaitOf(pid), selfWait: runWaitOf(0)}, nil
}

func (m *measurement) end(pid int) error {
	m.elapsed = time.Since(m.start)
	pc, err := cpuOf(pid)
	if err != nil {
		return err
	}
	sc, err := cpuOf(0)
	if err != nil {
		return err
	}
	m.proxyUsed, m.selfUse = pc-m.proxyCPU, sc-m.selfCPU
	m.proxyWait, m.selfWait = runWaitOf(pid)-m.proxyWait, runWaitOf(0)-m.selfWait
	return nil
}

// cpuPercents adds the busy share of the proxy and of the harness.
func (m *measurement) cpuPercents(out map[string]float64, prefix string) {
	out[prefix+".cpupct"] = 100 * m.proxyUsed.Seconds() / m.elapsed.Seconds()
	out[prefix+".selfpct"] = 100 * m.selfUse.Seconds() / m.elapsed.Seconds()
	out[prefix+".waitpct"] = 100 * m.proxyWait.Seconds() / m.elapsed.Seconds()
	out[prefix+".selfwaitpct"] = 100 * m.selfWait.Seconds() / m.elapsed.Seconds()
}

// dialer returns a dialer from the i-th source address. The local port is
// chosen at connect time (IP_BIND_ADDRESS_NO_PORT), as for an unbound
// socket: a port chosen at bind time cannot be shared between
// destinations, and with thousands of TIME_WAIT sockets that search is slow.
func (b *bench) dialer(i int, timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout:   timeout,
		LocalAddr: &net.TCPAddr{IP: b.sources[i%len(b.sources)]},
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
}

// sleepOrStop sleeps d unless stop closes first.
func sleepOrStop(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// runBulk streams 64 KiB writes on `streams` connections into the sink.
func (b *bench) runBulk(p *proxyProc, streams int, out map[string]float64) error {
	prefix := fmt.Sprintf("bulk%d", streams)
	conns := make([]net.Conn, 0, streams)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range streams {
		c, err := b.dialer(i, 5*time.Second).Dial("tcp", b.fe["bulk"])
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		conns = append(conns, c)
	}
	var stop atomic.Bool
	var errs atomic.Int64
	var wg sync.WaitGroup
	buf := make([]byte, 64<<10)
	for _, c := range conns {
		c.SetWriteDeadline(time.Now().Add(b.warmup + b.duration + 10*time.Second))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if _, err := c.Write(buf); err != nil {
					if !stop.Load() {
						errs.Add(1)
					}
					return
				}
			}
		}()
	}
	b.sleep(b.warmup)
	bytes0 := b.sink.bytes.Load()
	m, err := beginMeasure(p.pid())
	if err == nil {
		if !b.sleep(b.duration) {
			err = errInterrupted
		} else {
			err = m.end(p.pid())
		}
	}
	bytes1 := b.sink.bytes.Load()
	stop.Store(true)
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	if err != nil {
		return err
	}
	if n := errs.Load(); n > 0 {
		return fmt.Errorf("%d streams failed", n)
	}
	moved := float64(bytes1 - bytes0)
	if moved <= 0 {
		return fmt.Errorf("no bytes reached the backend")
	}
	out[prefix+".gbps"] = moved * 8 / m.elapsed.Seconds() / 1e9
	out[prefix+".cpugb"] = m.proxyUsed.Seconds() / (moved / 1e9)
	m.cpuPercents(out, prefix)
	return nil
}

// runShort opens, uses (64 B each way) and closes connections, `workers`
// at a time.
func (b *bench) runShort(p *proxyProc, workers int, out map[string]float64) error {
	var stop atomic.Bool
	var done, errs, slow, slowDial atomic.Int64
	var wg sync.WaitGroup
	hardEnd := time.Now().Add(b.warmup + b.duration + 10*time.Second)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := make([]byte, 64)
			resp := make([]byte, 64)
			d := b.dialer(w, 2*time.Second)
			for i := 0; !stop.Load() && time.Now().Before(hardEnd); i++ {
				t0 := time.Now()
				c, err := d.Dial("tcp", b.fe["short"])
				if time.Since(t0) > 200*time.Millisecond {
					slowDial.Add(1)
				}
				if err != nil {
					errs.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				c.SetDeadline(time.Now().Add(2 * time.Second))
				_, err = c.Write(req)
				if err == nil {
					_, err = io.ReadFull(c, resp)
				}
				c.Close()
				if err != nil {
					errs.Add(1)
					continue
				}
				if time.Since(t0) > 200*time.Millisecond {
					slow.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	b.sleep(b.warmup)
	n0, e0 := done.Load(), errs.Load()
	m, err := beginMeasure(p.pid())
	if err == nil {
		if !b.sleep(b.duration) {
			err = errInterrupted
		} else {
			err = m.end(p.pid())
		}
	}
	n1, e1 := done.Load(), errs.Load()
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return err
	}
	if e1 > e0 {
		b.logf("  short connections: %d errors in the window", e1-e0)
	}
	conns := float64(n1 - n0)
	if conns <= 0 {
		return fmt.Errorf("no connection completed (%d errors)", e1)
	}
	out["short.rate"] = conns / m.elapsed.Seconds()
	out["short.cpu100k"] = m.proxyUsed.Seconds() / (conns / 1e5)
	out["short.errors"] = float64(e1 - e0)
	b.logf("  short: %d connections over 200 ms, %d slow dials (whole run)", slow.Load(), slowDial.Load())
	m.cpuPercents(out, "short")
	return nil
}

// persistentSpec describes a run of persistent connections.
type persistentSpec struct {
	prefix   string
	conns    int
	interval time.Duration // 0: closed loop, one request in flight per connection
	rss      bool          // measure the proxy's RSS per idle connection
}

// runPersistent opens spec.conns connections through the proxy, then has
// each exchange 150-byte requests for 30-byte replies.
func (b *bench) runPersistent(p *proxyProc, spec persistentSpec, out map[string]float64) error {
	var rss0 int64
	if spec.rss {
		time.Sleep(300 * time.Millisecond)
		var err error
		if rss0, err = rssOf(p.pid()); err != nil {
			return err
		}
	}
	conns, err := b.dialMany(spec.conns, b.fe["msg"])
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if err != nil {
		return err
	}
	if !b.msg.waitConns(int64(spec.conns), 20*time.Second) {
		return fmt.Errorf("the backend holds %d connections, want %d", b.msg.cur.Load(), spec.conns)
	}
	if spec.rss {
		time.Sleep(time.Second)
		rss1, err := rssOf(p.pid())
		if err != nil {
			return err
		}
		out[spec.prefix+".rssidle"] = float64(rss1-rss0) / 1024 / float64(spec.conns)
	}

	warmup := b.warmup
	if spec.interval > warmup {
		warmup = spec.interval // every connection has started its schedule
	}
	hist := new(histogram)
	var phase atomic.Int32 // 0 warm-up, 1 measuring, 2 stopping
	var errs atomic.Int64
	stopCh := make(chan struct{})
	var wg sync.WaitGroup
	req := make([]byte, 150)
	for i := range req {
		req[i] = 'q'
	}
	start := time.Now()
	deadline := start.Add(warmup + b.duration + 30*time.Second)
	for i, c := range conns {
		c.SetDeadline(deadline)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := make([]byte, 30)
			next := start
			if spec.interval > 0 {
				next = start.Add(spec.interval * time.Duration(i) / time.Duration(len(conns)))
			}
			for phase.Load() < 2 {
				if spec.interval > 0 {
					if wait := time.Until(next); wait > 0 && !sleepOrStop(wait, stopCh) {
						return
					}
					next = next.Add(spec.interval)
					if now := time.Now(); next.Before(now) {
						next = now
					}
				}
				t := time.Now()
				if _, err := c.Write(req); err != nil {
					errs.Add(1)
					return
				}
				if _, err := io.ReadFull(c, resp); err != nil {
					errs.Add(1)
					return
				}
				if phase.Load() == 1 {
					hist.Record(i, time.Since(t))
				}
			}
		}()
	}
	b.sleep(warmup)
	phase.Store(1)
	m, err := beginMeasure(p.pid())
	if err == nil {
		if !b.sleep(b.duration) {
			err = errInterrupted
		} else {
			err = m.end(p.pid())
		}
	}
	phase.Store(2)
	close(stopCh)
	wg.Wait()
	if err != nil {
		return err
	}
	if n := errs.Load(); n > 0 {
		return fmt.Errorf("%d connections failed", n)
	}
	counts := hist.snapshot()
	msgs := float64(count(counts))
	if msgs == 0 {
		return fmt.Errorf("no message completed")
	}
	out[spec.prefix+".rate"] = msgs / m.elapsed.Seconds()
	out[spec.prefix+".p50"] = percentile(counts, 0.50).Seconds() * 1000
	out[spec.prefix+".p99"] = percentile(counts, 0.99).Seconds() * 1000
	out[spec.prefix+".cpu100k"] = m.proxyUsed.Seconds() / (msgs / 1e5)
	m.cpuPercents(out, spec.prefix)
	if spec.rss {
		time.Sleep(time.Second)
		rss2, err := rssOf(p.pid())
		if err != nil {
			return err
		}
		out[spec.prefix+".rssafter"] = float64(rss2-rss0) / 1024 / float64(spec.conns)
	}
	return nil
}

// dialMany opens n connections to addr, 32 dials at a time, spread over the
// source addresses. On error it returns the connections opened so far.
func (b *bench) dialMany(n int, addr string) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := b.dialer(i, 5*time.Second).Dial("tcp", addr)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d of %d: %w", i+1, n, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	opened := conns[:0]
	for _, c := range conns {
		if c != nil {
			opened = append(opened, c)
		}
	}
	return opened, firstErr
}
