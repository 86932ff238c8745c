package proxy

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/cnum"
	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// This file holds a server's health state machine, HAProxy's rise/fall
// arithmetic (src/check.c set_server_check_status, check_notify_*) and the
// operational state changes it drives (src/server.c srv_set_running,
// srv_set_stopped, srv_update_status), with their log lines. Checkers in
// package health call the Check*/Report*/Agent* methods (they implement
// health.Target); stats read CheckSnapshot.

// checkDescLen bounds a check's text as HAProxy's HCHK_DESC_LEN does.
const checkDescLen = 128

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

// probe is the state of one kind of check on a server: the health check or
// the agent check.
type probe struct {
	configured bool // "check" (or "agent-check") on the server line
	enabled    bool // not switched off by "disable health" / "disable agent"
	inProgress bool
	rise, fall int
	health     int // 0 .. rise+fall-1
	inter      time.Duration
	fastInter  time.Duration
	downInter  time.Duration
	status     srvstate.CheckStatus
	code       int
	desc       string
	duration   time.Duration // < 0 until a check completed
}

func (p *probe) full() int { return p.rise + p.fall - 1 }

// checkState is the part of a Server that health checks and admin changes
// drive. All fields are guarded by mu, except eweightPct which the
// balancers read without locking.
type checkState struct {
	mu         sync.Mutex
	inited     bool
	hc         probe
	agent      probe
	paused     bool // health checks paused by maintenance
	op         srvstate.Op
	failed     int64
	downTrans  int64
	lastChange int64 // unix seconds of the last state change
	downTime   int64 // seconds spent stopped, closed periods only
	slowStart  time.Duration
	warmup     *time.Timer
	agentSend  string

	eweightPct atomic.Int32 // 1..100: slowstart throttle; 100 otherwise
}

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

func defaultDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// initCheckState sets the server's initial state from its configuration:
// checked servers start UP with health = rise, "disabled" ones in
// maintenance. The runtime calls it once per server at Build, before any
// traffic; later calls do nothing.
func (s *Server) initCheckState() {
	s.check.mu.Lock()
	s.initCheckLocked(time.Now())
	s.check.mu.Unlock()
}

func (s *Server) initCheckLocked(now time.Time) {
	c := &s.check
	if c.inited {
		return
	}
	c.inited = true
	cfg := &s.Config
	isBackend := s.Backend == nil || s.Backend.Config == nil || s.Backend.Config.Cap&parser.CapBackend != 0
	c.hc = probe{
		configured: cfg.Check && isBackend,
		rise:       max(cfg.Rise, 1),
		fall:       max(cfg.Fall, 1),
		inter:      defaultDuration(cfg.Inter, 2*time.Second),
		fastInter:  cfg.FastInter,
		downInter:  cfg.DownInter,
		status:     srvstate.CheckIni,
		duration:   -1,
	}
	if cfg.Rise <= 0 {
		c.hc.rise = 2
	}
	if cfg.Fall <= 0 {
		c.hc.fall = 3
	}
	c.hc.enabled = c.hc.configured
	c.hc.health = c.hc.rise
	c.agent = probe{
		configured: cfg.AgentCheck && isBackend && (cfg.AgentPort > 0),
		rise:       1,
		fall:       1,
		inter:      defaultDuration(cfg.AgentInter, c.hc.inter),
		status:     srvstate.CheckIni,
		duration:   -1,
	}
	c.agent.enabled = c.agent.configured
	c.agent.health = c.agent.rise
	c.agentSend = cfg.AgentSend
	c.slowStart = cfg.SlowStart
	c.lastChange = now.Unix()
	c.eweightPct.Store(100)
	if s.uweight.Load() == 0 && cfg.Weight > 0 {
		s.uweight.Store(int32(min(cfg.Weight, 256)))
	}
	c.op = srvstate.OpRunning
	if cfg.Disabled {
		s.maintWeight.Store(s.uweight.Load())
		s.admin.Or(srvstate.AdminForcedMaint)
		c.op = srvstate.OpStopped
		if c.hc.enabled {
			c.paused = true
			c.hc.health = 0
		}
	}
	s.running.Store(c.op != srvstate.OpStopped)
}

