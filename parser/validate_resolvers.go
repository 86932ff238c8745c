package parser

// checkResolvers adds HAProxy's implicit "default" resolvers section and
// checks that every server's resolvers section exists (HAProxy's
// resolvers_finalize_config). It reports whether all were found.
func (p *parser) checkResolvers() bool {
	p.defaultResolvers()
	ok := true
	for _, px := range p.cfg.Proxies {
		for _, s := range px.Servers {
			if !s.Resolve.set {
				continue
			}
			if p.cfg.ResolversByName(s.Resolve.Resolvers) == nil {
				p.checkAlert(s.Pos, "%s '%s', server '%s': unable to find required resolvers '%s'",
					typeName(px), px.Name, s.Name, s.Resolve.Resolvers)
				ok = false
			}
		}
	}
	return ok
}

// ResolversByName returns the resolvers section named name, or nil.
func (c *Config) ResolversByName(name string) *Resolvers {
	for _, r := range c.AllResolvers() {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// AllResolvers returns the resolvers sections in declaration order, then
// the implicit "default" one if HAProxy would build it.
func (c *Config) AllResolvers() []*Resolvers {
	if c.DefaultResolvers == nil {
		return c.Resolvers
	}
	return append(c.Resolvers[:len(c.Resolvers):len(c.Resolvers)], c.DefaultResolvers)
}
