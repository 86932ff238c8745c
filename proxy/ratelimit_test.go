package proxy

import "testing"

// TestConnRateSlidingWindow follows HAProxy's freq_ctr estimate with a
// limit of 4/s: a burst of 4 (the first starts the period), nothing more
// until the period ends, then one connection per 250 ms as the previous
// period's weight fades.
func TestConnRateSlidingWindow(t *testing.T) {
	var r connRate
	r.limit.Store(4)
	take := r.take
	for i := range 4 {
		if ok, _ := take(0); !ok {
			t.Fatalf("connection %d of the first burst refused", i+1)
		}
	}
	if ok, at := take(10); ok || at != 1001 {
		t.Fatalf("5th connection at 10 ms: allowed %v, retry at %d; want refused until 1001", ok, at)
	}
	if ok, _ := take(1000); ok {
		t.Fatal("allowed at 1000 ms: the first period still counts whole")
	}
	var got []int64
	for now := int64(1001); now < 3000 && len(got) < 8; {
		ok, at := take(now)
		if ok {
			got = append(got, now)
			continue // the next one at the same instant is refused
		}
		if at <= now {
			t.Fatalf("refused at %d with retry at %d", now, at)
		}
		now = at
	}
	want := []int64{1001, 1251, 1501, 1751, 2001, 2251, 2501, 2751}
	if len(got) != len(want) {
		t.Fatalf("accepted at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("accepted at %v, want %v", got, want)
		}
	}
	// After two idle periods the estimate is back to zero.
	if ok, _ := take(10000); !ok {
		t.Error("refused after a long pause")
	}
	r.limit.Store(0)
	for range 100 {
		if ok, _ := take(10000); !ok {
			t.Fatal("refused without a limit")
		}
	}
}

// TestConnRateRetryIsFirstAllowed checks that the retry time nextAllowed
// gives is exactly the first allowed millisecond, for many states.
func TestConnRateRetryIsFirstAllowed(t *testing.T) {
	for _, lim := range []int64{1, 3, 10, 1000} {
		for _, st := range []struct{ tick, curr, prev, now int64 }{
			{0, lim, 0, 5}, {1000, lim / 2, lim, 1200}, {1000, lim + 2, 2 * lim, 1999}, {1000, lim, lim, 2500},
		} {
			r := connRate{started: true, tick: st.tick, curr: st.curr, prev: st.prev}
			r.limit.Store(lim)
			ok, at := r.take(st.now)
			if ok {
				continue
			}
			if r.total(at) >= lim*ratePeriod || r.total(at-1) < lim*ratePeriod {
				t.Errorf("limit %d, state %+v: retry at %d is not the first allowed millisecond", lim, st, at)
			}
		}
	}
}

// TestConnRateCancel gives back the connections of accepts that found
// nothing: they do not count against the limit.
func TestConnRateCancel(t *testing.T) {
	var r connRate
	r.limit.Store(2)
	for range 10 {
		if ok, _ := r.take(5); !ok {
			t.Fatal("refused although every earlier take was cancelled")
		}
		r.cancel()
	}
	for i := range 2 {
		if ok, _ := r.take(5); !ok {
			t.Fatalf("take %d refused", i+1)
		}
	}
	if ok, _ := r.take(5); ok || r.retryAt(5) == 0 {
		t.Error("a third connection allowed with a limit of 2")
	}
}

// TestConnRateCountsWithoutLimit: connections are counted while no limit
// is set, so a limit set at run time applies to the traffic under way.
func TestConnRateCountsWithoutLimit(t *testing.T) {
	var r connRate
	for range 10 {
		if ok, _ := r.take(100); !ok {
			t.Fatal("refused without a limit")
		}
	}
	r.limit.Store(5)
	if ok, at := r.take(200); ok || at <= 200 {
		t.Errorf("with 10 connections in the last second and a new limit of 5: allowed %v, retry at %d", ok, at)
	}
}