func (s *Server) lockCheck() *checkState {
	s.check.mu.Lock()
	if !s.check.inited {
		s.initCheckLocked(time.Now())
	}
	return &s.check
}

// effectiveWeightPercent returns the share (1..100) of the user weight the
// server should get now: below 100 only while it warms up after coming up
// with "slowstart". Lock-free: balancers may call it from update.
func (s *Server) effectiveWeightPercent() int {
	if v := s.check.eweightPct.Load(); v > 0 {
		return int(v)
	}
	return 100
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

// checksAllowUpLocked is the common condition of HAProxy's
// check_notify_success/stopping: not in maintenance, and every enabled
// check (health, agent) at or above its rise.
func (s *Server) checksAllowUpLocked() bool {
	c := &s.check
	if s.admin.Load()&srvstate.AdminForcedMaint != 0 {
		return false
	}
	if c.hc.enabled && c.hc.health < c.hc.rise {
		return false
	}
	if c.agent.enabled && c.agent.health < c.agent.rise {
		return false
	}
	return true
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

// CheckSettings returns what a health checker needs to probe the server:
// its backend's configuration (check kind, tcp-check rules, timeouts), its
// name, address and server parameters. It implements health.Target.
func (s *Server) CheckSettings() (backend *parser.Proxy, name string, addr parser.Addr, params parser.ServerParams) {
	if s.Backend != nil {
		backend = s.Backend.Config
	}
	return backend, s.Name, s.Addr, s.Config
}

// CheckConfigured reports whether the server has health checks ("check").
func (s *Server) CheckConfigured() bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.hc.configured
}

// CheckInterval returns the delay before the next health check, as
// HAProxy's srv_getinter: inter when fully up, downinter when fully down,
// fastinter in between (each falling back to inter).
func (s *Server) CheckInterval() time.Duration {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.intervalLocked(&c.hc)
}

func (c *checkState) intervalLocked(p *probe) time.Duration {
	if p.configured && p.health == p.full() {
		return p.inter
	}
	if c.op == srvstate.OpStopped && p.health == 0 {
		return defaultDuration(p.downInter, p.inter)
	}
	return defaultDuration(p.fastInter, p.inter)
}

// CheckRunnable reports whether a health check should run now: configured,
// enabled and not paused by maintenance.
func (s *Server) CheckRunnable() bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.hc.configured && c.hc.enabled && !c.paused && !s.backendDisabled()
}

func (s *Server) backendDisabled() bool {
	return s.Backend != nil && s.Backend.Config != nil && s.Backend.Config.Disabled
}

// CheckStarted marks a health check in progress: "show stat" prefixes the
// last status with "* " and shows no text until the result arrives.
func (s *Server) CheckStarted() {
	c := s.lockCheck()
	c.hc.inProgress = true
	c.hc.desc = ""
	c.mu.Unlock()
}

func clipDesc(d string) string {
	if i := strings.IndexByte(d, 0); i >= 0 {
		d = d[:i] // check texts are C strings in HAProxy
	}
	if len(d) >= checkDescLen {
		return d[:checkDescLen-1]
	}
	return d
}

