package stats

import (
	"sync"
	"time"

	"goproxy/proxy"
)

// backendTracker follows when each backend goes down (no usable server)
// and up again, for the backend row's chkdown, lastchg and downtime
// (HAProxy's set_backend_down and srv_update_status). The proxy does not
// report these transitions; the source observes every backend after each
// change it makes or hears of (admin commands, check results) and each
// time the rows are read.
type backendTracker struct {
	mu sync.Mutex
	by map[*proxy.Backend]*beState
}

type beState struct {
	down       bool
	lastChange int64 // unix seconds
	downTrans  uint64
	downTime   int64 // seconds, closed periods
}

func newBackendTracker(bs []*proxy.Backend, now time.Time) *backendTracker {
	t := &backendTracker{by: make(map[*proxy.Backend]*beState, len(bs))}
	for _, b := range bs {
		t.by[b] = &beState{down: b.LBWeight() == 0 && len(b.Servers) > 0, lastChange: now.Unix()}
	}
	return t
}

// observe records a transition of b, if any, at now.
func (t *backendTracker) observe(b *proxy.Backend, now time.Time) {
	down := b.LBWeight() == 0 && len(b.Servers) > 0
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.by[b]
	if st == nil || st.down == down {
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

// fill sets the row's lastchg, downtime and chkdown.
func (t *backendTracker) fill(r *Row, b *proxy.Backend, now time.Time) {
	t.observe(b, now)
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.by[b]
	if st == nil {
		return
	}
	sec := now.Unix()
	r.LastChg = u(sec - st.lastChange)
	r.ChkDown = st.downTrans
	r.Downtime = u(st.downTime)
	if st.down {
		r.Downtime += u(sec - st.lastChange)
	}
}

// ServerChanged tells the source that a server's state may have changed
// outside the admin commands (a health or agent check result), so that its
// backend's transitions are recorded when they happen.
func (p *ProxySource) ServerChanged(s *proxy.Server) {
	if s != nil && s.Backend != nil {
		p.be.observe(s.Backend, time.Now())
	}
}
