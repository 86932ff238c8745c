package stktable

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable millisecond clock.
type fakeClock struct {
	mu  sync.Mutex
	now uint32
}

func (c *fakeClock) tick() uint32  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(ms uint32) { c.mu.Lock(); c.now += ms; c.mu.Unlock() }

func newTable(c *fakeClock, size int, expire time.Duration, nopurge bool, st ...Stored) *Table {
	return New(Config{Name: "t", Type: IP, KeyLen: 4, Size: size, Expire: expire, NoPurge: nopurge, Stored: st, Clock: c.tick})
}

func ipKey(t *Table, s string) string {
	k, _ := t.KeyAddr(netip.MustParseAddr(s))
	return k
}

func TestExpiry(t *testing.T) {
	c := &fakeClock{now: 1000}
	tb := newTable(c, 10, 2*time.Second, false, Stored{Type: ConnCnt})
	e := tb.Track(ipKey(tb, "10.0.0.1"))
	tb.Add(e, ConnCnt, 1)
	tb.Release(e)
	c.add(1500)
	if got := tb.Remaining(tb.Lookup(ipKey(tb, "10.0.0.1"))); got != 500 {
		t.Fatalf("remaining %d, want 500", got)
	}
	// A referenced entry outlives its expiry; released, it gets a new one.
	e = tb.Track(ipKey(tb, "10.0.0.1"))
	c.add(3000)
	tb.Sweep()
	if tb.Used() != 1 {
		t.Fatalf("referenced entry swept")
	}
	tb.Release(e)
	c.add(1999)
	tb.Sweep()
	if tb.Used() != 1 {
		t.Fatalf("entry expired early")
	}
	c.add(1)
	if tb.Lookup(ipKey(tb, "10.0.0.1")) != nil || tb.Used() != 0 {
		t.Fatalf("expired entry still there (used %d)", tb.Used())
	}
}

func TestEvictOldestUnused(t *testing.T) {
	c := &fakeClock{now: 1}
	tb := newTable(c, 3, 0, false)
	held := tb.Track(ipKey(tb, "10.0.0.1")) // the oldest, but in use
	for _, ip := range []string{"10.0.0.2", "10.0.0.3"} {
		c.add(10)
		tb.Release(tb.Track(ipKey(tb, ip)))
	}
	c.add(10)
	tb.Release(tb.Track(ipKey(tb, "10.0.0.4")))
	if tb.Used() != 3 {
		t.Fatalf("used %d, want 3", tb.Used())
	}
	if tb.Lookup(ipKey(tb, "10.0.0.1")) == nil || tb.Lookup(ipKey(tb, "10.0.0.2")) != nil {
		t.Fatalf("evicted the wrong entry: want 10.0.0.2 gone, 10.0.0.1 (in use) kept")
	}
	tb.Release(held)
}

func TestNoPurgeRefuses(t *testing.T) {
	c := &fakeClock{now: 1}
	tb := newTable(c, 2, 0, true)
	tb.Release(tb.Track(ipKey(tb, "10.0.0.1")))
	tb.Release(tb.Track(ipKey(tb, "10.0.0.2")))
	if e := tb.Track(ipKey(tb, "10.0.0.3")); e != nil {
		t.Fatalf("nopurge table took a third entry")
	}
	if e := tb.Track(ipKey(tb, "10.0.0.1")); e == nil {
		t.Fatalf("an existing entry must still be tracked")
	}
}

func TestRate(t *testing.T) {
	c := &fakeClock{now: 5000}
	tb := newTable(c, 10, 0, false, Stored{Type: ConnRate, Period: 10 * time.Second})
	e := tb.Track(ipKey(tb, "10.0.0.1"))
	for i := 0; i < 20; i++ {
		tb.Add(e, ConnRate, 1)
	}
	if v, _ := tb.Get(e, ConnRate); v != 20 {
		t.Fatalf("rate %d, want 20", v)
	}
	// Half into the next period, half of the previous one counts.
	c.add(15000)
	if v, _ := tb.Get(e, ConnRate); v != 10 {
		t.Fatalf("rate %d half a period later, want 10", v)
	}
	c.add(10000)
	if v, _ := tb.Get(e, ConnRate); v != 0 {
		t.Fatalf("rate %d two periods later, want 0", v)
	}
}

func TestConcurrentTrack(t *testing.T) {
	tb := New(Config{Name: "t", Type: IP, KeyLen: 4, Size: 1000, Stored: []Stored{{Type: ConnCnt}, {Type: ConnCur}}})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				e := tb.Track(ipKey(tb, "10.0.0.1"))
				tb.Add(e, ConnCnt, 1)
				tb.Release(e)
			}
		}()
	}
	wg.Wait()
	if v, _ := tb.Get(tb.Lookup(ipKey(tb, "10.0.0.1")), ConnCnt); v != 8000 || tb.Used() != 1 {
		t.Fatalf("conn_cnt %d used %d, want 8000 and 1", v, tb.Used())
	}
}

func TestKeys(t *testing.T) {
	s := New(Config{Type: String, KeyLen: 5, Size: 1})
	if k := s.KeyBytes([]byte("abcdefg")); k != "abcd" {
		t.Fatalf("string key %q", k)
	}
	b := New(Config{Type: Binary, KeyLen: 4, Size: 1})
	if f := b.FormatKey(b.KeyBytes([]byte{0xab})); f != "AB000000" {
		t.Fatalf("binary key %s", f)
	}
	i := New(Config{Type: Integer, KeyLen: 4, Size: 1})
	if f := i.FormatKey(i.KeyInt(4294967297)); f != "1" {
		t.Fatalf("integer key %s", f)
	}
	v6 := New(Config{Type: IPv6, KeyLen: 16, Size: 1})
	k, _ := v6.KeyAddr(netip.MustParseAddr("127.0.0.1"))
	if f := v6.FormatKey(k); f != "::ffff:127.0.0.1" {
		t.Fatalf("ipv6 key %s", f)
	}
}
