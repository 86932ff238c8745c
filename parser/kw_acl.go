package parser

import (
	"fmt"
	"net/netip"
	"strings"
)

func (p *parser) kwACL(px *Proxy, w []string, _ kwMod) {
	name := argAt(w, 1)
	if name == "" {
		p.alert("'%s' expects an ACL name.", w[0])
		return
	}
	if px.Cap&CapDefaults != 0 && px.Name == "" {
		p.alert("'%s' not allowed in anonymous 'defaults' section.", w[0])
		return
	}
	if c, bad := invalidNameChar(name); bad {
		p.alert("character '%c' is not permitted in acl name '%s'.", c, name)
		return
	}
	acl, msg := p.parseACLExpr(w[2:])
	if msg != "" {
		p.alert("error detected while parsing ACL '%s' : %s", name, msg)
		return
	}
	acl.Pos = p.pos()
	acl.Name = name
	px.ACLs = append(px.ACLs, acl)
}

// parseACLExpr parses "<criterion> [flags] [values...]".
func (p *parser) parseACLExpr(w []string) (*ACL, string) {
	crit := argAt(w, 0)
	if crit == "" {
		return nil, "missing fetch method in ACL expression ''."
	}
	if p.cur != nil && p.cur.Mode == ModeHTTP {
		// The fetches the statistics page's rules evaluate.
		base, rest, _ := strings.Cut(crit, "(")
		if k, found := httpACLCriteria[base]; found {
			return p.parseHTTPACL(w, base, rest, k)
		}
	}
	acl, msg := p.parseFetchACL(crit, w[1:])
	if acl != nil || msg != "" {
		return acl, msg
	}
	base := crit
	if i := strings.IndexAny(base, "(,"); i >= 0 {
		base = base[:i]
	}
	if knownFetch(base) {
		return nil, fmt.Sprintf("fetch method '%s' is not supported by goproxy (see the README for the fetches evaluated in TCP mode).", base)
	}
	return nil, fmt.Sprintf("unknown fetch method '%s' in ACL expression '%s'.", base, crit)
}

// parseHTTPACL parses an ACL on one of the HTTP fetches of the statistics
// page: kind "auth" takes a userlist argument.
func (p *parser) parseHTTPACL(w []string, base, rest, kind string) (*ACL, string) {
	crit := w[0]
	arg := ""
	if kind == "auth" {
		if !strings.HasSuffix(rest, ")") || len(rest) < 2 {
			return nil, fmt.Sprintf("fetch method '%s' : missing userlist name in ACL expression '%s'.", base, crit)
		}
		arg = strings.TrimSuffix(rest, ")")
		kind = "none"
		if base == "http_auth_group" {
			kind = "str"
		}
	} else if rest != "" {
		return nil, fmt.Sprintf("fetch method '%s' does not take arguments in ACL expression '%s'.", base, crit)
	}
	acl := &ACL{Criterion: base, Arg: arg}
	p.nextRefID() // the ACL's pattern reference
	args := w[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		f := args[0]
		if f == "--" {
			args = args[1:]
			break
		}
		if f == "-m" {
			if m := argAt(args, 1); kind == "str" && m == "str" {
				args = args[2:]
				continue
			}
			return nil, fmt.Sprintf("matching method '-m %s' is not supported by goproxy for '%s'.", argAt(args, 1), base)
		}
		if f == "-n" {
			args = args[1:]
			continue
		}
		if f == "-f" || f == "-M" || f == "-u" || f == "-i" {
			return nil, fmt.Sprintf("ACL flag '%s' is not supported by goproxy.", f)
		}
		break
	}
	if kind != "none" {
		acl.Values = append(acl.Values, args...)
	}
	if kind != "none" && len(acl.Values) == 0 {
		p.report(&Error{Msg: fmt.Sprintf("parsing acl keyword '%s' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.", base), Sev: SevWarning, Phase: PhaseParse})
	}
	return acl, ""
}

// httpACLCriteria are the HTTP fetches goproxy evaluates in the rules of
// an HTTP frontend (the statistics page): "auth" takes a userlist argument.
var httpACLCriteria = map[string]string{
	"http_auth":       "auth",
	"http_auth_group": "auth",
	"path":            "str",
	"path_beg":        "str",
}

