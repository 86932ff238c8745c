package proxy

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"goproxy/parser"
)

func ppHeader(t *testing.T, opts parser.PPv2Options, pp *ppInfo) []byte {
	t.Helper()
	src, dst := netip.MustParseAddrPort("10.1.2.3:4000"), netip.MustParseAddrPort("10.0.0.1:80")
	return appendTLVs(appendProxyV2(nil, src, dst), 0, opts, pp, nil, nil)
}

// TestProxyTLVs writes TLVs as proxy-v2-options do and reads them back as
// accept-proxy does: the authority relayed, the checksum verified, bad
// lists rejected as HAProxy rejects them.
func TestProxyTLVs(t *testing.T) {
	h := ppHeader(t, parser.PPv2Options{CRC32C: true, Authority: true}, &ppInfo{authority: []byte("acct.example")})
	got, ok, err := parseProxyHeader(append(h, "data"...))
	if err != nil || !ok || got.size != len(h) || string(got.authority) != "acct.example" || got.src.String() != "10.1.2.3:4000" {
		t.Fatalf("parse: %+v %v %v", got, ok, err)
	}
	// HAProxy's CRC32C is the Castagnoli CRC of the header with the field zeroed.
	if !bytes.Contains(h, []byte{pp2TypeCRC32C, 0, 4}) {
		t.Fatalf("no CRC32C TLV in %x", h)
	}
	for i := 16 + 12; i < len(h); i++ {
		bad := bytes.Clone(h)
		bad[i] ^= 0x40
		if _, ok, err := parseProxyHeader(bad); err == nil && ok {
			// A flipped TLV type byte may turn the checksum into a TLV
			// skipped; any other change must fail the checksum.
			if h[i] != pp2TypeCRC32C {
				t.Errorf("byte %d flipped: header still accepted", i)
			}
		}
	}
	if _, ok, _ := parseProxyHeader(ppHeader(t, parser.PPv2Options{Authority: true}, nil)); !ok {
		t.Error("no authority to relay: the header is still valid")
	}
	withTLV := func(typ byte, v []byte) []byte {
		h := appendProxyV2(nil, netip.MustParseAddrPort("10.1.2.3:4000"), netip.MustParseAddrPort("10.0.0.1:80"))
		h = appendTLV(h, typ, v)
		h[14], h[15] = byte((len(h)-16)>>8), byte(len(h)-16)
		return h
	}
	cases := []struct {
		name string
		h    []byte
		ok   bool
		uid  string
	}{
		{"unique id", withTLV(pp2TypeUniqueID, []byte("id-42")), true, "id-42"},
		{"unique id too long", withTLV(pp2TypeUniqueID, bytes.Repeat([]byte("u"), 129)), false, ""},
		{"authority too long", withTLV(pp2TypeAuthority, bytes.Repeat([]byte("a"), 256)), false, ""},
		{"crc of 3 bytes", withTLV(pp2TypeCRC32C, []byte{1, 2, 3}), false, ""},
		{"unknown TLV skipped", withTLV(0xE0, []byte("x")), true, ""},
	}
	for _, tc := range cases {
		got, ok, err := parseProxyHeader(tc.h)
		if ok != tc.ok || (err == nil) != tc.ok || string(got.uniqueID) != tc.uid {
			t.Errorf("%s: %+v %v %v", tc.name, got, ok, err)
		}
	}
	// A TLV running past the header.
	h = withTLV(pp2TypeAuthority, []byte("abc"))
	h[len(h)-4]++
	if _, ok, err := parseProxyHeader(h); ok || err == nil {
		t.Error("a TLV past the end was accepted")
	}
	if !strings.HasPrefix(string(h[:12]), string(proxyV2Sig[:])) {
		t.Fatal("signature")
	}
}

// FuzzProxyV2 parses arbitrary PROXY headers: no panic; what is accepted
// lies within the input and within HAProxy's bounds.
func FuzzProxyV2(f *testing.F) {
	src, dst := netip.MustParseAddrPort("10.1.2.3:4000"), netip.MustParseAddrPort("[2001:db8::1]:80")
	f.Add(appendTLVs(appendProxyV2(nil, src, netip.MustParseAddrPort("10.0.0.1:80")), 0, parser.PPv2Options{CRC32C: true, Authority: true}, &ppInfo{authority: []byte("a.example")}, nil, nil))
	f.Add(appendProxyV2(nil, netip.MustParseAddrPort("[::1]:1"), dst))
	f.Add([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok, err := parseProxyHeader(b)
		if !ok || err != nil {
			return
		}
		if h.size > len(b) || len(h.authority) > pp2AuthorityMax || len(h.uniqueID) > pp2UniqueIDMax {
			t.Fatalf("accepted %+v from %d bytes", h, len(b))
		}
	})
}
