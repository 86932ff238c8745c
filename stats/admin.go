package stats

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"goproxy/internal/cnum"
	"goproxy/internal/srvstate"
	"goproxy/proxy"
)

// Admin applies admin commands to the running process. The CLI validates
// names and arguments before calling it; a method returns a non-nil error
// only when the change cannot be applied: a typed error of the runtime is
// answered from adminAnswers, any other error's text is sent to the client
// as is (end it with "\n", like HAProxy's messages).
type Admin interface {
	SetServerState(backend, server string, st proxy.AdminMode) error
	SetServerHealth(backend, server string, h srvstate.Op) error
	SetServerAgentHealth(backend, server string, up bool) error
	SetServerWeight(backend, server string, weight int) error
	SetServerMaxConn(backend, server string, maxconn int) error
	// SetServerAddr changes the address and, when port is not 0, the port.
	SetServerAddr(backend, server string, addr netip.Addr, port int) error
	SetServerCheck(backend, server string, enabled bool) error
	SetServerAgent(backend, server string, enabled bool) error
	ShutdownServerSessions(backend, server string) error

	PauseFrontend(frontend string) error
	ResumeFrontend(frontend string) error
	ShutdownFrontend(frontend string) error
	SetFrontendMaxConn(frontend string, maxconn int) error

	SetGlobalMaxConn(maxconn int) error
	// SetRateLimit sets a global rate limit: kind is "connections" or
	// "sessions" (per second, 0 = none).
	SetRateLimit(kind string, limit int) error
	ShutdownSession(id uint64) error
	// ClearCounters resets the max values, or every counter when all is set.
	ClearCounters(all bool) error
}

func (s *session) admin() Admin { return s.srv.src.Admin() }

func cmdDisableServer(s *session, args []string) string {
	r, msg := findServer(s.srv.src.Stats(), argAt(args, 2))
	if r == nil {
		return msg
	}
	return adminResult(s.admin().SetServerState(r.Proxy, r.Name, proxy.ModeMaint))
}

func cmdEnableServer(s *session, args []string) string {
	r, msg := findServer(s.srv.src.Stats(), argAt(args, 2))
	if r == nil {
		return msg
	}
	return adminResult(s.admin().SetServerState(r.Proxy, r.Name, proxy.ModeReady))
}

func cmdHealth(enable bool) handler {
	return func(s *session, args []string) string {
		r, msg := findServer(s.srv.src.Stats(), argAt(args, 2))
		if r == nil {
			return msg
		}
		if enable && !r.Server.Check.Configured {
			return "Health check was not configured on this server, cannot enable.\n"
		}
		return adminResult(s.admin().SetServerCheck(r.Proxy, r.Name, enable))
	}
}

func cmdAgent(enable bool) handler {
	return func(s *session, args []string) string {
		r, msg := findServer(s.srv.src.Stats(), argAt(args, 2))
		if r == nil {
			return msg
		}
		if enable && !r.Server.Agent.Configured {
			return "Agent was not configured on this server, cannot enable.\n"
		}
		return adminResult(s.admin().SetServerAgent(r.Proxy, r.Name, enable))
	}
}

// weightChange validates a weight argument as HAProxy's
// server_parse_weight_change_request and returns the new weight or the
// answer text.
func weightChange(be *Row, r *Row, arg string) (int, string) {
	w, relative, msg := cnum.Weight(arg)
	if msg != "" {
		return 0, msg
	}
	if relative {
		w = min(int64(r.Server.IWeight)*w/100, 256)
	}
	if w != 0 && int(w) != r.Server.IWeight && be != nil && be.StaticLB {
		return 0, answer(proxy.ErrStaticWeight)
	}
	return int(w), ""
}

func backendRow(rows []Row, name string) *Row {
	for i := range rows {
		if rows[i].Type == TypeBackend && rows[i].Proxy == name {
			return &rows[i]
		}
	}
	return nil
}

func (s *session) setWeight(rows []Row, r *Row, arg string) string {
	w, msg := weightChange(backendRow(rows, r.Proxy), r, arg)
	if msg != "" {
		return msg
	}
	return adminResult(s.admin().SetServerWeight(r.Proxy, r.Name, w))
}

func cmdSetWeight(s *session, args []string) string {
	rows := s.srv.src.Stats()
	r, msg := findServer(rows, argAt(args, 2))
	if r == nil {
		return msg
	}
	return s.setWeight(rows, r, argAt(args, 3))
}