// knownFetch reports whether name is an HAProxy sample fetch goproxy does
// not evaluate (so the error says "not supported" rather than "unknown").
func knownFetch(name string) bool {
	switch {
	case strings.HasPrefix(name, "req"), strings.HasPrefix(name, "res"), strings.HasPrefix(name, "ssl_"),
		strings.HasPrefix(name, "hdr"), strings.HasPrefix(name, "http_"), strings.HasPrefix(name, "path"), strings.HasPrefix(name, "url"),
		strings.HasPrefix(name, "sc_") && name != "sc_updt_conn_cnt", strings.HasPrefix(name, "src_"), strings.HasPrefix(name, "be_"),
		strings.HasPrefix(name, "fe_"), strings.HasPrefix(name, "nbsrv"), strings.HasPrefix(name, "connslots"),
		strings.HasPrefix(name, "method"), strings.HasPrefix(name, "base"), strings.HasPrefix(name, "cook"),
		strings.HasPrefix(name, "payload"), strings.HasPrefix(name, "var"), strings.HasPrefix(name, "dst_"),
		strings.HasPrefix(name, "so_"), strings.HasPrefix(name, "env"), strings.HasPrefix(name, "srv_"),
		name == "status", name == "query", name == "capture", name == "date", name == "rand":
		return true
	}
	return false
}

func validIPPattern(v string) bool {
	if strings.Contains(v, "/") {
		addr, bits, _ := strings.Cut(v, "/")
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return false
		}
		if _, err := netip.ParsePrefix(v); err == nil {
			return true
		}
		// Dotted netmask: 10.0.0.0/255.0.0.0.
		mask, err := netip.ParseAddr(bits)
		return err == nil && ip.Is4() && mask.Is4()
	}
	_, err := netip.ParseAddr(v)
	return err == nil
}

// cutRange splits an integer range at its separator, ':' or '-' as in
// HAProxy's pat_parse_int ("-5" is ":5").
func cutRange(v string) (lo, hi string, isRange bool) {
	if i := strings.IndexAny(v, ":-"); i >= 0 {
		return v[:i], v[i+1:], true
	}
	return v, "", false
}

func validIntPattern(v string) string {
	lo, hi, isRange := cutRange(v)
	check := func(s string) bool {
		if s == "" {
			return isRange
		}
		for _, c := range []byte(s) {
			if !isDigit(c) {
				return false
			}
		}
		return true
	}
	if !check(lo) || (isRange && !check(hi)) {
		return fmt.Sprintf("'%s' is not a number.", v)
	}
	return ""
}

// tcpRequestActions are HAProxy's tcp-request actions goproxy does not
// implement (kw_tcpaction.go has those it does beyond accept and reject),
// with the one rule set that takes them ("" for every one).
var tcpRequestActions = map[string]string{
	"expect-netscaler-cip": "connection",
	"do-resolve":           "content", "set-nice": "content", "switch-mode": "content", "use-service": "content",
	"close": "content", "attach-srv": "content",
}

// tcpActionLists are the actions HAProxy 2.6 (Debian's build) lists for
// an unknown tcp-request action, by rule set, in its order; "(*)" marks a
// prefix keyword.
var tcpActionLists = map[string][]string{
	"connection": strings.Fields("sc-inc-gpc(*) sc-inc-gpc0(*) sc-inc-gpc1(*) sc-set-gpt(*) sc-set-gpt0(*) set-var-fmt(*) set-var(*) unset-var(*) set-dst set-dst-port set-mark set-src set-src-port set-tos silent-drop"),
	"content":    strings.Fields("ot-group set-log-level set-nice switch-mode use-service sc-inc-gpc(*) sc-inc-gpc0(*) sc-inc-gpc1(*) sc-set-gpt(*) sc-set-gpt0(*) send-spoe-group do-resolve(*) set-var-fmt(*) set-var(*) unset-var(*) set-src set-src-port set-dst set-dst-port set-mark set-tos silent-drop set-priority-class set-priority-offset"),
}

