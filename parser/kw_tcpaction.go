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
	args = p.stickArgs(name, args, conv, false)
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
	case name == "set-var" || name == "unset-var" || name == "set-var-fmt":
		if !hasArg || !strings.HasSuffix(arg, ")") {
			p.alert("invalid or incomplete action '%s'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'", action)
			return nil, 0, true
		}
		arg = strings.TrimSuffix(arg, ")")
		v, conds, hasConds := strings.Cut(arg, ",")
		if m := varNameError(v); m != "" {
			p.alert("%s", m)
			return nil, 0, true
		}
		if name == "unset-var" && hasConds {
			p.alert("unset-var does not expect parameters after the variable name. Only \"set-var\" and \"set-var-fmt\" manage conditions")
			return nil, 0, true
		}
		if hasConds {
			for _, c := range strings.Split(conds, ",") {
				switch c {
				case "": // HAProxy skips an empty one
				case "ifexists", "ifnotexists", "ifempty", "ifnotempty", "ifset", "ifnotset", "ifgt", "iflt":
				default:
					p.alert("unknown condition \"%s\"", c)
					return nil, 0, true
				}
			}
		}
		rule = &TCPRule{Pos: p.pos(), Action: name, Var: v}
		for _, c := range strings.Split(conds, ",") {
			if c != "" {
				rule.VarConds = append(rule.VarConds, c)
			}
		}
		if name == "unset-var" {
			return rule, 1, true
		}
		if name == "set-var-fmt" {
			// As HAProxy, the next word is the format, maybe empty; it is
			// parsed with the rule, its fetches valid where the rule runs.
			if what == "content" {
				p.lfCtx = lfContentRule
			}
			nodes, err := p.parseLogFormat(argAt(w, 3), false)
			p.lfCtx = lfLog
			if err != nil {
				p.alert("%s", err)
				return nil, 0, true
			}
			rule.Format = nodes
			return rule, 2, true
		}
		e, ok := p.actionExpr(w, what, action, true)
		if !ok {
			return nil, 0, true
		}
		rule.Expr = e
		return rule, 2, true
	case action == "set-src" || action == "set-dst" || action == "set-src-port" || action == "set-dst-port":
		e, ok := p.actionExpr(w, what, action, true)
		if !ok {
			return nil, 0, true
		}
		return &TCPRule{Pos: p.pos(), Action: action, Expr: e}, 2, true
	case (action == "set-priority-class" || action == "set-priority-offset") && what == "content":
		e, ok := p.actionExpr(w, what, action, false)
		if !ok {
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
		if what != "content" {
			p.alert("'capture %s' is not allowed in '%s %s' rules in %s '%s'", expr, w[0], what, px.Kind, px.Name)
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
	case action == "set-mark" || action == "set-tos":
		v, ok := p.socketOptValue(argAt(w, 3), action == "set-mark")
		if !ok {
			return nil, 0, true
		}
		return &TCPRule{Pos: p.pos(), Action: action, Value: v}, 2, true
	case action == "set-log-level" && what == "content":
		lvl := argAt(w, 3)
		v := int64(-1)
		if lvl != "silent" {
			v = int64(indexOf(logLevels, lvl)) + 1
		}
		if v == 0 {
			p.alert("expects exactly 1 argument (log level name or 'silent')")
			return nil, 0, true
		}
		return &TCPRule{Pos: p.pos(), Action: action, Value: v}, 2, true
	case action == "silent-drop":
		return &TCPRule{Pos: p.pos(), Action: action}, 1, true
	case action == "expect-proxy":
		if argAt(w, 3) != "layer4" {
			p.alert("'%s %s %s' only supports 'layer4' in %s '%s' (got '%s')", w[0], what, action, px.Kind, px.Name, argAt(w, 3))
			return nil, 0, true
		}
		if what != "connection" {
			p.alert("'%s %s' is not allowed in '%s %s' rules in %s '%s'", action, argAt(w, 3), w[0], what, px.Kind, px.Name)
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

// socketOptValue parses the value of set-mark (unsigned, kept as the 32
// bits the socket option takes) or set-tos as C's strtoul/strtol with base
// 0 read it (0x... hex, 0... octal), with HAProxy's messages.
func (p *parser) socketOptValue(v string, unsigned bool) (int64, bool) {
	if v == "" {
		p.alert("expects exactly 1 argument (integer/hex value)")
		return 0, false
	}
	n, rest := cInteger(v)
	if rest != "" {
		p.alert("invalid character starting at '%s' (integer/hex value expected)", rest)
		return 0, false
	}
	if unsigned {
		return int64(uint32(n)), true
	}
	return int64(int32(n)), true
}

// cInteger reads an integer as strtol with base 0: leading spaces, a sign,
// then hex (0x), octal (0) or decimal digits; it returns the value (wrapped
// to 64 bits) and what follows the digits (all of s when there are none).
func cInteger(s string) (int64, string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	switch {
	case i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && isHex(s[i+2]):
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	var n uint64
	for i < len(s) {
		if !isHex(s[i]) {
			break
		}
		d := uint64(hexVal(s[i]))
		if d >= base {
			break
		}
		n = n*base + d
		i++
	}
	if i == start {
		return 0, s
	}
	if neg {
		n = -n
	}
	return int64(n), s[i:]
}

// actionExpr parses the sample expression of an action (w[3]) with
// HAProxy's messages; stageCheck refuses, outside content rules, a fetch
// of the client's bytes.
func (p *parser) actionExpr(w []string, what, action string, stageCheck bool) (*SampleExpr, bool) {
	expr := argAt(w, 3)
	if expr == "" || expr == "if" || expr == "unless" {
		p.alert("missing fetch method")
		return nil, false
	}
	e, _, m := p.parseSampleWord(expr)
	if m != "" {
		p.alert("%s", m)
		return nil, false
	}
	if stageCheck && what != "content" && fetchReadsContent(e.Fetch) {
		p.alert("fetch method '%s' extracts information from 'request buffer', none of which is available here", action)
		return nil, false
	}
	return e, true
}
