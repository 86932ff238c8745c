package proxy

import (
	"fmt"
	"time"

	"goproxy/internal/srvstate"
)

// This file holds the read side of a server's check state: the snapshot
// "show stat" and "show servers state" print.

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
		ChkFail:   c.hc.failed,
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
