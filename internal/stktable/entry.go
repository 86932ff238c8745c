package stktable

import (
	"sync"
	"sync/atomic"
)

// DataType is a stored data type, in HAProxy's enum order (the order
// "show table" prints them in).
type DataType uint8

// The data types goproxy stores.
const (
	ServerID DataType = iota
	GPT0
	GPC0
	GPC0Rate
	ConnCnt
	ConnRate
	ConnCur
	SessCnt
	SessRate
	HTTPReqCnt
	HTTPReqRate
	HTTPErrCnt
	HTTPErrRate
	BytesInCnt
	BytesInRate
	BytesOutCnt
	BytesOutRate
	GPC1
	GPC1Rate
	ServerKey
	HTTPFailCnt
	HTTPFailRate
	NumData
)

var dataNames = [NumData]string{
	"server_id", "gpt0", "gpc0", "gpc0_rate", "conn_cnt", "conn_rate", "conn_cur",
	"sess_cnt", "sess_rate", "http_req_cnt", "http_req_rate", "http_err_cnt",
	"http_err_rate", "bytes_in_cnt", "bytes_in_rate", "bytes_out_cnt", "bytes_out_rate",
	"gpc1", "gpc1_rate", "server_key", "http_fail_cnt", "http_fail_rate",
}

func (d DataType) String() string { return dataNames[d] }

// IsRate reports whether d is a frequency counter.
func (d DataType) IsRate() bool {
	switch d {
	case GPC0Rate, ConnRate, SessRate, HTTPReqRate, HTTPErrRate, BytesInRate, BytesOutRate, GPC1Rate, HTTPFailRate:
		return true
	}
	return false
}

// ParseDataType maps a data type's name to it.
func ParseDataType(s string) (DataType, bool) {
	for i, n := range dataNames {
		if n == s {
			return DataType(i), true
		}
	}
	return 0, false
}

// Entry is one key of a table with its data.
type Entry struct {
	key        string
	prev, next *Entry // the shard's list, guarded by the shard's lock
	exp        uint32 // ms tick it expires at, guarded by the shard's lock
	ref        atomic.Int32
	seq        uint64 // when it took its place in the list (ties of exp)
	entrySync

	mu   sync.Mutex // guards vals
	vals []uint64   // by Table.off; a rate takes two slots
	// inl holds vals when they fit, saving an allocation per entry.
	inl [4]uint64
}

// Key is the entry's key as the table stores it.
func (e *Entry) Key() string { return e.key }

// Refs is the number of trackers holding the entry ("use=").
func (e *Entry) Refs() int { return int(e.ref.Load()) }

// Add adds n to counter d (a rate counts n events now); it does nothing
// when the table does not store d.
func (t *Table) Add(e *Entry, d DataType, n uint64) {
	o := t.off[d]
	if o < 0 {
		return
	}
	e.mu.Lock()
	t.addLocked(e, d, int(o), n)
	e.mu.Unlock()
}

func (t *Table) addLocked(e *Entry, d DataType, o int, n uint64) {
	if !d.IsRate() {
		e.vals[o] += n
		return
	}
	f := freq{tick: uint32(e.vals[o] >> 32), curr: uint32(e.vals[o]), prev: uint32(e.vals[o+1])}
	f.add(t.clock(), t.period[d], uint32(n))
	e.vals[o] = uint64(f.tick)<<32 | uint64(f.curr)
	e.vals[o+1] = uint64(f.prev)
}

// Counts adds one to a counter and one event to its rate, as HAProxy
// updates conn_cnt and conn_rate together.
func (t *Table) Counts(e *Entry, cnt, rate DataType, n uint64) {
	oc, or := t.off[cnt], t.off[rate]
	if oc < 0 && or < 0 {
		return
	}
	e.mu.Lock()
	if oc >= 0 {
		t.addLocked(e, cnt, int(oc), n)
	}
	if or >= 0 {
		t.addLocked(e, rate, int(or), n)
	}
	e.mu.Unlock()
}

// Dec takes one from counter d, never below 0 (conn_cur at close).
func (t *Table) Dec(e *Entry, d DataType) {
	o := t.off[d]
	if o < 0 {
		return
	}
	e.mu.Lock()
	if e.vals[o] > 0 {
		e.vals[o]--
	}
	e.mu.Unlock()
}

