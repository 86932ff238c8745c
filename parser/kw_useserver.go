package parser

import "fmt"

// UseServer is a use-server rule: the server a matching session goes to,
// bypassing the balancer (when the server is up, or force-persist
// matched).
type UseServer struct {
	Pos
	Server string
	Cond   *Condition
}

// PersistRule is a force-persist or ignore-persist rule. Without cookies
// or stick tables in goproxy, ignore-persist changes nothing; force-persist
// lets use-server pick a server that is down.
type PersistRule struct {
	Pos
	Force bool
	Cond  *Condition
}

func (p *parser) kwUseServer(px *Proxy, w []string, _ kwMod) {
	name := argAt(w, 1)
	if name == "" {
		p.alert("'%s' expects a server name.", w[0])
		return
	}
	if c := argAt(w, 2); c != "if" && c != "unless" {
		p.alert("'%s' requires either 'if' or 'unless' followed by a condition.", w[0])
		return
	}
	cond, ok := p.parseCondition(px, w[2:], "error detected while parsing switching rule")
	if !ok {
		return
	}
	for _, c := range name {
		if c == '%' {
			p.alert("'%s %s' : a server name built from a log format is not supported by goproxy.", w[0], name)
			return
		}
	}
	px.UseServers = append(px.UseServers, &UseServer{Pos: p.pos(), Server: name, Cond: cond})
}

func (p *parser) kwPersistRule(px *Proxy, w []string, _ kwMod) {
	if c := argAt(w, 1); c != "if" && c != "unless" {
		p.alert("'%s' requires either 'if' or 'unless' followed by a condition.", w[0])
		return
	}
	cond, ok := p.parseCondition(px, w[1:], fmt.Sprintf("error detected while parsing a '%s' rule", w[0]))
	if !ok {
		return
	}
	px.PersistRules = append(px.PersistRules, &PersistRule{Pos: p.pos(), Force: w[0] == "force-persist", Cond: cond})
}

// checkUseServers resolves the servers of px's use-server rules, with
// HAProxy's check-time message.
func (p *parser) checkUseServers(px *Proxy) {
	for _, us := range px.UseServers {
		found := false
		for _, s := range px.Servers {
			found = found || s.Name == us.Server
		}
		if !found {
			p.checkAlert(us.Pos, "%s '%s' : unable to find server '%s' referenced in a 'use-server' rule.", typeName(px), px.Name, us.Server)
		}
	}
}
