package main

import (
	"regexp"
	"strings"
	"testing"
)

// alertTrailers are HAProxy's closing lines and the alerts about a whole
// file, which name no line.
var alertTrailers = regexp.MustCompile(`: config : (Error\(s\) found in configuration file|Fatal errors found in configuration|Failed to initialize server\(s\) addr\.|Some warnings were found and 'zero-warning' is set|Cannot open configuration file)`)

// unlocatedAlerts are the configuration [ALERT] lines of an output that
// name no file and line, trailers aside. An alert listing several errors
// on the lines after it ("multiple argument resolution errors:") is
// located when each of them is.
func unlocatedAlerts(out string) []string {
	var bad []string
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "[ALERT]") || !strings.Contains(l, ": config : ") || alertTrailers.MatchString(l) || locRe.MatchString(l) {
			continue
		}
		if strings.HasSuffix(l, ": config : multiple argument resolution errors:") {
			n := 0
			for _, m := range lines[i+1:] {
				if !strings.HasPrefix(m, "        ") {
					break
				}
				if !locRe.MatchString(m) {
					bad = append(bad, m)
				}
				n++
			}
			if n > 1 {
				continue
			}
		}
		bad = append(bad, l)
	}
	return bad
}

// addedPosRe matches the location goproxy writes in front of the errors
// HAProxy reports without one (references found after parsing: missing
// backends, users and groups of userlists, servers without a port, stick
// tables of stick rules and track-sc actions), in
// HAProxy's own form for located errors, "parsing [f.cfg:12] : ".
var addedPosRe = regexp.MustCompile(`parsing \[[^\]\s]+:\d+\] : (Proxy '[^']*': (?:unable to find required|loop detected for|unable to find (?:stick-)?table|unable to find sync peers|unable to find local peer|type of fetch not usable|stick-table '[^']*' uses a type) |userlist '[^']*': no such |proxy \S+: acl  http_auth_group\(\): |config: \S+ '[^']*': server '[^']*' has neither service port|\S+ '[^']*' : unable to find server '[^']*' referenced in a 'use-server' rule|<event> can be either |\S+ '[^']*', server '[^']*': unable to find required resolvers )`)

// haproxyText removes the locations goproxy adds to HAProxy's unlocated
// errors, so that an output compares with HAProxy's line for line. It is
// the one place the differential tests and goldens taken from haproxy
// normalise them; text without such locations is unchanged.
func haproxyText(s string) string { return addedPosRe.ReplaceAllString(s, "$1") }

func TestHAProxyText(t *testing.T) {
	cases := [][2]string{
		{"[ALERT]    (PID) : config : parsing [a.cfg:12] : Proxy 'fe': unable to find required default_backend: 'x'.",
			"[ALERT]    (PID) : config : Proxy 'fe': unable to find required default_backend: 'x'."},
		{"[ALERT]    (PID) : config : parsing [d/a.cfg:3] : Proxy 'l': loop detected for default_backend: 'l'.",
			"[ALERT]    (PID) : config : Proxy 'l': loop detected for default_backend: 'l'."},
		{"parsing [t.cfg:3] : userlist 'ul': no such user 'u9' specified in group 'g'",
			"userlist 'ul': no such user 'u9' specified in group 'g'"},
		{"parsing [t.cfg:8] : proxy s: acl  http_auth_group(): invalid group 'g'.",
			"proxy s: acl  http_auth_group(): invalid group 'g'."},
		{"parsing [t.cfg:2] : config: backend 'b': server 's1' has neither service port nor check port.",
			"config: backend 'b': server 's1' has neither service port nor check port."},
		// HAProxy's own located errors stay as they are.
		{"parsing [a.cfg:12] : unknown keyword 'x' in 'backend' section",
			"parsing [a.cfg:12] : unknown keyword 'x' in 'backend' section"},
		{"Proxy 'fe': unable to find required default_backend: 'x'.",
			"Proxy 'fe': unable to find required default_backend: 'x'."},
	}
	for _, c := range cases {
		if got := haproxyText(c[0]); got != c[1] {
			t.Errorf("haproxyText(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}
