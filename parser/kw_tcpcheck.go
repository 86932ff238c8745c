package parser

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

func (p *parser) kwTCPCheck(px *Proxy, w []string, _ kwMod) {
	kind := argAt(w, 1)
	rule := &TCPCheckRule{Pos: p.pos(), Kind: kind, MinRecv: -1}
	where := fmt.Sprintf("'%s %s'", w[0], kind)
	var args []string
	if len(w) > 2 {
		args = w[2:]
	}
	var ok bool
	switch kind {
	case "comment":
		if argAt(args, 0) == "" {
			p.alert("%s : expects a string as argument.", where)
			return
		}
		if len(args) > 1 {
			p.alert("%s : cannot handle unexpected argument '%s'.", where, args[1])
			return
		}
		rule.Comment = args[0]
		ok = true
	case "connect":
		if connectNotFirst(tcpCheckSteps(px)) {
			p.alert("%s : %s.", where, connectFirstMsg)
			return
		}
		ok = p.tcpCheckConnect(rule, where, args)
	case "send", "send-binary":
		ok = p.tcpCheckSend(rule, where, args)
	case "expect":
		ok = p.tcpCheckExpect(rule, where, args)
	case "send-lf", "send-binary-lf":
		p.alert("%s is not supported by goproxy (log-format strings are not implemented; use 'send' or 'send-binary').", where)
		return
	case "set-var", "unset-var", "set-var-fmt":
		p.alert("%s is not supported by goproxy (variables are not implemented).", where)
		return
	default:
		if strings.HasPrefix(kind, "set-var") || strings.HasPrefix(kind, "unset-var") {
			p.alert("'%s %s' is not supported by goproxy (variables are not implemented).", w[0], kind)
			return
		}
		p.alert("'%s' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '%s'", w[0], kind)
		return
	}
	if !ok {
		return
	}
	if px.inheritedChecks {
		// A proxy's own rules replace those inherited from defaults.
		px.TCPChecks = nil
		px.inheritedChecks = false
	}
	px.TCPChecks = append(px.TCPChecks, rule)
}

func (p *parser) tcpCheckConnect(r *TCPCheckRule, where string, args []string) bool {
	addrPort := 0
	defer func() {
		if r.Port == 0 {
			r.Port = addrPort
		}
	}()
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "default":
			r.Default = true
		case "linger":
			r.Linger = true
		case "ssl":
			r.SSL = true
		case "sni":
			v := argAt(args, i+1)
			if v == "" {
				p.alert("%s : '%s' expects a string as argument..", where, args[i])
				return false
			}
			r.SNI = v
			i++
		case "alpn":
			v := argAt(args, i+1)
			if v == "" {
				p.alert("%s : '%s' : missing the comma-delimited ALPN protocol suite.", where, args[i])
				return false
			}
			r.ALPN = v
			i++
		case "port":
			v := argAt(args, i+1)
			if v == "" {
				p.alert("%s : '%s' expects a port number or a sample expression as argument..", where, args[i])
				return false
			}
			n, good := strictInt(v)
			if !good || n < 1 || n > 65535 {
				p.alert("%s : '%s' expects a port number between 1 and 65535 (goproxy does not evaluate sample expressions here) but got '%s'.", where, args[i], v)
				return false
			}
			r.Port = n
			i++
		case "addr":
			v := argAt(args, i+1)
			if v == "" {
				p.alert("%s : '%s' expects an address as argument.", where, args[i])
				return false
			}
			host, port, ok := p.checkConnectAddr(where, args[i], v)
			if !ok {
				return false
			}
			r.Addr = host
			addrPort = port
			i++
		case "send-proxy":
			r.SendProxy = true
		case "comment":
			if argAt(args, i+1) == "" {
				p.alert("%s : '%s' expects a string as argument.", where, args[i])
				return false
			}
			r.Comment = args[i+1]
			i++
		case "via-socks4", "proto":
			p.alert("%s : '%s' is not supported by goproxy.", where, args[i])
			return false
		default:
			p.alert("%s : expects 'comment', 'port', 'addr', 'send-proxy', 'via-socks4', 'ssl', 'sni', 'alpn', 'default', 'proto' or 'linger' but got '%s' as argument.", where, args[i])
			return false
		}
	}
	return true
}

