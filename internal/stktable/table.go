package stktable

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// KeyType is the type of a table's keys.
type KeyType uint8

// Key types, as HAProxy names them in "type".
const (
	IP KeyType = iota
	IPv6
	Integer
	String
	Binary
)

var keyTypeNames = [...]string{"ip", "ipv6", "integer", "string", "binary"}

func (k KeyType) String() string { return keyTypeNames[k] }

// ParseKeyType maps a "type" word to its KeyType.
func ParseKeyType(s string) (KeyType, bool) {
	for i, n := range keyTypeNames {
		if n == s {
			return KeyType(i), true
		}
	}
	return 0, false
}

// Config describes a table, from its stick-table line.
type Config struct {
	Name    string
	Type    KeyType
	KeyLen  int // bytes HAProxy reserves for a key (string: with its NUL)
	Size    int
	Expire  time.Duration
	NoPurge bool
	// Stored lists the data types with their period (rates only).
	Stored []Stored
	// Clock returns a millisecond tick; nil uses the process clock.
	Clock func() uint32
	// ServerKeyAddr: server_key holds servers' addresses ("srvkey
	// addr"), not their names; the table only keeps what it is given.
	ServerKeyAddr bool
}

// Stored is one data type a table keeps.
type Stored struct {
	Type   DataType
	Period time.Duration
}

const nShards = 16

// Table is one stick table. Its methods are safe for concurrent use.
type Table struct {
	Name    string
	Type    KeyType
	KeyLen  int
	Size    int
	expire  uint32 // ms, 0: never
	noPurge bool
	keyAddr bool // server_key holds addresses (Config.ServerKeyAddr)

	// off is the slot of each stored data type in an entry's vals (-1:
	// not stored); period is each rate's period in ms.
	off    [NumData]int8
	period [NumData]uint32
	nvals  int

	// names are the server keys entries store by number (intern).
	namesMu sync.Mutex
	names   []string
	nameIdx map[string]uint32

	clock func() uint32
	seed  maphash.Seed
	// sync is the change log of a table peers share (sync.go); shared
	// tells it is set.
	sync   *syncState
	shared atomic.Bool
	count  atomic.Int64
	seq    atomic.Uint64 // orders the entries of one expiry tick
	shards [nShards]shard
}

// shard is a part of the table: its entries by key and their list from
// the most to the least recently used.
type shard struct {
	mu         sync.Mutex
	m          map[string]*Entry
	head, tail *Entry
}

var start = time.Now()

// processTicks is the process clock in ms, never 0 in practice.
func processTicks() uint32 { return uint32(time.Since(start)/time.Millisecond) + 1 }

// New builds an empty table.
func New(c Config) *Table {
	t := &Table{Name: c.Name, Type: c.Type, KeyLen: c.KeyLen, Size: c.Size,
		expire: uint32(c.Expire / time.Millisecond), noPurge: c.NoPurge, keyAddr: c.ServerKeyAddr, clock: c.Clock,
		seed: maphash.MakeSeed()}
	if t.clock == nil {
		t.clock = processTicks
	}
	for i := range t.off {
		t.off[i] = -1
	}
	for _, s := range c.Stored {
		if t.off[s.Type] >= 0 {
			continue
		}
		t.off[s.Type] = int8(t.nvals)
		t.nvals++
		if s.Type.IsRate() {
			t.period[s.Type] = uint32(s.Period / time.Millisecond)
			t.nvals++ // a rate takes two slots
		}
	}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*Entry)
	}
	return t
}

// Stores reports whether the table keeps data type d.
func (t *Table) Stores(d DataType) bool { return t.off[d] >= 0 }

// Period is the period of rate d in ms.
func (t *Table) Period(d DataType) uint32 { return t.period[d] }

// Now is the table's clock in ms ticks.
func (t *Table) Now() uint32 { return t.clock() }

// Used is the number of entries (HAProxy's "used").
func (t *Table) Used() int { return int(t.count.Load()) }

func (t *Table) shardOf(key string) *shard {
	return &t.shards[maphash.String(t.seed, key)%nShards]
}

// Track returns the entry of key, created when missing, with one more
// reference (the caller's Release gives it back). It returns nil when the
// table is full and nothing can be evicted (or nopurge forbids it).
func (t *Table) Track(key string) *Entry {
	now := t.clock()
	sh := t.shardOf(key)
	sh.mu.Lock()
	t.expireTail(sh, now)
	if e := sh.m[key]; e != nil {
		e.ref.Add(1)
		sh.mu.Unlock()
		return e
	}
	sh.mu.Unlock()
	if !t.reserve() {
		return nil
	}
	e := &Entry{key: key}
	if t.nvals <= len(e.inl) {
		e.vals = e.inl[:t.nvals]
	} else {
		e.vals = make([]uint64, t.nvals)
	}
	e.ref.Store(1)
	sh.mu.Lock()
	if o := sh.m[key]; o != nil { // another loop created it meanwhile
		sh.mu.Unlock()
		t.count.Add(-1)
		o.ref.Add(1)
		return o
	}
	t.initData(e, now)
	e.exp = now + t.expire
	sh.m[key] = e
	e.seq = t.seq.Add(1)
	sh.pushFront(e)
	sh.mu.Unlock()
	return e
}

// initData starts the rates' periods at now, as a new entry's.
func (t *Table) initData(e *Entry, now uint32) {
	for d := DataType(0); d < NumData; d++ {
		if d.IsRate() && t.off[d] >= 0 {
			e.vals[t.off[d]] = uint64(now) << 32
		}
	}
}

