// Package proxy is goproxy's runtime: it turns one parser.Config into one
// immutable Graph per process (frontends with their listeners, backends with
// their servers and balancers) and serves it: accept, pick a server, dial,
// copy bytes both ways, count, log.
//
// Topology never changes after Build; server state, weights and counters are
// atomics, and each balancer keeps its lookup table behind an atomic pointer
// that a state or weight change rebuilds.
package proxy