// tcpActionExpects is HAProxy's message for an unknown action of a
// tcp-request rule set, with its suggestion (action_suggest).
func tcpActionExpects(kw, what string, px *Proxy, action string) string {
	list := tcpActionLists[what]
	if what == "session" {
		list = tcpActionLists["connection"]
	}
	quoted := make([]string, len(list))
	for i, a := range list {
		quoted[i] = "'" + a + "'"
	}
	msg := fmt.Sprintf("'%s %s' expects 'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc%d', %s in %s '%s' (got '%s').", kw, what, maxStickCounters-1, strings.Join(quoted, ", "), px.Kind, px.Name, action)
	if best := suggestAction(action, list, []string{"accept", "reject", "capture", "track-sc", "expect-proxy", "expect-netscaler-cip"}); best != "" {
		msg += " Did you mean '" + best + "' maybe ?"
	}
	return msg + "\n"
}

// suggestAction is HAProxy's action_suggest: the closest of the actions,
// then of extra, with more tolerance for a prefix keyword; "" when none is
// close enough.
func suggestAction(word string, actions, extra []string) string {
	if word == "" {
		return ""
	}
	wf := makeFingerprint(word)
	best, bestDist, prefix := "", int(^uint(0)>>1), false
	for _, a := range actions {
		name, isPrefix := strings.CutSuffix(a, "(*)")
		if d := fingerprintDistance(wf, makeFingerprint(name)); d < bestDist {
			best, bestDist, prefix = name, d, isPrefix
		}
	}
	for _, a := range extra {
		if d := fingerprintDistance(wf, makeFingerprint(a)); d < bestDist {
			best, bestDist, prefix = a, d, false
		}
	}
	f := 2
	if prefix {
		f = 3
	}
	if best == "" || bestDist > f*len(word) || bestDist > f*len(best) {
		return ""
	}
	return best
}

// knownTCPAction reports whether action is an HAProxy tcp-request action
// of rule set what (connection, session or content).
func knownTCPAction(what, action string) bool {
	if stage, ok := tcpRequestActions[action]; ok {
		return stage == "" || stage == what || (stage == "connection" && what == "session")
	}
	return strings.HasPrefix(action, "set-var") || strings.HasPrefix(action, "sc-") || strings.HasPrefix(action, "track-sc")
}

// builtinACLs are HAProxy's predefined layer-4 ACLs goproxy evaluates.
var builtinACLs = map[string]bool{"TRUE": true, "FALSE": true, "LOCALHOST": true}

// parseCondition parses "if|unless <terms>" where terms are ACL names,
// "!name", "{ anonymous acl }", joined by juxtaposition (AND) and "||" or
// "or" (OR). ctx prefixes "no such ACL" errors.
func (p *parser) parseCondition(px *Proxy, w []string, ctx string) (*Condition, bool) {
	c := &Condition{Unless: w[0] == "unless"}
	var and []CondTerm
	args := w[1:]
	if len(args) == 0 {
		return c, true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "||" || a == "or" {
			if len(and) == 0 {
				p.alert("%s : missing ACL before '%s'.", ctx, a)
				return nil, false
			}
			c.Terms = append(c.Terms, and)
			and = nil
			continue
		}
		t := CondTerm{}
		for strings.HasPrefix(a, "!") {
			t.Negate = !t.Negate
			a = a[1:]
			if a == "" {
				i++
				a = argAt(args, i)
				if a == "" {
					p.alert("%s : missing ACL after '!'.", ctx)
					return nil, false
				}
			}
		}
		if a == "{" {
			end := -1
			for j := i + 1; j < len(args); j++ {
				if args[j] == "}" {
					end = j
					break
				}
			}
			if end < 0 {
				p.alert("%s : missing closing '}' in condition.", ctx)
				return nil, false
			}
			acl, msg := p.parseACLExpr(args[i+1 : end])
			if msg != "" {
				// HAProxy ends the message of an ACL line with a dot, not
				// that of an anonymous ACL in a condition.
				p.alert("%s : %s", ctx, strings.TrimSuffix(msg, "."))
				return nil, false
			}
			acl.Pos = p.pos()
			t.Anon = acl
			i = end
		} else {
			found := builtinACLs[a]
			for _, acl := range px.ACLs {
				if acl.Name == a {
					found = true
					break
				}
			}
			if !found {
				p.alert("%s : no such ACL : '%s'", ctx, a)
				return nil, false
			}
			t.ACL = a
		}
		and = append(and, t)
	}
	if len(and) > 0 {
		c.Terms = append(c.Terms, and)
	}
	return c, true
}

