package proxy

import (
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
)

// This file holds the administrative changes of a server: forced
// maintenance and drain, forced health, weight and maxconn changes.

// SetMaint puts the server into forced maintenance or takes it out
// ("disable server"/"enable server", "set server ... state maint|ready",
// agent "maint"/"ready"), with HAProxy's transitions and log lines: checks
// pause in maintenance and resume at health = rise when it ends.
func (s *Server) SetMaint(on bool, log logrus.FieldLogger) {
	s.change(log, func(now time.Time, _ *checkState, pd *pending) error {
		s.setMaintLocked(now, on, pd)
		return nil
	})
}

func (s *Server) setMaintLocked(now time.Time, on bool, pd *pending) {
	if on == (s.admin.Load()&srvstate.AdminForcedMaint != 0) {
		return
	}
	if on {
		s.enterMaintLocked(now, pd)
	} else {
		s.leaveMaintLocked(now, pd)
	}
}

// enterMaintLocked is HAProxy's srv_adm_set_maint: checks pause, and a
// server still up goes DOWN.
func (s *Server) enterMaintLocked(now time.Time, pd *pending) {
	c := &s.check
	s.maintWeight.Store(s.uweight.Load())
	if c.hc.enabled {
		c.paused = true
		c.hc.health = 0
	}
	if c.op == srvstate.OpStopped {
		s.admin.Or(srvstate.AdminForcedMaint)
		pd.updateBalance = true
		pd.events = append(pd.events, stateEvent{level: LogNotice, msg: fmt.Sprintf(
			"%s was DOWN and now enters maintenance.", s.serverLabel())})
		return
	}
	c.hc.health = 0
	// As HAProxy: an alert, or a notice when the server was already
	// stopping (drain, NOLB).
	level := LogAlert
	if s.admin.Load()&srvstate.AdminForcedDrain != 0 || c.op == srvstate.OpStopping {
		level = LogNotice
	}
	s.updateStatusLocked(now, srvstate.OpStopped, pd, func(m moved) stateEvent {
		return stateEvent{level: level, msg: fmt.Sprintf(
			"%s is going DOWN for maintenance. %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue.",
			s.serverLabel(), m.act, m.bck, m.backupNote(), m.served, m.xferred, m.queued)}
	})
	s.admin.Or(srvstate.AdminForcedMaint)
}

// leaveMaintLocked is HAProxy's srv_adm_set_ready for maintenance: checks
// resume at health = rise, and the server comes UP if no check holds it
// down.
func (s *Server) leaveMaintLocked(now time.Time, pd *pending) {
	c := &s.check
	if c.hc.enabled {
		c.paused = false
		c.hc.health = c.hc.rise
	}
	s.admin.clear(srvstate.AdminForcedMaint)
	pd.updateBalance = true
	event := func(moved) stateEvent {
		state, ready, level := "UP", "READY", LogNotice
		if c.op == srvstate.OpStopped {
			state, level = "DOWN", LogAlert
		}
		if s.admin.Load()&srvstate.AdminForcedDrain != 0 {
			ready = "DRAIN"
		}
		return stateEvent{level: level, msg: fmt.Sprintf(
			"%s is %s/%s (leaving forced maintenance).", s.serverLabel(), state, ready)}
	}
	if s.checksAllowUpLocked() {
		s.updateStatusLocked(now, srvstate.OpRunning, pd, event)
		return
	}
	pd.events = append(pd.events, event(moved{}))
	s.upSideEffectsLocked(pd)
	s.ServeQueue()
}

// SetDrain sets or clears forced drain ("set server ... state drain",
// agent "drain"): the server keeps its sessions and takes no new ones.
func (s *Server) SetDrain(on bool, log logrus.FieldLogger) {
	s.change(log, func(now time.Time, _ *checkState, pd *pending) error {
		s.setDrainLocked(now, on, pd)
		return nil
	})
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
		m := moved{xferred: s.redispatchQueue()}
		m.act, m.bck = s.usableCounts()
		verb := "online"
		tail := fmt.Sprintf("%d sessions requeued, %d total in queue", m.xferred, s.queued.Load())
		if c.op == srvstate.OpStopped {
			verb = "left"
			tail = fmt.Sprintf("%d sessions active, %d requeued, %d remaining in queue", s.served.Load(), m.xferred, s.queued.Load())
		}
		pd.events = append(pd.events, stateEvent{level: LogNotice, msg: fmt.Sprintf(
			"%s enters drain state. %d active and %d backup servers %s.%s %s.",
			s.serverLabel(), m.act, m.bck, verb, m.backupNote(), tail)})
		if act0+bck0 > 0 && m.act+m.bck == 0 {
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
	pd.events = append(pd.events, stateEvent{level: LogNotice, msg: fmt.Sprintf(
		"%s is %s (leaving forced drain).", s.serverLabel(), state)})
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
