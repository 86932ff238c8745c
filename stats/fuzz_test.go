package stats

import (
	"strings"
	"testing"
)

func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"show stat", "show stat typed desc", "show stat json", "show stat -1 4 -1 up",
		"show info json", "help show", "set weight persistent_connection_backend/server1 50%",
		"set server persistent_connection_backend/server1 addr 127.0.0.2 port 80",
		"set server persistent_connection_backend/server1 state drain;show servers state",
		"shutdown session 0x55c143e7ca00", "set timeout cli 5m", "prompt;quit", "a\\;b;;c",
		"set maxconn global -1", "set rate-limit connections global 10", "clear counters all",
		"\x00\xff", strings.Repeat("x ", 100),
	} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, line string, lvl uint8) {
		if len(line) > maxLine {
			return
		}
		srv := newTestServer(t, newFakeSource())
		level := Level(lvl % 3)
		// A line of many commands flushes its output on the way (more
		// than 1 MiB pending): the session needs a connection, one that
		// discards and counts.
		s, conn := testSession(srv, level, nil)
		s.runLine(line)
		out := conn.n + s.out.Len()
		if n := len(splitCommands(line)); out > n*64<<10 {
			t.Fatalf("%d bytes for %d commands", out, n)
		}
		if !s.quit && s.level > level {
			t.Fatalf("level raised from %v to %v", level, s.level)
		}
	})
}
