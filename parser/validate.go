package parser

import (
	"fmt"
	"net/netip"
	"strings"
)

// validate runs HAProxy's post-parse checks (check_config_validity) on a
// configuration that parsed without fatal errors, then assigns ids and
// resolves server addresses.
func (p *parser) validate() {
	p.refID += 2 // HAProxy's internal httpclient proxy numbers two ACLs first
	p.assignProxyIDs()
	p.validateUserlists()
	p.validatePrograms()
	for _, px := range p.cfg.Proxies {
		if px.Disabled {
			continue
		}
		p.validateProxy(px)
	}
	p.removeIncompletePeers()
	p.checkServerPorts()
	if p.errs.ErrorOrNil() != nil {
		p.trailer("Fatal errors found in configuration.")
		return
	}
	if !p.checkResolvers() {
		p.trailer("Fatal errors found in configuration.")
		return
	}
	p.resolveServers()
}

// checkAlert reports a post-parse error (a reference to a missing backend,
// user or group, a server without a port) at pos, the line that makes the
// reference. HAProxy prints these without a location; goproxy keeps
// HAProxy's text and puts the line in front of it as HAProxy writes its
// own positioned errors: "parsing [f.cfg:12] : Proxy 'fe': unable to find
// required default_backend: 'x'.".
func (p *parser) checkAlert(pos Pos, format string, args ...any) {
	p.report(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Phase: PhaseCheck})
}

func (p *parser) checkWarn(format string, args ...any) {
	p.report(&Error{Msg: fmt.Sprintf(format, args...), Phase: PhaseCheck, Sev: SevWarning})
}

// modeOrigin says where a proxy's mode was set: its own section or the
// defaults section it inherits from.
func modeOrigin(px *Proxy) string {
	m := px.modePos
	if m.File == "" {
		return "set in this section"
	}
	if m.File != px.File || m.Line < px.Line {
		return fmt.Sprintf("inherited from the defaults section, set at %s:%d", m.File, m.Line)
	}
	return fmt.Sprintf("set at %s:%d", m.File, m.Line)
}

// typeName is HAProxy's proxy_type_str(): listen sections are "proxy".
func typeName(px *Proxy) string {
	switch {
	case px.Cap&(CapFrontend|CapBackend) == CapFrontend|CapBackend:
		return "proxy"
	case px.Cap&CapFrontend != 0:
		return "frontend"
	default:
		return "backend"
	}
}

