package parser

import "slices"

// warnMisplacedTCP prints HAProxy's warning for a tcp-request rule of the
// stage what ("connection", "session" or "content") written after a rule
// that runs later, which does not change the order they run in
// (warnif_misplaced_tcp_conn/_sess/_cont): the first later kind found is
// named. Only the proxy's own rules count, not its defaults section's,
// which HAProxy keeps in the defaults' lists.
func (p *parser) warnMisplacedTCP(px *Proxy, what, kw string) {
	later := []struct {
		found bool
		name  string
	}{
		{what == "connection" && px.ownSession > 0, "a 'tcp-request session'"},
		{what != "content" && px.ownContent > 0, "a 'tcp-request content'"},
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
