package proxy

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{0, 100 * time.Microsecond, 101 * time.Microsecond, time.Millisecond,
		time.Minute, time.Minute + 1, -time.Second} {
		h.observe(TimeBounds, d)
	}
	s := h.snapshot(TimeBounds)
	want := map[int]uint64{0: 3, 1: 1, 3: 1, len(TimeBounds) - 1: 1, len(TimeBounds): 1}
	for i, c := range s.Counts {
		if c != want[i] {
			t.Errorf("bucket %d (le %v) = %d, want %d", i, append(TimeBounds, 0)[i], c, want[i])
		}
	}
	if wantSum := 100*time.Microsecond + 101*time.Microsecond + time.Millisecond + 2*time.Minute + 1; s.Sum != wantSum {
		t.Errorf("sum %v, want %v", s.Sum, wantSum)
	}
	if len(TimeBounds)+1 > maxBuckets || len(DurationBounds)+1 > maxBuckets {
		t.Fatalf("more bounds than maxBuckets")
	}
}

func TestHistogramObserveDoesNotAllocate(t *testing.T) {
	var h histogram
	if n := testing.AllocsPerRun(1000, func() { h.observe(DurationBounds, 90*time.Minute) }); n != 0 {
		t.Errorf("observe allocates %v times", n)
	}
}
