package main

import (
	"github.com/sirupsen/logrus"

	"goproxy/internal/resolver"
	"goproxy/parser"
	"goproxy/proxy"
)

// newResolvers prepares the runtime DNS resolution of the servers that
// name a resolvers section.
func newResolvers(cfg *parser.Config, g *proxy.Graph, log logrus.FieldLogger) *resolver.Manager {
	var servers []resolver.Server
	for _, b := range g.Backends() {
		for _, s := range b.Servers {
			if s.Config.Resolve.Resolvers == "" || (s.DNS.FQDN == "" && s.DNS.SRVRecord == "") {
				continue
			}
			servers = append(servers, resolver.Server{Backend: b.Name, Resolvers: s.Config.Resolve.Resolvers,
				Params: s.Config.Resolve, FQDN: s.DNS.FQDN, SRVRecord: s.DNS.SRVRecord, Target: s})
		}
	}
	return resolver.New(cfg, servers, resolver.Options{Log: log})
}
