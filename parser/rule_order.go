package parser

import "slices"

// warnMisplacedTCP prints HAProxy's warning for a tcp-request rule of the
// stage what ("connection" or "content") written after a rule that runs
// later, which does not change the order they run in
// (warnif_misplaced_tcp_conn/_cont): the first later kind found is named.
func (p *parser) warnMisplacedTCP(px *Proxy, what, kw string) {
	later := []struct {
		found bool
		name  string
	}{
		{what == "connection" && len(px.TCPReqContent) > 0, "a 'tcp-request content'"},
		{slices.Contains(px.httpRules, "http-request"), "an 'http-request'"},
		{len(px.UseBackends) > 0, "a 'use_backend'"},
		{len(px.UseServers) > 0, "a 'use-server'"},
	}
	for _, l := range later {
		if l.found {
			p.warn("a '%s' rule placed after %s rule will still be processed before.", kw, l.name)
			return
		}
	}
}
