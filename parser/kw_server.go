package parser

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
)

func (p *parser) kwServer(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" || argAt(w, 2) == "" {
		p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf("'%s' expects <name> and <addr>[:<port>] as arguments.", w[0]), Phase: PhaseParse, Style: StyleBare})
		return
	}
	name := w[1]
	addr, msg := p.addrCtx(useServer).parseServer(w[2])
	if msg != "" {
		p.serverAlert(px.Name, name, "%s", withNewline(msg))
		return
	}
	srv := &Server{Pos: p.pos(), Name: name, Addr: addr, ServerParams: px.DefServer}
	srv.InitAddr = append([]string(nil), px.DefServer.InitAddr...)
	srv.Resolve.ResolveNet = append([]netip.Prefix(nil), px.DefServer.Resolve.ResolveNet...)
	if !p.parseServerParams(px, name, w[3:], &srv.ServerParams, false) {
		return
	}
	if srv.AgentCheck && srv.AgentPort == 0 {
		p.serverAlert(px.Name, name, "server %s does not have agent port. Agent check has been disabled.", name)
		return
	}
	px.Servers = append(px.Servers, srv)
}

func (p *parser) kwDefaultServer(px *Proxy, w []string, _ kwMod) {
	p.parseServerParams(px, "", w[1:], &px.DefServer, true)
}

// serverParamErr reports an error of a server or default-server line.
func (p *parser) serverParamErr(px *Proxy, name string, isDefault bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if isDefault {
		// HAProxy names no server for a default-server option.
		p.report(&Error{Pos: p.pos(), Msg: msg + ".", Phase: PhaseParse, Style: StyleBare})
		return
	}
	p.serverAlert(px.Name, name, "%s.", msg)
}

