package proxy

import (
	"regexp"
	"testing"
)

// TestExpReplace holds HAProxy's exp_replace() results.
func TestExpReplace(t *testing.T) {
	re := regexp.MustCompile(`^(a+)(x)?(b*)$`)
	for _, tc := range []struct {
		str, src, want string
		ok             bool
	}{
		{`<\1|\2|\3>`, "aab", "<aa||b>", true},
		{`\0-\9`, "ab", "ab-", true},
		{`\x41\x2f`, "a", "A/", true},
		{`\\\q`, "a", `\q`, true},
		{`end\`, "a", "", false},
		{`\x4`, "a", "", false},
	} {
		m := re.FindStringSubmatchIndex(tc.src)
		got, ok := expReplace([]byte(tc.str), []byte(tc.src), m, 1024)
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("expReplace(%q, %q) = %q, %v; want %q, %v", tc.str, tc.src, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := expReplace([]byte(`\1\1`), []byte("aaaa"), re.FindStringSubmatchIndex("aaaa"), 8); ok {
		t.Error("a result of bufSize bytes must be refused")
	}
}
