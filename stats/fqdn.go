package stats

// setServerFQDN answers "set server <b>/<s> fqdn <name>". HAProxy changes a
// server's name only through a resolvers section; goproxy has none (names
// are resolved once, at start), so every server is one HAProxy would
// refuse, with HAProxy's words.
func setServerFQDN(args []string) string {
	if argAt(args, 4) == "" {
		return "set server <b>/<s> fqdn requires a FQDN.\n"
	}
	return "set server <b>/<s> fqdn failed because no resolution is configured.\n"
}