func (p *parser) validateProxy(px *Proxy) {
	switch {
	case px.PromExporter || (px.Mode == ModeHTTP && px.Cap&CapFrontend != 0):
		p.validateExporter(px)
		return
	case px.Mode == ModeHTTP:
		p.report(&Error{Pos: px.Pos, Phase: PhaseCheck,
			Msg: fmt.Sprintf("'mode http' is not supported by goproxy in %s '%s' (%s; goproxy is a TCP load balancer: HTTP mode is only accepted in a frontend serving 'http-request use-service prometheus-exporter').", typeName(px), px.Name, modeOrigin(px))})
		return
	}
	if px.monitorURI && px.Cap&CapFrontend != 0 {
		p.checkWarn("monitor-uri will be ignored for %s '%s' (needs 'mode http').", typeName(px), px.Name)
	}
	p.validateHTTPLog(px)
	if px.Cap&CapDefaults == 0 && px.Stats != nil && !px.statsInherited {
		p.checkWarn("'stats' statement ignored for %s '%s' as it requires HTTP mode.", typeName(px), px.Name)
	}
	if px.Cap&CapFrontend != 0 && len(px.Binds) == 0 {
		p.checkWarn("%s '%s' has no 'bind' directive. Please declare it as a backend if this was intended.", typeName(px), px.Name)
	}
	if px.DefaultBackend != "" {
		be := p.cfg.Backend(px.DefaultBackend)
		switch {
		case be == nil:
			p.checkAlert(px.DefaultBackPos, "Proxy '%s': unable to find required default_backend: '%s'.", px.Name, px.DefaultBackend)
		case be == px:
			p.checkAlert(px.DefaultBackPos, "Proxy '%s': loop detected for default_backend: '%s'.", px.Name, px.DefaultBackend)
		}
	}
	for _, ub := range px.UseBackends {
		if strings.Contains(ub.Backend, "%") {
			continue // a dynamic name, compiled with the log formats
		}
		if p.cfg.Backend(ub.Backend) == nil {
			p.checkAlert(ub.Pos, "Proxy '%s': unable to find required use_backend: '%s'.", px.Name, ub.Backend)
		}
	}
	// As HAProxy's check_config_validity(): the use-server rules, the
	// arguments of the fetches of the rules and ACLs, then the log formats
	// and theirs, before the timeouts.
	p.checkUseServers(px)
	p.resolveParsedArgs(px)
	p.compileLogFormats(px)
	p.compileUniqueID(px)
	p.compileErrorLogFormat(px)
	p.reportFetchArgs()
	p.checkTablePeers(px)
	missingTimeouts := (px.Cap&CapFrontend != 0 && px.Timeouts.Client == 0) ||
		(px.Cap&CapBackend != 0 && len(px.Servers) > 0 &&
			(px.Timeouts.Connect == 0 || (px.Timeouts.Server == 0 && px.Timeouts.Tunnel == 0)))
	if missingTimeouts {
		p.checkWarn("missing timeouts for %s '%s'.\n"+
			"   | While not properly invalid, you will certainly encounter various problems\n"+
			"   | with such a configuration. To fix this, please ensure that all following\n"+
			"   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.", typeName(px), px.Name)
	}
	p.checkServerStateFile(px)
	p.validateSSL(px)
	// Duplicate server names (only among servers without an explicit id).
	for i, s := range px.Servers {
		if s.ID != 0 {
			continue
		}
		for _, o := range px.Servers[:i] {
			if o.ID == 0 && o.Name == s.Name {
				p.report(&Error{Pos: s.Pos, Msg: fmt.Sprintf("%s '%s', another server named '%s' was already defined at line %d, please use distinct names.",
					typeName(px), px.Name, s.Name, o.Line), Phase: PhaseCheck})
				break
			}
		}
	}
	p.assignServerIDs(px)
	p.checkStick(px)
	if px.Cap&CapBackend != 0 && len(px.TCPChecks) > 0 && px.CheckKind != CheckTCP {
		p.checkWarn("%s '%s' uses tcp-check rules without 'option tcp-check', so the rules are ignored.", typeName(px), px.Name)
	}
	p.checkHTTPChecks(px)
	// As HAProxy, a log format that failed to parse is not warned about.
	lfFailed := px.lfText != nil && px.LogFormat == nil
	if px.Cap&CapFrontend != 0 && px.Options.TCPLog && !lfFailed && len(px.Logs) == 0 &&
		!(px.LogGlobal && len(p.cfg.Global.Logs) > 0) {
		p.checkWarn("log format ignored for %s '%s' since it has no log address.", typeName(px), px.Name)
	}
	p.validateHTTPInTCP(px)
}

// assignProxyIDs numbers proxies as HAProxy does: the hidden GLOBAL proxy
// of the stats socket takes the first slot.
func (p *parser) assignProxyIDs() {
	next := 1
	if len(p.cfg.Global.StatsSockets) > 0 {
		next = 2
	}
	for _, px := range p.cfg.Proxies {
		px.ID = next
		next++
	}
}

// assignServerIDs gives servers without an explicit id the first free id,
// counting from 1.
func (p *parser) assignServerIDs(px *Proxy) {
	used := map[int]bool{}
	for _, s := range px.Servers {
		if s.ID != 0 {
			used[s.ID] = true
		}
	}
	next := 1
	for _, s := range px.Servers {
		if s.ID != 0 {
			continue
		}
		for used[next] {
			next++
		}
		s.ID = next
		used[next] = true
	}
}

