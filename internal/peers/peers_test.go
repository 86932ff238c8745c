package peers

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestVarint(t *testing.T) {
	cases := []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0}},
		{239, []byte{0xef}},
		{240, []byte{0xf0, 0x00}},
		{241, []byte{0xf1, 0x00}},
		{2287, []byte{0xff, 0x7f}},
		{2288, []byte{0xf0, 0x80, 0x00}},
		{264431, []byte{0xff, 0xff, 0x7f}},
		{264432, []byte{0xf0, 0x80, 0x80, 0x00}},
	}
	for _, c := range cases {
		got := AppendVarint(nil, c.v)
		if !bytes.Equal(got, c.want) {
			t.Errorf("AppendVarint(%d) = % x, want % x", c.v, got, c.want)
		}
		v, n, err := ReadVarint(got)
		if err != nil || v != c.v || n != len(got) {
			t.Errorf("ReadVarint(% x) = %d, %d, %v", got, v, n, err)
		}
	}
	for _, v := range []uint64{1 << 32, 1<<32 - 1, 1 << 63, ^uint64(0), 33818864, 4328786160} {
		b := AppendVarint(nil, v)
		got, n, err := ReadVarint(b)
		if err != nil || got != v || n != len(b) {
			t.Errorf("round trip of %d: % x -> %d, %d, %v", v, b, got, n, err)
		}
	}
	if _, _, err := ReadVarint([]byte{0xf0, 0x80}); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated varint: %v", err)
	}
}

func TestHello(t *testing.T) {
	got := string(AppendHello(nil, "hap", "gp", 42))
	if got != "HAProxyS 2.1\nhap\ngp 42 1\n" {
		t.Errorf("hello = %q", got)
	}
	for line, want := range map[string]int{"HAProxyS 2.1": 0, "HAProxyS 2.0": 0, "HAProxyS 2.2": StatusErrVers,
		"HAProxyS 3.0": StatusErrVers, "HAProxyS x": StatusErrVers, "HTTP/1.1": StatusErrProto} {
		if st, _ := CheckVersion(line); st != want {
			t.Errorf("CheckVersion(%q) = %d, want %d", line, st, want)
		}
	}
	if StatusName(StatusSuccess) != "ESTA" || StatusName(0) != "NONE" {
		t.Error("status names")
	}
}

func sampleDefine() *Define {
	d := &Define{ID: 1, Name: "be", KeyType: KeyIPv4, KeyLen: 4, Expire: 30000, HasParams: true}
	for _, t := range []int{0, 4, 5, 6, 19} {
		d.Data |= 1 << uint(t)
	}
	d.Period[5] = 10000
	return d
}

func TestDefineRoundTrip(t *testing.T) {
	d := sampleDefine()
	b := AppendDefine(nil, d)
	// class, type, length, then: id 1, name "be", type 4, keylen 4,
	// bitfield 0x80071 (two bytes and more), expire 30000, (5, 10000).
	if b[0] != ClassStickTable || b[1] != StktDefine {
		t.Fatalf("header % x", b[:2])
	}
	m, err := ReadMsg(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDefine(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("got %+v\nwant %+v", got, d)
	}
	// A period prefixed by the wrong type makes HAProxy ignore it.
	bad := AppendVarint(nil, 1)
	bad = append(AppendVarint(bad, 2), "be"...)
	bad = AppendVarint(AppendVarint(AppendVarint(AppendVarint(bad, KeyIPv4), 4), 1<<5), 1000)
	bad = AppendVarint(AppendVarint(bad, 4), 10000)
	if _, err := DecodeDefine(bad); !errors.Is(err, ErrIgnored) {
		t.Errorf("mismatched parameter: %v", err)
	}
	if _, err := DecodeDefine(bad[:3]); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated: %v", err)
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	d := sampleDefine()
	vals := []Value{{Type: 0, U: 3}, {Type: 4, U: 17}, {Type: 5, Ago: 1234, Curr: 5, Prev: 9},
		{Type: 6, U: 2}, {Type: 19, DictID: 1, Str: "s1", HasStr: true}}
	for _, u := range []*Update{
		{ID: 7, HasID: true, Key: []byte{127, 0, 0, 1}, Values: vals},
		{Key: []byte{10, 0, 0, 2}, Values: vals},
		{ID: 1 << 31, HasID: true, Timed: true, Expire: 29000, Key: []byte{1, 2, 3, 4}, Values: vals},
		{Timed: true, Expire: 5, Key: []byte{1, 2, 3, 5}, Values: append(vals[:4:4], Value{Type: 19, DictID: 1})},
	} {
		b, err := AppendUpdate(nil, d, u)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ReadMsg(bufio.NewReader(bytes.NewReader(b)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != u.msgType() {
			t.Errorf("type %x", m.Type)
		}
		got, err := DecodeUpdate(m.Type, m.Body, d, 4)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, u) {
			t.Errorf("got %+v\nwant %+v", got, u)
		}
	}
	if _, err := AppendUpdate(nil, d, &Update{Key: []byte{1}, Values: vals}); !errors.Is(err, ErrKey) {
		t.Errorf("short key: %v", err)
	}
}

func TestStringAndIntegerKeys(t *testing.T) {
	d := &Define{ID: 2, Name: "p/t", KeyType: KeyStr, KeyLen: 5, Data: 1 << 2}
	b, _ := AppendUpdate(nil, d, &Update{HasID: true, ID: 1, Key: []byte("abcdefgh"), Values: []Value{{Type: 2, U: 1}}})
	// id, then the string length (8) and its bytes, then gpc0.
	want := []byte{ClassStickTable, StktUpdate, 14, 0, 0, 0, 1, 8, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 1}
	if !bytes.Equal(b, want) {
		t.Errorf("string key update % x, want % x", b, want)
	}
	u, err := DecodeUpdate(b[1], b[3:], d, 5)
	if err != nil || string(u.Key) != "abcd" {
		t.Errorf("string key cut to the key size: %q, %v", u.Key, err)
	}
	if got := AppendAck(nil, 3, 0x01020304); !bytes.Equal(got, []byte{10, StktAck, 5, 3, 1, 2, 3, 4}) {
		t.Errorf("ack % x", got)
	}
	id, upd, err := DecodeAck([]byte{3, 1, 2, 3, 4})
	if id != 3 || upd != 0x01020304 || err != nil {
		t.Errorf("DecodeAck: %d %x %v", id, upd, err)
	}
	if got := AppendSwitch(nil, 2); !bytes.Equal(got, []byte{10, StktSwitch, 1, 2}) {
		t.Errorf("switch % x", got)
	}
	if got := AppendControl(nil, CtrlHeartbeat); !bytes.Equal(got, []byte{0, 4}) {
		t.Errorf("heartbeat % x", got)
	}
}

func TestReadMsgLimits(t *testing.T) {
	big := AppendMsg(nil, ClassStickTable, StktUpdate, make([]byte, MaxBody+1))
	if _, err := ReadMsg(bufio.NewReader(bytes.NewReader(big)), nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized message: %v", err)
	}
	if _, err := ReadMsg(bufio.NewReader(bytes.NewReader([]byte{10, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff})), nil); err == nil {
		t.Error("a 6-byte length is accepted")
	}
}