// Get reads data d: a counter's value or a rate over its period; ok is
// false when the table does not store d.
func (t *Table) Get(e *Entry, d DataType) (v uint64, ok bool) {
	o := t.off[d]
	if o < 0 {
		return 0, false
	}
	e.mu.Lock()
	v = t.getLocked(e, d, int(o))
	e.mu.Unlock()
	return v, true
}

func (t *Table) getLocked(e *Entry, d DataType, o int) uint64 {
	if !d.IsRate() {
		return e.vals[o]
	}
	f := freq{tick: uint32(e.vals[o] >> 32), curr: uint32(e.vals[o]), prev: uint32(e.vals[o+1])}
	return uint64(f.read(t.clock(), t.period[d]))
}

// Set sets data d to v (a rate restarts with v events in its current
// period, as "set table" does); false when d is not stored.
func (t *Table) Set(e *Entry, d DataType, v uint64) bool {
	o := t.off[d]
	if o < 0 {
		return false
	}
	e.mu.Lock()
	if d.IsRate() {
		e.vals[o] = uint64(t.clock())<<32 | uint64(uint32(v))
		e.vals[o+1] = 0
	} else {
		e.vals[o] = v
	}
	e.mu.Unlock()
	return true
}

// Swap sets counter d to v and returns its former value (clr_gpc0).
func (t *Table) Swap(e *Entry, d DataType, v uint64) (uint64, bool) {
	o := t.off[d]
	if o < 0 {
		return 0, false
	}
	e.mu.Lock()
	old := e.vals[o]
	e.vals[o] = v
	e.mu.Unlock()
	return old, true
}

// SetServer stores the server an entry sticks to (server_id and
// server_key).
func (t *Table) SetServer(e *Entry, id int, name string) {
	e.mu.Lock()
	if o := t.off[ServerID]; o >= 0 {
		e.vals[o] = uint64(uint32(int32(id)))
	}
	if o := t.off[ServerKey]; o >= 0 {
		e.vals[o] = uint64(t.intern(name))
	}
	e.mu.Unlock()
}

// ServerKey is the server_key an entry sticks to ("" for none): a
// server's name, or its address with Config.ServerKeyAddr.
func (t *Table) ServerKey(e *Entry) string {
	o := t.off[ServerKey]
	if o < 0 {
		return ""
	}
	e.mu.Lock()
	k := e.vals[o]
	e.mu.Unlock()
	return t.serverKey(k)
}

// ServerKeyAddr reports whether the table keys servers by address.
func (t *Table) ServerKeyAddr() bool { return t.keyAddr }

// Server is the server id an entry sticks to, 0 for none.
func (t *Table) Server(e *Entry) int {
	o := t.off[ServerID]
	if o < 0 {
		return 0
	}
	e.mu.Lock()
	id := int(int32(uint32(e.vals[o])))
	e.mu.Unlock()
	return id
}

// Snapshot is an entry's data as "show table" prints it.
type Snapshot struct {
	Vals [NumData]uint64
	Skey string
}

// Read copies an entry's data, rates read now.
func (t *Table) Read(e *Entry) Snapshot {
	var s Snapshot
	e.mu.Lock()
	for d := DataType(0); d < NumData; d++ {
		if o := t.off[d]; o >= 0 {
			s.Vals[d] = t.getLocked(e, d, int(o))
		}
	}
	var k uint64
	if o := t.off[ServerKey]; o >= 0 {
		k = e.vals[o]
	}
	e.mu.Unlock()
	s.Skey = t.serverKey(k)
	return s
}

// intern gives a server name its number in the table (from 1), as
// HAProxy keeps server keys in a dictionary: entries store the number.
func (t *Table) intern(name string) uint32 {
	t.namesMu.Lock()
	defer t.namesMu.Unlock()
	if n, ok := t.nameIdx[name]; ok {
		return n
	}
	if t.nameIdx == nil {
		t.nameIdx = make(map[string]uint32)
	}
	t.names = append(t.names, name)
	n := uint32(len(t.names))
	t.nameIdx[name] = n
	return n
}

// serverKey is the name numbered k, "" for 0.
func (t *Table) serverKey(k uint64) string {
	if k == 0 {
		return ""
	}
	t.namesMu.Lock()
	defer t.namesMu.Unlock()
	if int(k) > len(t.names) {
		return ""
	}
	return t.names[k-1]
}
