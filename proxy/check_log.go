package proxy

import (
	"fmt"

	"goproxy/internal/srvstate"
)

// option log-health-checks: HAProxy's set_server_check_status logs a line
// for every check whose status differs from the previous one or that moved
// the health counter, before any state change it causes ("Health check for
// server be/s1 failed, reason: ..., status: 0/2 DOWN."), as a WARNING on
// stderr and a notice to the backend's log targets.

// logsHealthChecks reports whether the server's backend has option
// log-health-checks.
func (s *Server) logsHealthChecks() bool {
	return s.Backend != nil && s.Backend.Config != nil && s.Backend.Config.Options.LogHealthChecks
}

// healthCheckEventLocked appends the log-health-checks line for a probe
// whose result was just recorded (p holds the new status and health).
// prevStatus is the status before this result, moved whether the health
// counter changed; agent selects "Agent check" over "Health check".
func (s *Server) healthCheckEventLocked(p *probe, prevStatus srvstate.CheckStatus, moved, agent bool, pd *pending) {
	if !s.logsHealthChecks() || (p.status == prevStatus && !moved) {
		return
	}
	kind := "Health"
	if agent {
		kind = "Agent"
	}
	backup := ""
	if s.Backup {
		backup = "backup "
	}
	verdict := "failed"
	switch p.status.Result() {
	case srvstate.ResultCondPass:
		verdict = "conditionally succeeded"
	case srvstate.ResultPassed:
		verdict = "succeeded"
	}
	num, den, state := p.health, p.rise, "DOWN"
	if p.health >= p.rise {
		num, den, state = p.health-p.rise+1, p.fall, "UP"
		if s.uweight.Load() == 0 {
			state = "DRAIN"
		}
	}
	pd.events = append(pd.events, stateEvent{
		level: LogNotice,
		msg: fmt.Sprintf("%s check for %sserver %s/%s %s%s, status: %d/%d %s.",
			kind, backup, s.backendName(), s.Name, verdict, reasonFromProbe(p), num, den, state),
	})
}

// checkReason is the reason a state change caused by a check gives: the
// check's result, unless log-health-checks already logged it (HAProxy's
// check_notify_* pass no check then, so "is DOWN." stands alone).
func (s *Server) checkReason(p *probe) stateReason {
	if s.logsHealthChecks() {
		return stateReason{}
	}
	return reasonFromProbe(p)
}
