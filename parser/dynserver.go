package parser

import (
	"fmt"
	"net/netip"
	"strings"
)

// DynamicPos is the position HAProxy reports for a server added at run
// time: it was read from no file ("(null):0" in its messages).
var DynamicPos = Pos{File: "(null)", Line: 0}

// notDynamicKeywords are HAProxy 2.6's server keywords that a dynamic
// server refuses (their srv_kw entries have dynamic_ok unset).
var notDynamicKeywords = map[string]bool{
	"cookie": true, "init-addr": true, "log-proto": true, "max-reuse": true,
	"namespace": true, "non-stick": true, "redir": true, "resolve-net": true,
	"resolve-opts": true, "resolve-prefer": true, "resolvers": true,
	"stick": true, "socks4": true, "no-agent-check": true, "no-check": true,
	"no-check-send-proxy": true, "no-check-ssl": true, "no-send-proxy-v2-ssl": true,
	"no-send-proxy-v2-ssl-cn": true, "no-ssl": true, "ssl-reuse": true, "tcp-ut": true,
}

// ParseDynamicServer parses the arguments of the runtime API's "add server
// <backend>/<name> <addr> [options]" for backend px: words holds <name>,
// <addr> and the options. As HAProxy 2.6 does for a dynamic server, the
// backend's default-server line is not applied (weight 1, rise 2, fall 3,
// inter 2s), keywords that a dynamic server refuses are refused, and a
// custom id may not be one of current's (the servers the backend has now).
//
// On error it returns HAProxy's messages, each ended with a newline, as the
// command answers them.
func ParseDynamicServer(cfg *Config, px *Proxy, current []*Server, words []string) (*Server, string) {
	if argAt(words, 0) == "" || argAt(words, 1) == "" {
		return nil, "'server' expects <name> and <addr>[:<port>] as arguments.\n"
	}
	name := words[0]
	if c, bad := invalidNameChar(name); bad {
		return nil, "character '" + string(c) + "' is not permitted in server name '" + name + "'.\n"
	}
	addr, msg := parseServerAddr(words[1])
	if msg != "" {
		return nil, msg + "\n"
	}
	switch {
	case addr.Family == FamilyUnix || addr.Family == FamilyAbns:
		return nil, "UNIX and abstract socket servers are not supported by goproxy ('" + words[1] + "').\n"
	case addr.Host != "":
		if _, err := netip.ParseAddr(addr.Host); err != nil {
			return nil, "a server added at run time needs an IP address: goproxy does not resolve '" + addr.Host + "' at run time.\n"
		}
	}
	// The parser reads the options against a copy of the backend whose
	// servers are the current ones, so that "id" sees them.
	pxc := *px
	pxc.Servers = current
	p := &parser{cfg: &Config{Global: cfg.Global}, file: DynamicPos.File, dynamic: true}
	srv := &Server{Pos: DynamicPos, Name: name, Addr: addr, ServerParams: defaultServerParams()}
	ok := p.parseServerParams(&pxc, name, words[2:], &srv.ServerParams, false)
	if ok && srv.AgentCheck && srv.AgentPort == 0 {
		return nil, "server " + name + " does not have agent port. Agent check has been disabled.\n"
	}
	if !ok {
		var b strings.Builder
		for _, e := range Errors(p.errs) {
			b.WriteString(e.Msg)
			b.WriteByte('\n')
		}
		if b.Len() == 0 {
			b.WriteString("invalid server line.\n")
		}
		return nil, b.String()
	}
	if msg := dynamicCheckPort(cfg, px, srv); msg != "" {
		return nil, msg + "\n"
	}
	return srv, ""
}

// dynamicCheckPort is checkServerPorts for one server added at run time:
// a checked server needs a port to check. By then the shared default
// tcp-check ruleset exists when a backend without rules of its own had a
// checked server, which words HAProxy's message as checkServerPorts says.
func dynamicCheckPort(cfg *Config, px *Proxy, s *Server) string {
	if !s.Check || s.CheckPort != 0 || (s.Addr.Port != 0 && !s.Addr.HasOffset) || px.Mode == ModeHTTP {
		return ""
	}
	if strings.Contains(s.CheckAddr, "@") && !strings.HasPrefix(s.CheckAddr, "ipv4@") && !strings.HasPrefix(s.CheckAddr, "ipv6@") {
		return ""
	}
	ownRules := func(p *Proxy) bool {
		return len(p.TCPChecks) > 0 || (p.CheckKind != CheckL4 && p.CheckKind != CheckTCP)
	}
	own := ownRules(px)
	if own && len(px.TCPChecks) > 0 && connectWithPort(px.TCPChecks) {
		return ""
	}
	shared := own
	for _, o := range cfg.Proxies {
		if shared {
			break
		}
		if o.Disabled || o.Cap&CapBackend == 0 || o.Mode == ModeHTTP || ownRules(o) {
			continue
		}
		for _, os := range o.Servers {
			if os.Check {
				shared = true
				break
			}
		}
	}
	if !shared {
		return fmt.Sprintf("config: %s '%s': server '%s' has neither service port nor check port.", typeName(px), px.Name, s.Name)
	}
	return fmt.Sprintf("config: %s '%s': server '%s' has neither service port nor check port nor tcp_check rule 'connect' with port information.", typeName(px), px.Name, s.Name)
}

// dynamicRefused reports a keyword a dynamic server does not take, in
// HAProxy's words; it returns false when kw is accepted.
func (p *parser) dynamicRefused(kw string) bool {
	if !p.dynamic || !notDynamicKeywords[kw] {
		return false
	}
	p.report(&Error{Pos: p.pos(), Msg: "'" + kw + "' option is not accepted for dynamic server", Phase: PhaseParse, Style: StyleBare})
	return true
}
