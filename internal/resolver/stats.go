package resolver

import "sync/atomic"

// counters are one nameserver's, HAProxy's dns_counters.
type counters struct {
	sent, sndError, valid, update, cname, cnameError, anyErr, nx, timeout,
	refused, other, invalid, tooBig, truncated, outdated atomic.Int64
}

// NameserverStats are a nameserver's counters as "show resolvers" shows
// them.
type NameserverStats struct {
	Name                                                 string
	Sent, SndError, Valid, Update, CName, CNameError     int64
	AnyErr, NX, Timeout, Refused, Other, Invalid, TooBig int64
	Truncated, Outdated                                  int64
}

// SectionStats are a section's nameservers, in declaration order.
type SectionStats struct {
	Name        string
	Nameservers []NameserverStats
}

func (c *counters) snapshot(name string) NameserverStats {
	return NameserverStats{Name: name,
		Sent: c.sent.Load(), SndError: c.sndError.Load(), Valid: c.valid.Load(), Update: c.update.Load(),
		CName: c.cname.Load(), CNameError: c.cnameError.Load(), AnyErr: c.anyErr.Load(), NX: c.nx.Load(),
		Timeout: c.timeout.Load(), Refused: c.refused.Load(), Other: c.other.Load(), Invalid: c.invalid.Load(),
		TooBig: c.tooBig.Load(), Truncated: c.truncated.Load(), Outdated: c.outdated.Load()}
}
