package certcheck

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"
)

// pki is a root, an intermediate and two leaves under it, and one leaf
// directly under the root.
type pki struct {
	root, inter, leaf, other, direct *x509.Certificate
	rootKey, interKey                *ecdsa.PrivateKey
}

var serial int64

func mkCert(t *testing.T, cn string, ca bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: ca, BasicConstraintsValid: true, DNSNames: []string{cn},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func newPKI(t *testing.T) *pki {
	p := &pki{}
	p.root, p.rootKey = mkCert(t, "root", true, nil, nil)
	p.inter, p.interKey = mkCert(t, "inter", true, p.root, p.rootKey)
	p.leaf, _ = mkCert(t, "leaf.test", false, p.inter, p.interKey)
	p.other, _ = mkCert(t, "other.test", false, p.inter, p.interKey)
	p.direct, _ = mkCert(t, "direct.test", false, p.root, p.rootKey)
	return p
}

// crl returns a PEM CRL by issuer, naming revoked, valid from thisUpdate
// for a day.
func crl(t *testing.T, issuer *x509.Certificate, key *ecdsa.PrivateKey, thisUpdate time.Time, revoked ...*x509.Certificate) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: thisUpdate, NextUpdate: thisUpdate.Add(24 * time.Hour)}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: thisUpdate})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

func wantCode(t *testing.T, what string, err error, depth, code int) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Errorf("%s: %v, want accepted", what, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Depth != depth || e.Code != code {
		t.Errorf("%s: %v, want code %d at depth %d", what, err, code, depth)
	}
}

func TestCheckChain(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	rootCRL := crl(t, p.root, p.rootKey, now.Add(-time.Minute))
	interCRL := crl(t, p.inter, p.interKey, now.Add(-time.Minute), p.other)
	both := append(append([]byte{}, rootCRL...), interCRL...)
	long := []*x509.Certificate{p.leaf, p.inter, p.root}
	revokedChain := []*x509.Certificate{p.other, p.inter, p.root}
	short := []*x509.Certificate{p.direct, p.root}
	parse := func(b []byte) *Revocation {
		r, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	wantCode(t, "root's list, leaf under the root", parse(rootCRL).CheckChain(short, now), 0, 0)
	wantCode(t, "both lists, leaf under the intermediate", parse(both).CheckChain(long, now), 0, 0)
	wantCode(t, "revoked leaf", parse(both).CheckChain(revokedChain, now), 0, ErrCertRevoked)
	wantCode(t, "no list from the intermediate", parse(rootCRL).CheckChain(long, now), 0, ErrUnableToGetCRL)
	wantCode(t, "no list from the root (CRL_CHECK_ALL)", parse(interCRL).CheckChain(long, now), 1, ErrUnableToGetCRL)
	wantCode(t, "expired list", parse(crl(t, p.root, p.rootKey, now.Add(-48*time.Hour))).CheckChain(short, now), 0, ErrCRLHasExpired)
	wantCode(t, "list not yet valid", parse(crl(t, p.root, p.rootKey, now.Add(time.Hour))).CheckChain(short, now), 0, ErrCRLNotYetValid)
	// A list that names the root as issuer but is signed by another key.
	fake, fakeKey := mkCert(t, "root", true, nil, nil)
	_ = fake
	forged := crl(t, &x509.Certificate{RawSubject: p.root.RawSubject, SubjectKeyId: []byte{1}, PublicKey: &fakeKey.PublicKey,
		KeyUsage: x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true}, fakeKey, now.Add(-time.Minute))
	wantCode(t, "list with a bad signature", parse(forged).CheckChain(short, now), 0, ErrCRLSignature)
	var nilRev *Revocation
	wantCode(t, "no crl-file", nilRev.CheckChain(long, now), 0, 0)
}

func TestVerifyServer(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	roots := x509.NewCertPool()
	roots.AddCert(p.root)
	r, err := Parse(append(crl(t, p.root, p.rootKey, now.Add(-time.Minute)), crl(t, p.inter, p.interKey, now.Add(-time.Minute), p.other)...))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyServer([]*x509.Certificate{p.leaf, p.inter}, roots, "leaf.test", r, now); err != nil {
		t.Errorf("good chain: %v", err)
	}
	if err := VerifyServer([]*x509.Certificate{p.leaf, p.inter}, roots, "", nil, now); err != nil {
		t.Errorf("no name, no lists: %v", err)
	}
	if err := VerifyServer([]*x509.Certificate{p.leaf, p.inter}, roots, "wrong.test", r, now); err == nil {
		t.Error("a wrong name was accepted")
	}
	wantCode(t, "revoked server", VerifyServer([]*x509.Certificate{p.other, p.inter}, roots, "other.test", r, now), 0, ErrCertRevoked)
	if err := VerifyServer([]*x509.Certificate{p.leaf}, roots, "leaf.test", r, now); err == nil {
		t.Error("a chain missing its intermediate was accepted")
	}
}

func TestParse(t *testing.T) {
	p := newPKI(t)
	if _, err := Parse([]byte("nothing here")); err == nil || err.Error() != "no certificate or crl found" {
		t.Errorf("empty file: %v", err)
	}
	certOnly := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw})
	r, err := Parse(certOnly)
	if err != nil || len(r.Certs) != 1 || len(r.Lists) != 0 {
		t.Fatalf("a certificate alone: %v", err)
	}
	pool := x509.NewCertPool()
	r.AddCAs(pool)
	if _, err := p.direct.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Errorf("a crl-file's certificate is not trusted: %v", err)
	}
	if _, err := Parse(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1, 2, 3}})); err == nil {
		t.Error("a broken CRL was accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("-----BEGIN X509 CRL-----\nMIGpMFECAQEwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHVGVzdCBDQRcNMjYxMjA0\n-----END X509 CRL-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err == nil && len(r.Lists) == 0 && len(r.Certs) == 0 {
			t.Fatal("accepted a file with nothing in it")
		}
		if err == nil {
			_ = r.CheckChain(nil, time.Now())
		}
	})
}