const setServerUsage = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | " +
	"agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n"

func cmdSetServer(s *session, args []string) string {
	rows := s.srv.src.Stats()
	r, msg := findServer(rows, argAt(args, 2))
	if r == nil {
		return msg
	}
	a := s.admin()
	switch argAt(args, 3) {
	case "state":
		var st proxy.AdminMode
		switch argAt(args, 4) {
		case "ready":
			st = proxy.ModeReady
		case "drain":
			st = proxy.ModeDrain
		case "maint":
			st = proxy.ModeMaint
		default:
			return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
		}
		return adminResult(a.SetServerState(r.Proxy, r.Name, st))
	case "health":
		if r.Server.Tracked != "" {
			return "cannot change health on a tracking server.\n"
		}
		var h srvstate.Op
		switch argAt(args, 4) {
		case "up":
			h = srvstate.OpRunning
		case "stopping":
			h = srvstate.OpStopping
		case "down":
			h = srvstate.OpStopped
		default:
			return answer(proxy.ErrHealthState)
		}
		return adminResult(a.SetServerHealth(r.Proxy, r.Name, h))
	case "agent":
		if !r.Server.Agent.Enabled {
			return answer(proxy.ErrAgentDisabled)
		}
		switch argAt(args, 4) {
		case "up":
			return adminResult(a.SetServerAgentHealth(r.Proxy, r.Name, true))
		case "down":
			return adminResult(a.SetServerAgentHealth(r.Proxy, r.Name, false))
		}
		return "'set server <srv> agent' expects 'up' or 'down'.\n"
	case "weight":
		return s.setWeight(rows, r, argAt(args, 4))
	case "addr":
		return s.setServerAddr(r, args)
	case "fqdn":
		return s.setServerFQDN(r, args)
	case "agent-addr", "agent-port", "agent-send", "check-addr", "check-port":
		return setServerProbe(r, args)
	case "ssl":
		return notSupported
	}
	return setServerUsage
}

// setServerAddr handles "set server b/s addr <ip> [port <port>]" with
// HAProxy's report of what changed.
func (s *session) setServerAddr(r *Row, args []string) string {
	const by = " by 'stats socket command'\n"
	addrArg := argAt(args, 4)
	portArg := ""
	if argAt(args, 5) == "port" {
		portArg = argAt(args, 6)
	}
	if addrArg == "" {
		return "set server <b>/<s> addr requires an address and optionally a port.\n"
	}
	ip, err := netip.ParseAddr(addrArg)
	if err != nil || ip.Zone() != "" {
		return "Invalid addr '" + addrArg + "'" + by
	}
	var msg strings.Builder
	newIP := netip.Addr{}
	cur, _ := netip.ParseAddr(r.Server.Host)
	if cur.Unmap() == ip.Unmap() {
		msg.WriteString("no need to change the addr")
	} else {
		newIP = ip
		fmt.Fprintf(&msg, "IP changed from '%s' to '%s'", r.Server.Host, addrArg)
	}
	newPort := 0
	if portArg != "" {
		msg.WriteString(", ")
		p, _, ok := cnum.Strtol(portArg)
		switch {
		case !ok:
			fmt.Fprintf(&msg, "problem converting port '%s' to an int", portArg)
		case portArg[0] == '+' || portArg[0] == '-':
			msg.WriteString("port offsets are not supported by goproxy")
		case int(uint16(p)) != r.Server.Port:
			newPort = int(uint16(p))
			fmt.Fprintf(&msg, "port changed from '%d' to '%d'", r.Server.Port, newPort)
		default:
			msg.WriteString("no need to change the port")
		}
	}
	if newIP.IsValid() || newPort != 0 {
		apply := newIP
		if !apply.IsValid() {
			apply = cur
		}
		if err := s.admin().SetServerAddr(r.Proxy, r.Name, apply, newPort); err != nil {
			return adminResult(err)
		}
	}
	return msg.String() + by
}

func cmdSetMaxconnServer(s *session, args []string) string {
	r, msg := findServer(s.srv.src.Stats(), argAt(args, 3))
	if r == nil {
		return msg
	}
	v, msg := cnum.Maxconn(argAt(args, 4))
	if msg != "" {
		return msg
	}
	return adminResult(s.admin().SetServerMaxConn(r.Proxy, r.Name, int(v)))
}

