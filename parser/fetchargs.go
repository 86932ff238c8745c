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
}

// resolveFetchArgs checks the proxy and server arguments of the fetches
// of the log format nodes of px, as HAProxy's smp_resolve_args() does;
// where is its "in log-format string in" part, pos the format's line.
// The errors are reported by reportFetchArgs, once the proxy's formats
// are compiled.
func (p *parser) resolveFetchArgs(px *Proxy, pos Pos, where string, nodes []LogNode) {
	for _, n := range nodes {
		if n.Kind != LogFetch {
			continue
		}
		kind, ok := argKinds[n.Text]
		if !ok {
			continue
		}
		arg := ""
		if len(n.Args) > 0 {
			arg = n.Args[0]
		}
		ref := fmt.Sprintf("arg 1 of sample fetch keyword '%s' %s proxy '%s'", n.Text, where, px.Name)
		if msg := p.resolveFetchArg(px, kind, arg, ref); msg != "" {
			p.argErrs = append(p.argErrs, &Error{Pos: pos, Phase: PhaseCheck, Style: StyleLine, Msg: msg})
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
