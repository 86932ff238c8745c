package parser

import (
	"fmt"
	"strings"
)

// kwServerTemplate parses "server-template <prefix> <num|range>
// <fqdn>[:port] [params]": servers <prefix><low> .. <prefix><high>, all
// with the same address and parameters, which runtime resolution fills
// one address each (A/AAAA records) or one record each (an SRV name,
// "_service._proto.name").
func (p *parser) kwServerTemplate(px *Proxy, w []string, mod kwMod) {
	if argAt(w, 3) == "" {
		p.report(&Error{Pos: p.pos(), Style: StyleBare, Phase: PhaseParse,
			Msg: fmt.Sprintf("'%s' expects <prefix> <nb | range> <addr>[:<port>] as arguments.", w[0])})
		return
	}
	prefix := w[1]
	if c, bad := invalidNameChar(prefix); bad {
		p.report(&Error{Pos: p.pos(), Style: StyleBare, Phase: PhaseParse,
			Msg: fmt.Sprintf("character '%c' is not permitted in %s prefix '%s'.", c, w[0], prefix)})
		return
	}
	low, high, ok := templateRange(w[2])
	if !ok {
		p.report(&Error{Pos: p.pos(), Style: StyleBare, Phase: PhaseParse,
			Msg: fmt.Sprintf("Wrong %s number or range arg '%s'.", w[0], w[2])})
		return
	}
	if high-low >= maxTemplateServers {
		p.report(&Error{Pos: p.pos(), Style: StyleBare, Phase: PhaseParse,
			Msg: fmt.Sprintf("'%s' of %d servers is not supported by goproxy (at most %d).", w[0], high-low+1, maxTemplateServers)})
		return
	}
	srv := ""
	if strings.HasPrefix(w[3], "_") {
		srv = w[3]
	}
	for i := low; i <= high; i++ {
		before := len(px.Servers)
		line := append([]string{"server", fmt.Sprintf("%s%d", prefix, i), w[3]}, w[4:]...)
		p.kwServer(px, line, mod)
		if len(px.Servers) == before {
			return // the error is reported once
		}
		s := px.Servers[len(px.Servers)-1]
		s.SRVRecord = srv
	}
}

// maxTemplateServers bounds the servers of one server-template, so that a
// typo cannot make millions of them.
const maxTemplateServers = 10000

// templateRange parses a server-template's "<num>" (1..num) or
// "<low>-<high>" as HAProxy's _srv_parse_tmpl_range (atoi semantics).
func templateRange(arg string) (low, high int, ok bool) {
	lo, hi, isRange := strings.Cut(arg, "-")
	low = atol(lo)
	if isRange {
		high = atol(hi)
	} else {
		low, high = 1, low
	}
	if low < 0 || high < low {
		return 0, 0, false
	}
	return low, high, true
}
