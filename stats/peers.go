package stats

import "strings"

// Peers is what "show peers" reaches: the peers sections of the running
// process. *proxy.Graph satisfies it.
type Peers interface {
	// ShowPeers writes the sections (or the one named); false when no
	// section has that name.
	ShowPeers(b *strings.Builder, dict bool, section string) bool
}

// cmdShowPeers is "show peers [dict|-] [section]", as HAProxy's
// cli_parse_show_peers reads it.
func cmdShowPeers(s *session, args []string) string {
	dict := false
	switch argAt(args, 2) {
	case "dict":
		dict = true
		args = args[1:]
	case "-":
		args = args[1:]
	}
	name := argAt(args, 2)
	var b strings.Builder
	if s.srv.Peers == nil {
		if name != "" {
			return "No such peers\n"
		}
		return ""
	}
	if !s.srv.Peers.ShowPeers(&b, dict, name) {
		return "No such peers\n"
	}
	return b.String()
}
