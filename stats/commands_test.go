package stats

import (
	"strings"
	"testing"
)

// TestAdminAnswers checks answers observed on HAProxy 2.6.12 that the
// captures in golden/ do not cover.
func TestAdminAnswers(t *testing.T) {
	const s1 = "persistent_connection_backend/server1"
	tests := []struct{ cmd, want string }{
		{"set server " + s1 + " addr 127.0.0.2", "IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n"},
		{"set server " + s1 + " addr 127.0.0.1 port 19315", "no need to change the addr, no need to change the port by 'stats socket command'\n\n"},
		{"set server " + s1 + " addr 127.0.0.1 port 80", "no need to change the addr, port changed from '19315' to '80' by 'stats socket command'\n\n"},
		{"set server " + s1 + " addr 127.0.0.3 port 81", "IP changed from '127.0.0.1' to '127.0.0.3', port changed from '19315' to '81' by 'stats socket command'\n\n"},
		{"set server " + s1 + " addr bogus", "Invalid addr 'bogus' by 'stats socket command'\n\n"},
		{"set server " + s1 + " addr", "set server <b>/<s> addr requires an address and optionally a port.\n\n"},
		{"set server " + s1 + " addr 127.0.0.1 port abc", "no need to change the addr, problem converting port 'abc' to an int by 'stats socket command'\n\n"},
		{"set server " + s1 + " health bogus", "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n"},
		{"set server " + s1 + " agent up", "agent checks are not enabled on this server.\n\n"},
		{"set server " + s1 + " weight", "Require <weight> or <weight%>.\n\n"},
		{"enable agent " + s1, "Agent was not configured on this server, cannot enable.\n\n"},
		{"disable agent " + s1, "\n"},
		{"set rate-limit connections global 10", "\n"},
		{"set rate-limit connections global", "Expects an integer value.\n\n"},
		{"set rate-limit connections global -1", "Value out of range.\n\n"},
		{"set rate-limit", rateLimitUsage + "\n"},
		{"set rate-limit connections", rateLimitUsage + "\n"},
		{"shutdown session 0x1234", "No such session (use 'show sess').\n\n"},
		{"shutdown session", "Session pointer expected (use 'show sess').\n\n"},
		{"shutdown session abc", "Session pointer expected (use 'show sess').\n\n"},
		{"shutdown session 0x55c143e7ca00", "\n"},
		{"shutdown frontend nosuch", "No such frontend.\n\n"},
		{"shutdown frontend", "A frontend name is expected.\n\n"},
		{"disable frontend", "A frontend name is expected.\n\n"},
		{"set maxconn frontend", "A frontend name is expected.\n\n"},
		{"set maxconn frontend persistent_connection_frontend -5", "Value out of range.\n\n"},
		{"set maxconn server " + s1 + " abc", "maxconn string empty or preceded by garbage\n"},
		{"set timeout cli 0", "Invalid timeout value.\n\n"},
		{"set timeout cli -5", "Invalid timeout value.\n\n"},
		{"set timeout cli 99999999999", "Invalid timeout value.\n\n"},
		{"set timeout cli 5m", "\n"},
		{"shutdown sessions server", "Require 'backend/server'.\n\n"},
		{"get weight", "Require 'backend/server'.\n\n"},
		{"show stat foo bar baz", "No such proxy.\n\n"},
		{"show servers conn nosuch", "Can't find backend.\n\n"},
		{"show version", "2.6.12-1+deb12u4\n\n"},
		{"show map", "# id (file) description\n\n"},
		{"get var x", "Variable not found.\n\n"},
		{"show acl foo", notSupported + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			srv := newTestServer(t, newFakeSource())
			if got := run(srv, LevelAdmin, tc.cmd); got != tc.want {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestAdminEffects(t *testing.T) {
	f := newFakeSource()
	srv := newTestServer(t, f)
	run(srv, LevelAdmin, "set server persistent_connection_backend/server1 addr 127.0.0.9 port 1234;"+
		"set maxconn global 0;set rate-limit sessions global 7;shutdown session 0x55c143e7ca00")
	r := f.srv("server1")
	if r.Server.Host != "127.0.0.9" || r.Server.Port != 1234 {
		t.Errorf("addr not applied: %s:%d", r.Server.Host, r.Server.Port)
	}
	if f.info.Maxconn != 50000 || f.info.SessRateLimit != 7 {
		t.Errorf("global maxconn %d, sess rate limit %d", f.info.Maxconn, f.info.SessRateLimit)
	}
	if len(f.sessions) != 0 {
		t.Errorf("session not shut down")
	}
	if got := run(srv, LevelAdmin, "show info"); !strings.Contains(got, "\nSessRateLimit: 7\n") {
		t.Errorf("show info does not follow: %s", got)
	}
}

func TestHelpFilter(t *testing.T) {
	srv := newTestServer(t, newFakeSource())
	got := run(srv, LevelUser, "help show stat")
	want := "The following commands are valid at this level:\n" +
		"  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server\n" + usageTail + "\n"
	if got != want {
		t.Fatalf("got %q", got)
	}
	got = run(srv, LevelUser, "set maxconn")
	if !strings.HasPrefix(got, "Unknown command, but maybe one of the following ones is a better match:\n"+
		"  set maxconn frontend <frontend> <value> : change a frontend's maxconn setting\n"+
		"  set maxconn global <value>              : change the per-process maxconn setting\n"+
		"  set maxconn server <bk>/<srv>           : change a server's maxconn setting\n") {
		t.Fatalf("got %q", got)
	}
	// The suggestions of the capture for "foo" in prompt mode.
	want = golden(t, "semicolon-with-error.txt")
	if i := strings.Index(want, "Unknown command"); i >= 0 {
		want = want[i:]
		want = want[:strings.Index(want, "\n\n")+2]
	}
	if got := run(srv, LevelAdmin, "foo"); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestSplitCommands(t *testing.T) {
	tests := []struct {
		in   string
		want [][]string
	}{
		{"show stat", [][]string{{"show", "stat"}}},
		{"a;b", [][]string{{"a"}, {"b"}}},
		{"a;;b", [][]string{{"a"}, nil, {"b"}}},
		{"a;", [][]string{{"a"}, nil}},
		{`a\;b c`, [][]string{{"a;b", "c"}}},
		{"\t a \t b ", [][]string{{"a", "b"}}},
		{"a\x00;b", [][]string{{"a"}}},
		{`a\`, [][]string{{"a"}}},
	}
	for _, tc := range tests {
		got := splitCommands(tc.in)
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %q", tc.in, got)
			continue
		}
		for i := range got {
			if strings.Join(got[i], "|") != strings.Join(tc.want[i], "|") {
				t.Errorf("%q: got %q want %q", tc.in, got, tc.want)
			}
		}
	}
}