// ReportCheck records the outcome of one health check (status is one of the
// Check* codes, code the layer 7 code, desc the text shown as last_chk,
// took its duration), applies the rise/fall arithmetic and changes the
// server's state when it crosses a threshold, logging HAProxy's lines on log.
func (s *Server) ReportCheck(status srvstate.CheckStatus, code int, desc string, took time.Duration, log logrus.FieldLogger) {
	now := time.Now()
	var pd pending
	c := s.lockCheck()
	p := &c.hc
	p.inProgress = false
	p.status = status
	p.code = code
	p.desc = clipDesc(desc)
	p.duration = took
	switch status.Result() {
	case srvstate.ResultFailed:
		if p.health > 0 {
			c.failed++
			p.health--
			if p.health < p.rise {
				p.health = 0
			}
		}
		if p.health == 0 {
			s.setStoppedLocked(now, reasonFromProbe(p), &pd)
		}
	case srvstate.ResultPassed, srvstate.ResultCondPass:
		if p.health < p.full() {
			p.health++
			if p.health >= p.rise {
				p.health = p.full()
			}
		}
		if s.checksAllowUpLocked() {
			if status.Result() == srvstate.ResultCondPass {
				s.setStoppingLocked(now, reasonFromProbe(p), &pd)
			} else {
				s.setUpLocked(now, reasonFromProbe(p), &pd)
			}
		}
	}
	c.mu.Unlock()
	s.finishPending(&pd, log)
}

// SetHealthCheckEnabled is the switch behind "enable health" / "disable
// health": a disabled check stops running and the server shows "no check";
// its operational state stays as it is.
func (s *Server) SetHealthCheckEnabled(on bool) {
	c := s.lockCheck()
	if c.hc.configured {
		c.hc.enabled = on
	}
	c.mu.Unlock()
}

// HealthCheckEnabled reports whether health checks are configured and
// switched on.
func (s *Server) HealthCheckEnabled() bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.hc.configured && c.hc.enabled
}

// slowStartSeconds is the slowstart in whole seconds, rounded up as HAProxy
// stores it.
func (c *checkState) slowStartSeconds() int64 {
	return int64((c.slowStart + time.Second - time.Millisecond) / time.Second)
}

// warmupPercent is HAProxy's server_recalc_eweight ratio during a
// slowstart, expressed as a percentage of the user weight (scale 16, as
// BE_WEIGHT_SCALE).
func warmupPercent(elapsed, ss int64) int32 {
	if ss <= 0 || elapsed >= ss {
		return 100
	}
	if elapsed < 0 {
		elapsed = 0
	}
	w := (16*elapsed + ss) / ss
	return int32(min((100*w+15)/16, 100))
}

func (c *checkState) warmupStep() time.Duration {
	return max(time.Second, c.slowStart/20)
}

func (s *Server) startWarmupLocked(now time.Time) {
	c := &s.check
	c.eweightPct.Store(warmupPercent(0, c.slowStartSeconds()))
	if c.warmup != nil {
		c.warmup.Stop()
	}
	c.warmup = time.AfterFunc(c.warmupStep(), s.warmupTick)
}

func (s *Server) stopWarmupLocked() {
	c := &s.check
	if c.warmup != nil {
		c.warmup.Stop()
		c.warmup = nil
	}
	c.eweightPct.Store(100)
}

// warmupTick raises the weight of a server warming up (HAProxy's
// server_warmup task) and ends the warmup when the slowstart has elapsed.
func (s *Server) warmupTick() {
	c := s.lockCheck()
	if c.warmup == nil || c.op != srvstate.OpStarting {
		c.mu.Unlock()
		return
	}
	pct := warmupPercent(time.Now().Unix()-c.lastChange, c.slowStartSeconds())
	c.eweightPct.Store(pct)
	if pct >= 100 {
		c.op = srvstate.OpRunning
		c.warmup = nil
	} else {
		c.warmup.Reset(c.warmupStep())
	}
	c.mu.Unlock()
	if s.Backend != nil && s.Backend.lb != nil {
		s.Backend.lb.update()
	}
}

// stopCheckTimers stops the slowstart timer of the server, if any. The
// runtime calls it at shutdown.
func (s *Server) stopCheckTimers() {
	c := s.lockCheck()
	if c.warmup != nil {
		c.warmup.Stop()
		c.warmup = nil
	}
	c.mu.Unlock()
}

