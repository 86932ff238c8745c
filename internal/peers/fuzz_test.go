package peers

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the message reader and the decoders
// of every stick-table message: they must return an error or a value,
// never panic, and a decoded update must encode again.
func FuzzDecode(f *testing.F) {
	d := sampleDefine()
	f.Add(AppendDefine(nil, d))
	u, _ := AppendUpdate(nil, d, &Update{ID: 1, HasID: true, Timed: true, Key: []byte{1, 2, 3, 4},
		Values: []Value{{U: 1}, {U: 2}, {Ago: 3, Curr: 4, Prev: 5}, {U: 6}, {DictID: 1, Str: "s", HasStr: true}}})
	f.Add(u)
	f.Add(AppendAck(nil, 1, 2))
	f.Add([]byte{0, 4, 10, 0x83, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for i := 0; i < 64; i++ {
			m, err := ReadMsg(br, nil)
			if err != nil {
				return
			}
			switch m.Type {
			case StktDefine:
				if def, err := DecodeDefine(m.Body); err == nil {
					d = def
				}
			case StktAck:
				DecodeAck(m.Body)
			case StktSwitch:
				DecodeSwitch(m.Body)
			case StktUpdate, StktIncUpdate, StktUpdateTimed, StktIncUpdateTimed:
				up, err := DecodeUpdate(m.Type, m.Body, d, int(min(d.KeyLen, 64)))
				if err != nil {
					continue
				}
				if d.KeyType == KeyStr || uint64(len(up.Key)) == d.KeyLen {
					if _, err := AppendUpdate(nil, d, up); err != nil {
						t.Fatalf("decoded update does not encode: %v", err)
					}
				}
			}
		}
	})
}
