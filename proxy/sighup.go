package proxy

import (
	"fmt"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// DumpServerStates is HAProxy's answer to SIGHUP: for each proxy, in
// configuration order, a line per server and one for the proxy, sent at
// notice to the proxy's log targets (after "SIGHUP received, dumping
// servers states for proxy <name>."). It returns the lines, which HAProxy
// also prints as warnings, after its own "SIGHUP received, dumping servers
// states.".
func (g *Graph) DumpServerStates() []string {
	var out []string
	for _, px := range g.cfg.Proxies {
		if px.Cap&(parser.CapFrontend|parser.CapBackend) == 0 {
			continue
		}
		var fe *Frontend
		var be *Backend
		var sink *LogSink
		if px.Cap&parser.CapFrontend != 0 {
			if fe = g.Frontend(px.Name); fe != nil {
				sink = fe.logs
			}
		}
		if px.Cap&parser.CapBackend != 0 {
			if be = g.Backend(px.Name); be != nil && sink == nil {
				sink = be.logs
			}
		}
		if fe == nil && be == nil {
			continue
		}
		sink.Log(LogNotice, "SIGHUP received, dumping servers states for proxy "+px.Name+".")
		lines := serverStateLines(px.Name, fe, be)
		for _, l := range lines {
			sink.Log(LogNotice, l)
		}
		out = append(out, lines...)
	}
	return out
}

// serverStateLines are the SIGHUP lines of one proxy.
func serverStateLines(name string, fe *Frontend, be *Backend) []string {
	var lines []string
	var feConn, feTot, beConn, beTot, pend, unass int64
	if fe != nil {
		st := fe.Stats()
		feConn, feTot = st.Scur, st.ConnTot
	}
	act, bck, servers := 0, 0, 0
	if be != nil {
		st := be.Stats()
		beConn, beTot, unass = st.Scur, st.Stot, st.Qcur
		pend = unass
		for _, s := range be.ServerList() {
			servers++
			ss := s.Stats()
			pend += ss.Qcur
			state := "DOWN"
			if s.Running() && s.Admin()&srvstate.AdminForcedMaint == 0 {
				state = "UP"
			}
			lines = append(lines, fmt.Sprintf("SIGHUP: Server %s/%s is %s. Conn: %d act, %d pend, %d tot.",
				name, s.Name, state, ss.Scur, ss.Qcur, ss.Stot))
			if s.usable() {
				if s.Backup {
					bck++
				} else {
					act++
				}
			}
		}
	}
	conn := fmt.Sprintf("Conn: act(FE+BE): %d+%d, %d pend (%d unass), tot(FE+BE): %d+%d.", feConn, beConn, pend, unass, feTot, beTot)
	switch {
	case servers == 0:
		lines = append(lines, fmt.Sprintf("SIGHUP: Proxy %s has no servers. %s", name, conn))
	case act == 0 && bck > 0:
		lines = append(lines, fmt.Sprintf("SIGHUP: Proxy %s is running on backup servers ! %s", name, conn))
	case act == 0:
		lines = append(lines, fmt.Sprintf("SIGHUP: Proxy %s has no server available ! %s", name, conn))
	default:
		lines = append(lines, fmt.Sprintf("SIGHUP: Proxy %s has %d active servers and %d backup servers available. %s", name, act, bck, conn))
	}
	return lines
}
