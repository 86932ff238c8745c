package proxy

import (
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/cnum"
	"goproxy/internal/srvstate"
)

// This file holds the agent check side of a server (agent-check): its
// scheduling and the application of an agent's reply.

// SetAgentCheckEnabled is the switch behind "enable agent"/"disable agent".
func (s *Server) SetAgentCheckEnabled(on bool) {
	c := s.lockCheck()
	if c.agent.configured {
		c.agent.enabled = on
	}
	c.mu.Unlock()
}

// reportAgent records an agent check that got no usable reply (connection
// problem, timeout, an incomplete line): as in HAProxy it is shown but
// never changes the server's state. KeepStatus keeps the previous status
// (HAProxy does so for an incomplete reply line).
func (s *Server) reportAgent(r srvstate.Report, log logrus.FieldLogger) {
	s.change(log, func(now time.Time, c *checkState, pd *pending) error {
		p := &c.agent
		p.inProgress = false
		prevStatus := p.status
		if !r.KeepStatus {
			p.status = r.Status
		}
		p.code, p.desc, p.duration = r.Code, clipDesc(r.Desc), r.Took
		s.healthCheckEventLocked(p, prevStatus, false, true, pd)
		return nil
	})
}

// applyAgentReply applies one agent reply, as HAProxy's
// tcpcheck_agent_expect_reply: the admin state it asks for, its weight and
// maxconn, then its health, with the check's text built from the reply's
// description, unknown word or warning.
func (s *Server) applyAgentReply(a srvstate.AgentReply, took time.Duration, log logrus.FieldLogger) {
	s.change(log, func(now time.Time, c *checkState, pd *pending) error {
		p := &c.agent
		p.inProgress = false
		prevStatus, prevHealth := p.status, p.health
		p.duration = took
		p.code = 0
		if !p.enabled {
			return nil
		}
		switch a.Admin {
		case srvstate.AgentDrain:
			s.setDrainLocked(now, true, pd)
		case srvstate.AgentMaint:
			s.setMaintLocked(now, true, pd)
		case srvstate.AgentReady:
			s.setAdminModeLocked(now, ModeReady, pd)
		}
		wrn := a.WeightWarning
		if a.HasWeight {
			wrn = s.applyAgentWeightLocked(a.Weight, a.WeightRelative, pd)
		}
		if a.HasMaxConn {
			s.maxConnR.Store(max(a.MaxConn, 0))
			pd.serveQueue = true
		}
		if wrn == "" {
			wrn = a.MaxConnWarning
		}
		status := srvstate.CheckChecked
		switch a.Health {
		case srvstate.AgentUp:
			p.health = p.full()
			status = srvstate.CheckL7OK
		case srvstate.AgentDown:
			p.health = 0
			status = srvstate.CheckL7Sts
		}
		switch {
		case a.HealthWord != "":
			msg := a.Desc
			if msg == "" || status == srvstate.CheckL7OK {
				if a.ErrWord != "" {
					msg = a.ErrWord
				} else if wrn != "" {
					msg = wrn
				}
			}
			text := "via agent : " + a.HealthWord
			if msg != "" {
				text += " (" + msg + ")"
			}
			p.desc = clipDesc(text)
		case a.ErrWord != "":
			p.desc = clipDesc("agent reports an error : " + a.ErrWord)
		case wrn != "":
			p.desc = clipDesc("agent warns : " + wrn)
		default:
			p.desc = ""
		}
		p.status = status
		if status != srvstate.CheckChecked {
			s.healthCheckEventLocked(p, prevStatus, p.health != prevHealth, true, pd)
		}
		switch status {
		case srvstate.CheckL7Sts:
			if p.health == 0 {
				s.setStoppedLocked(now, s.checkReason(p), pd)
			}
		case srvstate.CheckL7OK:
			if s.checksAllowUpLocked() && c.op != srvstate.OpStopping {
				s.setUpLocked(now, s.checkReason(p), pd)
			}
		}
		return nil
	})
}

// applyAgentWeightLocked sets the weight an agent asks for, w or, when
// relative, w percent of the configured one (HAProxy's
// server_parse_weight_change_request). It returns the agent's warning, or
// "".
func (s *Server) applyAgentWeightLocked(w int64, relative bool, pd *pending) string {
	if relative {
		w = min(int64(max(s.Config.Weight, 0))*w/100, 256)
	}
	if err := s.setWeightLocked(w, pd); err != nil {
		return cnum.StaticWeightMsg // shown in the agent's last_chk
	}
	return ""
}
