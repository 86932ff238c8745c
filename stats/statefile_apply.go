package stats

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sirupsen/logrus"

	"goproxy/internal/cnum"
	"goproxy/internal/srvstate"
	"goproxy/proxy"
)

// savedState is the validated part of a state line that is applied.
type savedState struct {
	addr                   string // srv_addr, "-" for none
	op                     srvstate.Op
	admin                  srvstate.Admin // inherited and resolution flags removed
	uweight, iweight       int
	checkState, agentState srvstate.ProbeState
	port                   int // srv_port; -1 when not applicable
}

// parseSavedState validates the fields of e as HAProxy's
// srv_state_srv_update does. msg lists the invalid fields (", invalid
// srv_op_state value '9', ..."); when it is not empty nothing is applied.
func parseSavedState(e *StateEntry) (savedState, string) {
	var b strings.Builder
	bad := func(field string, v string) {
		fmt.Fprintf(&b, ", invalid %s value '%s'", field, v)
	}
	num := func(s string) (int64, bool) {
		v, _, ok := cnum.Strtol(s)
		return v, ok
	}
	var st savedState
	st.addr = e.param(0)

	if v, ok := num(e.param(1)); !ok || v < 0 || v > int64(srvstate.OpStopping) {
		bad("srv_op_state", e.param(1))
	} else {
		st.op = srvstate.Op(v)
	}
	if v, ok := num(e.param(2)); ok {
		a := srvstate.Admin(v) &^ (srvstate.AdminInheritedDrain | srvstate.AdminInheritedMaint | srvstate.AdminResolutionMaint | srvstate.AdminFQDNSet)
		switch a {
		case 0, srvstate.AdminForcedMaint, srvstate.AdminConfigMaint, srvstate.AdminConfigMaint | srvstate.AdminForcedMaint,
			srvstate.AdminConfigMaint | srvstate.AdminForcedDrain, srvstate.AdminForcedDrain:
			st.admin = a
		default:
			ok = false
		}
		if !ok {
			bad("srv_admin_state", e.param(2))
		}
	} else {
		bad("srv_admin_state", e.param(2))
	}
	if v, ok := num(e.param(3)); !ok || v < 0 || v > 256 {
		bad("srv_uweight", e.param(3))
	} else {
		st.uweight = int(v)
	}
	if v, ok := num(e.param(4)); !ok || v < 0 || v > 256 {
		bad("srv_iweight", e.param(4))
	} else {
		st.iweight = int(v)
	}
	if _, ok := num(e.param(5)); !ok {
		bad("srv_last_time_change", e.param(5))
	}
	if v, ok := num(e.param(6)); !ok || v < 0 || v >= srvstate.NumCheckStatus {
		bad("srv_check_status", e.param(6))
	}
	if v, ok := num(e.param(7)); !ok || v < 0 || v > int64(srvstate.ResultCondPass) {
		bad("srv_check_result", e.param(7))
	}
	if _, ok := num(e.param(8)); !ok {
		bad("srv_check_health", e.param(8))
	}
	if v, ok := num(e.param(9)); !ok || v < 0 || srvstate.ProbeState(v)&^srvstate.ProbeAll != 0 {
		bad("srv_check_state", e.param(9))
	} else {
		st.checkState = srvstate.ProbeState(v)
	}
	if v, ok := num(e.param(10)); !ok || v < 0 || srvstate.ProbeState(v)&^srvstate.ProbeAll != 0 {
		bad("srv_agent_state", e.param(10))
	} else {
		st.agentState = srvstate.ProbeState(v)
	}
	if v, ok := num(e.param(11)); !ok || (v != 0 && v != 1) {
		bad("bk_f_forced_id", e.param(11))
	}
	if v, ok := num(e.param(12)); !ok || (v != 0 && v != 1) {
		bad("srv_f_forced_id", e.param(12))
	}
	if fqdn := e.param(13); fqdn != "" && fqdn[0] != '-' && (len(fqdn) > 255 || !validDomain(fqdn)) {
		bad("srv_fqdn", fqdn)
	}
	// srv_port: HAProxy reads the leading digits (strl2uic) and rejects
	// values above 65535. A field without digits would read as port 0
	// (the client's destination port); goproxy leaves the port alone then.
	st.port = -1
	if p := e.param(14); p != "" {
		n, digits := 0, 0
		for digits < len(p) && p[digits] >= '0' && p[digits] <= '9' && n <= 65535 {
			n = n*10 + int(p[digits]-'0')
			digits++
		}
		switch {
		case n > 65535:
			bad("srv_port", p)
		case digits > 0:
			st.port = n
		}
	}
	return st, b.String()
}

func validDomain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// serverAdmin tracks the administrative bits of a server as HAProxy's
// srv_adm_set_maint/drain/ready change them.
type serverAdmin srvstate.Admin

func (a *serverAdmin) maint() {
	*a = serverAdmin((srvstate.Admin(*a) | srvstate.AdminForcedMaint) &^ srvstate.AdminForcedDrain)
}

func (a *serverAdmin) drain() {
	*a = serverAdmin((srvstate.Admin(*a) | srvstate.AdminForcedDrain) &^ srvstate.AdminForcedMaint)
}

func (a *serverAdmin) ready() {
	*a = serverAdmin(srvstate.Admin(*a) &^ (srvstate.AdminForcedMaint | srvstate.AdminForcedDrain))
}

// healthClass groups operational states the way "set server health" sets
// them: up (starting or running), stopping, down.
func healthClass(op srvstate.Op) srvstate.Op {
	switch op {
	case srvstate.OpStopped:
		return srvstate.OpStopped
	case srvstate.OpStopping:
		return srvstate.OpStopping
	}
	return srvstate.OpRunning
}

