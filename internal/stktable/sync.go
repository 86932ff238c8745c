package stktable

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Replication support: a table that peers share numbers its local
// changes (HAProxy's update ids: localupdate, each entry's upd), so that
// each peer session pushes the entries changed since the last one the
// other side acknowledged, in order, once each. Changes learnt from a
// peer are not numbered: they are not pushed on (HAProxy keeps them out
// of the local range), but a full resync teaches every entry.

// updRec is one local change: the entry and the id it got. A record is
// stale once the entry changed again (a later record) or left the table.
type updRec struct {
	id uint32
	e  *Entry
}

// syncState is a shared table's change log.
type syncState struct {
	mu     sync.Mutex
	local  uint32 // the last id given (localupdate)
	log    []updRec
	notify func()
}

// Share makes t number its local changes and call notify (which must not
// block) after each. Call it before the table is used.
func (t *Table) Share(notify func()) {
	t.sync = &syncState{notify: notify}
	t.shared.Store(true)
}

// Shared reports whether peers share t.
func (t *Table) Shared() bool { return t.shared.Load() }

// LocalUpdate is the id of the last local change (0: none yet).
func (t *Table) LocalUpdate() uint32 {
	if t.sync == nil {
		return 0
	}
	t.sync.mu.Lock()
	defer t.sync.mu.Unlock()
	return t.sync.local
}

// markLocal numbers a local change of e (stktable_touch_local).
func (t *Table) markLocal(e *Entry) {
	s := t.sync
	s.mu.Lock()
	s.local++
	if s.local == 0 {
		s.local = 1 // 0 means "none"
	}
	e.upd.Store(s.local)
	s.log = append(s.log, updRec{s.local, e})
	if n := len(s.log); n > 2*max(t.Size, 1024) {
		s.compact()
	}
	s.mu.Unlock()
	s.notify()
}

// compact drops the stale records.
func (s *syncState) compact() {
	out := s.log[:0]
	for _, r := range s.log {
		if r.e.upd.Load() == r.id {
			out = append(out, r)
		}
	}
	clear(s.log[len(out):])
	s.log = out
}

// Change is a local change a peer session pushes.
type Change struct {
	ID    uint32
	Entry *Entry
}

// ChangesAfter returns up to max live changes numbered after id, oldest
// first (HAProxy's walk of its update tree from last_pushed+1).
func (t *Table) ChangesAfter(id uint32, max int) []Change {
	s := t.sync
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Ids grow by one and wrap: order them by their distance from the
	// newest.
	i := sort.Search(len(s.log), func(i int) bool { return int32(s.log[i].id-id) > 0 })
	var out []Change
	for ; i < len(s.log) && len(out) < max; i++ {
		r := s.log[i]
		if r.e.upd.Load() == r.id {
			out = append(out, Change{ID: r.id, Entry: r.e})
		}
	}
	return out
}

// Upd is the id of an entry's last local change (0: none since it came).
func (e *Entry) Upd() uint32 { return e.upd.Load() }

// entrySync are the fields of Entry that replication uses.
type entrySync struct {
	upd  atomic.Uint32
	gone atomic.Bool // removed from the table
}

// Gone reports whether the entry left its table.
func (e *Entry) Gone() bool { return e.gone.Load() }
