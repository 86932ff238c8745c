package proxy

import (
	"errors"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
)

// Errors of the admin calls. The runtime API turns them into HAProxy's
// answers (package stats holds that table).
var (
	// ErrWeightRange: an absolute weight outside 0..256.
	ErrWeightRange = errors.New("weight out of range 0..256")
	// ErrStaticWeight: the backend's algorithm cannot change weights at
	// run time; only 0 and the configured weight are accepted.
	ErrStaticWeight = errors.New("static load-balancing algorithm: the weight can only be 0 or the configured one")
	// ErrAgentDisabled: the server has no agent check switched on.
	ErrAgentDisabled = errors.New("agent checks are not enabled on this server")
	// ErrHealthState: a forced health is running, stopping or stopped.
	ErrHealthState = errors.New("forced health must be running, stopping or stopped")
)

// AdminMode is a server's forced administrative mode, what "set server
// ... state" (and "enable server"/"disable server") asks for.
type AdminMode int

// Administrative modes.
const (
	ModeReady AdminMode = iota // neither forced maintenance nor drain
	ModeDrain                  // forced drain, out of maintenance
	ModeMaint                  // forced maintenance, out of drain
)

// SetAdminMode moves the server to mode m as one change, as HAProxy's
// srv_adm_set_maint/drain/ready: maint leaves drain, drain leaves maint,
// ready leaves both. The balancer and the logs never see a state in
// between.
func (s *Server) SetAdminMode(m AdminMode, log logrus.FieldLogger) {
	s.change(log, func(now time.Time, _ *checkState, pd *pending) error {
		s.setAdminModeLocked(now, m, pd)
		return nil
	})
}

func (s *Server) setAdminModeLocked(now time.Time, m AdminMode, pd *pending) {
	switch m {
	case ModeMaint:
		s.setMaintLocked(now, true, pd)
		s.setDrainLocked(now, false, pd)
	case ModeDrain:
		s.setDrainLocked(now, true, pd)
		s.setMaintLocked(now, false, pd)
	default:
		s.setMaintLocked(now, false, pd)
		s.setDrainLocked(now, false, pd)
	}
}

// SetHealth is "set server <b>/<s> health up|stopping|down": it forces the
// health counter and the operational state (OpRunning, OpStopping or
// OpStopped), logging "changed from CLI". Any other state is
// ErrHealthState.
func (s *Server) SetHealth(op srvstate.Op, log logrus.FieldLogger) error {
	return s.change(log, func(now time.Time, c *checkState, pd *pending) error {
		reason := stateReason{text: "changed from CLI"}
		switch op {
		case srvstate.OpRunning:
			c.hc.health = c.hc.full()
			s.setUpLocked(now, reason, pd)
		case srvstate.OpStopping:
			c.hc.health = c.hc.full()
			s.setStoppingLocked(now, reason, pd)
		case srvstate.OpStopped:
			c.hc.health = 0
			s.setStoppedLocked(now, reason, pd)
		default:
			return ErrHealthState
		}
		return nil
	})
}

// SetAgentHealth is "set server <b>/<s> agent up|down"; without an agent
// check switched on it is ErrAgentDisabled.
func (s *Server) SetAgentHealth(up bool, log logrus.FieldLogger) error {
	return s.change(log, func(now time.Time, c *checkState, pd *pending) error {
		if !c.agent.enabled {
			return ErrAgentDisabled
		}
		reason := stateReason{text: "changed from CLI"}
		if up {
			c.agent.health = c.agent.full()
			s.setUpLocked(now, reason, pd)
		} else {
			c.agent.health = 0
			s.setStoppedLocked(now, reason, pd)
		}
		return nil
	})
}

// SetWeight sets the server's user weight (set weight, set server ...
// weight, a saved state): 0..256 on the configuration scale, else
// ErrWeightRange; ErrStaticWeight when the backend's algorithm cannot take
// it. The balancer is updated at once.
func (s *Server) SetWeight(w int, log logrus.FieldLogger) error {
	if w < 0 || w > 256 {
		return ErrWeightRange
	}
	return s.change(log, func(_ time.Time, _ *checkState, pd *pending) error {
		return s.setWeightLocked(int64(w), pd)
	})
}

// setWeightLocked sets the user weight w (0..256).
func (s *Server) setWeightLocked(w int64, pd *pending) error {
	if w != 0 && w != int64(s.Config.Weight) && s.staticAlgo() {
		return ErrStaticWeight
	}
	if int32(w) != s.uweight.Load() {
		s.uweight.Store(int32(w))
		pd.updateBalance = true
	}
	return nil
}

// StaticLB reports whether the backend's algorithm cannot change weights
// at run time (static-rr, map-based hashing).
func (b *Backend) StaticLB() bool {
	if len(b.ServerList()) > 0 {
		return b.ServerList()[0].staticAlgo()
	}
	sv := &Server{Backend: b}
	return sv.staticAlgo()
}
