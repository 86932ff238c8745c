package proxy

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
)

// This file holds what runtime DNS resolution changes on a server: its
// resolution maintenance (HAProxy's SRV_ADMF_RMAINT), its FQDN, and its
// address, port and weight as records give them (resolver.go decides).

// maintBlocksUp are the maintenance flags that keep a server down whatever
// its checks say.
const maintBlocksUp = srvstate.AdminForcedMaint | srvstate.AdminResolutionMaint

// ServerDNS is the configuration runtime resolution starts from.
type ServerDNS struct {
	FQDN       string // the host name as written ("" for an address)
	SRVRecord  string // the SRV name of a server-template
	Unresolved bool   // no address at start (init-addr none, SRV)
}

// resolveState is a server's runtime resolution state.
type resolveState struct {
	fqdn atomic.Pointer[string] // the name resolved; nil = the configured one
}

// FQDN returns the host name the server resolves ("" for none).
func (s *Server) FQDN() string {
	if p := s.res.fqdn.Load(); p != nil {
		return *p
	}
	return s.DNS.FQDN
}

// SetFQDN changes the host name the server resolves; the name of an SRV
// record (fromSRV) shows in its admin state as HAProxy's SRV_ADMF_HMAINT.
func (s *Server) SetFQDN(name string, fromSRV bool) {
	s.res.fqdn.Store(&name)
	if fromSRV && name != "" {
		s.admin.Or(srvstate.AdminFQDNSet)
	}
}

// initResolutionLocked starts a server without an address (init-addr
// none, -dr, an SRV template) in resolution maintenance, as HAProxy;
// runtime resolution takes it out once a record gives it one.
func (s *Server) initResolutionLocked(c *checkState) {
	if !s.DNS.Unresolved {
		return
	}
	if d := s.dest.Load(); d != nil {
		nd := *d
		nd.ip = netip.Addr{}
		if s.DNS.SRVRecord != "" {
			nd.port, nd.portMap = 0, false
		}
		s.dest.Store(&nd)
	}
	s.admin.Or(srvstate.AdminResolutionMaint)
	c.op = srvstate.OpStopped
	c.paused = c.hc.enabled
	c.hc.health = 0
}

// SetResolutionMaint puts the server in resolution maintenance with
// HAProxy's cause ("No IP for server ", "entry removed from SRV record",
// "DNS NX status"...) or takes it out of it, with HAProxy's log lines. It
// reports whether the flag changed.
func (s *Server) SetResolutionMaint(on bool, cause string, log logrus.FieldLogger) bool {
	changed := false
	s.change(log, func(now time.Time, _ *checkState, pd *pending) error {
		if on == (s.admin.Load()&srvstate.AdminResolutionMaint != 0) {
			return nil
		}
		changed = true
		if on {
			s.enterResolutionMaintLocked(now, cause, pd)
		} else {
			s.leaveResolutionMaintLocked(now, pd)
		}
		return nil
	})
	return changed
}

func (s *Server) enterResolutionMaintLocked(now time.Time, cause string, pd *pending) {
	c := &s.check
	already := s.admin.Load()&srvstate.AdminMaint != 0
	if already {
		s.admin.Or(srvstate.AdminResolutionMaint)
		return
	}
	if c.hc.enabled {
		c.paused = true
		c.hc.health = 0
	}
	if c.op == srvstate.OpStopped {
		s.admin.Or(srvstate.AdminResolutionMaint)
		pd.updateBalance = true
		pd.events = append(pd.events, stateEvent{level: LogNotice, msg: fmt.Sprintf(
			"%s was DOWN and now enters maintenance (%s).", s.serverLabel(), cause)})
		return
	}
	c.hc.health = 0
	level := LogAlert
	if s.admin.Load()&srvstate.AdminForcedDrain != 0 || c.op == srvstate.OpStopping {
		level = LogNotice
	}
	s.admin.Or(srvstate.AdminResolutionMaint)
	s.updateStatusLocked(now, srvstate.OpStopped, pd, func(m moved) stateEvent {
		return stateEvent{level: level, msg: fmt.Sprintf(
			"%s is going DOWN for maintenance (%s). %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue.",
			s.serverLabel(), cause, m.act, m.bck, m.backupNote(), m.served, m.xferred, m.queued)}
	})
}

func (s *Server) leaveResolutionMaintLocked(now time.Time, pd *pending) {
	c := &s.check
	s.admin.clear(srvstate.AdminResolutionMaint)
	pd.updateBalance = true
	if s.admin.Load()&srvstate.AdminMaint != 0 {
		return // still in another maintenance
	}
	if c.hc.enabled {
		c.paused = false
		c.hc.health = c.hc.rise
	}
	event := func(moved) stateEvent {
		state, ready := "UP", "READY"
		if c.op == srvstate.OpStopped {
			state = "DOWN"
		}
		if s.admin.Load()&srvstate.AdminForcedDrain != 0 {
			ready = "DRAIN"
		}
		return stateEvent{level: LogNotice, msg: fmt.Sprintf(
			"%s ('%s') is %s/%s (resolves again).", s.serverLabel(), s.FQDN(), state, ready)}
	}
	if s.checksAllowUpLocked() {
		s.updateStatusLocked(now, srvstate.OpRunning, pd, event)
		return
	}
	pd.events = append(pd.events, event(moved{}))
}

// ResolutionMaint reports whether the server is in resolution maintenance.
func (s *Server) ResolutionMaint() bool {
	return s.admin.Load()&srvstate.AdminResolutionMaint != 0
}

// ClearAddr removes the server's address (a record that disappeared):
// show stat and show servers state then show none.
func (s *Server) ClearAddr(clearPort bool) {
	old := s.dest.Load()
	if old == nil || old.ux != nil {
		return
	}
	d := *old
	d.ip = netip.Addr{}
	if clearPort {
		d.port, d.portMap, d.offset = 0, false, 0
	}
	s.dest.Store(&d)
}

// LogNotice writes msg (without its final period) as HAProxy writes the
// resolution events: a warning on the process log (unless log is nil) and
// a notice to the backend's log targets.
func (s *Server) LogNotice(msg string, log logrus.FieldLogger) {
	pd := pending{events: []stateEvent{{level: LogNotice, msg: msg + "."}}}
	pd.emit(log)
	if s.Backend != nil {
		pd.syslog(s.Backend.logs)
	}
}

// Label is "backend/server", as the resolution messages name a server.
func (s *Server) Label() string { return s.backendName() + "/" + s.Name }