// SetMaint puts the server into forced maintenance or takes it out
// ("disable server"/"enable server", "set server ... state maint|ready",
// agent "maint"/"ready"), with HAProxy's transitions and log lines: checks
// pause in maintenance and resume at health = rise when it ends.
func (s *Server) SetMaint(on bool, log logrus.FieldLogger) {
	var pd pending
	c := s.lockCheck()
	s.setMaintLocked(time.Now(), on, &pd)
	c.mu.Unlock()
	s.finishPending(&pd, log)
}

func (s *Server) setMaintLocked(now time.Time, on bool, pd *pending) {
	c := &s.check
	inMaint := s.admin.Load()&srvstate.AdminForcedMaint != 0
	if on == inMaint {
		return
	}
	if on {
		s.maintWeight.Store(s.uweight.Load())
		act0, bck0 := s.usableCounts()
		if c.hc.enabled {
			c.paused = true
			c.hc.health = 0
		}
		if c.op == srvstate.OpStopped {
			s.admin.Or(srvstate.AdminForcedMaint)
			pd.updateBalance = true
			pd.events = append(pd.events, stateEvent{msg: fmt.Sprintf(
				"%s was DOWN and now enters maintenance.", s.serverLabel())})
			return
		}
		c.hc.health = 0
		c.lastChange = now.Unix()
		// As HAProxy: an alert, or a notice when the server was
		// already stopping (drain, NOLB).
		level := LogAlert
		if s.admin.Load()&srvstate.AdminForcedDrain != 0 || c.op == srvstate.OpStopping {
			level = LogNotice
		}
		s.admin.Or(srvstate.AdminForcedMaint)
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
		pd.events = append(pd.events, stateEvent{level: level, hasLevel: true, msg: fmt.Sprintf(
			"%s is going DOWN for maintenance. %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue.",
			s.serverLabel(), act, bck, backupNote, s.served.Load(), xferred, s.queued.Load())})
		if act0+bck0 > 0 && act+bck == 0 {
			pd.events = append(pd.events, s.noServerEvent())
		}
		c.downTrans++
		return
	}
	// Leaving maintenance.
	act0, bck0 := s.usableCounts()
	if c.hc.enabled {
		c.paused = false
		c.hc.health = c.hc.rise
	}
	s.admin.clear(srvstate.AdminForcedMaint)
	if (!c.agent.enabled || c.agent.health >= c.agent.rise) && (!c.hc.enabled || c.hc.health >= c.hc.rise) {
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
	}
	pd.updateBalance = true
	state, ready := "UP", "READY"
	if c.op == srvstate.OpStopped {
		state = "DOWN"
	}
	if s.admin.Load()&srvstate.AdminForcedDrain != 0 {
		ready = "DRAIN"
	}
	pd.events = append(pd.events, stateEvent{msg: fmt.Sprintf(
		"%s is %s/%s (leaving forced maintenance).", s.serverLabel(), state, ready)})
	act, bck := s.usableCounts()
	if act0+bck0 > 0 && act+bck == 0 {
		pd.events = append(pd.events, s.noServerEvent())
	}
	s.upSideEffectsLocked(pd)
	if serverGrabQueue != nil {
		serverGrabQueue(s)
	}
}

// SetDrain sets or clears forced drain ("set server ... state drain",
// agent "drain"): the server keeps its sessions and takes no new ones.
func (s *Server) SetDrain(on bool, log logrus.FieldLogger) {
	var pd pending
	c := s.lockCheck()
	s.setDrainLocked(time.Now(), on, &pd)
	c.mu.Unlock()
	s.finishPending(&pd, log)
}