// parseServerParams parses server options into sp; it reports errors and
// returns false on the first one.
func (p *parser) parseServerParams(px *Proxy, name string, w []string, sp *ServerParams, isDefault bool) bool {
	fail := func(format string, args ...any) bool {
		p.serverParamErr(px, name, isDefault, format, args...)
		return false
	}
	srvName := name
	if isDefault {
		srvName = "(default)"
	}
	interval := func(i int, dst *time.Duration) bool {
		v := argAt(w, i+1)
		if v == "" {
			return fail("'%s' expects a delay as argument.", w[i])
		}
		d, _, err := ParseTime(v)
		if err != nil {
			te := err.(*timeError)
			switch te.kind {
			case "overflow":
				return fail("timer overflow in argument <%s> to <%s> of server %s, maximum value is 2147483647 ms (~24.8 days).", v, w[i], srvName)
			case "underflow":
				return fail("timer underflow in argument <%s> to <%s> of server %s, minimum non-null value is 1 ms.", v, w[i], srvName)
			default:
				return fail("unexpected character '%c' in 'agent-inter' argument of server %s.", te.char, srvName)
			}
		}
		if d <= 0 {
			return fail("invalid value %d for argument '%s' of server %s.", 0, w[i], srvName)
		}
		*dst = d
		return true
	}
	for i := 0; i < len(w); i++ {
		kw := w[i]
		if p.dynamicRefused(kw) {
			return false
		}
		switch kw {
		case "check":
			sp.Check = true
		case "no-check":
			sp.Check = false
		case "backup":
			sp.Backup = true
		case "no-backup":
			sp.Backup = false
		case "disabled":
			sp.Disabled = true
		case "enabled":
			sp.Disabled = false
		case "send-proxy":
			sp.SendProxy = true
		case "no-send-proxy":
			sp.SendProxy = false
		case "send-proxy-v2":
			sp.SendProxyV2 = true
		case "no-send-proxy-v2":
			sp.SendProxyV2 = false
		case "proxy-v2-options":
			if m := parsePPv2Options(sp, argAt(w, i+1)); m != "" {
				return fail("%s", m)
			}
			i++
		case "check-send-proxy":
			sp.CheckSendProxy = true
		case "no-check-send-proxy":
			sp.CheckSendProxy = false
		case "agent-check":
			sp.AgentCheck = true
		case "no-agent-check":
			sp.AgentCheck = false
		case "inter":
			if !interval(i, &sp.Inter) {
				return false
			}
			i++
		case "fastinter":
			if !interval(i, &sp.FastInter) {
				return false
			}
			i++
		case "downinter":
			if !interval(i, &sp.DownInter) {
				return false
			}
			i++
		case "agent-inter":
			if !interval(i, &sp.AgentInter) {
				return false
			}
			i++
		case "rise", "fall":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects an integer argument.", kw)
			}
			n := atol(v)
			if n <= 0 {
				return fail("'%s' has to be > 0.", kw)
			}
			if kw == "rise" {
				sp.Rise = n
			} else {
				sp.Fall = n
			}
			i++
		case "weight":
			n := atol(argAt(w, i+1))
			if n < 0 || n > 256 {
				return fail("weight of server %s is not within 0 and %d (%d).", srvName, 256, n)
			}
			sp.Weight = n
			i++
		case "minconn":
			return fail("'%s' is not supported by goproxy (dynamic server maxconn is not implemented)", kw)
		case "maxconn", "maxqueue":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects an integer argument.", kw)
			}
			n := atol(v)
			switch kw {
			case "maxconn":
				sp.MaxConn = n
			case "maxqueue":
				sp.MaxQueue = n
			default:
				sp.MinConn = n
			}
			i++
		case "slowstart":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects a delay as argument.", kw)
			}
			d, _, err := ParseTime(v)
			if err != nil {
				te := err.(*timeError)
				if te.kind == "char" {
					return fail("unexpected character '%c' in 'slowstart' argument of server %s.", te.char, srvName)
				}
				return fail("%s in argument <%s> to <%s> of server %s.", te.Error(), v, kw, srvName)
			}
			sp.SlowStart = d
			i++
		case "port", "agent-port":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects a port number as argument.", kw)
			}
			n := atol(v)
			if kw == "port" {
				sp.CheckPort = n
			} else {
				sp.AgentPort = n
			}
			i++
		case "addr", "agent-addr":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects an address as argument.", kw)
			}
			if kw == "addr" {
				sp.CheckAddr = v
			} else {
				sp.AgentAddr = v
			}
			i++
		case "agent-send":
			if argAt(w, i+1) == "" {
				return fail("'%s' expects a string argument.", kw)
			}
			sp.AgentSend = w[i+1]
			i++
		case "on-marked-down":
			if argAt(w, i+1) != "shutdown-sessions" {
				return fail("'%s' expects 'shutdown-sessions' but got '%s'", kw, argAt(w, i+1))
			}
			sp.OnMarkedDown = w[i+1]
			i++
		case "on-marked-up":
			if argAt(w, i+1) != "shutdown-backup-sessions" {
				return fail("'%s' expects 'shutdown-backup-sessions' but got '%s'", kw, argAt(w, i+1))
			}
			sp.OnMarkedUp = w[i+1]
			i++
		case "init-addr":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' : expects an argument", kw)
			}
			sp.InitAddr = nil
			haveIP := false
			for _, m := range strings.Split(v, ",") {
				switch m {
				case "libc", "last", "none":
				default:
					if !validIPPattern(m) || strings.Contains(m, "/") {
						return fail("'%s' : unknown init-addr method '%s', supported methods are 'libc', 'last', 'none'.", kw, m)
					}
					if haveIP {
						return fail("'%s' : initial address already specified, cannot add '%s'.", kw, m)
					}
					haveIP = true
				}
				sp.InitAddr = append(sp.InitAddr, m)
			}
			i++
		case "id":
			if isDefault {
				p.alert("'default-server' : '%s' is not supported in default-server.", kw)
				return false
			}
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' : expects an integer argument", kw)
			}
			n := atol(v)
			if n <= 0 {
				return fail("'%s' : custom id has to be > 0", kw)
			}
			for _, s := range px.Servers {
				if s.ID == n {
					return fail("'%s' : custom id %d already used at %s:%d ('server %s')", kw, n, s.File, s.Line, s.Name)
				}
			}
			sp.ID, sp.IDForced = n, true
			i++
		case "check-ssl":
			sp.CheckSSL = true
		case "no-check-ssl":
			sp.CheckSSL = false
		case "verify":
			v := argAt(w, i+1)
			switch v {
			case "":
				return fail("'%s' : missing verify method", kw)
			case "none", "required":
			default:
				return fail("'%s' : unknown verify method '%s', only 'none' and 'required' are supported", kw, v)
			}
			sp.Verify = v
			i++
		case "ca-file":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' : missing CAfile path", kw)
			}
			v = withBase(p.cfg.Global.SSL.CABase, v)
			if msg := unreadableFile(v); msg != "" {
				fail("Couldn't open the ca-file '%s' (%s)", v, msg)
				p.report(&Error{Msg: fmt.Sprintf("'%s' : unable to load %s.", kw, v), Phase: PhaseParse})
				return false
			}
			sp.CAFile = v
			i++
		case "crl-file":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' : missing CRLfile path", kw)
			}
			v = withBase(p.cfg.Global.SSL.CABase, v)
			if msg := crlFileProblem(v); msg != "" {
				fail("Couldn't open the ca-file '%s' (%s)", v, msg)
				p.report(&Error{Msg: fmt.Sprintf("'%s' : unable to load %s.", kw, v), Phase: PhaseParse})
				return false
			}
			sp.CRLFile = v
			i++
		case "sni", "check-sni", "check-alpn":
			v := argAt(w, i+1)
			if v == "" {
				switch kw {
				case "sni":
					return fail("'%s' : missing sni expression", kw)
				case "check-sni":
					return fail("'%s' : missing SNI", kw)
				}
				return fail("'%s' : missing the comma-delimited ALPN protocol suite", kw)
			}
			switch kw {
			case "sni":
				sp.SNI = v
			case "check-sni":
				sp.CheckSNI = v
			default:
				sp.CheckALPN = v
			}
			i++
		case "cookie":
			// HTTP persistence: kept only for HAProxy's warning, in a
			// TCP backend (validateHTTPInTCP).
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects <value> as argument.", kw)
			}
			sp.cookie = v
			i++
		case "pool-max-conn", "pool-low-conn":
			// HAProxy's idle server connections serve HTTP reuse only:
			// checked as HAProxy checks them, no effect in TCP mode.
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects <value> as argument.", kw)
			}
			if kw == "pool-max-conn" && atol(v) < -1 {
				return fail("'%s' must be >= -1", kw)
			}
			i++
		case "pool-purge-delay":
			v := argAt(w, i+1)
			if v == "" {
				return fail("'%s' expects <value> as argument.", kw)
			}
			if _, _, err := ParseTime(v); err != nil {
				te := err.(*timeError)
				switch te.kind {
				case "overflow":
					return fail("timer overflow in argument '%s' to '%s' (maximum value is 2147483647 ms or ~24.8 days)", v, kw)
				case "underflow":
					return fail("timer underflow in argument '%s' to '%s' (minimum value is 1 ms)", v, kw)
				default:
					return fail("unexpected character '%c' in argument to <%s>.", te.char, kw)
				}
			}
			i++
		case "redir", "ws", "check-proto", "proto":
			return fail("'%s' is not supported by goproxy (HTTP mode only)", kw)
		case "resolvers", "resolve-prefer", "resolve-net", "resolve-opts":
			if msg := parseResolveKeyword(&sp.Resolve, kw, argAt(w, i+1)); msg != "" {
				return fail("%s", msg)
			}
			i++
		case "track", "observe", "on-error", "error-limit", "source", "usesrc", "socks4", "namespace",
			"tfo", "no-tfo", "max-reuse",
			"stick", "non-stick", "log-proto", "agent-inter-x", "check-via-socks4":
			return fail("'%s' is not supported by goproxy", kw)
		default:
			if j, handled := p.parseServerSSL(w, i, sp, fail); handled {
				if j < 0 {
					return false
				}
				i = j
				continue
			}
			msg := fmt.Sprintf("unknown keyword '%s'", kw)
			if s := bestMatch(kw, knownServerKeywords); s != "" {
				msg += fmt.Sprintf("; did you mean '%s' maybe ?", s)
			} else {
				msg += "."
			}
			if isDefault {
				// HAProxy's wording, hint included.
				p.report(&Error{Pos: p.pos(), Style: StyleBare, Phase: PhaseParse,
					Msg: msg + " Hint: no address was expected for this server."})
				return false
			}
			p.serverAlert(px.Name, name, "%s", msg)
			return false
		}
	}
	return true
}

