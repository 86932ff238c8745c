package parser

import (
	"fmt"
	"strings"
)

// The tcp-request actions beyond accept and reject: set-var, unset-var,
// set-src, silent-drop and expect-proxy layer4 (TCPRule.Action names
// them; Var and Expr hold their arguments).

// varScopes are HAProxy's variable scopes.
var varScopes = []string{"proc", "sess", "txn", "req", "res", "check"}

// varNameError checks a variable name ("txn.account") with HAProxy's
// messages; "" when valid.
func varNameError(name string) string {
	if name == "" {
		return "Empty variable name cannot be accepted"
	}
	scope, rest, _ := strings.Cut(name, ".")
	known := false
	for _, s := range varScopes {
		known = known || s == scope
	}
	if !known || !strings.Contains(name, ".") {
		return fmt.Sprintf("invalid variable name '%s'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'", name)
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !isAlnum(c) && c != '.' && c != '_' {
			return fmt.Sprintf("invalid syntax at char '%s'", rest[i:])
		}
	}
	return ""
}

// parseSampleWord parses a sample expression written as one word
// ("req.payload(12,6),lower"), as the arguments of set-var and set-src.
func (p *parser) parseSampleWord(expr string) (*SampleExpr, string, string) {
	name, args, convText, msg := splitSample(expr)
	if msg != "" {
		return nil, "", msg
	}
	def, ok := fetches[name]
	if !ok {
		if name != "" && knownFetch(name) {
			return nil, "", fmt.Sprintf("fetch method '%s' is not supported by goproxy (see the README for the fetches evaluated in TCP mode)", name)
		}
		return nil, "", fmt.Sprintf("unknown fetch method '%s'", name)
	}
	if m := checkFetchArity(name, args); m != "" {
		return nil, "", m
	}
	p.noteFetchArg(name, args, false)
	conv, out, cmsg := p.parseConverters(convText, def.out)
	if cmsg != "" {
		return nil, "", string(cmsg)
	}
	args = p.stickArgs(name, args, conv, "sample fetch")
	return &SampleExpr{Fetch: name, Args: args, Conv: conv}, out, ""
}

// tcpAction parses an action of tcp-request connection|content other
// than accept and reject. It returns the rule and how many words the
// action took (the condition follows); handled is false when action is
// none of them, rule nil when an error was reported.
func (p *parser) tcpAction(px *Proxy, what string, w []string) (rule *TCPRule, n int, handled bool) {
	action := w[2]
	name, arg, hasArg := strings.Cut(action, "(")
	switch {
	case name == "set-var" || name == "unset-var":
		if !hasArg || !strings.HasSuffix(arg, ")") {
			p.alert("invalid or incomplete action '%s'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'", action)
			return nil, 0, true
		}
		arg = strings.TrimSuffix(arg, ")")
		v, conds, _ := strings.Cut(arg, ",")
		if m := varNameError(v); m != "" {
			p.alert("%s", m)
			return nil, 0, true
		}
		if conds != "" {
			for _, c := range strings.Split(conds, ",") {
				switch c {
				case "ifexists", "ifnotexists", "ifempty", "ifnotempty", "ifset", "ifnotset", "ifgt", "iflt":
				default:
					p.alert("unknown condition \"%s\"", c)
					return nil, 0, true
				}
			}
			p.alert("'%s %s %s' : set-var conditions are not supported by goproxy.", w[0], what, action)
			return nil, 0, true
		}
		rule = &TCPRule{Pos: p.pos(), Action: name, Var: v}
		if name == "unset-var" {
			return rule, 1, true
		}
		expr := argAt(w, 3)
		if expr == "" || expr == "if" || expr == "unless" {
			p.alert("missing fetch method")
			return nil, 0, true
		}
		e, _, m := p.parseSampleWord(expr)
		if m != "" {
			p.alert("%s", m)
			return nil, 0, true
		}
		if what == "connection" && fetchReadsContent(e.Fetch) {
			p.alert("fetch method '%s' extracts information from 'request buffer', none of which is available here", action)
			return nil, 0, true
		}
		rule.Expr = e
		return rule, 2, true
	case action == "set-src" || action == "set-dst" || action == "set-src-port" || action == "set-dst-port":
		expr := argAt(w, 3)
		if expr == "" || expr == "if" || expr == "unless" {
			p.alert("missing fetch method")
			return nil, 0, true
		}
		e, _, m := p.parseSampleWord(expr)
		if m != "" {
			p.alert("%s", m)
			return nil, 0, true
		}
		if what == "connection" && fetchReadsContent(e.Fetch) {
			p.alert("fetch method '%s' extracts information from 'request buffer', none of which is available here", action)
			return nil, 0, true
		}
		return &TCPRule{Pos: p.pos(), Action: action, Expr: e}, 2, true
	case action == "capture":
		pre := fmt.Sprintf("'%s %s %s' : ", w[0], what, action)
		expr := argAt(w, 3)
		if expr == "" || expr == "if" || expr == "unless" {
			p.alert("%smissing fetch method", pre)
			return nil, 0, true
		}
		if what == "connection" {
			p.alert("'capture %s' is not allowed in 'tcp-request connection' rules in %s '%s'", expr, px.Kind, px.Name)
			return nil, 0, true
		}
		e, _, m := p.parseSampleWord(expr)
		if m != "" {
			p.alert("%s%s", pre, m)
			return nil, 0, true
		}
		if argAt(w, 4) != "len" {
			p.alert("%sa positive 'len' argument is mandatory", pre)
			return nil, 0, true
		}
		n := 0
		for _, c := range argAt(w, 5) {
			if c < '0' || c > '9' || n > 1<<20 {
				n = 0
				break
			}
			n = n*10 + int(c-'0')
		}
		if n <= 0 {
			p.alert("%slength must be > 0", pre)
			return nil, 0, true
		}
		if px.Cap&CapFrontend == 0 {
			p.alert("%sproxy '%s' has no frontend capability", pre, px.Name)
			return nil, 0, true
		}
		px.ReqCaptures = append(px.ReqCaptures, n)
		return &TCPRule{Pos: p.pos(), Action: action, Expr: e, Capture: len(px.ReqCaptures) - 1, Len: n}, 4, true
	case strings.HasPrefix(action, "track-sc"):
		rule, n = p.trackAction(px, what, w)
		return rule, n, true
	case isCounterAction(action):
		rule, n = p.counterAction(px, what, w)
		return rule, n, true
	case action == "silent-drop":
		return &TCPRule{Pos: p.pos(), Action: action}, 1, true
	case action == "expect-proxy" && what == "connection":
		if argAt(w, 3) != "layer4" {
			p.alert("'%s %s %s' only supports 'layer4' in %s '%s' (got '%s')", w[0], what, action, px.Kind, px.Name, argAt(w, 3))
			return nil, 0, true
		}
		return &TCPRule{Pos: p.pos(), Action: action}, 2, true
	}
	return nil, 0, false
}

// fetchReadsContent reports whether a fetch reads the client's bytes.
func fetchReadsContent(name string) bool {
	return strings.HasPrefix(name, "req.") || strings.HasPrefix(name, "req_") || strings.HasPrefix(name, "payload")
}
