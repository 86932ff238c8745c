package stats

import (
	_ "embed"
	"strings"
)

// statsSchema is HAProxy 2.6's answer to "show schema json", verbatim.
//
//go:embed schema/show_schema.json
var statsSchema string

func cmdShowSchema(s *session, args []string) string {
	if argAt(args, 2) != "json" {
		// HAProxy registers "show schema json" as one keyword.
		return usageMessage(args, false)
	}
	return statsSchema
}

func cmdShowCLISockets(s *session, args []string) string {
	var b strings.Builder
	b.WriteString("# socket lvl processes\n")
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	for _, l := range s.srv.listeners {
		b.WriteString(l.name)
		b.WriteByte(' ')
		b.WriteString(l.level.String())
		b.WriteString(" all\n")
	}
	return b.String()
}

// cmdEmptyList answers the listing commands of features goproxy does not
// have (maps, ACLs, stick tables, peers, caches, certificates) with
// HAProxy's answer for an empty list.
func cmdEmptyList(header string) handler {
	return func(s *session, args []string) string {
		if len(args) > 2 {
			return notSupported
		}
		return header
	}
}

func cmdGetVar(s *session, args []string) string {
	if argAt(args, 2) == "" {
		return "Missing process-wide variable identifier.\n"
	}
	return "Variable not found.\n"
}
