package main

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
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
	proxyCS             int64 // context switches so far, then in the window
	epoll               *epollCounter
	epollWaits          int64 // in the window; -1: not counted
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
	ep := startEpollCounter(pid)
	return &measurement{start: time.Now(), proxyCPU: pc, selfCPU: sc,
		proxyWait: runWaitOf(pid), selfWait: runWaitOf(0),
		proxyCS: ctxSwitchesOf(pid), epoll: ep}, nil
}

func (m *measurement) end(pid int) error {
	m.elapsed = time.Since(m.start)
	m.proxyCS = ctxSwitchesOf(pid) - m.proxyCS
	m.epollWaits = m.epoll.stop()
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

// wakeups adds the proxy's context switches and epoll waits per unit of
// work (units: connections, messages, GB moved in the window).
func (m *measurement) wakeups(out map[string]float64, prefix string, units float64) {
	if units <= 0 {
		return
	}
	out[prefix+".cs"] = float64(m.proxyCS) / units
	if m.epollWaits >= 0 {
		out[prefix+".epw"] = float64(m.epollWaits) / units
	}
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
	m.wakeups(out, prefix, moved/1e9)
	return nil
}

// runShort opens, uses (64 B each way) and closes connections, `workers`
// at a time.
func (b *bench) runShort(p *proxyProc, workers int, out map[string]float64) error {
	e, err := newEngine(b.done, b.echo)
	if err != nil {
		return err
	}
	defer e.close()
	dst, err := netip.ParseAddrPort(b.fe["short"])
	if err != nil {
		return err
	}
	req := make([]byte, 64)
	measuring := false
	var done, errs, slow int
	var firstErr error
	dial := func(id int) {
		if err := e.dial(id, b.source(id), dst, len(req), 2*time.Second); err != nil {
			if measuring {
				errs++
			}
			firstErr = cmp.Or(firstErr, err)
			e.retryLater(id, time.Millisecond)
		}
	}
	e.onConnected = func(c *esock) {
		if err := e.send(c, req); err != nil {
			e.fail(c, err)
		}
	}
	e.onReply = func(c *esock) {
		if measuring {
			done++
			if e.now()-c.sentAt > int64(200*time.Millisecond) {
				slow++
			}
		}
		e.closeSock(c)
		dial(c.id)
	}
	e.onFail = func(c *esock, err error) {
		if measuring {
			errs++
		}
		firstErr = cmp.Or(firstErr, err)
		e.retryLater(c.id, time.Millisecond)
	}
	e.onRetry = dial
	for w := range workers {
		dial(w)
	}
	if !e.runFor(b.warmup, nil) {
		return e.stopReason()
	}
	m, err := beginMeasure(p.pid())
	if err != nil {
		return err
	}
	measuring = true
	if !e.runFor(b.duration, nil) {
		return e.stopReason()
	}
	if err := m.end(p.pid()); err != nil {
		return err
	}
	measuring = false
	e.closeClients(2 * time.Second)
	if errs > 0 {
		b.logf("  short connections: %d errors in the window (first: %v)", errs, firstErr)
	}
	if done == 0 {
		return fmt.Errorf("no connection completed (%d errors, first: %v)", errs, firstErr)
	}
	out["short.rate"] = float64(done) / m.elapsed.Seconds()
	out["short.cpu100k"] = m.proxyUsed.Seconds() / (float64(done) / 1e5)
	out["short.errors"] = float64(errs)
	b.logf("  short: %d exchanges over 200 ms", slow)
	m.cpuPercents(out, "short")
	m.wakeups(out, "short", float64(done))
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
	e, err := newEngine(b.done, b.msg)
	if err != nil {
		return err
	}
	defer e.close()
	conns, err := b.openPersistent(e, spec.conns)
	if err != nil {
		return err
	}
	if spec.rss {
		time.Sleep(time.Second)
		rss1, err := rssOf(p.pid())
		if err != nil {
			return err
		}
		out[spec.prefix+".rssidle"] = float64(rss1-rss0) / 1024 / float64(spec.conns)
	}

	req := make([]byte, 150)
	for i := range req {
		req[i] = 'q'
	}
	hist := new(histogram)
	measuring, sending := false, true
	e.replyTimeout = int64(replyTimeout)
	var errs int
	var firstErr error
	e.onReply = func(c *esock) {
		if measuring {
			hist.Record(0, time.Duration(e.now()-c.sentAt))
		}
		if spec.interval == 0 && sending {
			if err := e.send(c, req); err != nil {
				e.fail(c, err)
			}
		}
	}
	e.onFail = func(c *esock, err error) {
		errs++
		firstErr = cmp.Or(firstErr, err)
	}
	var tick func(now int64) int64
	if spec.interval == 0 {
		for _, c := range conns {
			if err := e.send(c, req); err != nil {
				e.fail(c, err)
			}
		}
	} else {
		tick = pacer(e, conns, spec.interval, req, &sending)
	}
	warmup := max(b.warmup, spec.interval) // every connection has started its schedule
	if !e.runFor(warmup, tick) {
		return e.stopReason()
	}
	m, err := beginMeasure(p.pid())
	if err != nil {
		return err
	}
	measuring = true
	if !e.runFor(b.duration, tick) {
		return e.stopReason()
	}
	if err := m.end(p.pid()); err != nil {
		return err
	}
	measuring, sending = false, false
	// Let the requests in flight finish, so that the connections are idle.
	e.runUntil(func(int64) bool { return inFlight(conns) == 0 }, e.now()+int64(replyTimeout), nil)
	if n := inFlight(conns); n > 0 && errs == 0 {
		return fmt.Errorf("%d replies never came", n)
	}
	if errs > 0 {
		return fmt.Errorf("%d connections failed (first: %v)", errs, firstErr)
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
	m.wakeups(out, spec.prefix, msgs)
	if spec.rss {
		time.Sleep(time.Second)
		rss2, err := rssOf(p.pid())
		if err != nil {
			return err
		}
		out[spec.prefix+".rssafter"] = float64(rss2-rss0) / 1024 / float64(spec.conns)
	}
	e.closeClients(5 * time.Second)
	return nil
}

// openPersistent opens n client connections through the proxy's msg
// frontend, 64 connects at a time, and waits until the backend holds n.
func (b *bench) openPersistent(e *engine, n int) ([]*esock, error) {
	dst, err := netip.ParseAddrPort(b.fe["msg"])
	if err != nil {
		return nil, err
	}
	conns := make([]*esock, 0, n)
	dialed := 0
	var firstErr error
	e.onConnected = func(c *esock) {
		c.deadline = 0
		conns = append(conns, c)
	}
	e.onFail = func(c *esock, err error) {
		firstErr = cmp.Or(firstErr, fmt.Errorf("connection %d of %d: %w", c.id+1, n, err))
	}
	tick := func(int64) int64 {
		for firstErr == nil && dialed < n && dialed-len(conns) < 64 {
			if err := e.dial(dialed, b.source(dialed), dst, 30, 5*time.Second); err != nil {
				firstErr = fmt.Errorf("connection %d of %d: %w", dialed+1, n, err)
			}
			dialed++
		}
		return 0
	}
	end := e.now() + int64(30*time.Second)
	ok := e.runUntil(func(int64) bool {
		return firstErr != nil || (len(conns) == n && b.msg.open == n)
	}, end, tick)
	switch {
	case !ok:
		return nil, e.stopReason()
	case firstErr != nil:
		return nil, firstErr
	case len(conns) < n || b.msg.open != n:
		return nil, fmt.Errorf("%d of %d connections established, the backend holds %d", len(conns), n, b.msg.open)
	}
	return conns, nil
}

// replyTimeout is how long a persistent connection waits for a reply
// before the run fails.
const replyTimeout = 5 * time.Second

// pacer returns the tick that sends one request per interval on each
// connection, their schedules spread evenly over the interval. A
// connection whose turn came while the harness was busy sends at once. A
// connection still waiting for its previous reply skips its turn: the
// latencies then miss the turns a very slow proxy would have delayed
// (coordinated omission), but a reply later than replyTimeout fails the
// run, and at one request per second a skipped turn means a reply later
// than a second, which the p99 column would already show.
func pacer(e *engine, conns []*esock, interval time.Duration, req []byte, sending *bool) func(now int64) int64 {
	next := make([]int64, len(conns)) // FIFO of turns, in the order of conns
	base := e.now()
	for i := range conns {
		next[i] = base + int64(interval)*int64(i)/int64(len(conns))
	}
	head := 0
	return func(now int64) int64 {
		for range len(conns) {
			if !*sending || next[head] > now {
				break
			}
			if c := conns[head]; c.fd >= 0 && !c.inFlight {
				if err := e.send(c, req); err != nil {
					e.fail(c, err)
				}
			}
			next[head] += int64(interval)
			head = (head + 1) % len(conns)
		}
		return next[head]
	}
}

// inFlight counts the connections waiting for a reply.
func inFlight(conns []*esock) int {
	n := 0
	for _, c := range conns {
		if c.fd >= 0 && c.inFlight {
			n++
		}
	}
	return n
}

// source returns the client source address of connection i.
func (b *bench) source(i int) netip.Addr {
	ip, _ := netip.AddrFromSlice(b.sources[i%len(b.sources)].To4())
	return ip
}
