package proxy

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"goproxy/parser"
)

// parseACLs parses acl lines of a frontend and compiles them by name.
func parseACLs(t *testing.T, lines string) map[string][]*acl {
	t.Helper()
	cfg, err := parser.Parse("t.cfg", "defaults\n mode tcp\nfrontend fe\n bind 127.0.0.1:1\n"+lines, parser.Options{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	named, err := compileACLs(cfg.Proxies[len(cfg.Proxies)-1].ACLs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return named
}

func TestACLMatchers(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "accounts.lst")
	if err := os.WriteFile(list, []byte("# SP accounts\n901234\n  908811  \n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	named := parseACLs(t, strings.ReplaceAll(`
 acl str     req.payload(0,5) -m str hello
 acl stri    req.payload(0,5) -m str -i HELLO
 acl beg     req.payload(0,0) -m beg hel
 acl end     req.payload(0,0) -m end world
 acl sub     req.payload(0,0) -m sub -i O W
 acl reg     req.payload(0,0) -m reg ^h.l+o\x20
 acl bin     req.payload(0,2) 6865
 acl len     req.payload(0,0) -m len ge 11
 acl found   req.payload(20,1) -m found
 acl gt      req.len gt 10
 acl range   req.len 1:5 11
 acl lt      req.len lt 3
 acl dash    req.len 1-2 -5
 acl hex     req.payload(0,2),hex 6865
 acl upper   req.payload(0,5),upper HELLO
 acl file    req.payload(0,6) -m str -f LIST
 acl fileacc req.payload(6,6) -m str -f LIST
 acl srcnet  src 127.0.0.0/8
 acl lv      req.payload_lv(0,1,+0) -m str ello
 acl lvabs   req.payload_lv(11,1,24) -m str ab
 acl lvodd   req.payload_lv(11,1,1) -m str ab
`, "LIST", list))
	ci := &connInfo{src: netip.MustParseAddrPort("127.0.0.1:5000"), final: true}
	for _, tc := range []struct {
		data string
		pass []string
	}{
		{"hello world", []string{"str", "stri", "beg", "end", "sub", "reg", "bin", "len", "gt", "range", "hex", "upper", "srcnet"}},
		{"HELLO", []string{"stri", "sub", "upper", "range", "dash", "srcnet"}},
		{"he", []string{"bin", "hex", "lt", "range", "dash", "srcnet"}},
		{"901234908811", []string{"file", "fileacc", "len", "gt", "srcnet"}},
		{"\x04ello", []string{"sub", "range", "dash", "srcnet", "lv"}},
		{"hello world\x02ab", []string{"str", "stri", "beg", "sub", "reg", "bin", "len", "gt", "hex", "upper", "srcnet", "lvabs", "lvodd"}},
	} {
		ci.req = []byte(tc.data)
		for name, acls := range named {
			want := false
			for _, p := range tc.pass {
				want = want || p == name
			}
			got := false
			for _, a := range acls {
				got = got || a.exec(ci) == aclPass
			}
			if got != want {
				t.Errorf("%q: acl %s = %v, want %v", tc.data, name, got, want)
			}
		}
	}
	// Not final: what more data may change waits, as HAProxy, even where
	// more data could not make it match (req.len lt 3 with 3 bytes).
	ci.final = false
	ci.req = []byte("hel")
	for name, want := range map[string]int{"str": aclMiss, "beg": aclPass, "gt": aclMiss, "lt": aclMiss, "range": aclPass, "found": aclMiss, "srcnet": aclPass} {
		if got := named[name][0].exec(ci); got != want {
			t.Errorf("partial %q: acl %s = %d, want %d", ci.req, name, got, want)
		}
	}
	// In tcp-request connection rules, payload fetches never match.
	ci.conn, ci.final = true, true
	if got := named["lt"][0].exec(ci); got != aclFail {
		t.Errorf("req.len in a connection rule: %d, want fail", got)
	}
}

// TestHexOfAddressesAndPorts checks HAProxy's casts before a converter:
// hex takes an address's bytes and an integer's 8 big-endian bytes, the
// string converters their text (as haproxy logs %[src,hex] and
// %[src_port,hex], see the log-format differential test).
func TestHexOfAddressesAndPorts(t *testing.T) {
	named := parseACLs(t, ` acl srchex src,hex 7F000001
 acl src6hex src,hex 00000000000000000000000000000001
 acl porthex src_port,hex 0000000000001388
 acl portlower src_port,lower 5000
 acl srclower src,lower 127.0.0.1
`)
	for _, tc := range []struct {
		src  string
		pass []string
	}{
		{"127.0.0.1:5000", []string{"srchex", "porthex", "portlower", "srclower"}},
		{"[::1]:5000", []string{"src6hex", "porthex", "portlower"}},
	} {
		ci := &connInfo{src: netip.MustParseAddrPort(tc.src), final: true}
		for name, acls := range named {
			want := slices.Contains(tc.pass, name)
			if got := acls[0].exec(ci) == aclPass; got != want {
				t.Errorf("%s: acl %s = %v, want %v", tc.src, name, got, want)
			}
		}
	}
}

func TestPayloadOldNames(t *testing.T) {
	named := parseACLs(t, " acl old payload(0,2) 6865\n acl oldlv payload_lv(0,1) -m str ello\n")
	ci := &connInfo{final: true, req: []byte("he")}
	if named["old"][0].exec(ci) != aclPass {
		t.Error("payload(0,2) does not match")
	}
	ci.req = []byte("\x04ello")
	if named["oldlv"][0].exec(ci) != aclPass {
		t.Error("payload_lv(0,1) does not match")
	}
}
