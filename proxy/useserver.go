package proxy

import (
	"fmt"

	"goproxy/parser"
)

// use-server rules: the first whose condition matches gives the server
// when it is running, or whatever its state when a force-persist rule
// matched first (the first matching force-persist or ignore-persist rule
// decides, as HAProxy's persist rules; ignore-persist only concerns
// cookies and stick tables, which goproxy does not have). The balancer
// picks the server otherwise, and again on a redispatch.

type useServerRule struct {
	srv  *Server
	cond *cond
}

type persistRule struct {
	force bool
	cond  *cond
}

// compileServerRules compiles a backend's use-server and persist rules.
func (b *Backend) compileServerRules(p *parser.Proxy, named map[string][]*acl, maps mapsByFile) error {
	for _, r := range p.UseServers {
		var srv *Server
		for _, s := range b.Servers {
			if s.Name == r.Server {
				srv = s
			}
		}
		if srv == nil {
			return fmt.Errorf("%s '%s' : unable to find server '%s' referenced in a 'use-server' rule", p.Kind, p.Name, r.Server)
		}
		c, err := compileCond(r.Cond, named, maps)
		if err != nil {
			return fmt.Errorf("parsing [%s:%d] : %w", r.File, r.Line, err)
		}
		srv.pinned = true
		b.useServers = append(b.useServers, useServerRule{srv: srv, cond: c})
		b.needDst = b.needDst || c.needsDst()
	}
	for _, r := range p.PersistRules {
		c, err := compileCond(r.Cond, named, maps)
		if err != nil {
			return fmt.Errorf("parsing [%s:%d] : %w", r.File, r.Line, err)
		}
		b.persist = append(b.persist, persistRule{force: r.Force, cond: c})
		b.needDst = b.needDst || c.needsDst()
	}
	return nil
}

// serverRules runs the backend's use-server rules once the session's
// content rules accepted it.
func (s *session) serverRules(ci *connInfo) {
	be := s.be
	if len(be.useServers) == 0 {
		return
	}
	if be.needDst && !ci.dst.IsValid() {
		ci.dst = s.dstAddr()
	}
	force := false
	for i := range be.persist {
		if be.persist[i].cond.eval(ci) {
			force = be.persist[i].force
			break
		}
	}
	for i := range be.useServers {
		r := &be.useServers[i]
		if r.cond.eval(ci) && (r.srv.Running() || force) {
			s.forced = r.srv
			return
		}
	}
}
