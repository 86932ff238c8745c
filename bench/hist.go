package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Latency histogram: log-linear buckets with 64 steps per power of two
// (under 1.6% relative error), lock-free, sharded to keep contention low.
const (
	subBits    = 6
	subCount   = 1 << subBits
	numBuckets = (64 - subBits + 1) * subCount
	numShards  = 16
)

// bucketOf returns the bucket of a value in nanoseconds.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e lies in [64, 128)
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketRange returns the smallest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	e := i/subCount - 1
	m := uint64(i%subCount + subCount)
	return m << e, 1 << e
}

// histogram counts durations; Record may be called from many goroutines.
type histogram struct {
	shards [numShards][numBuckets]atomic.Uint64
}

// Record adds d to shard (any number; it is reduced modulo the shard count).
func (h *histogram) Record(shard int, d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.shards[uint(shard)%numShards][bucketOf(uint64(d))].Add(1)
}

// snapshot merges the shards.
func (h *histogram) snapshot() []uint64 {
	out := make([]uint64, numBuckets)
	for s := range h.shards {
		for i := range h.shards[s] {
			out[i] += h.shards[s][i].Load()
		}
	}
	return out
}

// count returns the number of recorded values.
func count(counts []uint64) uint64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	return n
}

// percentile returns the value at quantile q (0 < q <= 1) of the merged
// counts: the middle of the bucket holding the ceil(q*n)-th smallest value,
// or 0 when nothing was recorded.
func percentile(counts []uint64, q float64) time.Duration {
	n := count(counts)
	if n == 0 {
		return 0
	}
	rank := uint64(q * float64(n))
	if float64(rank) < q*float64(n) || rank == 0 {
		rank++
	}
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			return time.Duration(low + width/2)
		}
	}
	low, width := bucketRange(len(counts) - 1)
	return time.Duration(low + width/2)
}