// unreadableFile returns strerror's text when path cannot be opened, or "".
func unreadableFile(path string) string {
	f, err := os.Open(path)
	if err == nil {
		f.Close()
		return ""
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t := errno.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	return err.Error()
}

// knownServerKeywords are HAProxy 2.6's server and default-server
// keywords, for "did you mean" suggestions.
var knownServerKeywords = strings.Fields(`addr agent-addr agent-check agent-inter
agent-port agent-send allow-0rtt alpn backup ca-file check check-alpn
check-proto check-send-proxy check-sni check-ssl check-via-socks4 ciphers
ciphersuites cookie crl-file crt disabled downinter enabled error-limit fall
fastinter force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 id
init-addr inter log-proto max-reuse maxconn maxqueue minconn namespace
no-agent-check no-backup no-check no-check-ssl no-send-proxy no-send-proxy-v2
no-send-proxy-v2-ssl no-send-proxy-v2-ssl-cn no-ssl no-ssl-reuse no-sslv3
no-tfo no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13
non-stick npn observe on-error on-marked-down on-marked-up pool-low-conn
pool-max-conn pool-purge-delay port proto proxy-v2-options redir resolve-net
resolve-opts resolve-prefer resolvers rise send-proxy send-proxy-v2
send-proxy-v2-ssl send-proxy-v2-ssl-cn slowstart sni socks4 source ssl
ssl-max-ver ssl-min-ver ssl-reuse stick tcp-ut tfo tls-tickets track verify
verifyhost weight ws`)