// resolveServers resolves server host names once, at start, as libc would.
func (p *parser) resolveServers() {
	failed := false
	for _, px := range p.cfg.Proxies {
		for _, s := range px.Servers {
			if s.Addr.Family != FamilyTCP4 && s.Addr.Family != FamilyTCP6 {
				continue
			}
			if s.Addr.Host == "" {
				continue
			}
			if _, err := netip.ParseAddr(s.Addr.Host); err == nil {
				continue
			}
			if s.SRVRecord != "" {
				// Addresses and ports come from the SRV records.
				s.Unresolved = true
				s.Addr.Host = "0.0.0.0"
				continue
			}
			s.FQDN = s.Addr.Host
			if p.initAddr(s) {
				continue
			}
			p.report(&Error{Pos: s.Pos, Server: px.Name + "/" + s.Name, Style: StyleServer,
				Msg: fmt.Sprintf("could not resolve address '%s'.", s.Addr.Host), Phase: PhaseAddr})
			failed = true
		}
	}
	if failed {
		p.trailer("Failed to initialize server(s) addr.")
	}
}

// initAddr gives a server written with a host name its first address by
// its init-addr methods in order (default "last,libc"; "last" is the
// state file's, applied later): libc resolves, an IP is taken as is,
// "none" starts the server in maintenance without an address. It reports
// whether a method succeeded.
func (p *parser) initAddr(s *Server) bool {
	methods := s.InitAddr
	if len(methods) == 0 {
		methods = []string{"last", "libc"}
	}
	unresolved := func() bool {
		// In resolution maintenance, as HAProxy (for good without
		// resolvers).
		s.Unresolved = true
		s.Addr.Host = "0.0.0.0"
		return true
	}
	for _, m := range methods {
		switch m {
		case "last":
		case "libc":
			ip, ok := lookupServerHost(p.opts.LookupHost, s.Addr.Host, s.Addr.Family)
			if ok {
				s.Addr.Host = ip.String()
				if ip.Is6() {
					s.Addr.Family = FamilyTCP6
				}
				return true
			}
		case "none":
			return unresolved()
		default:
			if ip, err := netip.ParseAddr(m); err == nil {
				s.Addr.Host = ip.Unmap().String()
				if ip.Unmap().Is6() {
					s.Addr.Family = FamilyTCP6
				}
				return true
			}
		}
	}
	if p.opts.SkipResolve {
		return unresolved()
	}
	return false
}
func lookupServerHost(lookup func(string) ([]string, error), host string, family AddrFamily) (netip.Addr, bool) {
	addrs, err := lookup(host)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		if family == FamilyTCP6 || ip.Is4() {
			return ip, true
		}
	}
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err == nil {
			return ip.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// Listeners counts the sockets the configuration would listen on: binds of
// frontends and listen sections. A configuration with none does not start
// (haproxy -c exits 2).
func (c *Config) Listeners() int {
	n := 0
	for _, px := range c.Proxies {
		if px.Cap&CapFrontend != 0 && !px.Disabled {
			n += len(px.Binds)
		}
	}
	return n
}

// validateExporter checks an HTTP frontend: goproxy serves it only as the
// Prometheus exporter, so it needs the use-service rule and nothing that
// would send requests to a backend.
func (p *parser) validateExporter(px *Proxy) {
	switch {
	case px.Mode != ModeHTTP:
		p.report(&Error{Pos: px.PromPos, Phase: PhaseCheck,
			Msg: fmt.Sprintf("%s '%s' : 'http-request use-service prometheus-exporter' needs 'mode http'.", typeName(px), px.Name)})
	case !px.PromExporter && px.Stats == nil:
		p.report(&Error{Pos: px.Pos, Phase: PhaseCheck,
			Msg: fmt.Sprintf("'mode http' is not supported by goproxy in %s '%s' (%s; an HTTP frontend must serve the statistics page ('stats enable') or 'http-request use-service prometheus-exporter').", typeName(px), px.Name, modeOrigin(px))})
	case len(px.httpRules) > 0 || (px.Stats == nil && len(px.HTTPRules) > 0):
		p.report(&Error{Pos: px.Pos, Phase: PhaseCheck,
			Msg: fmt.Sprintf("%s '%s' : goproxy serves 'http-request use-service prometheus-exporter' and no other HTTP rule in an HTTP frontend, but the allow, deny and auth rules of a statistics page.", typeName(px), px.Name)})
	case px.DefaultBackend != "" || len(px.UseBackends) > 0 || len(px.Servers) > 0:
		p.report(&Error{Pos: px.Pos, Phase: PhaseCheck,
			Msg: fmt.Sprintf("%s '%s' : goproxy does not forward HTTP requests to backends; remove default_backend/use_backend/server lines from the HTTP frontend.", typeName(px), px.Name)})
	case px.httpRulesSkipped:
		p.report(&Error{Pos: px.HTTPRulesPos, Phase: PhaseCheck,
			Msg: fmt.Sprintf("%s '%s' : goproxy needs 'mode http' before the first 'http-request' rule.", typeName(px), px.Name)})
	}
	p.validateUserlistRefs(px)
	if len(px.Binds) == 0 {
		p.checkWarn("%s '%s' has no 'bind' directive. Please declare it as a backend if this was intended.", typeName(px), px.Name)
	}
	if px.Timeouts.Client == 0 {
		p.checkWarn("missing timeouts for %s '%s'.\n"+
			"   | While not properly invalid, you will certainly encounter various problems\n"+
			"   | with such a configuration. To fix this, please ensure that all following\n"+
			"   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.", typeName(px), px.Name)
	}
}

// checkServerPorts is HAProxy's init_srv_check() test, run after every
// proxy's own checks: a checked TCP server needs a port to check, its
// service port, "port N", or a first tcp-check rule "connect port N".
//
// HAProxy words it after the tcp-check rules the proxy has when its
// servers are checked: none for the first backend without rules of its
// own, then a shared default ruleset (one "connect" without a port) that
// this first backend leaves behind for the following ones.
func (p *parser) checkServerPorts() {
	shared := false
	for _, px := range p.cfg.Proxies {
		if px.Disabled || px.Cap&CapBackend == 0 || px.Mode == ModeHTTP {
			continue
		}
		own := len(px.TCPChecks) > 0 || (px.CheckKind != CheckL4 && px.CheckKind != CheckTCP)
		for _, s := range px.Servers {
			if !s.Check || s.CheckPort != 0 || (s.Addr.Port != 0 && !s.Addr.HasOffset) {
				continue
			}
			if s.Addr.Family != FamilyTCP4 && s.Addr.Family != FamilyTCP6 {
				continue
			}
			if strings.Contains(s.CheckAddr, "@") && !strings.HasPrefix(s.CheckAddr, "ipv4@") && !strings.HasPrefix(s.CheckAddr, "ipv6@") {
				continue // a UNIX or abstract check address needs no port
			}
			switch {
			case !own && !shared:
				p.checkAlert(s.Pos, "config: %s '%s': server '%s' has neither service port nor check port.", typeName(px), px.Name, s.Name)
			case own && len(px.TCPChecks) > 0 && connectWithPort(px.TCPChecks):
			default:
				p.checkAlert(s.Pos, "config: %s '%s': server '%s' has neither service port nor check port nor tcp_check rule 'connect' with port information.", typeName(px), px.Name, s.Name)
			}
		}
		if !own {
			shared = true
		}
	}
}

// connectWithPort reports whether the first tcp-check action (comments
// aside) is a connect with a port.
func connectWithPort(rules []*TCPCheckRule) bool {
	for _, r := range rules {
		if r.Kind == "comment" {
			continue
		}
		if r.Kind != "connect" {
			return false
		}
		if r.Port != 0 {
			return true
		}
		i := strings.LastIndexByte(r.Addr, ':')
		_, ok := strictInt(r.Addr[i+1:])
		return i >= 0 && ok
	}
	return false
}
