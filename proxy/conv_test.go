package proxy

import (
	"net/netip"
	"testing"

	"goproxy/parser"
)

// testMap makes a run-time map of text with the given pattern sets.
func testMap(t *testing.T, text string, sets ...parser.MapSet) *MapRef {
	t.Helper()
	return NewMapRef(&parser.MapFile{ID: 1, File: "t.map", Map: true, Entries: parser.ParseMapText(text), Sets: sets, UsedBy: []string{"map at file 't.cfg' line 1"}})
}

func strSmp(s string) sample { return sample{typ: smpStr, b: []byte(s)} }

// TestConverters applies each converter to a sample that converts and one
// that does not.
func TestConverters(t *testing.T) {
	strs := testMap(t, "alice pool_a\ndup first\ndup second\n90 short\n9077 long\nfoo.example.com dom\n/a/b dir\n^x[0-9]+$ reg\n",
		parser.MapSet{Match: "str", Out: "str"}, parser.MapSet{Match: "beg", Out: "str"}, parser.MapSet{Match: "end", Out: "str"},
		parser.MapSet{Match: "sub", Out: "str"}, parser.MapSet{Match: "dom", Out: "str"}, parser.MapSet{Match: "dir", Out: "str"},
		parser.MapSet{Match: "reg", Out: "str"})
	ips := testMap(t, "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n::1 six\n127.0.0.1 lo\n",
		parser.MapSet{Match: "ip", Out: "str"})
	ints := testMap(t, "5 five\n10:20 teens\n", parser.MapSet{Match: "int", Out: "str"})
	ip4 := func(s string) sample { return sample{typ: smpIP, ip: netip.MustParseAddr(s)} }
	mp := func(m *MapRef, match string, def string) converter {
		c := converter{kind: cvMap, set: m.set(match, "str"), in: castStr}
		switch match {
		case "ip":
			c.in = castAddr
		case "int":
			c.in = castInt
		}
		if def != "" {
			c.def, c.hasDef = strSmp(def), true
		}
		return c
	}
	tests := []struct {
		name string
		in   sample
		conv converter
		want string // "" with ok false: no sample
		ok   bool
	}{
		{"lower", strSmp("AbC"), converter{kind: cvLower, in: castStr}, "abc", true},
		{"upper of an int", sample{typ: smpInt, i: 42}, converter{kind: cvUpper, in: castStr}, "42", true},
		{"hex of bin", sample{typ: smpBin, b: []byte{0, 1, 0xab}}, converter{kind: cvHex, in: castBin}, "0001AB", true},
		{"hex of an int is 8 bytes", sample{typ: smpInt, i: 258}, converter{kind: cvHex, in: castBin}, "0000000000000102", true},
		{"hex of an address", ip4("127.0.0.2"), converter{kind: cvHex, in: castBin}, "7F000002", true},
		{"bytes", strSmp("abcdef"), converter{kind: cvBytes, in: castBin, off: 1, length: 3}, "bcd", true},
		{"bytes to the end", strSmp("abcdef"), converter{kind: cvBytes, in: castBin, off: 4, length: -1}, "ef", true},
		{"bytes past the end", strSmp("abc"), converter{kind: cvBytes, in: castBin, off: 3, length: -1}, "", true},
		{"bytes, negative offset", strSmp("abc"), converter{kind: cvBytes, in: castBin, off: -1, length: -1}, "", true},
		{"ipmask", ip4("10.1.2.3"), converter{kind: cvIPMask, in: castAddr, mask4: 16, mask6: -1}, "10.1.0.0", true},
		{"ipmask of a string", strSmp("192.168.7.9"), converter{kind: cvIPMask, in: castAddr, mask4: 24, mask6: -1}, "192.168.7.0", true},
		{"ipmask of an int", sample{typ: smpInt, i: 0x0a0b0c0d}, converter{kind: cvIPMask, in: castAddr, mask4: 8, mask6: -1}, "10.0.0.0", true},
		{"ipmask, IPv6 without mask6", ip4("2001:db8::1"), converter{kind: cvIPMask, in: castAddr, mask4: 8, mask6: -1}, "", false},
		{"ipmask, IPv6 with mask6", ip4("2001:db8:1:2::1"), converter{kind: cvIPMask, in: castAddr, mask4: 8, mask6: 32}, "2001:db8::", true},
		{"ipmask of no address", strSmp("nope"), converter{kind: cvIPMask, in: castAddr, mask4: 8, mask6: -1}, "", false},
		{"map_str", strSmp("alice"), mp(strs, "str", ""), "pool_a", true},
		{"map_str, first of a key", strSmp("dup"), mp(strs, "str", ""), "first", true},
		{"map_str miss", strSmp("bob"), mp(strs, "str", ""), "", false},
		{"map_str miss with default", strSmp("bob"), mp(strs, "str", "dflt"), "dflt", true},
		{"map_beg longest prefix", strSmp("907712"), mp(strs, "beg", ""), "long", true},
		{"map_beg", strSmp("905555"), mp(strs, "beg", ""), "short", true},
		{"map_beg miss", strSmp("8"), mp(strs, "beg", ""), "", false},
		{"map_end", strSmp("xalice"), mp(strs, "end", ""), "pool_a", true},
		{"map_sub", strSmp("xx9077yy"), mp(strs, "sub", ""), "short", true},
		{"map_dom", strSmp("www.foo.example.com"), mp(strs, "dom", ""), "dom", true},
		{"map_dom miss", strSmp("xfoo.example.com"), mp(strs, "dom", ""), "", false},
		{"map_dir", strSmp("/x/a/b/c"), mp(strs, "dir", ""), "dir", true},
		{"map_reg", strSmp("x123"), mp(strs, "reg", ""), "reg", true},
		{"map_reg miss", strSmp("x12y"), mp(strs, "reg", ""), "", false},
		{"map_ip longest prefix", ip4("10.1.9.9"), mp(ips, "ip", ""), "ten-one", true},
		{"map_ip", ip4("10.2.0.1"), mp(ips, "ip", ""), "ten", true},
		{"map_ip IPv6", ip4("::1"), mp(ips, "ip", ""), "six", true},
		{"map_ip v4-mapped", ip4("::ffff:127.0.0.1"), mp(ips, "ip", ""), "lo", true},
		{"map_ip of a string", strSmp("127.0.0.1"), mp(ips, "ip", ""), "lo", true},
		{"map_ip miss", ip4("11.0.0.1"), mp(ips, "ip", "none"), "none", true},
		{"map_int", sample{typ: smpInt, i: 5}, mp(ints, "int", ""), "five", true},
		{"map_int range", strSmp("15"), mp(ints, "int", ""), "teens", true},
		{"map_int miss", sample{typ: smpInt, i: 21}, mp(ints, "int", ""), "", false},
		{"map_int of an IPv6 address", ip4("::2"), mp(ints, "int", "x"), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			smp := tc.in
			ok := tc.conv.apply(&smp)
			got := ""
			if ok {
				got = string(appendSampleText(nil, &smp))
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %q %v, want %q %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestMapRefUpdates changes a map as the CLI does and looks it up after
// each change.
func TestMapRefUpdates(t *testing.T) {
	m := testMap(t, "a 1\nb 2\n", parser.MapSet{Match: "str", Out: "int"}, parser.MapSet{Match: "beg", Out: "int"})
	s := m.set("str", "int")
	look := func(k string) int64 {
		smp := strSmp(k)
		v, ok := s.lookup(&smp)
		if !ok {
			return -1
		}
		return v.i
	}
	if look("a") != 1 || look("c") != -1 || m.EntryCount() != 4 {
		t.Fatalf("initial: a=%d c=%d count=%d", look("a"), look("c"), m.EntryCount())
	}
	if err := m.Add("c", "x"); err == nil || err.Error() != "unable to parse 'x'" {
		t.Errorf("add of a bad value: %v", err)
	}
	if err := m.Add("c", "3"); err != nil || look("c") != 3 || m.EntryCount() != 5 {
		t.Errorf("add: %v, c=%d count=%d", err, look("c"), m.EntryCount())
	}
	if err := m.Set("a", "7"); err != nil || look("a") != 7 {
		t.Errorf("set: %v, a=%d", err, look("a"))
	}
	if err := m.Set("a", "bad"); err != nil || look("a") != 7 {
		t.Errorf("set of a bad value changes nothing, as HAProxy: %v, a=%d", err, look("a"))
	}
	if err := m.Set("zz", "1"); err != ErrMapNoEntry {
		t.Errorf("set of no key: %v", err)
	}
	ref := "#" + m.Entries()[1].Ref
	if err := m.Set(ref, "9"); err != nil || look("b") != 9 {
		t.Errorf("set by ref %s: %v, b=%d", ref, err, look("b"))
	}
	if err := m.Del(ref); err != nil || look("b") != -1 {
		t.Errorf("del by ref: %v, b=%d", err, look("b"))
	}
	if err := m.Del("b"); err != ErrMapNoEntry {
		t.Errorf("del of no key: %v", err)
	}
	m.Clear()
	if look("a") != -1 || len(m.Entries()) != 0 {
		t.Errorf("clear left %v", m.Entries())
	}
}

// FuzzMapRef builds maps of every match type from arbitrary text, changes
// them and looks keys up: no panic, and a key just added is found by the
// str set.
func FuzzMapRef(f *testing.F) {
	f.Add("k v\n10.0.0.0/8 x\n1-5 y\n^a+$ z\n", "k", "10.1.2.3")
	f.Add("a.b.c d\n/x/y e\n", "q", "::1")
	f.Fuzz(func(t *testing.T, text, key, probe string) {
		var sets []parser.MapSet
		for _, m := range []string{"str", "beg", "end", "sub", "dir", "dom", "reg", "int", "ip"} {
			sets = append(sets, parser.MapSet{Match: m, Out: "str"})
		}
		m := testMap(t, text, sets...)
		for _, s := range m.sets {
			for _, in := range []sample{strSmp(probe), {typ: smpInt, i: int64(len(probe))}} {
				c := converter{kind: cvMap, set: s, in: castStr}
				switch s.match {
				case "ip":
					c.in = castAddr
				case "int":
					c.in = castInt
				}
				smp := in
				_ = c.apply(&smp)
			}
		}
		if err := m.Add(key, "v"); err == nil {
			smp := strSmp(key)
			if v, ok := m.set("str", "str").lookup(&smp); !ok || (string(v.b) != "v" && !hasKey(text, key)) {
				t.Fatalf("added key %q not found", key)
			}
			_ = m.Del(key)
		}
		m.Clear()
	})
}

// hasKey reports whether the map text already holds key (its first entry
// then wins).
func hasKey(text, key string) bool {
	for _, e := range parser.ParseMapText(text) {
		if e.Key == key {
			return true
		}
	}
	return false
}

// TestAppendCaptures writes captures as HAProxy's %hr and %hrl (checked
// against haproxy 2.6 on the same bytes).
func TestAppendCaptures(t *testing.T) {
	caps := [][]byte{nil, []byte("U\x01\""), []byte("127.0.0.1")}
	if got := string(appendCaptures(nil, caps, 3, false)); got != "{|U#01#22|127.0.0.1}" {
		t.Errorf("%%hr = %q", got)
	}
	if got := string(appendCaptures(nil, caps, 3, true)); got != "- U#01#22 127.0.0.1" {
		t.Errorf("%%hrl = %q", got)
	}
	if got := string(appendCaptures(nil, nil, 2, true)); got != "- -" {
		t.Errorf("%%hrl of no capture = %q", got)
	}
}

// TestCondMissEndsAnd evaluates "{ req.len lt 5 } FALSE" on 5 bytes that
// more data could change: as HAProxy's acl_exec_cond, the miss ends the
// AND (FALSE is not evaluated) and the condition waits; once final, it
// fails.
func TestCondMissEndsAnd(t *testing.T) {
	lt5 := &acl{crit: "req.len", fetch: fetchReqLen, l6: true, method: mInt, ranges: [][2]int64{{-1 << 62, 4}}}
	c := &cond{terms: [][]condTerm{{{acls: []*acl{lt5}}, {acls: []*acl{builtinACL("FALSE")}}}}}
	ci := &connInfo{req: []byte("USER1")}
	if r := c.exec(ci); r != aclMiss {
		t.Errorf("not final: %d, want a miss", r)
	}
	ci.final = true
	if r := c.exec(ci); r != aclFail {
		t.Errorf("final: %d, want a failure", r)
	}
}
