package parser

import "testing"

// TestPeersBindFD reads a peers listener given as an inherited socket
// ("bind fd@<n>", as VTest writes it): no address, the descriptor kept.
func TestPeersBindFD(t *testing.T) {
	src := "peers p\n  bind fd@7\n  server a\n  server b 127.0.0.1:10001\n" +
		"backend be\n  stick-table type ip size 10 peers p\n  server s1 127.0.0.1:1\n"
	cfg, err := Parse("t.cfg", src, Options{LookupHost: fakeLookup, LocalPeer: "a"})
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	ps := cfg.Peers[0]
	if ps.BindFD != 7 || ps.Bind.IsValid() && ps.Bind.Port() != 0 {
		t.Errorf("bind fd@7: BindFD %d, Bind %v", ps.BindFD, ps.Bind)
	}
	if l := ps.LocalPeer(); l == nil || l.Name != "a" {
		t.Errorf("local peer %+v", l)
	}
}
