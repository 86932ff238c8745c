package parser

import (
	"fmt"
	"strconv"
	"strings"
)

// StickRule is a stick on|match|store-request rule of a backend.
type StickRule struct {
	Pos
	Match, Store bool // on: both
	Expr         *SampleExpr
	Out          string // the expression's output type
	Table        string // "" for the proxy's own table
	Cond         *Condition
}

// maxStickCounters is HAProxy's MAX_SESS_STKCTR (sc0, sc1, sc2).
const maxStickCounters = 3

func (p *parser) kwStick(px *Proxy, w []string, _ kwMod) {
	if px.Cap&CapBackend == 0 {
		return // HAProxy warned it ignores the rule
	}
	r := &StickRule{Pos: p.pos()}
	i := 1
	switch argAt(w, 1) {
	case "store", "store-request":
		r.Store = true
	case "store-response":
		p.alert("'%s %s' is not supported by goproxy (TCP mode has no response to store from).", w[0], w[1])
		return
	case "match":
		r.Match = true
	case "on":
		r.Match, r.Store = true, true
	default:
		p.alert("'%s' expects 'on', 'match', or 'store'.", w[0])
		return
	}
	i++
	expr := argAt(w, i)
	if expr == "" {
		p.alert("'%s' expects a fetch method.", w[0])
		return
	}
	e, out, m := p.parseSampleWord(expr)
	if m != "" {
		p.alert("'%s': %s", w[0], m)
		return
	}
	r.Expr, r.Out = e, out
	i++
	if argAt(w, i) == "table" {
		r.Table = argAt(w, i+1)
		i += 2
	}
	switch c := argAt(w, i); c {
	case "if", "unless":
		cond, ok := p.parseCondition(px, w[i:], fmt.Sprintf("'%s': error detected while parsing sticking condition", w[0]))
		if !ok {
			return
		}
		r.Cond = cond
	case "":
	default:
		p.alert("'%s': unknown keyword '%s'.", w[0], c)
		return
	}
	px.StickRules = append(px.StickRules, r)
}

// trackAction parses track-sc<n> <key> [table <t>] of tcp-request
// connection|session|content (w[2] is the action); it returns the rule and the
// words it took after the action's own.
func (p *parser) trackAction(px *Proxy, what string, w []string) (*TCPRule, int) {
	action := w[2]
	pre := fmt.Sprintf("'%s %s %s' : ", w[0], what, action)
	num := action[len("track-sc"):]
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || num == "" || num[0] == '+' {
		p.alert("%sWrong track-sc number '%s'", pre, num)
		return nil, 0
	}
	if n >= maxStickCounters {
		p.alert("%s%d track-sc number exceeding %d (MAX_SESS_STKCTR-1) value", pre, n, maxStickCounters-1)
		return nil, 0
	}
	expr := argAt(w, 3)
	if expr == "" {
		p.alert("%smissing fetch method", pre)
		return nil, 0
	}
	e, out, m := p.parseSampleWord(expr)
	if m != "" {
		p.alert("%s%s", pre, m)
		return nil, 0
	}
	if what != "content" && fetchReadsContent(e.Fetch) {
		p.alert("%sfetch method '%s' extracts information from 'request buffer', none of which is available here", pre, expr)
		return nil, 0
	}
	rule := &TCPRule{Pos: p.pos(), Action: "track-sc", SC: int(n), Expr: e, keyOut: out}
	used := 2
	if argAt(w, 4) == "table" {
		rule.Table = argAt(w, 5)
		used += 2
	}
	return rule, used
}

