package parser

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzTCPRuleLine parses arbitrary tcp-request connection, session and
// content lines (actions, values, formats, conditions): no panic, and
// every diagnostic names a line of the input.
func FuzzTCPRuleLine(f *testing.F) {
	for _, s := range []string{
		"tcp-request session track-sc0 src", "tcp-request connection set-mark 0x2a",
		"tcp-request content set-tos 012 if TRUE", "tcp-request content set-log-level silent",
		"tcp-request session set-var-fmt(sess.a) \"%ci:%[src,ipmask(24)]\"",
		"tcp-request content set-priority-offset int(-5) unless { src 10.0.0.1 }",
		"tcp-request content set-var(txn.m) str(a),map_regm(/nonexistent,x)",
		"tcp-request connection acept", "tcp-request session reject if { sc_conn_cnt(1,fe) gt 3 }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 || strings.ContainsAny(line, "\n\r") {
			return
		}
		src := "frontend fe\n  mode tcp\n  bind 127.0.0.1:9\n  stick-table type ip size 10 store gpc0\n  " + line + "\n"
		cfg, _ := Parse("fuzz.cfg", src, Options{LookupHost: fakeLookup})
		if cfg == nil {
			t.Fatal("nil config")
		}
		for _, d := range cfg.Diags {
			if d.Pos.File != "" && (d.Pos.Line < 1 || d.Pos.Line > 6) {
				t.Fatalf("diagnostic at line %d: %s", d.Pos.Line, d.Error())
			}
		}
	})
}

// FuzzCInteger checks cInteger against strconv on the inputs both read,
// and that what it leaves is a suffix of its input.
func FuzzCInteger(f *testing.F) {
	for _, s := range []string{"42", "0x2a", "052", "-1", "0x", "08", "12x", "+0X1fg", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, rest := cInteger(s)
		if !strings.HasSuffix(s, rest) {
			t.Fatalf("cInteger(%q) left %q, not a suffix", s, rest)
		}
		if rest == "" && s != "" {
			if want, err := strconv.ParseInt(strings.TrimLeft(s, " \t"), 0, 64); err == nil && want != n && !strings.Contains(s, "_") && !strings.ContainsAny(s, "bBoO") {
				t.Fatalf("cInteger(%q) = %d, strconv says %d", s, n, want)
			}
		}
	})
}
