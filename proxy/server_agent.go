package proxy

import (
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
)

// This file holds the agent check side of a server (agent-check): its
// scheduling and the application of an agent's reply.

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
	s.change(log, func(now time.Time, c *checkState, pd *pending) error {
		p := &c.agent
		p.inProgress = false
		p.duration = took
		p.code = 0
		if !p.enabled {
			return nil
		}
		switch strings.ToLower(admin) {
		case "drain":
			s.setDrainLocked(now, true, pd)
		case "maint":
			s.setMaintLocked(now, true, pd)
		case "ready":
			s.setAdminModeLocked(now, ModeReady, pd)
		}
		wrn := ""
		if weight != "" {
			wrn = s.applyWeightLocked(weight, pd)
		}
		if maxconn != "" {
			n := maxconn
			if len(n) >= len("maxconn:") && strings.EqualFold(n[:len("maxconn:")], "maxconn:") {
				n = n[len("maxconn:"):]
			}
			if msg := s.applyMaxconnLocked(n, pd); wrn == "" {
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
				s.setStoppedLocked(now, reasonFromProbe(p), pd)
			}
		case srvstate.CheckL7OK:
			if s.checksAllowUpLocked() && c.op != srvstate.OpStopping {
				s.setUpLocked(now, reasonFromProbe(p), pd)
			}
		}
		return nil
	})
}
