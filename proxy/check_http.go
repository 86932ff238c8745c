package proxy

import (
	"fmt"
	"strconv"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// CheckServerDown reports whether the server is DOWN, for
// "http-check disable-on-404": a 404 answer is a conditional pass only for
// a server that is up.
func (s *Server) CheckServerDown() bool {
	c := s.lockCheck()
	defer c.mu.Unlock()
	return c.op == srvstate.OpStopped
}

// CheckStateHeader is the value of the X-Haproxy-Server-State header of
// "http-check send-state", as HAProxy's httpchk_build_status_header.
func (s *Server) CheckStateHeader() string {
	c := s.lockCheck()
	hc, op := c.hc, c.op
	c.mu.Unlock()
	var word string
	switch {
	case !hc.configured || !hc.enabled:
		word = "no check"
	case op != srvstate.OpStopped:
		name := "UP"
		if op == srvstate.OpStopping {
			name = "NOLB"
		}
		word = name
		if hc.health != hc.full() {
			word = fmt.Sprintf("%s %d/%d", name, hc.health-hc.rise+1, hc.fall)
		}
	case hc.health > 0:
		word = fmt.Sprintf("DOWN %d/%d", hc.health, hc.rise)
	default:
		word = "DOWN"
	}
	port := ""
	if s.Addr.Family == parser.FamilyTCP4 || s.Addr.Family == parser.FamilyTCP6 {
		port = strconv.Itoa(s.Addr.Port)
	}
	be := s.Backend
	var beName string
	var tot int
	var beCur, beQueued int64
	if be != nil {
		beName = be.Name
		tot = be.LBWeight()
		beCur = be.Stats().Scur
		beQueued = be.Queued()
	}
	return fmt.Sprintf("%s; address=%s; port=%s; name=%s/%s; node=%s; weight=%d/%d; scur=%d/%d; qcur=%d",
		word, s.Addr.Host, port, beName, s.Name, hostname(), s.UWeight(), tot,
		s.Stats().Scur, beCur-beQueued, s.Queued())
}
