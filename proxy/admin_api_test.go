package proxy

import (
	"net/netip"
	"testing"
)

func TestSetWeightChangesPicks(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "roundrobin"}, weights(1, 1)...)
	if msg := b.Servers[0].SetWeight(3, nil); msg != "" {
		t.Fatalf("SetWeight: %q", msg)
	}
	got := counts(b, 40, func(int) netip.Addr { return ip4(1) })
	if got["s1"] != 30 || got["s2"] != 10 {
		t.Fatalf("picks %v, want s1 30 and s2 10", got)
	}
	if msg := b.Servers[1].SetWeight(0, nil); msg != "" {
		t.Fatalf("SetWeight 0: %q", msg)
	}
	got = counts(b, 10, func(int) netip.Addr { return ip4(1) })
	if got["s2"] != 0 {
		t.Fatalf("weight 0 server picked: %v", got)
	}
}

func TestSetWeightStaticAlgorithms(t *testing.T) {
	for _, tc := range []struct {
		name   string
		conf   lbConf
		static bool
	}{
		{"roundrobin", lbConf{algo: "roundrobin"}, false},
		{"leastconn", lbConf{algo: "leastconn"}, false},
		{"static-rr", lbConf{algo: "static-rr"}, true},
		{"source map-based", lbConf{algo: "source"}, true},
		{"source consistent", lbConf{algo: "source", consistent: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBackend(t, tc.conf, weights(2, 2)...)
			if b.StaticLB() != tc.static {
				t.Fatalf("StaticLB = %v", b.StaticLB())
			}
			msg := b.Servers[0].SetWeight(5, nil)
			if tc.static != (msg != "") {
				t.Fatalf("SetWeight(5) = %q", msg)
			}
			// 0 and the initial weight are always accepted.
			for _, w := range []int{0, 2} {
				if msg := b.Servers[0].SetWeight(w, nil); msg != "" {
					t.Fatalf("SetWeight(%d) = %q", w, msg)
				}
			}
			if msg := b.Servers[0].SetWeight(257, nil); msg == "" {
				t.Fatal("SetWeight(257) accepted")
			}
		})
	}
}
