package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

func TestVersionRange(t *testing.T) {
	for _, tc := range []struct {
		lo, hi      uint16
		no          []uint16
		wantLo, hi2 uint16
	}{
		{tls.VersionTLS12, 0, nil, tls.VersionTLS12, tls.VersionTLS13},
		{tls.VersionTLS10, 0, []uint16{tls.VersionTLS10, tls.VersionTLS11}, tls.VersionTLS12, tls.VersionTLS13},
		{tls.VersionTLS12, 0, []uint16{tls.VersionTLS13}, tls.VersionTLS12, tls.VersionTLS12},
		{tls.VersionTLS12, tls.VersionTLS12, nil, tls.VersionTLS12, tls.VersionTLS12},
		{tls.VersionTLS10, 0, []uint16{tls.VersionTLS12}, tls.VersionTLS10, tls.VersionTLS11},
	} {
		no := map[uint16]bool{}
		for _, v := range tc.no {
			no[v] = true
		}
		lo, hi := versionRange(tc.lo, tc.hi, no)
		if lo != tc.wantLo || hi != tc.hi2 {
			t.Errorf("versionRange(%x, %x, %v) = %x, %x; want %x, %x", tc.lo, tc.hi, tc.no, lo, hi, tc.wantLo, tc.hi2)
		}
	}
}

func selfSigned(t *testing.T, cn string, dns ...string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func TestSNIPick(t *testing.T) {
	a, w, b := selfSigned(t, "a.test", "a.test"), selfSigned(t, "wild", "*.w.test"), selfSigned(t, "b.test")
	entries := []*certEntry{{path: "a"}, {path: "w"}, {path: "b"}}
	for i, c := range []*tls.Certificate{a, w, b} {
		entries[i].cert.Store(c)
	}
	tb := &tlsBind{certs: entries, filters: [][]string{nil, nil, {"c.test", "!x.c.test"}}}
	tb.rebuild()
	hello := func(name string) *tls.ClientHelloInfo {
		return &tls.ClientHelloInfo{ServerName: name, SupportedVersions: []uint16{tls.VersionTLS13},
			SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}, SupportedCurves: []tls.CurveID{tls.CurveP256}}
	}
	for name, want := range map[string]*tls.Certificate{
		"a.test": a, "A.TEST.": a, "q.w.test": w, "w.test": a, "x.q.w.test": a, "c.test": b, "b.test": a, "": a,
	} {
		got, err := tb.pick(hello(name))
		if err != nil || got != want {
			t.Errorf("SNI %q: got %v (err %v), want %s", name, got.Leaf.Subject.CommonName, err, want.Leaf.Subject.CommonName)
		}
	}
	tb.strict = true
	// No certificate and no error: crypto/tls then sends unrecognized_name.
	if c, err := tb.pick(hello("none.test")); c != nil || err != nil {
		t.Errorf("strict-sni on an unknown name: %v, %v; want no certificate and no error", c, err)
	}
	// A renewed certificate with other names changes the index.
	entries[2].cert.Store(selfSigned(t, "b2", "new.test"))
	tb.filters[2] = nil
	tb.rebuild()
	if got, err := tb.pick(hello("new.test")); err != nil || got.Leaf.Subject.CommonName != "b2" {
		t.Errorf("after renewal: %v %v", got, err)
	}
}
