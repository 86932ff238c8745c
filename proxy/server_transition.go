package proxy

import (
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// This file holds a server's operational state changes (src/server.c
// srv_set_running, srv_set_stopped, srv_update_status): what they do to
// sessions, queues and the balancer, and their log lines.

// stateEvent is one log line produced by a state change, with the syslog
// level HAProxy sends it at.
type stateEvent struct {
	alert  bool // "has no server available" (HAProxy ALERT); else WARNING
	msg    string
	syslog string // the syslog text when it differs from msg
	level  int    // LogEmerg ... LogDebug
}

// pending collects what a state change must do once the lock is released.
type pending struct {
	events        []stateEvent
	shutdown      []*Server
	updateBalance bool
	serveQueue    bool // the maxconn changed: give free slots to queued sessions
}

func (p *pending) emit(log logrus.FieldLogger) {
	for _, s := range p.shutdown {
		s.ShutdownSessions()
	}
	if log == nil {
		return
	}
	for _, e := range p.events {
		if e.alert {
			log.Error(e.msg)
		} else {
			log.Warn(e.msg)
		}
	}
}

// change runs one change of the server's state under its check-state lock
// (apply), then, without the lock, does what the change left pending: the
// balancer's update, the backend's transition, serving queued sessions,
// closing sessions and writing the log lines. Every change of a server's
// state goes through it.
func (s *Server) change(log logrus.FieldLogger, apply func(now time.Time, c *checkState, pd *pending) error) error {
	now := time.Now()
	var pd pending
	c := s.lockCheck()
	err := apply(now, c, &pd)
	c.mu.Unlock()
	s.finishPending(now, &pd, log)
	return err
}

// backendName returns the name of the server's backend.
func (s *Server) backendName() string {
	if s.Backend == nil {
		return ""
	}
	return s.Backend.Name
}

// usableCounts counts the usable active and backup servers of the backend.
func (s *Server) usableCounts() (act, bck int) {
	if s.Backend == nil {
		if s.usable() {
			return 1, 0
		}
		return 0, 0
	}
	for _, o := range s.Backend.ServerList() {
		if !o.usable() {
			continue
		}
		if o.Backup {
			bck++
		} else {
			act++
		}
	}
	return act, bck
}

// stateReason is what HAProxy's srv_append_status writes after "is DOWN"
// or "is UP": either a check result or a free-form reason.
type stateReason struct {
	fromCheck bool
	status    srvstate.CheckStatus
	code      int
	desc      string
	duration  time.Duration
	text      string
}

func reasonFromProbe(p *probe) stateReason {
	return stateReason{fromCheck: true, status: p.status, code: p.code, desc: p.desc, duration: p.duration}
}

// asciiEncode escapes a check text for a log line as HAProxy's
// chunk_asciiencode does with '"' as the quote.
func asciiEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			fmt.Fprintf(&b, "<%02X>", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (r stateReason) String() string {
	var b strings.Builder
	switch {
	case r.fromCheck:
		b.WriteString(", reason: ")
		b.WriteString(r.status.Desc())
		if r.status.HasCode() {
			fmt.Fprintf(&b, ", code: %d", r.code)
		}
		if r.desc != "" {
			b.WriteString(`, info: "`)
			b.WriteString(asciiEncode(r.desc))
			b.WriteString(`"`)
		}
		if r.duration >= 0 {
			fmt.Fprintf(&b, ", check duration: %dms", r.duration.Milliseconds())
		}
	case r.text != "":
		b.WriteString(", ")
		b.WriteString(r.text)
	}
	return b.String()
}

func (s *Server) serverLabel() string {
	prefix := ""
	if s.Backup {
		prefix = "Backup "
	}
	return fmt.Sprintf("%sServer %s/%s", prefix, s.backendName(), s.Name)
}

func (s *Server) noServerEvent() stateEvent {
	kind := "backend"
	if s.Backend != nil && s.Backend.Config != nil && s.Backend.Config.Cap&parser.CapFrontend != 0 {
		kind = "listen"
	}
	return stateEvent{alert: true, level: LogEmerg,
		msg:    fmt.Sprintf("%s '%s' has no server available!", kind, s.backendName()),
		syslog: fmt.Sprintf("%s %s has no server available!", kind, s.backendName())}
}

// setOpLocked moves the operational state and keeps the running flag in
// step; setRunning rebuilds the balancer when running changes, otherwise
// (e.g. STARTING to RUNNING, weight changes) the rebuild is left to
// finishPending. The balancer's update must not take check-state locks: it
// runs while this server's lock is held.
func (s *Server) setOpLocked(op srvstate.Op, pd *pending) {
	s.check.op = op
	if !s.setRunning(op == srvstate.OpStarting || op == srvstate.OpRunning) {
		pd.updateBalance = true
	}
}

// moved is what an operational state change did, for its log line: the
// usable servers left in the backend, and the sessions it moved.
type moved struct {
	act, bck int
	xferred  int   // sessions requeued (going down) or taken from the queue (coming up)
	served   int64 // sessions still on the server
	queued   int64 // sessions still in its queue
}

// backupNote is HAProxy's " Running on backup." when only backups are left.
func (m moved) backupNote() string {
	if m.bck > 0 && m.act == 0 {
		return " Running on backup."
	}
	return ""
}

// updateStatusLocked is HAProxy's srv_update_status: it moves the server to
// operational state op (OpRunning becomes OpStarting when the server has a
// slowstart) and records the change (lastchg, downtime, chkdown), acts on
// sessions and queues (on-marked-down, on-marked-up, requeueing), and queues
// the log line event renders from what moved, followed by "has no server
// available!" when the change left the backend without a usable server.
// The caller has checked that the change is one.
func (s *Server) updateStatusLocked(now time.Time, op srvstate.Op, pd *pending, event func(m moved) stateEvent) {
	c := &s.check
	act0, bck0 := s.usableCounts()
	if c.op == srvstate.OpStopped && op != srvstate.OpStopped && c.lastChange < now.Unix() {
		c.downTime += now.Unix() - c.lastChange
	}
	c.lastChange = now.Unix()
	if op == srvstate.OpRunning && c.slowStart > 0 {
		op = srvstate.OpStarting
		s.startWarmupLocked(now)
	} else if op != srvstate.OpRunning {
		s.stopWarmupLocked()
	}
	s.setOpLocked(op, pd)
	var m moved
	switch op {
	case srvstate.OpStopped:
		if s.Config.OnMarkedDown == "shutdown-sessions" {
			pd.shutdown = append(pd.shutdown, s)
		}
		m.xferred = s.redispatchQueue()
	case srvstate.OpStopping:
		m.xferred = s.redispatchQueue()
	default:
		s.upSideEffectsLocked(pd)
		m.xferred = s.ServeQueue()
	}
	m.act, m.bck = s.usableCounts()
	m.served, m.queued = s.served.Load(), s.queued.Load()
	pd.events = append(pd.events, event(m))
	if act0+bck0 > 0 && m.act+m.bck == 0 {
		pd.events = append(pd.events, s.noServerEvent())
	}
	if op == srvstate.OpStopped {
		c.downTrans++
	}
}

// setStoppedLocked is HAProxy's srv_set_stopped for a server going DOWN.
func (s *Server) setStoppedLocked(now time.Time, r stateReason, pd *pending) {
	if s.admin.Load()&maintBlocksUp != 0 || s.check.op == srvstate.OpStopped {
		return
	}
	s.updateStatusLocked(now, srvstate.OpStopped, pd, func(m moved) stateEvent {
		return stateEvent{level: LogAlert, msg: fmt.Sprintf(
			"%s is DOWN%s. %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue.",
			s.serverLabel(), r, m.act, m.bck, m.backupNote(), m.served, m.xferred, m.queued)}
	})
}

// setUpLocked is HAProxy's srv_set_running for a server coming UP (to
// STARTING when it has a slowstart).
func (s *Server) setUpLocked(now time.Time, r stateReason, pd *pending) {
	c := &s.check
	if s.admin.Load()&maintBlocksUp != 0 || c.op == srvstate.OpStarting || c.op == srvstate.OpRunning {
		return
	}
	s.updateStatusLocked(now, srvstate.OpRunning, pd, func(m moved) stateEvent {
		return stateEvent{level: LogNotice, msg: fmt.Sprintf(
			"%s is UP%s. %d active and %d backup servers online.%s %d sessions requeued, %d total in queue.",
			s.serverLabel(), r, m.act, m.bck, m.backupNote(), m.xferred, m.queued)}
	})
}

// upSideEffectsLocked applies on-marked-up shutdown-backup-sessions.
func (s *Server) upSideEffectsLocked(pd *pending) {
	if s.Config.OnMarkedUp != "shutdown-backup-sessions" || s.Backup || s.uweight.Load() == 0 || s.Backend == nil {
		return
	}
	for _, o := range s.Backend.ServerList() {
		if o.Backup {
			pd.shutdown = append(pd.shutdown, o)
		}
	}
}

// setStoppingLocked is HAProxy's srv_set_stopping (NOLB).
func (s *Server) setStoppingLocked(now time.Time, r stateReason, pd *pending) {
	if s.admin.Load()&maintBlocksUp != 0 || s.check.op == srvstate.OpStopping {
		return
	}
	s.updateStatusLocked(now, srvstate.OpStopping, pd, func(m moved) stateEvent {
		return stateEvent{level: LogNotice, msg: fmt.Sprintf(
			"%s is stopping%s. %d active and %d backup servers online.%s %d sessions requeued, %d total in queue.",
			s.serverLabel(), r, m.act, m.bck, m.backupNote(), m.xferred, m.queued)}
	})
}

// finishPending does what a change left pending, once the server's lock is
// released; the backend records the transition the change made, if any.
func (s *Server) finishPending(now time.Time, pd *pending, log logrus.FieldLogger) {
	if pd.updateBalance && s.Backend != nil && s.Backend.lb != nil {
		s.Backend.lb.update()
	}
	if s.Backend != nil {
		s.Backend.recordState(now)
	}
	if pd.serveQueue {
		s.ServeQueue()
	}
	pd.emit(log)
	if s.Backend != nil {
		pd.syslog(s.Backend.logs)
	}
}

// syslog sends the events to the backend's log targets at their levels.
func (p *pending) syslog(sink *LogSink) {
	if sink == nil {
		return
	}
	for _, e := range p.events {
		sink.Log(e.level, e.syslogText())
	}
}

func (e stateEvent) syslogText() string {
	if e.syslog != "" {
		return e.syslog
	}
	return e.msg
}