// reserve takes a place for a new entry, evicting the oldest unused ones
// when the table is full, as HAProxy's __stksess_new.
func (t *Table) reserve() bool {
	for try := 0; try < 2; try++ {
		if t.count.Add(1) <= int64(t.Size) {
			return true
		}
		t.count.Add(-1)
		if t.noPurge || try > 0 {
			return false
		}
		if t.evict(t.Size>>8+1) == 0 {
			return false
		}
	}
	return false
}

// evict removes up to n of the least recently used entries nobody
// references, the oldest first across the shards.
func (t *Table) evict(n int) int {
	done := 0
	for done < n {
		// The shard whose least recently used entry is the oldest:
		// the first to expire, the first placed among those of a tick.
		var best *shard
		var bestLeft int32
		var bestSeq uint64
		now := t.clock()
		for i := range t.shards {
			sh := &t.shards[i]
			sh.mu.Lock()
			if e := sh.oldestFree(); e != nil {
				left := int32(e.exp - now)
				if best == nil || left < bestLeft || (left == bestLeft && e.seq < bestSeq) {
					best, bestLeft, bestSeq = sh, left, e.seq
				}
			}
			sh.mu.Unlock()
		}
		if best == nil {
			break
		}
		best.mu.Lock()
		if e := best.oldestFree(); e != nil {
			t.remove(best, e)
			done++
		}
		best.mu.Unlock()
	}
	return done
}

// oldestFree is the least recently used entry without references.
func (sh *shard) oldestFree() *Entry {
	for e, i := sh.tail, 0; e != nil && i < 64; e, i = e.prev, i+1 {
		if e.ref.Load() == 0 {
			return e
		}
	}
	return nil
}

// expireTail removes the expired unused entries at the end of a shard's
// list (a few at a time: the rest go at the next call or a Sweep).
func (t *Table) expireTail(sh *shard, now uint32) {
	if t.expire == 0 {
		return
	}
	for i := 0; i < 4 && sh.tail != nil; i++ {
		e := sh.tail
		if e.ref.Load() != 0 || int32(e.exp-now) > 0 {
			return
		}
		t.remove(sh, e)
	}
}

// Sweep removes every expired entry nobody references. The lists are in
// the order of last use, which is the order of expiry: a shard's walk
// stops at the first entry that has not expired, so a sweep costs the
// entries it removes and the referenced ones it steps over.
func (t *Table) Sweep() {
	if t.expire == 0 {
		return
	}
	now := t.clock()
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for e := sh.tail; e != nil; {
			prev := e.prev
			if e.ref.Load() == 0 {
				if int32(e.exp-now) > 0 {
					break
				}
				t.remove(sh, e)
			}
			e = prev
		}
		sh.mu.Unlock()
	}
}

// Expires reports whether the table's entries expire.
func (t *Table) Expires() bool { return t.expire != 0 }

func (t *Table) remove(sh *shard, e *Entry) {
	e.upd.Store(0)
	e.gone.Store(true)
	delete(sh.m, e.key)
	sh.unlink(e)
	t.count.Add(-1)
}

// Lookup returns the entry of key without creating it, nil when missing
// or expired.
func (t *Table) Lookup(key string) *Entry {
	now := t.clock()
	sh := t.shardOf(key)
	sh.mu.Lock()
	t.expireTail(sh, now)
	e := sh.m[key]
	if e != nil && t.expire != 0 && e.ref.Load() == 0 && int32(e.exp-now) <= 0 {
		t.remove(sh, e)
		e = nil
	}
	sh.mu.Unlock()
	return e
}

// Release gives back a reference Track took and refreshes the entry's
// expiry (HAProxy touches an entry when a tracker lets it go).
func (t *Table) Release(e *Entry) {
	t.Touch(e)
	e.ref.Add(-1)
}

// Touch refreshes an entry's expiry and makes it the most recently used.
// Within one millisecond nothing moves: HAProxy orders entries by their
// expiry tick, and entries of one tick stay in the order they came.
func (t *Table) Touch(e *Entry) {
	sh := t.shardOf(e.key)
	exp := t.clock() + t.expire
	sh.mu.Lock()
	live := sh.m[e.key] == e
	if exp != e.exp && live {
		e.exp = exp
		e.seq = t.seq.Add(1)
		sh.unlink(e)
		sh.pushFront(e)
	}
	sh.mu.Unlock()
	if live && t.shared.Load() {
		t.markLocal(e)
	}
}

// Delete removes the entry of key; false when it is missing or in use
// (HAProxy's "clear table ... key" leaves a referenced entry).
func (t *Table) Delete(key string) bool {
	sh := t.shardOf(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[key]
	if e == nil || e.ref.Load() != 0 {
		return false
	}
	t.remove(sh, e)
	return true
}

// Walk calls fn for each entry, a shard at a time, until fn returns
// false. fn must not call the table's methods.
func (t *Table) Walk(fn func(e *Entry) bool) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for e := sh.head; e != nil; e = e.next {
			if !fn(e) {
				sh.mu.Unlock()
				return
			}
		}
		sh.mu.Unlock()
	}
}

// Remaining is the time left before e expires, in ms (0 once past, and
// always 0 in a table without expire), as "show table" prints it.
func (t *Table) Remaining(e *Entry) int {
	if t.expire == 0 {
		return 0
	}
	r := int32(e.exp - t.clock())
	if r < 0 {
		return 0
	}
	return int(r)
}

func (sh *shard) pushFront(e *Entry) {
	e.prev, e.next = nil, sh.head
	if sh.head != nil {
		sh.head.prev = e
	}
	sh.head = e
	if sh.tail == nil {
		sh.tail = e
	}
}

func (sh *shard) unlink(e *Entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if sh.head == e {
		sh.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else if sh.tail == e {
		sh.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
