package ocspresp

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

// testdata/resp.der was made by `openssl ocsp` for testdata/leaf.crt
// (serial 0x1234) under testdata/ca.pem, valid from 2026-12-04 18:12:45 to
// the next day; haproxy 2.6 filed it under the key below.
const haproxyKey = "303b300906052b0e03021a05000414bf7052c8b9c0f760c89123e099815eb2c03942260414d0ee36e35fe2d967a35d6478e9ff4ee43acc93f202021234"

var fixtureThis = time.Date(2026, 12, 4, 18, 12, 45, 0, time.UTC)

func readCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/resp.der")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCertIDIsHAProxyKey(t *testing.T) {
	leaf, ca := readCert(t, "leaf.crt"), readCert(t, "ca.pem")
	if !IssuedBy(leaf, ca) || IssuedBy(ca, leaf) {
		t.Fatal("IssuedBy: the CA issued the leaf, not the other way round")
	}
	id, err := CertID(leaf, ca)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(id); got != haproxyKey {
		t.Fatalf("certificate ID\n%s\nwant haproxy's\n%s", got, haproxyKey)
	}
	f, err := ParseCertID(id)
	if err != nil || f.Serial.Int64() != 0x1234 || len(f.NameHash) != 20 || len(f.KeyHash) != 20 {
		t.Fatalf("ParseCertID: %+v, %v", f, err)
	}
}

func TestParseOpenSSLResponse(t *testing.T) {
	leaf, ca := readCert(t, "leaf.crt"), readCert(t, "ca.pem")
	id, _ := CertID(leaf, ca)
	der := fixture(t)
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{fixtureThis, ""},
		{fixtureThis.Add(-4 * time.Minute), ""}, // within the skew
		{fixtureThis.Add(-6 * time.Minute), "OCSP single response: no longer valid."},
		{fixtureThis.Add(24*time.Hour + 4*time.Minute), ""},
		{fixtureThis.Add(24*time.Hour + 6*time.Minute), "OCSP single response: no longer valid."},
	} {
		r, err := Parse(der, tc.now)
		if tc.want != "" {
			if err == nil || err.Error() != tc.want {
				t.Errorf("at %v: %v, want %q", tc.now, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("at %v: %v", tc.now, err)
		}
		if r.Status != Good || !SameCert(r.CertID, id) || !r.ThisUpdate.Equal(fixtureThis) {
			t.Fatalf("at %v: %+v", tc.now, r)
		}
		if want := fixtureThis.Add(24*time.Hour - MaxSkew); !r.Expire().Equal(want) {
			t.Fatalf("expire %v, want %v", r.Expire(), want)
		}
	}
}

// build encodes a response with the given single responses.
func build(t *testing.T, status int, typ asn1.ObjectIdentifier, singles ...singleResponse) []byte {
	t.Helper()
	var raws []asn1.RawValue
	for _, s := range singles {
		b, err := asn1.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, asn1.RawValue{FullBytes: b})
	}
	basic := basicResponse{
		TBS: responseData{ResponderID: asn1.RawValue{Class: 2, Tag: 2, IsCompound: true, Bytes: []byte{4, 0}},
			ProducedAt: fixtureThis, Responses: raws},
		SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA1},
		Signature:          asn1.BitString{Bytes: []byte{1}, BitLength: 8},
	}
	bb, err := asn1.Marshal(basic)
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(responseASN1{Status: asn1.Enumerated(status), Bytes: responseBytes{Type: typ, Response: bb}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseErrors(t *testing.T) {
	id := certID{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue},
		NameHash: make([]byte, 20), IssuerKeyHash: make([]byte, 20), SerialNumber: big.NewInt(7)}
	good := singleResponse{CertID: id, Good: true, ThisUpdate: fixtureThis, NextUpdate: fixtureThis.Add(time.Hour)}
	unknown := good
	unknown.Good, unknown.Unknown = false, true
	revoked := good
	revoked.Good, revoked.Revoked = false, revokedInfo{RevocationTime: fixtureThis.Add(-time.Hour)}
	noNext := good
	noNext.NextUpdate = time.Time{}
	backwards := good
	backwards.NextUpdate = fixtureThis.Add(-time.Minute)
	for name, tc := range map[string]struct {
		der  []byte
		want string
	}{
		"good":       {build(t, 0, oidBasic, good), ""},
		"revoked":    {build(t, 0, oidBasic, revoked), ""},
		"garbage":    {[]byte("not DER at all"), "Unable to parse OCSP response"},
		"trailing":   {append(build(t, 0, oidBasic, good), 0), "Unable to parse OCSP response"},
		"unsigned":   {build(t, 6, oidBasic, good), "OCSP response status not successful"},
		"not basic":  {build(t, 0, oidSHA1, good), "Failed to get basic response from OCSP Response"},
		"two":        {build(t, 0, oidBasic, good, good), "OCSP response ignored because contains multiple single responses (2)"},
		"none":       {build(t, 0, oidBasic), "Failed to get OCSP single response"},
		"unknown":    {build(t, 0, oidBasic, unknown), "OCSP single response: certificate status is unknown"},
		"no next":    {build(t, 0, oidBasic, noNext), "OCSP single response: missing nextupdate"},
		"backwards":  {build(t, 0, oidBasic, backwards), "OCSP single response: no longer valid."},
		"empty":      {nil, "Unable to parse OCSP response"},
		"just a seq": {[]byte{0x30, 0x00}, "Unable to parse OCSP response"},
	} {
		r, err := Parse(tc.der, fixtureThis)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		case tc.want == "" && name == "revoked" && r.Status != Revoked:
			t.Errorf("revoked: status %d", r.Status)
		}
	}
}

func TestSameCert(t *testing.T) {
	leaf, ca := readCert(t, "leaf.crt"), readCert(t, "ca.pem")
	id, _ := CertID(leaf, ca)
	other := *leaf
	other.SerialNumber = big.NewInt(0x1235)
	id2, _ := CertID(&other, ca)
	if !SameCert(id, id) || SameCert(id, id2) || SameCert(id, []byte("x")) {
		t.Fatal("SameCert: an ID is itself and not another serial's")
	}
}

// FuzzParse: no input makes Parse panic, and what it accepts has a
// certificate ID that ParseCertID reads.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/resp.der"); err == nil {
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := Parse(der, fixtureThis)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error")
			}
			return
		}
		if _, err := ParseCertID(r.CertID); err != nil {
			t.Fatalf("accepted a response whose certificate ID does not parse: %v", err)
		}
	})
}