func (s *Server) setDrainLocked(now time.Time, on bool, pd *pending) {
	c := &s.check
	if on == (s.admin.Load()&srvstate.AdminForcedDrain != 0) {
		return
	}
	maint := s.admin.Load()&srvstate.AdminForcedMaint != 0
	act0, bck0 := s.usableCounts()
	if on {
		s.admin.Or(srvstate.AdminForcedDrain)
		pd.updateBalance = true
		if maint {
			return
		}
		c.lastChange = now.Unix()
		xferred := 0
		if serverRedispatchQueue != nil {
			xferred = serverRedispatchQueue(s)
		}
		act, bck := s.usableCounts()
		backupNote := ""
		if bck > 0 && act == 0 {
			backupNote = " Running on backup."
		}
		verb := "online"
		tail := fmt.Sprintf("%d sessions requeued, %d total in queue", xferred, s.queued.Load())
		if c.op == srvstate.OpStopped {
			verb = "left"
			tail = fmt.Sprintf("%d sessions active, %d requeued, %d remaining in queue", s.served.Load(), xferred, s.queued.Load())
		}
		pd.events = append(pd.events, stateEvent{msg: fmt.Sprintf(
			"%s enters drain state. %d active and %d backup servers %s.%s %s.",
			s.serverLabel(), act, bck, verb, backupNote, tail)})
		if act0+bck0 > 0 && act+bck == 0 {
			pd.events = append(pd.events, s.noServerEvent())
		}
		return
	}
	s.admin.clear(srvstate.AdminForcedDrain)
	pd.updateBalance = true
	if maint {
		return
	}
	if c.lastChange < now.Unix() {
		c.downTime += now.Unix() - c.lastChange
	}
	c.lastChange = now.Unix()
	state := "UP"
	if c.op == srvstate.OpStopped {
		state = "DOWN"
	}
	pd.events = append(pd.events, stateEvent{msg: fmt.Sprintf(
		"%s is %s (leaving forced drain).", s.serverLabel(), state)})
}

// AgentInterval returns the delay before the next agent check.
func (s *Server) AgentInterval() time.Duration {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.intervalLocked(&c.agent)
}

// AgentConfigured reports whether the server has an agent check
// ("agent-check" with an "agent-port").
func (s *Server) AgentConfigured() bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.agent.configured
}

// AgentRunnable reports whether an agent check should run now. Unlike
// health checks, agent checks keep running in maintenance.
func (s *Server) AgentRunnable() bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.agent.configured && c.agent.enabled && !s.backendDisabled()
}

// AgentStarted marks an agent check in progress.
func (s *Server) AgentStarted() {
	c := s.lockCheck()
	c.agent.inProgress = true
	c.agent.desc = ""
	c.mu.Unlock()
}

// SetAgentCheckEnabled is the switch behind "enable agent"/"disable agent".
func (s *Server) SetAgentCheckEnabled(on bool) {
	c := s.lockCheck()
	if c.agent.configured {
		c.agent.enabled = on
	}
	c.mu.Unlock()
}

// ReportAgent records an agent check that got no usable reply (connection
// problem, timeout): as in HAProxy it is shown but never changes the
// server's state.
// A negative status keeps the previous one (HAProxy does so for an
// incomplete reply line).
func (s *Server) ReportAgent(status srvstate.CheckStatus, code int, desc string, took time.Duration, log logrus.FieldLogger) {
	c := s.lockCheck()
	p := &c.agent
	p.inProgress = false
	if status >= 0 {
		p.status = status
	}
	p.code, p.desc, p.duration = code, clipDesc(desc), took
	c.mu.Unlock()
}