func (p *parser) kwTCPRequest(px *Proxy, w []string, _ kwMod) {
	what := argAt(w, 1)
	if what == "" {
		if px.Cap&CapDefaults != 0 {
			p.alert("missing argument for '%s' in defaults section", w[0])
		} else {
			p.alert("missing argument for '%s' in %s '%s'", w[0], px.Kind, px.Name)
		}
		return
	}
	switch what {
	case "inspect-delay", "connection", "session", "content":
		if what != "inspect-delay" && what != "content" && px.Cap&CapFrontend == 0 {
			break // "not a frontend", below
		}
		if px.Cap&CapDefaults != 0 && px.Name == "" {
			p.alert("%s %s is not allowed in anonymous 'defaults' sections", w[0], what)
			return
		}
	}
	switch what {
	case "inspect-delay":
		d, _, err := ParseTime(argAt(w, 2))
		if err != nil || argAt(w, 2) == "" {
			p.alert("'%s %s' expects a positive delay in milliseconds, in %s '%s'", w[0], what, px.Kind, px.Name)
			return
		}
		px.InspectDelay = d
	case "connection", "session", "content":
		if px.Cap&CapDefaults != 0 {
			px.hasRules = true
		}
		if what != "content" && px.Cap&CapFrontend == 0 {
			p.alert("%s %s is not allowed because %s %s is not a frontend", w[0], what, px.Kind, px.Name)
			return
		}
		action := argAt(w, 2)
		var rule *TCPRule
		used := 1
		switch action {
		case "accept", "reject":
			rule = &TCPRule{Pos: p.pos(), Action: action}
		case "":
			p.alert("%s", tcpActionExpects(w[0], what, px, action))
			return
		default:
			var handled bool
			if rule, used, handled = p.tcpAction(px, what, w); handled {
				if rule == nil {
					return
				}
				break
			}
			if knownTCPAction(what, action) {
				p.alert("'%s %s %s' is not supported by goproxy (see the README for the actions implemented).", w[0], what, action)
				return
			}
			p.alert("%s", tcpActionExpects(w[0], what, px, action))
			return
		}
		if c := 2 + used; len(w) > c {
			if w[c] != "if" && w[c] != "unless" {
				p.alert("'%s %s %s' only accepts 'if' or 'unless', in %s '%s' (got '%s')", w[0], what, action, px.Kind, px.Name, w[c])
				return
			}
			ctx := fmt.Sprintf("'%s %s %s' : error detected in %s '%s' while parsing '%s' condition", w[0], what, action, px.Kind, px.Name, w[c])
			cond, ok := p.parseCondition(px, w[c:], ctx)
			if !ok {
				return
			}
			rule.Cond = cond
		}
		p.warnMisplacedTCP(px, what, w[0])
		switch {
		case what == "connection":
			p.warnNeverMatch(px, rule.Cond, ctxFrontendConn, w[0]+" "+what)
		case what == "session":
			p.warnNeverMatch(px, rule.Cond, ctxFrontendSession, w[0]+" "+what)
		case px.Cap&CapFrontend != 0:
			p.warnNeverMatch(px, rule.Cond, ctxFrontendContent, w[0]+" "+what)
		}
		switch what {
		case "connection":
			px.TCPReqConn = append(px.TCPReqConn, rule)
		case "session":
			px.TCPReqSession = append(px.TCPReqSession, rule)
			px.ownSession++
		default:
			px.TCPReqContent = append(px.TCPReqContent, rule)
			px.ownContent++
		}
	default:
		if px.Cap&CapDefaults != 0 {
			p.alert("'%s' expects 'inspect-delay', 'connection', or 'content' in defaults section (got '%s')", w[0], what)
			return
		}
		p.alert("'%s' expects 'inspect-delay', 'connection', or 'content' in %s '%s' (got '%s')", w[0], px.Kind, px.Name, what)
	}
}
