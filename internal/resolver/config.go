package resolver

import (
	"net/netip"
	"time"
)

// Config is one resolvers section (the configuration's model, converted
// by the caller).
type Config struct {
	Name        string
	Nameservers []Nameserver
	// ResolveRetries is how many queries a resolution sends before it
	// fails with a timeout.
	ResolveRetries int
	// TimeoutResolve is the time between two resolutions of a name,
	// TimeoutRetry the time before an unanswered query is sent again.
	TimeoutResolve, TimeoutRetry time.Duration
	Hold                         Hold
	// AcceptedPayloadSize is the EDNS0 payload size announced.
	AcceptedPayloadSize int
}

// Hold are the hold periods of a section: how long after the last valid
// answer an NX, timeout, refused or other answer takes servers down, and
// how long a record missing from the answers is kept (Obsolete).
type Hold struct {
	Valid, NX, Timeout, Refused, Other, Obsolete time.Duration
}

// Nameserver is one nameserver of a section.
type Nameserver struct {
	Name string
	Addr netip.AddrPort
	// Stream: queried over TCP (tcp@), each message behind its 2-byte
	// length (RFC 1035 4.2.2), on one connection kept open.
	Stream bool
}

// Params are a server's resolution options.
type Params struct {
	PreferIPv4   bool // resolve-prefer ipv4 (else IPv6 first)
	AllowDupIP   bool // resolve-opts allow-dup-ip
	IgnoreWeight bool // resolve-opts ignore-weight
	// ResolveNet are the preferred networks (resolve-net).
	ResolveNet []netip.Prefix
}
