package proxy

import (
	"sync"
	"time"
)

// backendState is a backend's record of its transitions between having a
// usable server and having none (HAProxy's set_backend_down and the
// backend's last_change in srv_update_status): the chkdown, lastchg and
// downtime of its stats row. Every server change records the transition
// it made (Server.finishPending), so none is lost between two reads.
type backendState struct {
	mu         sync.Mutex
	down       bool
	lastChange int64 // unix seconds
	downTrans  int64
	downTime   int64 // seconds spent down, closed periods only
}

// BackendState is the state part of a backend's stats row.
type BackendState struct {
	LastChg  int64 // seconds since the last transition
	ChkDown  int64 // transitions to down
	DownTime int64 // seconds spent down
}

// noUsableServer reports whether the backend has servers and none of them
// may take a session.
func (b *Backend) noUsableServer() bool {
	if len(b.ServerList()) == 0 {
		return false
	}
	for _, s := range b.ServerList() {
		if s.usable() {
			return false
		}
	}
	return true
}

// initState starts the record at now, from the servers' initial states.
func (b *Backend) initState(now time.Time) {
	b.state.down = b.noUsableServer()
	b.state.lastChange = now.Unix()
}

// recordState records the transition the last server change made, if any.
func (b *Backend) recordState(now time.Time) {
	down := b.noUsableServer()
	st := &b.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.down == down {
		return
	}
	sec := now.Unix()
	if down {
		st.downTrans++
	} else if st.lastChange < sec {
		st.downTime += sec - st.lastChange
	}
	st.down = down
	st.lastChange = sec
}

// State returns the backend's transitions as the stats show them at now.
func (b *Backend) State(now time.Time) BackendState {
	st := &b.state
	st.mu.Lock()
	defer st.mu.Unlock()
	sec := now.Unix()
	r := BackendState{LastChg: max(sec-st.lastChange, 0), ChkDown: st.downTrans, DownTime: st.downTime}
	if st.down {
		r.DownTime += max(sec-st.lastChange, 0)
	}
	return r
}
