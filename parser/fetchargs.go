package parser

import (
	"fmt"
	"strings"
)

// argKinds are the fetches whose argument names a proxy or a server, and
// what it names: HAProxy resolves these once every section is read
// (smp_resolve_args), an empty one meaning the proxy using the fetch.
var argKinds = map[string]byte{
	"fe_conn": 'f', "nbsrv": 'b', "be_conn": 'b', "connslots": 'b', "queue": 'b', "srv_is_up": 's',
	"be_sess_rate": 'b', "avg_queue": 'b', "srv_conn": 's', "srv_queue": 's', "srv_sess_rate": 's',
}

// argUse is a fetch of an ACL or a rule whose argument names a proxy or a
// server, noted where it is parsed and resolved at check time, in that
// order, as HAProxy's conf.args list.
type argUse struct {
	pos  Pos
	ref  string // "arg 1 of ACL keyword 'nbsrv' in proxy 'fe'"
	kind byte
	arg  string
}

// noteFetchArg notes the fetch name(args) of an ACL (acl) or of a rule's
// sample expression, parsed in the current proxy, for resolveParsedArgs.
func (p *parser) noteFetchArg(name string, args []string, acl bool) {
	kind, ok := argKinds[name]
	if p.cur == nil || !ok {
		return
	}
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	p.noteArg(p.cur, kind, arg, fmt.Sprintf("arg 1 of %s '%s'", fetchKeyword(acl), name), acl)
}

// noteArg notes one argument of kind (argKinds, or 't' for a table)
// that what designates ("arg 1 of ACL keyword 'nbsrv'"); a defaults
// section's are not resolved.
func (p *parser) noteArg(px *Proxy, kind byte, arg, what string, acl bool) {
	if px.Cap&CapDefaults != 0 {
		return
	}
	ref := what + " in proxy '" + px.Name + "'"
	if !acl {
		ref = what + " " + p.sampleWhere() + " proxy '" + px.Name + "'"
	}
	px.argUses = append(px.argUses, argUse{pos: p.pos(), ref: ref, kind: kind, arg: arg})
}

// sampleWhere is HAProxy's name of where the current line's sample
// expressions are (the "where" of smp_resolve_args).
func (p *parser) sampleWhere() string {
	w := p.words
	switch {
	case len(w) > 0 && w[0] == "stick":
		return "in stick rule in"
	case len(w) > 2 && (w[0] == "tcp-request" || w[0] == "tcp-response"):
		if strings.HasPrefix(w[2], "track-sc") {
			return "in tracking rule in"
		}
		return "in " + w[0] + " " + w[1] + " expression in"
	case len(w) > 0 && (w[0] == "use-server" || w[0] == "balance"):
		return "in use-server or balance expression in"
	}
	return "in"
}

// resolveParsedArgs resolves the arguments noted while px was parsed.
func (p *parser) resolveParsedArgs(px *Proxy) {
	for _, u := range px.argUses {
		if msg := p.resolveFetchArg(px, u.kind, u.arg, u.ref); msg != "" {
			p.argErrs = append(p.argErrs, &Error{Pos: u.pos, Phase: PhaseCheck, Style: StyleLine, Msg: msg})
		}
	}
}

// resolveFetchArgs checks the proxy and server arguments of the fetches
// of the log format nodes of px, as HAProxy's smp_resolve_args() does;
// where is its "in log-format string in" part, pos the format's line.
// The errors are reported by reportFetchArgs, once the proxy's formats
// are compiled.
func (p *parser) resolveFetchArgs(px *Proxy, pos Pos, where string, nodes []LogNode) {
	check := func(kind byte, arg, what string) {
		ref := fmt.Sprintf("%s %s proxy '%s'", what, where, px.Name)
		if msg := p.resolveFetchArg(px, kind, arg, ref); msg != "" {
			p.argErrs = append(p.argErrs, &Error{Pos: pos, Phase: PhaseCheck, Style: StyleLine, Msg: msg})
		}
	}
	for _, n := range nodes {
		if n.Kind != LogFetch {
			continue
		}
		if kind, ok := argKinds[n.Text]; ok {
			check(kind, argAt(n.Args, 0), fmt.Sprintf("arg 1 of sample fetch keyword '%s'", n.Text))
		}
		if isStickFetch(n.Text) {
			i := tableArg(n.Text)
			switch {
			case len(n.Args) > i:
				check('t', n.Args[i], fmt.Sprintf("arg %d of sample fetch keyword '%s'", i+1, n.Text))
			case defaultsToTable(n.Text):
				check('t', px.Name, fmt.Sprintf("arg %d of sample fetch keyword '%s'", i+1, n.Text))
			}
		}
		for _, c := range n.Conv {
			if StickConverters[c.Name] {
				tbl := argAt(c.Args, 0)
				if tbl == "" {
					tbl = px.Name
				}
				check('t', tbl, fmt.Sprintf("arg 1 of conversion keyword '%s' for sample fetch keyword '%s'", c.Name, n.Text))
			}
		}
	}
}

// reportFetchArgs reports the argument errors found in a proxy: one
// alert, which lists them when there are several, as HAProxy writes it.
func (p *parser) reportFetchArgs() {
	errs := p.argErrs
	p.argErrs = nil
	switch len(errs) {
	case 0:
	case 1:
		p.report(errs[0])
	default:
		var b strings.Builder
		b.WriteString("multiple argument resolution errors:")
		for _, e := range errs {
			b.WriteString("\n        " + e.Error())
		}
		p.report(&Error{Phase: PhaseCheck, Msg: b.String()})
	}
}

// resolveFetchArg checks one argument of a fetch of kind 'f' (frontend),
// 'b' (backend) or 's' (server, "backend/server" or "server"); it returns
// HAProxy's message naming the argument as ref, or "".
func (p *parser) resolveFetchArg(px *Proxy, kind byte, arg, ref string) string {
	switch kind {
	case 's':
		if arg == "" {
			return "missing server name in " + ref + "."
		}
		target, sname := px, arg
		if i := strings.LastIndexByte(arg, '/'); i >= 0 {
			target, sname = p.cfg.Backend(arg[:i]), arg[i+1:]
			if target == nil {
				return fmt.Sprintf("unable to find proxy '%s' referenced in %s.", arg[:i], ref)
			}
		}
		for _, s := range target.Servers {
			if s.Name == sname {
				return ""
			}
		}
		return fmt.Sprintf("unable to find server '%s' in proxy '%s', referenced in %s.", sname, target.Name, ref)
	case 't':
		if p.cfg.TableByName(arg) != nil {
			return "" // a proxy's table or a peers section's
		}
		return fmt.Sprintf("unable to find table '%s' referenced in %s.", arg, ref)
	case 'f', 'b':
		want, cap := "frontend", CapFrontend
		if kind == 'b' {
			want, cap = "backend", CapBackend
		}
		if arg == "" {
			if px.Cap&cap == 0 {
				return fmt.Sprintf("proxy '%s', referenced in %s, has not %s capability.", px.Name, ref, want)
			}
			return ""
		}
		for _, q := range p.cfg.Proxies {
			if q.Name == arg && q.Cap&cap != 0 {
				return ""
			}
		}
		return fmt.Sprintf("unable to find %s '%s' referenced in %s.", want, arg, ref)
	}
	return ""
}
