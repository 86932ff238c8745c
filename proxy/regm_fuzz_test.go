package proxy

import (
	"regexp"
	"testing"
)

// FuzzExpReplace runs map_regm's value expansion on arbitrary values and
// inputs: no panic, and a result within the buffer size.
func FuzzExpReplace(f *testing.F) {
	re := regexp.MustCompile(`^(a*)(b)?(.*)$`)
	for _, s := range []string{`\1\2\3`, `\x41\\`, `end\`, `\9\0`, `\x4`} {
		f.Add(s, "aab-cd")
	}
	f.Fuzz(func(t *testing.T, str, src string) {
		m := re.FindStringSubmatchIndex(src)
		if m == nil {
			return
		}
		out, ok := expReplace([]byte(str), []byte(src), m, 64)
		if ok && len(out) >= 64 {
			t.Fatalf("result of %d bytes for a 64-byte buffer", len(out))
		}
	})
}