// findFrontend checks a frontend name argument.
func findFrontend(rows []Row, name string) (*Row, string) {
	if name == "" {
		return nil, "A frontend name is expected.\n"
	}
	for i := range rows {
		if rows[i].Type == TypeFrontend && rows[i].Proxy == name {
			return &rows[i], ""
		}
	}
	return nil, "No such frontend.\n"
}

func cmdSetMaxconnFrontend(s *session, args []string) string {
	r, msg := findFrontend(s.srv.src.Stats(), argAt(args, 3))
	if r == nil {
		return msg
	}
	if argAt(args, 4) == "" {
		return "Integer value expected.\n"
	}
	v := atoi(args[4])
	if v < 0 {
		return "Value out of range.\n"
	}
	return adminResult(s.admin().SetFrontendMaxConn(r.Proxy, v))
}

func cmdSetMaxconnGlobal(s *session, args []string) string {
	if argAt(args, 3) == "" {
		return "Expects an integer value.\n"
	}
	v := atoi(args[3])
	hard := s.srv.src.Info().HardMaxconn
	if v > hard {
		return "Value out of range.\n"
	}
	if v <= 0 {
		v = hard
	}
	return adminResult(s.admin().SetGlobalMaxConn(v))
}

const rateLimitUsage = "'set rate-limit' only supports :\n" +
	"   - 'connections global' to set the per-process maximum connection rate\n" +
	"   - 'sessions global' to set the per-process maximum session rate\n" +
	"   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n" +
	"   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n"

func cmdSetRateLimit(s *session, args []string) string {
	kind := argAt(args, 2)
	switch kind {
	case "connections", "sessions", "ssl-sessions", "http-compression":
	default:
		return rateLimitUsage
	}
	if argAt(args, 3) != "global" {
		return rateLimitUsage
	}
	if argAt(args, 4) == "" {
		return "Expects an integer value.\n"
	}
	v := atoi(args[4])
	if v < 0 {
		return "Value out of range.\n"
	}
	if kind != "connections" && kind != "sessions" {
		return notSupported
	}
	return adminResult(s.admin().SetRateLimit(kind, v))
}

func cmdDisableFrontend(s *session, args []string) string {
	r, msg := findFrontend(s.srv.src.Stats(), argAt(args, 2))
	if r == nil {
		return msg
	}
	switch r.FrontState {
	case FrontStopped:
		return "Frontend was previously shut down, cannot disable.\n"
	case FrontPaused:
		return "All sockets are already disabled.\n"
	}
	return adminResult(s.admin().PauseFrontend(r.Proxy))
}

func cmdEnableFrontend(s *session, args []string) string {
	r, msg := findFrontend(s.srv.src.Stats(), argAt(args, 2))
	if r == nil {
		return msg
	}
	switch r.FrontState {
	case FrontStopped:
		return "Frontend was previously shut down, cannot enable.\n"
	case FrontOpen:
		return "All sockets are already enabled.\n"
	}
	return adminResult(s.admin().ResumeFrontend(r.Proxy))
}

func cmdShutdownFrontend(s *session, args []string) string {
	r, msg := findFrontend(s.srv.src.Stats(), argAt(args, 2))
	if r == nil {
		return msg
	}
	if r.FrontState == FrontStopped {
		return "Frontend was already shut down.\n"
	}
	return adminResult(s.admin().ShutdownFrontend(r.Proxy))
}

func cmdShutdownSession(s *session, args []string) string {
	arg := argAt(args, 2)
	id, err := strconv.ParseUint(arg, 0, 64)
	if err != nil || id == 0 {
		return "Session pointer expected (use 'show sess').\n"
	}
	for _, x := range s.srv.src.Sessions() {
		if x.ID == id {
			return adminResult(s.admin().ShutdownSession(id))
		}
	}
	return "No such session (use 'show sess').\n"
}

func cmdShutdownSessionsServer(s *session, args []string) string {
	r, msg := findServer(s.srv.src.Stats(), argAt(args, 3))
	if r == nil {
		return msg
	}
	return adminResult(s.admin().ShutdownServerSessions(r.Proxy, r.Name))
}

func cmdClearCounters(s *session, args []string) string {
	all := argAt(args, 2) == "all"
	if all && s.level < LevelAdmin {
		return permissionDenied
	}
	return adminResult(s.admin().ClearCounters(all))
}
