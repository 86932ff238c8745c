package proxy

import (
	"sync/atomic"
	"time"
)

// Distributions of session timings beyond HAProxy's averages and maxima
// (goproxy extension): per server and per backend, the queue time, the
// connect time and the duration of every session that reached a server,
// the sample HAProxy's qtime/ctime/ttime averages are made of. A session
// observes its connect and queue times when its server connection is
// established and its duration when it ends: a few compares and two atomic
// additions per histogram, no lock, no allocation. Readers (the exporter)
// take Times snapshots at scrape time.

// TimeBounds are the upper bounds of the queue and connect time buckets:
// from 100 µs (a loopback or same-rack connect) to a minute (a long queue).
var TimeBounds = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
	30 * time.Second, time.Minute,
}

// DurationBounds are the upper bounds of the session duration buckets: from
// 10 ms (a short request) to a day, dense around the hour-long sessions of
// CMPP/SMPP gateways.
var DurationBounds = []time.Duration{
	10 * time.Millisecond, 100 * time.Millisecond, time.Second, 10 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
	2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour,
}

// maxBuckets bounds the buckets of a histogram, +Inf included.
const maxBuckets = 20

// histogram counts durations in buckets; observe and snapshot may run
// concurrently.
type histogram struct {
	counts [maxBuckets]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func (h *histogram) observe(bounds []time.Duration, d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// snapshot reads the histogram; the count is the sum of the buckets.
func (h *histogram) snapshot(bounds []time.Duration) Histogram {
	out := Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds)+1)}
	for i := range out.Counts {
		out.Counts[i] = h.counts[i].Load()
	}
	out.Sum = time.Duration(h.sum.Load())
	return out
}

// Histogram is a snapshot of a distribution of durations.
type Histogram struct {
	Bounds []time.Duration // upper bounds (inclusive) of the buckets but the last
	Counts []uint64        // observations per bucket, len(Bounds)+1: the last is above every bound
	Sum    time.Duration
}

// SessionTimes are the timing distributions of a server or a backend.
type SessionTimes struct {
	Queue, Connect, Duration Histogram
}

// observed is what a server or a backend records beyond HAProxy's counters.
type observed struct {
	queue, connect, duration histogram
	shutdown                 atomic.Int64 // sessions cut by shutdown sessions / on-marked-down
}

func (o *observed) times() SessionTimes {
	return SessionTimes{
		Queue:    o.queue.snapshot(TimeBounds),
		Connect:  o.connect.snapshot(TimeBounds),
		Duration: o.duration.snapshot(DurationBounds),
	}
}

// Times returns the server's timing distributions.
func (s *Server) Times() SessionTimes { return s.obs.times() }

// Times returns the backend's timing distributions.
func (b *Backend) Times() SessionTimes { return b.obs.times() }

// SessionsShutdown counts the sessions cut on the server by "shutdown
// sessions server", "shutdown session" and on-marked-down shutdown-sessions.
func (s *Server) SessionsShutdown() int64 { return s.obs.shutdown.Load() }

// HandedOff counts the sessions this process handed over to its successor
// at a reload (session-handoff).
func (g *Graph) HandedOff() int64 { return g.handedOff.Load() }

// TakenOver counts the sessions this process adopted from its predecessor
// at a reload (session-handoff).
func (g *Graph) TakenOver() int64 { return g.takenOver.Load() }

// observeConnected records the queue and connect times of a session whose
// server connection was just established. The queue time has HAProxy's
// millisecond resolution (Tw), the connect time the loop clock's.
func (s *session) observeConnected() {
	c := time.Duration(s.l.now - s.tConnStart)
	q := time.Duration(max(s.tw, 0)) * time.Millisecond
	s.srv.obs.connect.observe(TimeBounds, c)
	s.be.obs.connect.observe(TimeBounds, c)
	s.srv.obs.queue.observe(TimeBounds, q)
	s.be.obs.queue.observe(TimeBounds, q)
}

// observeEnd records the duration of a session that reached its server, as
// it ends.
func (s *session) observeEnd() {
	d := time.Duration(s.l.now - s.tAccept)
	s.srv.obs.duration.observe(DurationBounds, d)
	s.be.obs.duration.observe(DurationBounds, d)
}

// countShutdown counts a session cut by an operator or on-marked-down on
// its server.
func (s *session) countShutdown() {
	if s.srv != nil && s.has(fSlot) {
		s.srv.obs.shutdown.Add(1)
	}
}
