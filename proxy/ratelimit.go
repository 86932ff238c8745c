package proxy

import (
	"sync"
	"sync/atomic"
	"time"
)

// connRate limits the connections accepted per second by the whole process
// (global maxconnrate, "set rate-limit connections global"), with HAProxy's
// estimate of the rate (freq_ctr over a one-second period): the count of the
// current period plus the previous period's count weighted by the part of
// the last second it still covers. A listener that finds the estimate at
// the limit leaves the epoll set until the estimate drops below it, and its
// clients wait in the kernel backlog, as with maxconn. Where HAProxy polls
// again after its own estimate of the wait (often 1 ms), goproxy computes
// the first millisecond at which a connection is allowed.
type connRate struct {
	limit atomic.Int64 // 0: unlimited

	mu         sync.Mutex
	started    bool  // a connection was counted: tick is set
	tick       int64 // ms: start of the current period (the first one at the first connection, as HAProxy)
	curr, prev int64 // connections in the current and previous periods
}

// ratePeriod is the period of the estimate, in ms.
const ratePeriod = 1000

// total is HAProxy's freq_ctr_total at now (ms): the events of the last
// second, times the period.
func (r *connRate) total(now int64) int64 {
	curr, past := r.curr, r.prev
	remain := r.tick + ratePeriod - now
	if remain < 0 {
		remain += ratePeriod
		past = 0
		if remain >= 0 {
			past = curr
		}
		curr = 0
	}
	// A loop's clock may lag the one that started the period by a little.
	return past*min(max(remain, 0), ratePeriod) + curr*ratePeriod
}

// take counts a connection about to be accepted at now (ms on any
// monotonic clock), when the estimate allows one; otherwise it counts
// nothing and returns the first millisecond at which one will be allowed.
// Checking and counting under one lock keeps loops that accept at the same
// moment from both taking the last connection of the second. An accept
// that finds nothing gives the connection back with cancel.
//
// Connections are counted with no limit set too, as HAProxy does, so that
// a limit set at run time applies to the traffic already flowing.
func (r *connRate) take(now int64) (ok bool, retryAt int64) {
	lim := r.limit.Load()
	r.mu.Lock()
	defer r.mu.Unlock()
	if lim > 0 && r.total(now) >= lim*ratePeriod {
		return false, r.nextAllowed(now, lim)
	}
	if !r.started {
		r.started, r.tick = true, now
	}
	if now-r.tick >= ratePeriod {
		r.prev, r.curr = r.curr, 0
		r.tick += ratePeriod
		if now-r.tick >= ratePeriod { // at least two periods without events
			r.prev, r.tick = 0, now
		}
	}
	r.curr++
	return true, 0
}

// cancel gives back a connection take counted and that was not accepted.
func (r *connRate) cancel() {
	r.mu.Lock()
	if r.curr > 0 {
		r.curr--
	}
	r.mu.Unlock()
}

// retryAt returns the first millisecond after now at which a connection
// will be allowed, or 0 when one is allowed now (or there is no limit).
func (r *connRate) retryAt(now int64) int64 {
	lim := r.limit.Load()
	if lim <= 0 {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.total(now) < lim*ratePeriod {
		return 0
	}
	return r.nextAllowed(now, lim)
}

// nextAllowed returns the first millisecond after now at which the estimate
// is under lim (it only falls while nothing is counted, and reaches 0 two
// periods on).
func (r *connRate) nextAllowed(now, lim int64) int64 {
	lo, hi := now, now+2*ratePeriod+1 // total(lo) >= limit, total(hi) == 0
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if r.total(mid) >= lim*ratePeriod {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// rateNow is the limiter's clock: ms since the graph was built.
func (g *Graph) rateNow() int64 { return int64(time.Since(g.base) / time.Millisecond) }

// ConnRateLimit returns the global connection rate limit (0 = none).
func (g *Graph) ConnRateLimit() int64 { return g.rate.limit.Load() }

// SetConnRateLimit changes the global connection rate limit (0 removes
// it), as "set rate-limit connections global" does.
func (g *Graph) SetConnRateLimit(n int64) {
	if n < 0 {
		n = 0
	}
	g.rate.limit.Store(n)
	g.wakeListeners()
}
