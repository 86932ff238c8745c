package proxy

import (
	"errors"
	"net/netip"
	"testing"
)

func TestSetWeightChangesPicks(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "roundrobin"}, weights(1, 1)...)
	if err := b.Servers[0].SetWeight(3, nil); err != nil {
		t.Fatalf("SetWeight: %v", err)
	}
	got := counts(b, 40, func(int) netip.Addr { return ip4(1) })
	if got["s1"] != 30 || got["s2"] != 10 {
		t.Fatalf("picks %v, want s1 30 and s2 10", got)
	}
	if err := b.Servers[1].SetWeight(0, nil); err != nil {
		t.Fatalf("SetWeight 0: %v", err)
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
			err := b.Servers[0].SetWeight(5, nil)
			if tc.static != (err != nil) || (err != nil && !errors.Is(err, ErrStaticWeight)) {
				t.Fatalf("SetWeight(5) = %v", err)
			}
			// 0 and the initial weight are always accepted.
			for _, w := range []int{0, 2} {
				if err := b.Servers[0].SetWeight(w, nil); err != nil {
					t.Fatalf("SetWeight(%d) = %v", w, err)
				}
			}
			if err := b.Servers[0].SetWeight(257, nil); !errors.Is(err, ErrWeightRange) {
				t.Fatalf("SetWeight(257) = %v, want ErrWeightRange", err)
			}
		})
	}
}
