package proxy

import (
	"sync/atomic"
	"time"
)

// connRate limits the connections accepted per second by the whole process
// (global maxconnrate, "set rate-limit connections global"). It counts in
// one-second windows; when a window is full, listeners leave the epoll set
// until the next second, and clients wait in the kernel backlog, as with
// maxconn.
type connRate struct {
	limit atomic.Int64 // 0: unlimited
	sec   atomic.Int64 // unix second of the current window
	count atomic.Int64 // connections accepted in it
}

// take counts one connection at now; false means the window is full.
func (r *connRate) take(now time.Time) bool {
	lim := r.limit.Load()
	if lim <= 0 {
		return true
	}
	sec := now.Unix()
	if old := r.sec.Load(); old != sec && r.sec.CompareAndSwap(old, sec) {
		r.count.Store(0)
	}
	if r.count.Add(1) > lim {
		r.count.Add(-1)
		return false
	}
	return true
}

// full reports whether the window of now is full.
func (r *connRate) full(now time.Time) bool {
	lim := r.limit.Load()
	return lim > 0 && r.sec.Load() == now.Unix() && r.count.Load() >= lim
}

// nextWindow is how long until the next one-second window starts.
func nextWindow(now time.Time) time.Duration {
	return time.Second - time.Duration(now.Nanosecond())
}

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
