package proxy

import (
	"sync/atomic"
	"time"
)

// swrateN is the sample count of HAProxy's sliding averages (qtime, ctime,
// ttime): the last 512 sessions.
const swrateN = 512

// Counters are the live counters of a frontend, backend, server or
// listener. Every field is updated with atomics on the hot path; readers take
// them one by one (consistent enough for stats).
type Counters struct {
	cur, max atomic.Int64 // scur, smax
	// live counts the sessions past accept (frontends, listeners): smax
	// follows it, not cur, which also holds the slots other loops took
	// for an accept still under way (and that may find nothing).
	live atomic.Int64

	tot     atomic.Int64 // stot: sessions accepted (F) or forwarded (B, S)
	connTot atomic.Int64 // conn_tot: connections accepted (F)
	bin     atomic.Int64 // bytes from clients
	bout    atomic.Int64 // bytes to clients

	econ, eresp      atomic.Int64
	wretr, wredis    atomic.Int64
	lbtot            atomic.Int64
	cliAbrt, srvAbrt atomic.Int64
	connect          atomic.Int64 // connection attempts to servers
	dcon             atomic.Int64 // denied by tcp-request connection
	dses             atomic.Int64 // denied by tcp-request session
	ereq             atomic.Int64 // request errors: none in TCP mode (a bad PROXY header is a connection error), as in HAProxy
	dreq             atomic.Int64 // denied by tcp-request content

	qcur, qmax atomic.Int64

	lastSess atomic.Int64 // unix nanoseconds of the last assignment, 0 = never

	rate     freqCtr // sessions per second
	rateMax  atomic.Int64
	connRate freqCtr // accepted connections per second (F)
	connMax  atomic.Int64

	qtime, ctime, ttime          swrate
	qtimeMax, ctimeMax, ttimeMax atomic.Int64
}

// incCur counts one more current session and raises the maximum.
func (c *Counters) incCur() {
	setMax(&c.max, c.cur.Add(1))
}

// decCur counts one session less.
func (c *Counters) decCur() { c.cur.Add(-1) }

// newSession counts a session start: total and rate.
func (c *Counters) newSession(now time.Time) {
	c.tot.Add(1)
	setMax(&c.rateMax, c.rate.inc(now))
}

// newConn counts an accepted connection (frontends and listeners).
func (c *Counters) newConn(now time.Time) {
	c.connTot.Add(1)
	setMax(&c.connMax, c.connRate.inc(now))
}

// picked counts a load-balancing decision.
func (c *Counters) picked(now time.Time) {
	c.lbtot.Add(1)
	c.lastSess.Store(now.UnixNano())
}

// queued counts one more queued session.
func (c *Counters) queued() { setMax(&c.qmax, c.qcur.Add(1)) }

// sample adds one finished session's timings (milliseconds; q or c below 0
// means not reached and counts as 0 as HAProxy does).
func (c *Counters) sample(q, conn, total int64) {
	n := c.lbtot.Load()
	q, conn = max(q, 0), max(conn, 0)
	c.qtime.add(q, n)
	c.ctime.add(conn, n)
	c.ttime.add(total, n)
	setMax(&c.qtimeMax, q)
	setMax(&c.ctimeMax, conn)
	setMax(&c.ttimeMax, total)
}

// clear resets the maxima, or every counter when all is set.
func (c *Counters) clear(all bool) {
	for _, p := range []*atomic.Int64{&c.max, &c.qmax, &c.rateMax, &c.connMax,
		&c.qtimeMax, &c.ctimeMax, &c.ttimeMax} {
		p.Store(0)
	}
	if !all {
		return
	}
	for _, p := range []*atomic.Int64{&c.tot, &c.connTot, &c.bin, &c.bout, &c.econ,
		&c.eresp, &c.wretr, &c.wredis, &c.lbtot, &c.cliAbrt, &c.srvAbrt, &c.connect,
		&c.dcon, &c.ereq, &c.dreq, &c.lastSess} {
		p.Store(0)
	}
	c.qtime.sum.Store(0)
	c.ctime.sum.Store(0)
	c.ttime.sum.Store(0)
	c.rate.reset()
	c.connRate.reset()
}

// setMax raises m to v if v is larger.
func setMax(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}

// freqCtr counts events over a sliding one-second window, as HAProxy's
// freq_ctr: the current second's count plus the previous second's count
// weighted by the part of the window it still covers.
type freqCtr struct {
	sec  atomic.Int64 // unix second of curr
	curr atomic.Int64
	prev atomic.Int64
}

// rotate moves the window to the second of now.
func (f *freqCtr) rotate(now time.Time) {
	s := now.Unix()
	for {
		old := f.sec.Load()
		if old >= s {
			return
		}
		if f.sec.CompareAndSwap(old, s) {
			c := f.curr.Swap(0)
			if old == s-1 {
				f.prev.Store(c)
			} else {
				f.prev.Store(0)
			}
			return
		}
	}
}

// inc counts one event and returns the current rate.
func (f *freqCtr) inc(now time.Time) int64 {
	f.rotate(now)
	f.curr.Add(1)
	return f.read(now)
}

// read returns the events over the last second.
func (f *freqCtr) read(now time.Time) int64 {
	s := now.Unix()
	sec, curr, prev := f.sec.Load(), f.curr.Load(), f.prev.Load()
	switch sec {
	case s:
	case s - 1:
		prev, curr = curr, 0
	default:
		return 0
	}
	rest := int64(time.Second) - int64(now.Nanosecond())
	return curr + (prev*rest+int64(time.Second)-1)/int64(time.Second)
}

func (f *freqCtr) reset() {
	f.curr.Store(0)
	f.prev.Store(0)
}

// swrate is HAProxy's sliding average over the last swrateN samples: the sum
// grows plainly while fewer than swrateN samples were taken, then each new
// sample replaces one average sample.
type swrate struct{ sum atomic.Int64 }

// add adds v; n is the number of samples so far (lbtot).
func (w *swrate) add(v, n int64) {
	for {
		old := w.sum.Load()
		nv := old + v
		if n > swrateN {
			nv = old - (old+swrateN-1)/swrateN + v
		}
		if w.sum.CompareAndSwap(old, nv) {
			return
		}
	}
}

// avg returns ceil(sum/n) with n = min(lbtot, 512) (512 when lbtot is 0).
func (w *swrate) avg(lbtot int64) int64 {
	n := min(lbtot, swrateN)
	if n <= 0 {
		n = swrateN
	}
	s := w.sum.Load()
	return (s + n - 1) / n
}
