package parser

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// statsPage returns the proxy's statistics page settings, creating them on
// the first stats keyword (any of them enables the page, as in HAProxy).
func (p *parser) statsPage(px *Proxy) *StatsPage {
	if px.statsInherited {
		px.Stats = px.Stats.clone()
		px.statsInherited = false
	}
	if px.Stats == nil {
		px.Stats = &StatsPage{Pos: p.pos()}
	}
	return px.Stats
}

// kwStats parses the proxy "stats" keywords of HAProxy's statistics page:
//
//	stats enable | uri <prefix> | realm <realm> | auth <user>:<password> |
//	      refresh <delay> | hide-version | show-legends | show-modules | show-node [<name>] |
//	      show-desc [<desc>] | admin {if|unless} <cond> | scope <proxy> |
//	      http-request {allow|deny|auth [realm <realm>]} [{if|unless} <cond>]
//
// A TCP proxy keeps them and ignores them with HAProxy's warning (see
// validateProxy).
func (p *parser) kwStats(px *Proxy, w []string, _ kwMod) {
	sub := argAt(w, 1)
	switch sub {
	case "enable":
		p.statsPage(px)
	case "uri":
		if argAt(w, 2) == "" {
			p.alert("'uri' needs an URI prefix.")
			return
		}
		p.statsPage(px).URI = w[2]
	case "realm":
		if argAt(w, 2) == "" {
			p.alert("'realm' needs an realm name.")
			return
		}
		p.statsPage(px).Realm = w[2]
	case "auth":
		user, pass, ok := strings.Cut(argAt(w, 2), ":")
		if !ok || user == "" {
			p.alert("'auth' needs a user:password account.")
			return
		}
		st := p.statsPage(px)
		st.Users = append(st.Users, StatsUser{Name: user, Password: pass})
	case "refresh":
		if argAt(w, 2) == "" {
			p.alert("'refresh' needs a positive interval in seconds.")
			return
		}
		d, trailing, err := parseTimeDefaultSeconds(w[2])
		if err != nil || trailing != "" {
			c := w[2]
			if trailing != "" {
				c = trailing
			}
			p.alertStyle(StyleLine, "unexpected character '%c' in argument to stats refresh interval.", c[0])
			return
		}
		p.statsPage(px).Refresh = d
	case "hide-version":
		p.statsPage(px).HideVersion = true
	case "show-legends":
		p.statsPage(px).ShowLegends = true
	case "show-modules":
		p.statsPage(px).ShowModules = true
	case "show-node":
		st := p.statsPage(px)
		st.ShowNode = true
		if n := argAt(w, 2); n != "" {
			if c, bad := invalidNodeChar(n); bad {
				p.alert("'%s %s' : character '%c' is not permitted in node name.", w[0], w[1], c)
				return
			}
			st.Node = n
		}
	case "show-desc":
		st := p.statsPage(px)
		st.ShowDesc = true
		if len(w) > 2 {
			st.Desc = strings.Join(w[2:], " ")
		}
	case "admin":
		if len(w) < 4 || (w[2] != "if" && w[2] != "unless") {
			p.alert("'stats admin' requires either 'if' or 'unless' followed by a condition.")
			return
		}
		c, ok := p.parseCondition(px, w[2:], "'stats admin'")
		if !ok {
			return
		}
		p.statsPage(px).Admin = c
	case "scope":
		if argAt(w, 2) == "" {
			p.alert("'scope' needs a proxy name.")
			return
		}
		st := p.statsPage(px)
		st.Scope = append(st.Scope, w[2])
	case "http-request":
		r, ok := p.parseHTTPRule(px, w[1:], "stats http-request")
		if !ok {
			return
		}
		if r.Action == "use-service" {
			p.alert("'stats http-request' only supports 'allow', 'deny' and 'auth' in goproxy.")
			return
		}
		st := p.statsPage(px)
		st.Rules = append(st.Rules, r)
	case "socket", "timeout", "maxconn", "bind-process":
		p.alert("'stats %s' is a global keyword; it is not allowed in a proxy section.", sub)
	default:
		p.alertStyle(StyleLine, "unknown stats parameter '%s', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.", sub)
	}
}

// parseTimeDefaultSeconds reads a delay whose bare numbers are seconds
// ("stats refresh 5" is five seconds).
func parseTimeDefaultSeconds(s string) (d time.Duration, trailing string, err error) {
	if n, e := strconv.Atoi(s); e == nil && n >= 0 {
		return time.Duration(n) * time.Second, "", nil
	}
	return ParseTime(s)
}

// invalidNodeChar reports the first character HAProxy refuses in a node
// name (letters, digits, '-', '_', '.' are allowed).
func invalidNodeChar(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return c, true
		}
	}
	return 0, false
}

// parseHTTPRule parses "<action> [args] [{if|unless} <cond>]" for the
// http-request actions goproxy serves: allow, deny [deny_status <code>],
// auth [realm <realm>], use-service prometheus-exporter. w[0] is the
// keyword ("http-request").
func (p *parser) parseHTTPRule(px *Proxy, w []string, kw string) (*HTTPRule, bool) {
	r := &HTTPRule{Pos: p.pos(), Action: argAt(w, 1)}
	rest := w[2:]
	if len(w) < 2 {
		rest = nil
	}
	switch r.Action {
	case "allow":
	case "deny":
		r.Status = 403
		if argAt(rest, 0) == "deny_status" {
			code, err := strconv.Atoi(argAt(rest, 1))
			if err != nil || code < 200 || code > 599 {
				p.alert("'%s %s' : 'deny_status' expects a valid HTTP status code.", kw, r.Action)
				return nil, false
			}
			r.Status = code
			rest = rest[2:]
		}
	case "auth":
		if argAt(rest, 0) == "realm" {
			if argAt(rest, 1) == "" {
				p.alert("'%s %s' : missing realm value.", kw, r.Action)
				return nil, false
			}
			r.Realm = rest[1]
			rest = rest[2:]
		}
	case "use-service":
		if argAt(rest, 0) != "prometheus-exporter" {
			p.alert("'%s %s' : goproxy only serves 'prometheus-exporter'.", kw, r.Action)
			return nil, false
		}
		rest = rest[1:]
	default:
		p.alert("'%s %s' is not supported by goproxy (HTTP rules goproxy serves: 'allow', 'deny', 'auth' and 'use-service prometheus-exporter').", kw, r.Action)
		return nil, false
	}
	if len(rest) > 0 {
		if rest[0] != "if" && rest[0] != "unless" {
			p.alert("'%s %s' : expects 'if' or 'unless' followed by a condition but got '%s'.", kw, r.Action, rest[0])
			return nil, false
		}
		if len(rest) < 2 {
			p.alert("'%s %s' : missing condition after '%s'.", kw, r.Action, rest[0])
			return nil, false
		}
		c, ok := p.parseCondition(px, rest, fmt.Sprintf("'%s %s'", kw, r.Action))
		if !ok {
			return nil, false
		}
		r.Cond = c
	}
	return r, true
}
