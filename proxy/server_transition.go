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

// Session hooks the runtime sets (once, before checks start) so that state
// changes can act on sessions and queues. A nil hook is skipped. The
// shutdown hook runs after the state change, without locks; the queue hooks
// run while the server's check-state lock is held (their counts go into the
// log line), so they must not call the check-state methods of that server.
var (
	// serverShutdownSessions closes every session established on s
	// (on-marked-down shutdown-sessions, and for backups on-marked-up
	// shutdown-backup-sessions).
	serverShutdownSessions func(s *Server)
	// serverRedispatchQueue moves the sessions queued on s elsewhere after
	// s went down, and returns how many moved ("requeued").
	serverRedispatchQueue func(s *Server) int
	// serverGrabQueue lets s take sessions waiting in its backend's queue
	// after it came up, and returns how many it took.
	serverGrabQueue func(s *Server) int
)

// stateEvent is one log line produced by a state change.
type stateEvent struct {
	alert  bool // "has no server available" (HAProxy ALERT); else WARNING
	msg    string
	syslog string // the syslog text when it differs from msg
	// level, with hasLevel, is the syslog level when it is not the one
	// its text implies.
	level    int
	hasLevel bool
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
		if serverShutdownSessions != nil {
			serverShutdownSessions(s)
		}
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
	for _, o := range s.Backend.Servers {
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
	return stateEvent{alert: true,
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

// setStoppedLocked is HAProxy's srv_set_stopped + srv_update_status for a
// server going DOWN.
func (s *Server) setStoppedLocked(now time.Time, r stateReason, pd *pending) {
	c := &s.check
	if s.admin.Load()&srvstate.AdminForcedMaint != 0 || c.op == srvstate.OpStopped {
		return
	}
	act0, bck0 := s.usableCounts()
	c.lastChange = now.Unix()
	s.stopWarmupLocked()
	s.setOpLocked(srvstate.OpStopped, pd)
	if s.Config.OnMarkedDown == "shutdown-sessions" {
		pd.shutdown = append(pd.shutdown, s)
	}
	xferred := 0
	if serverRedispatchQueue != nil {
		xferred = serverRedispatchQueue(s)
	}
	act, bck := s.usableCounts()
	backupNote := ""
	if bck > 0 && act == 0 {
		backupNote = " Running on backup."
	}
	pd.events = append(pd.events, stateEvent{msg: fmt.Sprintf(
		"%s is DOWN%s. %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue.",
		s.serverLabel(), r, act, bck, backupNote, s.served.Load(), xferred, s.queued.Load())})
	if act0+bck0 > 0 && act+bck == 0 {
		pd.events = append(pd.events, s.noServerEvent())
	}
	c.downTrans++
}

// setUpLocked is HAProxy's srv_set_running + srv_update_status for a
// server coming UP (to STARTING when it has a slowstart).
func (s *Server) setUpLocked(now time.Time, r stateReason, pd *pending) {
	c := &s.check
	if s.admin.Load()&srvstate.AdminForcedMaint != 0 || c.op == srvstate.OpStarting || c.op == srvstate.OpRunning {
		return
	}
	act0, bck0 := s.usableCounts()
	if c.op == srvstate.OpStopped && c.lastChange < now.Unix() {
		c.downTime += now.Unix() - c.lastChange
	}
	c.lastChange = now.Unix()
	op := srvstate.OpRunning
	if c.slowStart > 0 {
		op = srvstate.OpStarting
		s.startWarmupLocked(now)
	}
	s.setOpLocked(op, pd)
	s.upSideEffectsLocked(pd)
	xferred := 0
	if serverGrabQueue != nil {
		xferred = serverGrabQueue(s)
	}
	act, bck := s.usableCounts()
	backupNote := ""
	if bck > 0 && act == 0 {
		backupNote = " Running on backup."
	}
	pd.events = append(pd.events, stateEvent{msg: fmt.Sprintf(
		"%s is UP%s. %d active and %d backup servers online.%s %d sessions requeued, %d total in queue.",
		s.serverLabel(), r, act, bck, backupNote, xferred, s.queued.Load())})
	if act0+bck0 > 0 && act+bck == 0 {
		pd.events = append(pd.events, s.noServerEvent())
	}
}

// upSideEffectsLocked applies on-marked-up shutdown-backup-sessions.
func (s *Server) upSideEffectsLocked(pd *pending) {
	if s.Config.OnMarkedUp != "shutdown-backup-sessions" || s.Backup || s.uweight.Load() == 0 || s.Backend == nil {
		return
	}
	for _, o := range s.Backend.Servers {
		if o.Backup {
			pd.shutdown = append(pd.shutdown, o)
		}
	}
}

// setStoppingLocked is HAProxy's srv_set_stopping (NOLB).
func (s *Server) setStoppingLocked(now time.Time, r stateReason, pd *pending) {
	c := &s.check
	if s.admin.Load()&srvstate.AdminForcedMaint != 0 || c.op == srvstate.OpStopping {
		return
	}
	act0, bck0 := s.usableCounts()
	if c.op == srvstate.OpStopped && c.lastChange < now.Unix() {
		c.downTime += now.Unix() - c.lastChange
	}
	c.lastChange = now.Unix()
	s.stopWarmupLocked()
	s.setOpLocked(srvstate.OpStopping, pd)
	xferred := 0
	if serverRedispatchQueue != nil {
		xferred = serverRedispatchQueue(s)
	}
	act, bck := s.usableCounts()
	backupNote := ""
	if bck > 0 && act == 0 {
		backupNote = " Running on backup."
	}
	pd.events = append(pd.events, stateEvent{msg: fmt.Sprintf(
		"%s is stopping%s. %d active and %d backup servers online.%s %d sessions requeued, %d total in queue.",
		s.serverLabel(), r, act, bck, backupNote, xferred, s.queued.Load())})
	if act0+bck0 > 0 && act+bck == 0 {
		pd.events = append(pd.events, s.noServerEvent())
	}
}

func (s *Server) finishPending(pd *pending, log logrus.FieldLogger) {
	if pd.updateBalance && s.Backend != nil && s.Backend.lb != nil {
		s.Backend.lb.update()
	}
	if pd.serveQueue {
		s.ServeQueue()
	}
	pd.emit(log)
	if s.Backend != nil {
		pd.syslog(s.Backend.logs)
	}
}

// syslog sends the events to the backend's log targets at HAProxy's
// levels: a server going DOWN is an alert (a notice when it was stopping),
// "has no server available!" an emergency (written without quotes there),
// everything else a notice.
func (p *pending) syslog(sink *LogSink) {
	if sink == nil {
		return
	}
	for _, e := range p.events {
		sink.Log(e.syslogLevel(), e.syslogText())
	}
}

func (e stateEvent) syslogLevel() int {
	switch {
	case e.hasLevel:
		return e.level
	case e.alert:
		return LogEmerg
	case strings.Contains(e.msg, " is DOWN") && !strings.Contains(e.msg, "(leaving forced drain)"):
		return LogAlert
	}
	return LogNotice
}

func (e stateEvent) syslogText() string {
	if e.syslog != "" {
		return e.syslog
	}
	return e.msg
}