// ServerStateTarget says how to apply saved state to one server.
type ServerStateTarget struct {
	// Row is the server's current row (its state as built from the
	// configuration).
	Row Row
	// LastAddr is set when the saved address replaces the configured one:
	// HAProxy's init-addr "last" for a server written with a host name.
	LastAddr bool
}

// ApplyServerState applies one saved entry to a server through admin, with
// HAProxy 2.6's rules (srv_state_srv_update), in this order:
//
//   - operational state: a saved STOPPED server is set down, STOPPING
//     stopping (down when fall is 1), STARTING and RUNNING up; skipped for
//     a tracking server, whose state follows the tracked one;
//   - administrative state: when the configuration's 'disabled' changed
//     since the save, the configuration wins (maintenance or ready);
//     otherwise the saved forced maintenance is restored, and a server the
//     operator enabled stays enabled although its line says 'disabled';
//     then a saved forced drain is restored unless the server is in
//     maintenance, or the drain came from a configured weight of 0 that is
//     now positive;
//   - weight: the saved user weight, only if the configured weight did not
//     change;
//   - health and agent checks disabled on the CLI stay disabled;
//   - srv_port is restored (HAProxy restores it even over a new port in the
//     configuration), and the saved address when t.LastAddr is set.
//
// Only the calls that change something are made. It logs, with HAProxy's
// words, why a line was refused and which calls failed, and reports
// whether the entry was applied.
func ApplyServerState(admin Admin, t ServerStateTarget, e *StateEntry, log logrus.FieldLogger) bool {
	r := &t.Row
	st, msg := parseSavedState(e)
	if msg != "" {
		log.Warnf("server-state application failed for server '%s/%s'%s", r.Proxy, r.Name, msg)
		return false
	}
	sv := &r.Server
	fail := func(what string, err error) {
		if err != nil {
			log.Warnf("server-state: %s/%s: %s: %s", r.Proxy, r.Name, what, strings.TrimSpace(err.Error()))
		}
	}

	// Operational state.
	if sv.Tracked == "" {
		want := healthClass(st.op)
		if st.op == srvstate.OpStopping && sv.Check.Fall == 1 {
			want = srvstate.OpStopped
		}
		if want != healthClass(sv.Op) {
			fail("set health", admin.SetServerHealth(r.Proxy, r.Name, want))
		}
	}

	// Administrative state. A configured 'disabled' is FMAINT|CMAINT in
	// HAProxy; count it so whatever the runtime reports.
	cur := sv.Admin & (srvstate.AdminForcedMaint | srvstate.AdminForcedDrain | srvstate.AdminConfigMaint)
	if cur&srvstate.AdminConfigMaint != 0 && cur&srvstate.AdminForcedDrain == 0 {
		cur |= srvstate.AdminForcedMaint
	}
	next := serverAdmin(cur)
	if st.admin&srvstate.AdminConfigMaint != cur&srvstate.AdminConfigMaint {
		if cur&srvstate.AdminConfigMaint != 0 {
			next.maint()
		} else {
			next.ready()
		}
	} else if st.admin&srvstate.AdminForcedMaint != 0 && cur&srvstate.AdminConfigMaint == 0 {
		next.maint()
	} else if st.admin&srvstate.AdminForcedMaint == 0 && cur&srvstate.AdminConfigMaint != 0 {
		next.ready()
	}
	if srvstate.Admin(next)&srvstate.AdminForcedMaint == 0 && st.admin&srvstate.AdminForcedDrain != 0 {
		if st.iweight > 0 || sv.IWeight == 0 {
			next.drain()
		}
	}
	const forced = srvstate.AdminForcedMaint | srvstate.AdminForcedDrain
	if srvstate.Admin(next)&forced != cur&forced {
		target := proxy.ModeReady
		switch {
		case srvstate.Admin(next)&srvstate.AdminForcedMaint != 0:
			target = proxy.ModeMaint
		case srvstate.Admin(next)&srvstate.AdminForcedDrain != 0:
			target = proxy.ModeDrain
		}
		fail("set state", admin.SetServerState(r.Proxy, r.Name, target))
	}

	// Weight.
	if st.iweight == sv.IWeight && st.uweight != sv.UWeight {
		fail("set weight", admin.SetServerWeight(r.Proxy, r.Name, st.uweight))
	}

	// Checks disabled from the CLI.
	if sv.Check.Configured && sv.Check.Enabled && st.checkState&srvstate.ProbeConfigured != 0 && st.checkState&srvstate.ProbeEnabled == 0 {
		fail("disable health", admin.SetServerCheck(r.Proxy, r.Name, false))
	}
	if sv.Agent.Configured && sv.Agent.Enabled && st.agentState&srvstate.ProbeConfigured != 0 && st.agentState&srvstate.ProbeEnabled == 0 {
		fail("disable agent", admin.SetServerAgent(r.Proxy, r.Name, false))
	}

	// Address and port.
	curIP, err := netip.ParseAddr(sv.Host)
	if err == nil {
		addr := curIP
		if t.LastAddr {
			if ip, err := netip.ParseAddr(st.addr); err == nil && ip.Zone() == "" && ip.Unmap() != curIP.Unmap() {
				addr = ip
			}
		}
		port := 0
		if st.port > 0 && st.port != sv.Port {
			port = st.port
		}
		if addr != curIP || port != 0 {
			fail("set addr", admin.SetServerAddr(r.Proxy, r.Name, addr, port))
		}
	}
	return true
}