// ReportAgentReply applies one agent reply, already split into words as
// HAProxy's tcpcheck_agent_expect_reply does: health is "up", "down",
// "stopped", "fail" or empty; admin is "ready", "drain", "maint" or empty;
// weight is the last "<n>%" word; maxconn the last "maxconn:<n>" word;
// errWord the first unknown word; desc the text after '#'.
func (s *Server) ReportAgentReply(health, admin, weight, maxconn, errWord, desc string, took time.Duration, log logrus.FieldLogger) {
	now := time.Now()
	var pd pending
	c := s.lockCheck()
	p := &c.agent
	p.inProgress = false
	p.duration = took
	p.code = 0
	if !p.enabled {
		c.mu.Unlock()
		return
	}
	switch strings.ToLower(admin) {
	case "drain":
		s.setDrainLocked(now, true, &pd)
	case "maint":
		s.setMaintLocked(now, true, &pd)
	case "ready":
		s.setMaintLocked(now, false, &pd)
		s.setDrainLocked(now, false, &pd)
	}
	wrn := ""
	if weight != "" {
		wrn = s.applyWeightLocked(weight, &pd)
	}
	if maxconn != "" {
		n := maxconn
		if len(n) >= len("maxconn:") && strings.EqualFold(n[:len("maxconn:")], "maxconn:") {
			n = n[len("maxconn:"):]
		}
		if msg := s.applyMaxconnLocked(n, &pd); wrn == "" {
			wrn = msg
		}
	}
	status := srvstate.CheckChecked
	switch strings.ToLower(health) {
	case "up":
		p.health = p.full()
		status = srvstate.CheckL7OK
	case "down", "stopped", "fail":
		p.health = 0
		status = srvstate.CheckL7Sts
	}
	switch {
	case health != "":
		msg := desc
		if msg == "" || status == srvstate.CheckL7OK {
			if errWord != "" {
				msg = errWord
			} else if wrn != "" {
				msg = wrn
			}
		}
		text := "via agent : " + health
		if msg != "" {
			text += " (" + msg + ")"
		}
		p.desc = clipDesc(text)
	case errWord != "":
		p.desc = clipDesc("agent reports an error : " + errWord)
	case wrn != "":
		p.desc = clipDesc("agent warns : " + wrn)
	default:
		p.desc = ""
	}
	p.status = status
	switch status {
	case srvstate.CheckL7Sts:
		if p.health == 0 {
			s.setStoppedLocked(now, reasonFromProbe(p), &pd)
		}
	case srvstate.CheckL7OK:
		if s.checksAllowUpLocked() && c.op != srvstate.OpStopping {
			s.setUpLocked(now, reasonFromProbe(p), &pd)
		}
	}
	c.mu.Unlock()
	s.finishPending(&pd, log)
}

// applyMaxconnLocked is HAProxy's server_parse_maxconn_change_request for
// an agent's "maxconn:<n>" word: the server's maxconn becomes n (0 or less:
// unlimited, as "set maxconn server"), and sessions waiting in the queue
// are served if the limit grew. It returns an error text or "".
func (s *Server) applyMaxconnLocked(str string, pd *pending) string {
	v, msg := cnum.Maxconn(str)
	if msg != "" {
		return msg
	}
	s.maxConnR.Store(max(v, 0))
	pd.serveQueue = true
	return ""
}

// staticAlgo reports whether the backend's algorithm cannot change weights
// at run time (HAProxy's algorithms without BE_LB_PROP_DYN).
func (s *Server) staticAlgo() bool {
	if s.Backend == nil || s.Backend.Config == nil {
		return false
	}
	px := s.Backend.Config
	switch px.Balance.Algo {
	case "static-rr":
		return true
	case "roundrobin", "leastconn", "first", "random", "":
		return false
	}
	return !px.HashType.Consistent
}

// applyWeightLocked is HAProxy's server_parse_weight_change_request for a
// relative ("75%") or absolute weight; it returns an error text or "".
func (s *Server) applyWeightLocked(str string, pd *pending) string {
	if str == "" {
		return "Require <weight> or <weight%>.\n"
	}
	i := 0
	for i < len(str) && str[i] >= '0' && str[i] <= '9' {
		i++
	}
	if i == 0 {
		return "Empty weight string empty or preceded by garbage"
	}
	var w int64
	for _, ch := range str[:i] {
		if w < 1<<40 {
			w = w*10 + int64(ch-'0')
		}
	}
	switch rest := str[i:]; {
	case rest == "%":
		w = min(w, 25600)
		w = int64(max(s.Config.Weight, 0)) * w / 100
		w = min(w, 256)
	case w > 256:
		return "Absolute weight can only be between 0 and 256 inclusive.\n"
	case rest != "":
		return "Trailing garbage in weight string"
	}
	if w != 0 && w != int64(s.Config.Weight) && s.staticAlgo() {
		return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
	}
	if int32(w) != s.uweight.Load() {
		s.uweight.Store(int32(w))
		pd.updateBalance = true
	}
	return ""
}