// counterAction parses sc-inc-gpc0, sc-inc-gpc1 and sc-set-gpt0, with an
// optional (<n>) naming the sticky counter.
func (p *parser) counterAction(px *Proxy, what string, w []string) (*TCPRule, int) {
	action := w[2]
	base, sc := action, 0
	if open := strings.IndexByte(action, '('); open >= 0 {
		base = action[:open]
		inner, ok := strings.CutSuffix(action[open+1:], ")")
		v, err := strconv.ParseInt(inner, 10, 64)
		if !ok || err != nil {
			if base == "sc-set-gpt0" {
				p.alert("invalid stick table track ID '%s'. Expects sc-set-gpt0(<Track ID>)", action)
			} else {
				p.alert("invalid stick table track ID. Expects %s(<Track ID>)", action)
			}
			return nil, 0
		}
		if v >= maxStickCounters {
			if base == "sc-set-gpt0" {
				p.alert("invalid stick table track ID '%s'. The max allowed ID is %d", action, maxStickCounters-1)
			} else {
				p.alert("invalid stick table track ID. The max allowed ID is %d", maxStickCounters-1)
			}
			return nil, 0
		}
		sc = int(v)
	}
	rule := &TCPRule{Pos: p.pos(), Action: base, SC: sc}
	if base != "sc-set-gpt0" {
		return rule, 1
	}
	v := argAt(w, 3)
	if v == "" {
		return rule, 2 // HAProxy reads an empty word as the integer 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		rule.Value = n
		return rule, 2
	}
	e, _, m := p.parseSampleWord(v)
	if m != "" {
		p.alert("%s", m)
		return nil, 0
	}
	if what != "content" && fetchReadsContent(e.Fetch) {
		p.alert("fetch method '%s' extracts information from 'request buffer', none of which is available here", v)
		return nil, 0
	}
	rule.Expr = e
	return rule, 2
}

// isCounterAction reports whether a tcp-request action is one of the
// sticky-counter actions goproxy implements; array forms
// (sc-inc-gpc(<idx>,<n>), sc-set-gpt(<idx>,<n>)) are not among them.
func isCounterAction(action string) bool {
	base, _, _ := strings.Cut(action, "(")
	return base == "sc-inc-gpc0" || base == "sc-inc-gpc1" || base == "sc-set-gpt0"
}

// checkStick resolves the tables of px's stick rules and track-sc
// actions, with HAProxy's check-time messages, and gives a table used by
// stick rules its server_id and server_key.
func (p *parser) checkStick(px *Proxy) {
	find := func(name string) (*StickTable, string) {
		if name == "" {
			return px.Table, px.Name
		}
		return p.cfg.TableByName(name), name
	}
	for _, r := range px.StickRules {
		t, name := find(r.Table)
		switch {
		case t == nil:
			p.checkAlert(r.Pos, "Proxy '%s': unable to find stick-table '%s'.", px.Name, name)
		case !stickCompatible(r.Out, t.Type):
			p.checkAlert(r.Pos, "Proxy '%s': type of fetch not usable with type of stick-table '%s'.", px.Name, name)
		default:
			t.addStore(StickData{Type: "server_id"})
			t.addStore(StickData{Type: "server_key"})
		}
	}
	for _, list := range [][]*TCPRule{px.TCPReqConn, px.TCPReqSession, px.TCPReqContent} {
		for _, r := range list {
			if r.Action != "track-sc" {
				continue
			}
			out := r.keyOut
			t, name := find(r.Table)
			switch {
			case t == nil:
				p.checkAlert(r.Pos, "Proxy '%s': unable to find table '%s' referenced by track-sc%d.", px.Name, name, r.SC)
			case !stickCompatible(out, t.Type):
				p.checkAlert(r.Pos, "Proxy '%s': stick-table '%s' uses a type incompatible with the 'track-sc%d' rule.", px.Name, name, r.SC)
			}
		}
	}
}

// stickCompatible is stktable_compatible_sample: whether a sample of type
// out casts to a table key of type typ.
func stickCompatible(out, typ string) bool {
	switch typ {
	case "ip", "ipv6":
		return out == "ip" || out == "str" || out == "int" || out == "addrout"
	case "integer":
		return out == "int" || out == "bool" || out == "ip" || out == "str"
	}
	return true // string and binary take every type
}
