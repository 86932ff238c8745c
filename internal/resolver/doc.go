// Package resolver is the runtime DNS resolution of server addresses, as
// HAProxy's resolvers sections: one Section per section queries its
// nameservers over UDP for the names of the servers that use it (A or
// AAAA records for a server or a server-template with a host name, SRV
// records for a template with a "_service._proto.name"), every hold
// valid, retrying every timeout retry, and re-addresses the servers when
// the records change through the narrow Target interface.
//
//	m := resolver.New(cfg, servers, resolver.Options{Log: log})
//	m.Start(ctx) // one goroutine per section that has servers
//	defer m.Stop()
//	for _, st := range m.Stats() { ... } // show resolvers
package resolver