// ProbeSnapshot is the "show stat" view of one check (health or agent).
// Fields are meaningful only when Shown is true (enabled and not paused);
// otherwise HAProxy prints these columns empty.
type ProbeSnapshot struct {
	Shown       bool
	Status      string               // check_status: "L4OK", "* L4OK" while a check runs
	StatusCode  srvstate.CheckStatus // numeric status (show servers state)
	Result      srvstate.CheckResult // show servers state srv_check_result
	Code        int                  // check_code, valid when HasCode
	HasCode     bool
	DurationMS  int64 // check_duration, valid when HasDuration
	HasDuration bool
	Desc        string // check_desc ("Layer4 check passed")
	LastChk     string // last_chk
	Rise, Fall  int
	Health      int
	StateBits   srvstate.ProbeState // srv_check_state
}

// CheckSnapshot is the health part of a server's "show stat" row and
// "show servers state" line.
type CheckSnapshot struct {
	Status     string      // status column: "UP", "UP 1/3", "DOWN", "MAINT", "no check", ...
	OpState    srvstate.Op // srv_op_state
	HasChecks  bool        // chkfail, chkdown and downtime are shown
	ChkFail    int64
	ChkDown    int64
	LastChg    int64 // seconds since the last state change
	DownTime   int64 // seconds spent DOWN
	Throttle   int   // slowstart throttle %, -1 when not warming up
	Check      ProbeSnapshot
	Agent      ProbeSnapshot
	CheckPort  int
	CheckAddr  string
	AgentPort  int
	AgentAddr  string
	AgentSends string
}

func (c *checkState) probeSnapshot(p *probe, paused bool) ProbeSnapshot {
	ps := ProbeSnapshot{StatusCode: p.status, Rise: p.rise, Fall: p.fall, Health: p.health}
	if p.inProgress {
		ps.StateBits |= srvstate.ProbeInProgress
	}
	if p.configured {
		ps.StateBits |= srvstate.ProbeConfigured
	}
	if p.enabled {
		ps.StateBits |= srvstate.ProbeEnabled
	}
	if paused {
		ps.StateBits |= srvstate.ProbePaused
	}
	ps.Result = p.status.Result()
	if p.inProgress {
		ps.Result = srvstate.ResultUnknown
	}
	if !p.enabled || paused {
		return ps
	}
	ps.Shown = true
	ps.Status = p.status.Name()
	if p.inProgress {
		ps.Status = "* " + ps.Status
	}
	if p.status.HasCode() {
		ps.Code, ps.HasCode = p.code, true
	}
	if p.status >= srvstate.CheckChecked && p.duration >= 0 {
		ps.DurationMS, ps.HasDuration = p.duration.Milliseconds(), true
	}
	ps.Desc = p.status.Desc()
	ps.LastChk = p.desc
	return ps
}

