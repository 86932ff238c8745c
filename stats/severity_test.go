package stats

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"goproxy/parser"
)

// TestSeverityOutput checks the prefixes observed on HAProxy 2.6.12 with
// "set severity-output number" (and string) before each command.
func TestSeverityOutput(t *testing.T) {
	const s1 = "persistent_connection_backend/server1"
	tests := []struct{ cmd, want string }{
		{"set severity-output number", "\n"},
		{"set severity-output bogus", "[3]: one of 'none', 'number', 'string' is a required argument\n\n"},
		{"set server nosuch/x state maint", "[3]: No such backend.\n\n"},
		{"set server persistent_connection_backend/x state maint", "[3]: No such server.\n\n"},
		{"set server " + s1 + " state maint", "\n"},
		{"set server " + s1 + " weight 0", "\n"},
		{"set server " + s1 + " weight 999", "[3]: Absolute weight can only be between 0 and 256 inclusive.\n\n"},
		{"set server " + s1 + " fqdn a.example", "[3]: set server <b>/<s> fqdn failed because no resolution is configured.\n\n"},
		{"set server " + s1 + " fqdn", "[3]: set server <b>/<s> fqdn requires a FQDN.\n\n"},
		{"set server " + s1 + " addr 127.0.0.2", "[4]: IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n"},
		{"set server " + s1 + " addr", "[3]: set server <b>/<s> addr requires an address and optionally a port.\n\n"},
		{"set weight " + s1 + " abc", "[3]: Empty weight string empty or preceded by garbage\n"},
		{"show servers state nosuch", "[3]: Can't find backend.\n\n"},
		{"show stat nosuch 1 -1", "[3]: No such proxy.\n\n"},
		{"show version", "[6]: 2.6.12-1+deb12u4\n\n"},
		{"show cli level", "[6]: admin\n\n"},
		{"get weight " + s1, "1 (initial 1)\n\n"},
		{"show backend", "# name\npersistent_connection_backend\n\n"},
		{"enable frontend persistent_connection_frontend", "[5]: All sockets are already enabled.\n\n"},
		{"set timeout cli x", "[3]: Invalid timeout value.\n\n"},
		{"operator; set server " + s1 + " state maint", "\n[3]: Permission denied\n\n"},
		{"set severity-output none; show version", "\n2.6.12-1+deb12u4\n\n"},
		{"show env NOSUCH_VARIABLE_X", "[3]: Variable not found\n\n"},
		{"get var", "[3]: Missing process-wide variable identifier.\n\n"},
		{"set server " + s1 + " agent-port 80", "[4]: agent checks are not enabled on this server\n"},
		{"set server " + s1 + " agent-send x", "[3]: agent checks are not enabled on this server.\n\n"},
		{"set server " + s1 + " check-port", "[3]: set server <b>/<s> check-port requires a port.\n\n"},
		{"set server " + s1 + " check-addr", "[3]: set server <b>/<s> check-addr requires an address and optionally a port.\n\n"},
		{"show startup-logs", "[6]: \n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			srv := newTestServer(t, newFakeSource())
			got := run(srv, LevelAdmin, "set severity-output number; "+tc.cmd)
			if !strings.HasPrefix(got, "\n") || got[1:] != tc.want {
				t.Fatalf("got %q\nwant %q", got, "\n"+tc.want)
			}
		})
	}
	t.Run("unknown command", func(t *testing.T) {
		srv := newTestServer(t, newFakeSource())
		got := run(srv, LevelAdmin, "set severity-output string; foo")
		if !strings.HasPrefix(got, "\n[info]: Unknown command, but maybe one of the following ones is a better match:\n") {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("data not prefixed", func(t *testing.T) {
		srv := newTestServer(t, newFakeSource())
		for _, cmd := range []string{"show stat", "show info", "show servers state", "show stat -1 4 -1 typed", "show info typed"} {
			got := run(srv, LevelAdmin, "set severity-output number; "+cmd)
			if strings.HasPrefix(got, "\n[") || len(got) < 10 {
				t.Errorf("%s: got %q", cmd, got)
			}
		}
	})
}

// TestSeverityOutputBindOption checks the stats socket option: the prefix
// is on from the first command, and "set severity-output" changes it.
func TestSeverityOutputBindOption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	sk := unixSocket(path, "admin", 0)
	sk.SeverityOutput = "string"
	_, path = startServer(t, parser.Global{StatsSockets: []parser.StatsSocket{sk}}, newFakeSource())
	c := dial(t, path)
	if _, err := io.WriteString(c, "show version; set severity-output number; show version; set severity-output none; show version\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	want := "[info]: 2.6.12-1+deb12u4\n\n\n[6]: 2.6.12-1+deb12u4\n\n\n2.6.12-1+deb12u4\n\n"
	if string(got) != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
