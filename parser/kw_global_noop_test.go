package parser

import "testing"

// TestBufferGeometry: tune.bufsize and tune.maxrewrite as HAProxy applies
// them, the reserve at most half the buffer.
func TestBufferGeometry(t *testing.T) {
	for _, tc := range []struct {
		text          string
		size, reserve int
	}{
		{"", 16384, 1024},
		{"tune.bufsize 4096\n", 4096, 1024},
		{"tune.bufsize 2048\n", 2048, 1024},
		{"tune.bufsize 1024\n", 1024, 512},
		{"tune.bufsize 4096\n  tune.maxrewrite 100\n", 4096, 100},
		{"tune.bufsize 4096\n  tune.maxrewrite 4096\n", 4096, 2048},
		{"tune.maxrewrite 0\n", 16384, 0},
	} {
		cfg, err := parseText(t, "global\n  "+tc.text+"\n")
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.text, err, diagText(cfg))
		}
		if got := cfg.Global.BufSize(); got != tc.size {
			t.Errorf("%q: BufSize %d, want %d", tc.text, got, tc.size)
		}
		if got := cfg.Global.MaxRewrite(); got != tc.reserve {
			t.Errorf("%q: MaxRewrite %d, want %d", tc.text, got, tc.reserve)
		}
	}
}
