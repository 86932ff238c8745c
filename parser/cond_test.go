package parser

import (
	"strings"
	"testing"
)

func TestEvalCondition(t *testing.T) {
	env := testEnv(map[string]string{"HOME": "/root", "EMPTY": ""})
	features := []string{"+EPOLL", "-OPENSSL", "+LINUX_SPLICE"}
	tests := []struct {
		expr string
		want int
		err  string
	}{
		{"1", 1, ""},
		{"0", 0, ""},
		{"", 0, ""},
		{"!0", 1, ""},
		{"!!1", 1, ""},
		{"0x10", 1, ""},
		{"defined(HOME)", 1, ""},
		{"defined(EMPTY)", 1, ""},
		{"defined(NOPE)", 0, ""},
		{"feature(EPOLL)", 1, ""},
		{"feature(OPENSSL)", 0, ""},
		{"feature(POLL)", 0, ""},
		{"streq(a,a)", 1, ""},
		{"streq(a,b)", 0, ""},
		{"strneq(a,b)", 1, ""},
		{"version_atleast(2.6)", 1, ""},
		{"version_atleast(2.6.13)", 0, ""},
		{"version_before(2.7-dev1)", 1, ""},
		{"version_before(2.6.12)", 0, ""},
		{"1 && 0", 0, ""},
		{"1 || 0", 1, ""},
		{"0 || 1 && 0", 0, ""},
		{"(0 || 1) && 1", 1, ""},
		{"!(0 || 0)", 1, ""},
		{"abc", -1, "unparsable conditional expression 'abc'"},
		{"1 2", -1, "unexpected character '2' at the end of conditional expression '1 2'"},
		{"(1", -1, "expected ')'"},
		{"foo(1)", -1, "unparsable conditional expression 'foo(1)'"},
		{"streq(a)", -1, "missing arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, msg, _ := evalCondition(tc.expr, env, features)
			if got != tc.want {
				t.Fatalf("evalCondition(%q) = %d (%s), want %d", tc.expr, got, msg, tc.want)
			}
			if tc.err != "" && !strings.Contains(msg, tc.err) {
				t.Errorf("message %q does not contain %q", msg, tc.err)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2.6.12", "2.6", 1},
		{"2.6.0", "2.6", 0},
		{"2.6", "2.6.0", 0},
		{"2.7-dev1", "2.7", -1},
		{"2.7-dev2", "2.7-dev10", -1},
		{"2.6.12", "2.10", -1},
	}
	for _, tc := range tests {
		if got := compareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestBestMatch(t *testing.T) {
	tests := []struct{ word, want string }{
		{"tcp-chek", "tcp-check"},
		{"frontnd", "frontend"},
		{"maxcon", "maxconn"},
		{"zzzzzzzzzzzzzzzzzzzzzq", ""},
	}
	cands := append(proxyCandidates(), knownOptions...)
	for _, tc := range tests {
		if got := bestMatch(tc.word, cands); got != tc.want {
			t.Errorf("bestMatch(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}
