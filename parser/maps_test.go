package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseMapText reads map files as HAProxy's pat_ref_read_from_file_smp.
func TestParseMapText(t *testing.T) {
	text := "# comment\n  alice   pool_a  \nbob pool_b with spaces\r\n\n \t\ncarol\n #not a comment x\ntab\tv\n"
	got := ParseMapText(text)
	want := []MapEntry{
		{"alice", "pool_a", 2}, {"bob", "pool_b with spaces", 3}, {"carol", "", 6},
		{"#not", "a comment x", 7}, {"tab", "v", 8},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestMapConverterErrors holds HAProxy 2.6's messages for bad converters
// and map files (haproxy -c on the same lines).
func TestMapConverterErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	acct := write("acct.map", "acct1 be1\nacct2 be2\n")
	ints := write("int.map", "a 1\nb x\n")
	vals := write("val.map", "1 10\n2 x\n")
	one := write("one.lst", "x\n")
	addrs := write("addr.map", "k 10.0.0.1\n")
	tests := []struct{ acl, want string }{
		{"src,bytes -m found", "invalid arg 1 in converter 'bytes' : expected type 'integer' at position 1, but got nothing in ACL expression 'src,bytes'."},
		{"src,bytes(x) -m found", "invalid arg 1 in converter 'bytes' : failed to parse 'x' as type 'integer' at position 1 in ACL expression 'src,bytes(x)'."},
		{"src,bytes(1,2,3) -m found", "invalid arg 2 in converter 'bytes' : expected ')' before ',3)' in ACL expression 'src,bytes(1,2,3)'."},
		{"src,ipmask(33) -m found", "invalid arg 1 in converter 'ipmask' : failed to parse '33' as type 'IPv4 mask' at position 1 in ACL expression 'src,ipmask(33)'."},
		{"src,ipmask(24,255.0.0.0) -m found", "invalid arg 2 in converter 'ipmask' : failed to parse '255.0.0.0' as type 'IPv6 mask' at position 2 in ACL expression 'src,ipmask(24,255.0.0.0)'."},
		{"src,lower(1) -m found", "invalid arg 1 in converter 'lower' : expected ')' before '1)' in ACL expression 'src,lower(1)'."},
		{"src,lower( -m found", "invalid arg 1 in converter 'lower' : expected ')' in ACL expression 'src,lower('."},
		{"src,nosuch -m found", "unknown converter 'nosuch' in ACL expression 'src,nosuch'."},
		{"src,map_foo(" + acct + ") -m found", "unknown converter 'map_foo' in ACL expression 'src,map_foo(" + acct + ")'."},
		{"always_true,ipmask(24) -m found", "converter 'ipmask' cannot be applied in ACL expression 'always_true,ipmask(24)'."},
		{"req.payload(0,1),ipmask(24) -m found", "converter 'ipmask' cannot be applied in ACL expression 'req.payload(0,1),ipmask(24)'."},
		{"src,map -m found", "invalid args in converter 'map' : failed to open pattern file <> in ACL expression 'src,map'."},
		{"src,map_int(" + ints + ") -m found", "invalid args in converter 'map_int' : 'a' is not a number at line 1 of file '" + ints + "' in ACL expression 'src,map_int(" + ints + ")'."},
		{"src,map_str_int(" + vals + ") -m found", "invalid args in converter 'map_str_int' : unable to parse 'x' at line 2 of file '" + vals + "' in ACL expression 'src,map_str_int(" + vals + ")'."},
		{"src,map_str_int(" + acct + ",x) -m found", "invalid arg 2 in converter 'map_str_int' : failed to parse 'x' as type 'integer' at position 2 in ACL expression 'src,map_str_int(" + acct + ",x)'."},
		{"src,map_str_ip(" + acct + ",xx) -m found", "invalid args in converter 'map_str_ip' : map: cannot parse default ip <xx>. in ACL expression 'src,map_str_ip(" + acct + ",xx)'."},
		{"src,map_str_ip(" + acct + ") -m found", "invalid args in converter 'map_str_ip' : unable to parse 'be1' at line 1 of file '" + acct + "' in ACL expression 'src,map_str_ip(" + acct + ")'."},
		{"src,map_ip(" + acct + ") -m found", "invalid args in converter 'map_ip' : 'acct1' is not a valid IPv4 or IPv6 address at line 1 of file '" + acct + "' in ACL expression 'src,map_ip(" + acct + ")'."},
		{"src,map_str_ip(" + addrs + "),lower -m found", "converter 'lower' cannot be applied in ACL expression 'src,map_str_ip(" + addrs + "),lower'."},
		{"req.payload(0,5),bytes(1) -m str -f " + one, ""},
		{"src,map_str(" + one + ") -m found", "invalid args in converter 'map_str' : The file \"" + one + "\" is already used as one column file and cannot be used by as two column file. in ACL expression 'src,map_str(" + one + ")'."},
		{"req.payload(0,5) -f " + acct, "matching method must be specified first (using '-m') when using a sample fetch of this type ('req.payload')."},
	}
	var b strings.Builder
	b.WriteString("defaults\n    mode tcp\nfrontend fe\n    bind 127.0.0.1:1\n")
	for i, tc := range tests {
		b.WriteString("    acl a" + string(rune('a'+i)) + " " + tc.acl + "\n")
	}
	_, err := Parse("t.cfg", b.String(), Options{})
	got := ""
	if err != nil {
		got = err.Error()
	}
	for i, tc := range tests {
		line := ""
		for _, l := range strings.Split(got, "\n") {
			if strings.Contains(l, "ACL 'a"+string(rune('a'+i))+"' :") {
				line = l
			}
		}
		if tc.want == "" {
			if line != "" {
				t.Errorf("%s: unexpected error %s", tc.acl, line)
			}
			continue
		}
		if !strings.HasSuffix(line, ": "+tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.acl, line, tc.want)
		}
	}
}

