package proxy

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// This file holds a server's check state (health and agent probes, the
// locks guarding them) and HAProxy's rise/fall arithmetic for health
// checks (src/check.c set_server_check_status, check_notify_*). Checkers
// in package health call the Check*/Report* methods (health.Target).

// checkDescLen bounds a check's text as HAProxy's HCHK_DESC_LEN does.
const checkDescLen = 128

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
	failed     int64         // failed checks while up (chkfail)
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
	downTrans  int64
	lastChange int64 // unix seconds of the last state change
	downTime   int64 // seconds spent stopped, closed periods only
	slowStart  time.Duration
	warmup     *time.Timer
	agentSend  string

	eweightPct atomic.Int32 // 1..100: slowstart throttle; 100 otherwise
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
		inter:      cfg.CheckInter(),
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
		inter:      cfg.AgentCheckInter(),
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
	s.initResolutionLocked(c)
	s.running.Store(c.op != srvstate.OpStopped)
}

func (s *Server) lockCheck() *checkState {
	s.check.mu.Lock()
	if !s.check.inited {
		s.initCheckLocked(time.Now())
	}
	return &s.check
}

// checksAllowUpLocked is the common condition of HAProxy's
// check_notify_success/stopping: not in maintenance, and every enabled
// check (health, agent) at or above its rise.
func (s *Server) checksAllowUpLocked() bool {
	c := &s.check
	if s.admin.Load()&maintBlocksUp != 0 {
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

// probeOf returns the probe of kind k.
func (c *checkState) probeOf(k srvstate.CheckKind) *probe {
	if k == srvstate.AgentCheck {
		return &c.agent
	}
	return &c.hc
}

// CheckConfigured reports whether the server has a check of kind k
// ("check"; "agent-check" with an "agent-port"). It implements
// health.Target, as CheckInterval, StartCheck and Report do.
func (s *Server) CheckConfigured(k srvstate.CheckKind) bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.probeOf(k).configured
}

// CheckInterval returns the delay before the next check of kind k, as
// HAProxy's srv_getinter: inter when fully up, downinter when fully down,
// fastinter in between (each falling back to inter).
func (s *Server) CheckInterval(k srvstate.CheckKind) time.Duration {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.intervalLocked(c.probeOf(k))
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

// checkRunnableLocked reports whether a check of kind k should run now:
// configured, enabled, its backend not disabled, and for health checks not
// paused by maintenance (agent checks keep running in maintenance).
func (s *Server) checkRunnableLocked(k srvstate.CheckKind) bool {
	c := &s.check
	p := c.probeOf(k)
	if k == srvstate.HealthCheck && c.paused {
		return false
	}
	return p.configured && p.enabled && !s.backendDisabled()
}

// checkRunnable is checkRunnableLocked taking the lock.
func (s *Server) checkRunnable(k srvstate.CheckKind) bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return s.checkRunnableLocked(k)
}

// StartCheck reports whether a check of kind k should run now and, if so,
// marks it in progress: "show stat" prefixes the last status with "* " and
// shows no text until the result arrives.
func (s *Server) StartCheck(k srvstate.CheckKind) bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	if !s.checkRunnableLocked(k) {
		return false
	}
	p := c.probeOf(k)
	p.inProgress = true
	p.desc = ""
	return true
}

func (s *Server) backendDisabled() bool {
	return s.Backend != nil && s.Backend.Config != nil && s.Backend.Config.Disabled
}

// Report applies the outcome of one check: a health check's result goes
// through the rise/fall arithmetic, an agent's reply is applied, an agent
// check without one is only recorded. State changes are logged on log.
func (s *Server) Report(r srvstate.Report, log logrus.FieldLogger) {
	switch {
	case r.Kind == srvstate.HealthCheck:
		s.reportCheck(r, log)
		if r.Twice {
			s.reportCheck(r, log)
		}
	case r.Agent != nil:
		s.applyAgentReply(*r.Agent, r.Took, log)
	default:
		s.reportAgent(r, log)
	}
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

// reportCheck records the outcome of one health check (its status, layer 7
// code, the text shown as last_chk and its duration), applies the rise/fall
// arithmetic and changes the server's state when it crosses a threshold,
// logging HAProxy's lines on log.
func (s *Server) reportCheck(r srvstate.Report, log logrus.FieldLogger) {
	s.change(log, func(now time.Time, c *checkState, pd *pending) error {
		p := &c.hc
		p.inProgress = false
		prevStatus, prevHealth := p.status, p.health
		p.status = r.Status
		p.code = r.Code
		p.desc = clipDesc(r.Desc)
		p.duration = r.Took
		res := r.Status.Result()
		want := riseFall(p, res)
		if res == srvstate.ResultFailed || res == srvstate.ResultPassed || res == srvstate.ResultCondPass {
			// A neutral result (CHECKED) is not logged.
			s.healthCheckEventLocked(p, prevStatus, p.health != prevHealth, false, pd)
		}
		switch want {
		case srvstate.OpStopped:
			s.setStoppedLocked(now, s.checkReason(p), pd)
		case srvstate.OpStopping:
			if s.checksAllowUpLocked() {
				s.setStoppingLocked(now, s.checkReason(p), pd)
			}
		case srvstate.OpRunning:
			if s.checksAllowUpLocked() {
				s.setUpLocked(now, s.checkReason(p), pd)
			}
		}
		return nil
	})
}

// riseFall is HAProxy's rise/fall arithmetic for one check result: a
// failure takes one from the probe's health (to 0 once below rise), a pass
// adds one (to the full rise+fall-1 once at rise). It counts the failures
// seen while up (chkfail) and returns the state the probe now asks for:
// OpStopped when it is down, OpRunning (OpStopping for a conditional pass)
// when it passed, or -1 when the result asks for nothing.
func riseFall(p *probe, res srvstate.CheckResult) srvstate.Op {
	switch res {
	case srvstate.ResultFailed:
		if p.health > 0 {
			p.failed++
			p.health--
			if p.health < p.rise {
				p.health = 0
			}
		}
		if p.health == 0 {
			return srvstate.OpStopped
		}
	case srvstate.ResultPassed, srvstate.ResultCondPass:
		if p.health < p.full() {
			p.health++
			if p.health >= p.rise {
				p.health = p.full()
			}
		}
		if res == srvstate.ResultCondPass {
			return srvstate.OpStopping
		}
		return srvstate.OpRunning
	}
	return -1
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
