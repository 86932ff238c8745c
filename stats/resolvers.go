package stats

import (
	"fmt"
	"strings"

	"goproxy/internal/resolver"
)

// Resolvers is what the resolver commands need of the runtime resolution.
// *resolver.Manager satisfies it.
type Resolvers interface {
	Stats() []resolver.SectionStats
	SetFQDN(label, name string) error
	FQDN(label string) string
}

// cmdShowResolvers answers "show resolvers [<section>]" in HAProxy's
// format: each section, then each nameserver's counters.
func cmdShowResolvers(s *session, args []string) string {
	var all []resolver.SectionStats
	if s.srv.Resolvers != nil {
		all = s.srv.Resolvers.Stats()
	}
	want := argAt(args, 2)
	if want != "" {
		found := false
		for _, sec := range all {
			if sec.Name == want {
				all, found = []resolver.SectionStats{sec}, true
				break
			}
		}
		if !found {
			return "Can't find that resolvers section\n"
		}
	}
	if len(all) == 0 {
		return "No resolvers found\n"
	}
	var b strings.Builder
	for _, sec := range all {
		fmt.Fprintf(&b, "Resolvers section %s\n", sec.Name)
		for _, ns := range sec.Nameservers {
			fmt.Fprintf(&b, " nameserver %s:\n", ns.Name)
			for _, f := range []struct {
				name string
				v    int64
			}{{"sent", ns.Sent}, {"snd_error", ns.SndError}, {"valid", ns.Valid}, {"update", ns.Update},
				{"cname", ns.CName}, {"cname_error", ns.CNameError}, {"any_err", ns.AnyErr}, {"nx", ns.NX},
				{"timeout", ns.Timeout}, {"refused", ns.Refused}, {"other", ns.Other}, {"invalid", ns.Invalid},
				{"too_big", ns.TooBig}, {"truncated", ns.Truncated}, {"outdated", ns.Outdated}} {
				fmt.Fprintf(&b, "  %-12s %d\n", f.name+":", f.v)
			}
		}
	}
	return b.String()
}
