package peersync

import (
	"bufio"
	"bytes"
	"testing"

	"goproxy/internal/peers"
	"goproxy/internal/stktable"
)

// FuzzTreat feeds arbitrary messages to a session of a section with an
// ip and a string table: the section must answer each with a verdict
// (a protocol error or not), never panic, and keep its tables within
// their size.
func FuzzTreat(f *testing.F) {
	ipDef := peers.AppendDefine(nil, &peers.Define{ID: 1, Name: "be", KeyType: peers.KeyIPv4, KeyLen: 4,
		Data: 1<<0 | 1<<4 | 1<<5 | 1<<6 | 1<<19, Expire: 60000, HasParams: true})
	up, _ := peers.AppendUpdate(nil, &peers.Define{KeyType: peers.KeyIPv4, KeyLen: 4, Data: 1<<0 | 1<<4 | 1<<5 | 1<<6 | 1<<19},
		&peers.Update{ID: 1, HasID: true, Timed: true, Expire: 100, Key: []byte{1, 2, 3, 4},
			Values: []peers.Value{{U: 1}, {U: 2}, {Ago: 5, Curr: 1}, {U: 1}, {DictID: 1, Str: "s1", HasStr: true}}})
	f.Add(append(ipDef, up...))
	f.Add([]byte{0, 0, 0, 1, 0, 3, 0, 4, 10, 0x83, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		tip := newTable()
		tstr := stktable.New(stktable.Config{Name: "p/s", Type: stktable.String, KeyLen: 9, Size: 4,
			Stored: []stktable.Stored{{Type: stktable.GPC0}, {Type: stktable.BytesInCnt}, {Type: stktable.SessRate, Period: 1000}}})
		s, err := New(Config{Name: "p", Local: "me", Peers: []PeerConfig{{Name: "me", Local: true}, {Name: "x"}},
			Tables: []Table{{tip, "be"}, {tstr, "/s"}}})
		if err != nil {
			t.Fatal(err)
		}
		var p *peer
		for _, o := range s.peers {
			if !o.Local {
				p = o
			}
		}
		x := newSession(p, nil, false)
		p.sess = x
		br := bufio.NewReader(bytes.NewReader(data))
		for i := 0; i < 64; i++ {
			m, err := peers.ReadMsg(br, nil)
			if err != nil {
				break
			}
			s.mu.Lock()
			ok := s.treat(x, m)
			if p.sess == x {
				s.prepare(x)
			}
			s.mu.Unlock()
			if !ok {
				break
			}
		}
		if tip.Used() > tip.Size || tstr.Used() > tstr.Size {
			t.Fatalf("tables over their size: %d, %d", tip.Used(), tstr.Used())
		}
	})
}
