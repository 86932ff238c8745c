package parser

import (
	"net/netip"
	"time"
)

// Resolvers is a resolvers section: the nameservers a runtime resolver
// queries for the servers that name it, and its timers.
type Resolvers struct {
	Pos
	Name        string
	Nameservers []*Nameserver
	// ResolveRetries is resolve_retries: queries sent for one resolution
	// before it fails with a timeout (default 3).
	ResolveRetries int
	// TimeoutResolve is the time between two resolutions of a name
	// (default 1s); TimeoutRetry the time before a query is sent again
	// when no answer came (default 1s).
	TimeoutResolve, TimeoutRetry time.Duration
	// Hold are the hold periods (hold valid|nx|timeout|refused|other|obsolete).
	Hold ResolverHold
	// AcceptedPayloadSize is the EDNS0 UDP payload size announced (512).
	AcceptedPayloadSize int
	// Implicit marks the "default" section HAProxy builds from
	// /etc/resolv.conf when the configuration has none of that name.
	Implicit bool `json:",omitempty"`
}

// ResolverHold are a resolvers section's hold periods.
type ResolverHold struct {
	// Valid is how long a valid answer is reused (10s).
	Valid time.Duration
	// NX, Timeout, Refused and Other are how long a server keeps its
	// address after such an answer (30s each).
	NX, Timeout, Refused, Other time.Duration
	// Obsolete is how long a record missing from the answers is kept (0).
	Obsolete time.Duration
}

// Nameserver is one nameserver line of a resolvers section.
type Nameserver struct {
	Pos
	Name string
	Addr netip.AddrPort
	// Stream: a tcp@ nameserver, queried over TCP (RFC 7766 framing).
	Stream bool `json:",omitempty"`
}

// Resolvers defaults, as HAProxy's resolvers_new().
const (
	DefaultResolveRetries      = 3
	DefaultAcceptedPayloadSize = 512
)

// newResolvers returns a section with HAProxy's defaults.
func newResolvers(pos Pos, name string) *Resolvers {
	return &Resolvers{
		Pos: pos, Name: name,
		ResolveRetries:      DefaultResolveRetries,
		TimeoutResolve:      time.Second,
		TimeoutRetry:        time.Second,
		AcceptedPayloadSize: DefaultAcceptedPayloadSize,
		Hold: ResolverHold{Valid: 10 * time.Second, NX: 30 * time.Second, Timeout: 30 * time.Second,
			Refused: 30 * time.Second, Other: 30 * time.Second},
	}
}

// ResolveParams are a server's runtime resolution settings.
type ResolveParams struct {
	// Resolvers names the resolvers section; "" means no runtime
	// resolution.
	Resolvers string `json:",omitempty"`
	// PreferIPv4 is resolve-prefer ipv4 (HAProxy prefers IPv6 by default).
	PreferIPv4 bool `json:",omitempty"`
	// AllowDupIP and IgnoreWeight are resolve-opts allow-dup-ip and
	// ignore-weight (prevent-dup-ip clears AllowDupIP).
	AllowDupIP   bool `json:",omitempty"`
	IgnoreWeight bool `json:",omitempty"`
	// ResolveNet are the preferred networks (resolve-net).
	ResolveNet []netip.Prefix `json:",omitempty"`
	set        bool           // a resolvers keyword was given (even with an empty name)
}