func (p *parser) tcpCheckSend(r *TCPCheckRule, where string, args []string) bool {
	data := argAt(args, 0)
	if data == "" {
		what := "string"
		if r.Kind == "send-binary" {
			what = "binary string"
		}
		p.alert("%s : '%s' expects a send as argument.", where, what)
		return false
	}
	for i := 1; i < len(args); i++ {
		if args[i] == "comment" && argAt(args, i+1) != "" {
			r.Comment = args[i+1]
			i++
			continue
		}
		p.alert("%s : expects 'comment' but got '%s' as argument.", where, args[i])
		return false
	}
	if r.Kind == "send-binary" {
		b, msg := parseHex(data)
		if msg != "" {
			p.alert("%s : '%s' invalid binary string (%s).\n", where, data, msg)
			return false
		}
		r.Data = b
		r.Pattern = data
		return true
	}
	r.Data = []byte(data)
	r.Pattern = data
	return true
}

// parseHex decodes an even-length hex string.
func parseHex(s string) ([]byte, string) {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return nil, fmt.Sprintf("an hex digit is expected (found '%c')", s[i])
		}
	}
	if len(s)%2 != 0 {
		return nil, "an even number of hex digit is expected"
	}
	b, _ := hex.DecodeString(s)
	return b, ""
}

// expectCommonArg parses the arguments tcp-check and http-check expect
// share: min-recv, comment, on-success and on-error (v is the value after
// a). It reports whether a is one of them, and whether it parsed.
func (p *parser) expectCommonArg(where, a, v string, minRecv *int, comment, onSuccess, onError *string) (handled, ok bool) {
	switch a {
	case "min-recv":
		if v == "" {
			p.alert("%s : '%s' expects a integer as argument.", where, a)
			return true, false
		}
		*minRecv = atol(v)
	case "comment", "on-success", "on-error":
		if v == "" {
			p.alert("%s : '%s' expects a string as argument.", where, a)
			return true, false
		}
		if a != "comment" && strings.Contains(v, "%") {
			p.alert("%s : '%s' : log-format expressions are not supported by goproxy (got '%s'; use plain text).", where, a, v)
			return true, false
		}
		switch a {
		case "comment":
			*comment = v
		case "on-success":
			*onSuccess = v
		default:
			*onError = v
		}
	default:
		return false, false
	}
	return true, true
}

func (p *parser) tcpCheckExpect(r *TCPCheckRule, where string, args []string) bool {
	if len(args) == 0 {
		p.alert("%s : expects at least a matching pattern as arguments.", where)
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if handled, ok := p.expectCommonArg(where, a, argAt(args, i+1), &r.MinRecv, &r.Comment, &r.OnSuccess, &r.OnError); handled {
			if !ok {
				return false
			}
			i++
			continue
		}
		switch a {
		case "ok-status", "error-status", "tout-status", "status-code":
			p.alert("%s : '%s' is not supported by goproxy.", where, a)
			return false
		case "!":
			r.Negate = true
			continue
		}
		m := a
		if strings.HasPrefix(m, "!") {
			r.Negate = true
			m = m[1:]
		}
		switch m {
		case "string", "rstring", "binary", "rbinary":
		case "string-lf", "binary-lf":
			p.alert("%s : '%s' is not supported by goproxy (log-format strings are not implemented).", where, m)
			return false
		default:
			p.alert("%s : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '%s' as argument..", where, a)
			return false
		}
		pat := argAt(args, i+1)
		if pat == "" {
			p.alert("%s : '%s' expects a <pattern> as argument.", where, m)
			return false
		}
		if r.Match != "" {
			p.alert("%s : only one pattern expected.", where)
			return false
		}
		r.Match = m
		r.Pattern = pat
		switch m {
		case "binary":
			b, msg := parseHex(pat)
			if msg != "" {
				p.alert("%s : invalid binary string (%s).", where, msg)
				return false
			}
			r.Data = b
		case "rstring", "rbinary":
			re, err := regexp.Compile(pat)
			if err != nil {
				p.alert("%s : regex '%s' is invalid (%s).", where, pat, err)
				return false
			}
			r.Regex = re
		}
		i++
	}
	if r.Match == "" {
		p.alert("%s : expects at least a matching pattern as arguments.", where)
		return false
	}
	return true
}

// checkConnectAddr parses the address of "tcp-check connect addr" and
// "http-check connect addr": an IP address, which may carry the port (as
// HAProxy: a 'port' argument still wins).
func (p *parser) checkConnectAddr(where, kw, v string) (host string, port int, ok bool) {
	host = v
	if ap, err := netip.ParseAddrPort(v); err == nil {
		host, port = ap.Addr().String(), int(ap.Port())
	}
	if !validIPPattern(host) || strings.Contains(host, "/") {
		p.alert("%s : '%s' : invalid address '%s'.", where, kw, v)
		return "", 0, false
	}
	return host, port, true
}