// CheckSnapshot returns the server's health state as the stats socket shows
// it at time now.
func (s *Server) CheckSnapshot(now time.Time) CheckSnapshot {
	c := s.lockCheck()
	defer c.mu.Unlock()
	snap := CheckSnapshot{
		OpState:   c.op,
		HasChecks: c.hc.enabled,
		ChkFail:   c.failed,
		ChkDown:   c.downTrans,
		LastChg:   max(now.Unix()-c.lastChange, 0),
		DownTime:  c.downTime,
		Throttle:  -1,
		Check:     c.probeSnapshot(&c.hc, c.paused),
		Agent:     c.probeSnapshot(&c.agent, false),
		CheckPort: s.Config.CheckPort,
		CheckAddr: s.Config.CheckAddr,
		AgentPort: s.Config.AgentPort,
		AgentAddr: s.Config.AgentAddr,
	}
	snap.AgentSends = c.agentSend
	if c.op == srvstate.OpStopped && c.lastChange < now.Unix() {
		snap.DownTime += now.Unix() - c.lastChange
	}
	if c.op == srvstate.OpStarting && s.admin.Load()&srvstate.AdminForcedDrain == 0 {
		snap.Throttle = s.effectiveWeightPercent()
		if s.uweight.Load() == 0 {
			snap.Throttle = 100
		}
	}
	snap.Status = c.statusLocked(s.admin.Load())
	return snap
}

// statusLocked renders the "status" column (HAProxy's
// stats_fill_sv_stats_computestate and srv_hlt_st).
func (c *checkState) statusLocked(admin srvstate.Admin) string {
	if admin&srvstate.AdminForcedMaint != 0 {
		return "MAINT"
	}
	hc, ag := &c.hc, &c.agent
	up := func(word string) string {
		return fmt.Sprintf("%s %d/%d", word, hc.health-hc.rise+1, hc.fall)
	}
	switch c.op {
	case srvstate.OpRunning, srvstate.OpStarting:
		goingDown := hc.enabled && hc.health < hc.full()
		if admin&srvstate.AdminForcedDrain != 0 {
			switch {
			case ag.enabled:
				return "DRAIN (agent)"
			case goingDown:
				return up("DRAIN")
			}
			return "DRAIN"
		}
		if goingDown {
			return up("UP")
		}
		if !hc.enabled {
			return "no check"
		}
		return "UP"
	case srvstate.OpStopping:
		if !hc.enabled || hc.health == hc.full() {
			return "NOLB"
		}
		return up("NOLB")
	}
	switch {
	case ag.enabled && ag.health == 0:
		return "DOWN (agent)"
	case hc.enabled && hc.health == 0:
		return "DOWN"
	case ag.enabled || hc.enabled:
		return fmt.Sprintf("DOWN %d/%d", hc.health, hc.rise)
	}
	return "DOWN"
}

// SetHealth is "set server <b>/<s> health up|stopping|down": it forces the
// health counter and the operational state, logging "changed from CLI".
// The error text is HAProxy's answer to a bad argument.
func (s *Server) SetHealth(state string, log logrus.FieldLogger) error {
	now := time.Now()
	var pd pending
	c := s.lockCheck()
	reason := stateReason{text: "changed from CLI"}
	switch state {
	case "up":
		c.hc.health = c.hc.full()
		s.setUpLocked(now, reason, &pd)
	case "stopping":
		c.hc.health = c.hc.full()
		s.setStoppingLocked(now, reason, &pd)
	case "down":
		c.hc.health = 0
		s.setStoppedLocked(now, reason, &pd)
	default:
		c.mu.Unlock()
		return errors.New("'set server <srv> health' expects 'up', 'stopping', or 'down'.")
	}
	c.mu.Unlock()
	s.finishPending(&pd, log)
	return nil
}

// SetAgentHealth is "set server <b>/<s> agent up|down".
func (s *Server) SetAgentHealth(state string, log logrus.FieldLogger) error {
	now := time.Now()
	var pd pending
	c := s.lockCheck()
	if !c.agent.enabled {
		c.mu.Unlock()
		return errors.New("agent checks are not enabled on this server.")
	}
	reason := stateReason{text: "changed from CLI"}
	switch state {
	case "up":
		c.agent.health = c.agent.full()
		s.setUpLocked(now, reason, &pd)
	case "down":
		c.agent.health = 0
		s.setStoppedLocked(now, reason, &pd)
	default:
		c.mu.Unlock()
		return errors.New("'set server <srv> agent' expects 'up' or 'down'.")
	}
	c.mu.Unlock()
	s.finishPending(&pd, log)
	return nil
}
