package main

import (
	"github.com/sirupsen/logrus"

	"goproxy/internal/resolver"
	"goproxy/parser"
	"goproxy/proxy"
)

// newResolvers prepares the runtime DNS resolution of the servers that
// name a resolvers section, for every section of cfg (HAProxy's implicit
// "default" one last).
func newResolvers(cfg *parser.Config, g *proxy.Graph, log logrus.FieldLogger) *resolver.Manager {
	var sections []resolver.Config
	for _, r := range cfg.AllResolvers() {
		c := resolver.Config{Name: r.Name, ResolveRetries: r.ResolveRetries, TimeoutResolve: r.TimeoutResolve,
			TimeoutRetry: r.TimeoutRetry, AcceptedPayloadSize: r.AcceptedPayloadSize,
			Hold: resolver.Hold{Valid: r.Hold.Valid, NX: r.Hold.NX, Timeout: r.Hold.Timeout,
				Refused: r.Hold.Refused, Other: r.Hold.Other, Obsolete: r.Hold.Obsolete}}
		for _, ns := range r.Nameservers {
			c.Nameservers = append(c.Nameservers, resolver.Nameserver{Name: ns.Name, Addr: ns.Addr, Stream: ns.Stream})
		}
		sections = append(sections, c)
	}
	var servers []resolver.Server
	for _, b := range g.Backends() {
		for _, s := range b.Servers {
			rp := s.Config.Resolve
			if rp.Resolvers == "" || (s.DNS.FQDN == "" && s.DNS.SRVRecord == "") {
				continue
			}
			servers = append(servers, resolver.Server{Backend: b.Name, Resolvers: rp.Resolvers,
				Params: resolver.Params{PreferIPv4: rp.PreferIPv4, AllowDupIP: rp.AllowDupIP,
					IgnoreWeight: rp.IgnoreWeight, ResolveNet: rp.ResolveNet},
				FQDN: s.DNS.FQDN, SRVRecord: s.DNS.SRVRecord, Target: s})
		}
	}
	return resolver.New(sections, servers, resolver.Options{Log: log})
}
