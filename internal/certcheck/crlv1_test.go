package certcheck

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// crlV1 returns a PEM version 1 CRL (no version field, no extensions), as
// OpenSSL writes one for a CRL without extensions, signed by key.
func crlV1(t *testing.T, issuer *x509.Certificate, key *ecdsa.PrivateKey, thisUpdate time.Time, revoked ...*x509.Certificate) []byte {
	t.Helper()
	alg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}} // ecdsa-with-SHA256
	type revokedCert struct {
		Serial *big.Int
		When   time.Time
	}
	var list []revokedCert
	for _, c := range revoked {
		list = append(list, revokedCert{c.SerialNumber, thisUpdate.UTC()})
	}
	tbs, err := asn1.Marshal(struct {
		Alg        pkix.AlgorithmIdentifier
		Issuer     asn1.RawValue
		ThisUpdate time.Time
		NextUpdate time.Time
		Revoked    []revokedCert `asn1:"optional"`
	}{alg, asn1.RawValue{FullBytes: issuer.RawSubject}, thisUpdate.UTC(), thisUpdate.Add(24 * time.Hour).UTC(), list})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, alg, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// TestVersion1CRL reads a version 1 CRL, which crypto/x509 refuses alone:
// its entries count, its signature checks over the issuer's bytes, and a
// revoked certificate is refused as with a version 2 list.
func TestVersion1CRL(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	v1 := crlV1(t, p.inter, p.interKey, now.Add(-time.Minute), p.other)
	b, _ := pem.Decode(v1)
	if _, err := x509.ParseRevocationList(b.Bytes); err == nil {
		t.Fatal("crypto/x509 parses version 1 CRLs now: ParseCRL's fallback is dead code")
	}
	l, err := ParseCRL(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.RevokedCertificateEntries) != 1 || l.RevokedCertificateEntries[0].SerialNumber.Cmp(p.other.SerialNumber) != 0 {
		t.Fatalf("entries %+v", l.RevokedCertificateEntries)
	}
	if err := l.CheckSignatureFrom(p.inter); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := l.CheckSignatureFrom(p.root); err == nil {
		t.Fatal("signature checked against the wrong issuer")
	}
	both := append(crl(t, p.root, p.rootKey, now.Add(-time.Minute)), v1...)
	r, err := Parse(both)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "good leaf, version 1 list", r.CheckChain([]*x509.Certificate{p.leaf, p.inter, p.root}, now), 0, 0)
	wantCode(t, "revoked leaf, version 1 list", r.CheckChain([]*x509.Certificate{p.other, p.inter, p.root}, now), 0, ErrCertRevoked)
	// A damaged signature is still refused.
	bad := append([]byte{}, b.Bytes...)
	bad[len(bad)-1] ^= 0xff
	if l, err := ParseCRL(bad); err == nil && l.CheckSignatureFrom(p.inter) == nil {
		t.Fatal("a damaged version 1 CRL verified")
	}
}
