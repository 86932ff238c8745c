package stktable

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestChangesAfter(t *testing.T) {
	var now uint32 = 1000
	tb := New(Config{Name: "t", Type: IP, KeyLen: 4, Size: 10, Expire: time.Minute,
		Stored: []Stored{{Type: ConnCnt}, {Type: ServerID}}, Clock: func() uint32 { return now }})
	var woken atomic.Int32
	tb.Share(func() { woken.Add(1) })
	a, b := tb.Track("aaaa"), tb.Track("bbbb")
	tb.Release(a) // 1
	tb.Release(b) // 2
	now++
	tb.Touch(a) // 3: a's record 1 is stale now
	got := tb.ChangesAfter(0, 10)
	if len(got) != 2 || got[0].Entry != b || got[0].ID != 2 || got[1].Entry != a || got[1].ID != 3 {
		t.Fatalf("changes after 0: %+v", got)
	}
	if got := tb.ChangesAfter(2, 10); len(got) != 1 || got[0].ID != 3 {
		t.Fatalf("changes after 2: %+v", got)
	}
	if tb.LocalUpdate() != 3 || woken.Load() != 3 {
		t.Fatalf("localupdate %d, notified %d", tb.LocalUpdate(), woken.Load())
	}
	tb.Delete("bbbb")
	if got := tb.ChangesAfter(0, 10); len(got) != 1 || got[0].Entry != a {
		t.Fatalf("a removed entry is still pushed: %+v", got)
	}
	// An imported entry is not numbered: it is not pushed on.
	var r Raw
	r.Val[ConnCnt], r.Val[ServerID] = 7, 2
	var set [NumData]bool
	set[ConnCnt], set[ServerID] = true, true
	if !tb.Import("cccc", &r, &set, 5000) {
		t.Fatal("import refused")
	}
	if got := tb.ChangesAfter(3, 10); len(got) != 0 {
		t.Fatalf("an imported entry is pushed: %+v", got)
	}
	e := tb.Lookup("cccc")
	if e == nil || tb.Server(e) != 2 || tb.Remaining(e) != 5000 {
		t.Fatalf("imported entry: %v", e)
	}
	if v, _ := tb.Get(e, ConnCnt); v != 7 {
		t.Fatalf("conn_cnt %d", v)
	}
	x := tb.Export(e)
	if x.Val[ConnCnt] != 7 || x.Val[ServerID] != 2 || x.Remaining != 5000 {
		t.Fatalf("export %+v", x)
	}
}

func TestRateRoundTrip(t *testing.T) {
	var now uint32 = 50000
	mk := func() *Table {
		return New(Config{Name: "t", Type: IP, KeyLen: 4, Size: 10,
			Stored: []Stored{{Type: ConnRate, Period: 10 * time.Second}}, Clock: func() uint32 { return now }})
	}
	src, dst := mk(), mk()
	e := src.Track("abcd")
	for i := 0; i < 5; i++ {
		src.Add(e, ConnRate, 1)
	}
	r := src.Export(e)
	var set [NumData]bool
	set[ConnRate] = true
	dst.Import("abcd", &r, &set, 0)
	if v, _ := dst.Get(dst.Lookup("abcd"), ConnRate); v != 5 {
		t.Fatalf("conn_rate after import: %d", v)
	}
}
