package stktable

import "testing"

// FuzzKeys reads arbitrary CLI keys into every key type: never a panic,
// and a key that parses prints back to a key that parses to itself.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "4294967295", "abc", "00ff", "", "1.2.3.4.5", "-1"} {
		f.Add(s)
	}
	tables := []*Table{
		New(Config{Type: IP, KeyLen: 4, Size: 1}), New(Config{Type: IPv6, KeyLen: 16, Size: 1}),
		New(Config{Type: Integer, KeyLen: 4, Size: 1}), New(Config{Type: String, KeyLen: 9, Size: 1}),
		New(Config{Type: Binary, KeyLen: 4, Size: 1}),
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tb := range tables {
			k, err := tb.ParseKey(s)
			if err != nil {
				continue
			}
			if tb.Type == String {
				continue // printing escapes; HAProxy's dump is not meant to be read back
			}
			back, err := tb.ParseKey(tb.FormatKey(k))
			if err != nil || back != k {
				t.Fatalf("%s key %q prints as %q, which reads back as %q (%v)", tb.Type, s, tb.FormatKey(k), back, err)
			}
		}
	})
}