// TestMapRefIDs numbers pattern references as HAProxy: maps, ACL files and
// ACL expressions in parse order, then two for HAProxy's own httpclient,
// then the maps of use_backend names and log formats.
func TestMapRefIDs(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("127.0.0.1 v\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := mk("a.map"), mk("b.map"), mk("c.map")
	d := filepath.Join(dir, "d.lst")
	if err := os.WriteFile(d, []byte("127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("t.cfg", `defaults
    mode tcp
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend fe
    bind 127.0.0.1:1
    log-format "%[src,map_ip(`+c+`,x)]"
    use_backend %[src,map(`+b+`,be)]
    acl x src 127.0.0.1
    acl y src -f `+d+`
    acl z src,map(`+a+`) -m found
    acl w src,map_beg(`+a+`) -m found
    tcp-request connection accept if x y z w
    default_backend be
backend be
    server s 127.0.0.1:2
`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range cfg.Maps {
		got = append(got, strings.TrimPrefix(m.File, dir+"/")+"#"+string(rune('0'+m.ID/10))+string(rune('0'+m.ID%10))+" sets "+string(rune('0'+len(m.Sets))))
	}
	want := "a.map#03 sets 2,b.map#08 sets 1,c.map#09 sets 1"
	if strings.Join(got, ",") != want {
		t.Errorf("maps %v, want %s", got, want)
	}
	if desc := cfg.Maps[0].Description(); desc != "pattern loaded from file '"+a+"' used by map at file 't.cfg' line 12, by map at file 't.cfg' line 13" {
		t.Errorf("description %q", desc)
	}
}

// FuzzMapFile reads arbitrary map files: no panic, and every entry is
// what HAProxy would keep (a key without blanks, a value without blanks
// around it, neither with a line break), each key and value checked
// against every match and output type without a panic.
func FuzzMapFile(f *testing.F) {
	for _, s := range []string{"k v\n", "# c\n  a  b c  \r\n\n", "10.0.0.0/8 x\n::1 y\n", "1-5 7\n", "^a.*$ r\n", "k\x00v\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, e := range ParseMapText(text) {
			if e.Key == "" || strings.ContainsAny(e.Key, " \t\r\n") {
				t.Fatalf("bad key %q", e.Key)
			}
			if strings.ContainsAny(e.Value, "\r\n") || strings.Trim(e.Value, " \t") != e.Value {
				t.Fatalf("bad value %q", e.Value)
			}
			if e.Line < 1 || e.Line > strings.Count(text, "\n")+1+len(text)/maxMapLine {
				t.Fatalf("line %d out of range", e.Line)
			}
			for m := range mapMatchIn {
				_ = MapKeyError(m, e.Key)
			}
			for _, o := range []string{"str", "int", "ip"} {
				_ = MapValueError(o, e.Value)
			}
		}
	})
}

// TestMapFileNotRegular refuses a device as a map or pattern file (one
// that never ends would hang the load).
func TestMapFileNotRegular(t *testing.T) {
	_, err := Parse("t.cfg", "defaults\n    mode tcp\nfrontend fe\n    bind 127.0.0.1:1\n    acl a src,map(/dev/zero) -m found\n    acl b src -f /dev/zero\n", Options{})
	if err == nil || !strings.Contains(err.Error(), "failed to open pattern file </dev/zero>") || strings.Count(err.Error(), "failed to open") != 2 {
		t.Errorf("got %v", err)
	}
}
