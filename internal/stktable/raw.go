package stktable

// Raw is an entry's stored data as peers exchange it: counters as they
// are, rates as their frequency counter (the tick their period began,
// the current and previous counts), the server key by name.
type Raw struct {
	Val        [NumData]uint64
	Tick       [NumData]uint32
	Curr, Prev [NumData]uint32
	Skey       string
	// Remaining is the time left before the entry expires, in ms.
	Remaining uint32
}

// Export copies e's data.
func (t *Table) Export(e *Entry) Raw {
	var r Raw
	var k uint64
	e.mu.Lock()
	for d := DataType(0); d < NumData; d++ {
		o := t.off[d]
		switch {
		case o < 0:
		case d.IsRate():
			r.Tick[d], r.Curr[d] = uint32(e.vals[o]>>32), uint32(e.vals[o])
			r.Prev[d] = uint32(e.vals[o+1])
		case d == ServerKey:
			k = e.vals[o]
		default:
			r.Val[d] = e.vals[o]
		}
	}
	e.mu.Unlock()
	r.Skey = t.serverKey(k)
	r.Remaining = uint32(t.Remaining(e))
	return r
}

// Import stores what a peer sent for key: the data types of set the
// table stores take r's values, and the entry expires in expire ms (a
// peer's update, stktable_touch_remote). It creates the entry when
// missing; false when the table is full and nothing can be evicted.
func (t *Table) Import(key string, r *Raw, set *[NumData]bool, expire uint32) bool {
	e := t.Track(key)
	if e == nil {
		return false
	}
	var sk uint32
	if set[ServerKey] && t.off[ServerKey] >= 0 && r.Skey != "" {
		sk = t.intern(r.Skey)
	}
	e.mu.Lock()
	for d := DataType(0); d < NumData; d++ {
		o := t.off[d]
		if o < 0 || !set[d] {
			continue
		}
		switch {
		case d.IsRate():
			e.vals[o] = uint64(r.Tick[d])<<32 | uint64(r.Curr[d])
			e.vals[o+1] = uint64(r.Prev[d])
		case d == ServerKey:
			if sk != 0 {
				e.vals[o] = uint64(sk)
			}
		case d == ServerID:
			e.vals[o] = uint64(uint32(r.Val[d]))
		default:
			e.vals[o] = r.Val[d]
		}
	}
	e.mu.Unlock()
	sh := t.shardOf(e.key)
	now := t.clock()
	sh.mu.Lock()
	if sh.m[e.key] == e {
		e.exp = now + expire
		e.seq = t.seq.Add(1)
		sh.unlink(e)
		sh.pushFront(e)
	}
	sh.mu.Unlock()
	e.ref.Add(-1)
	return true
}

// ExpireMs is the table's expire in ms (0: never).
func (t *Table) ExpireMs() uint32 { return t.expire }

// Entries returns the live entries, a shard at a time (for a full
// resync: the caller exports each on its own time).
func (t *Table) Entries() []*Entry {
	var out []*Entry
	t.Walk(func(e *Entry) bool {
		out = append(out, e)
		return true
	})
	return out
}
