package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"goproxy/parser"
)

// testIssuer is a CA of these tests and its key.
type testIssuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newIssuer(t *testing.T, cn string, serial int64) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testIssuer{cert: c, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ti *testIssuer) client(t *testing.T, serial int64) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ti.cert, key.Public(), ti.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (ti *testIssuer) crl(t *testing.T, revoked ...*tls.Certificate) []byte {
	t.Helper()
	tpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour)}
	for _, c := range revoked {
		leaf, _ := x509.ParseCertificate(c.Certificate[0])
		tpl.RevokedCertificateEntries = append(tpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: leaf.SerialNumber, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tpl, ti.cert, ti.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// TestCAFileCommit swaps a bind's ca-file and crl-file while handshakes
// run (under -race): each handshake verifies with the files of one
// generation, the next ones with the committed files.
func TestCAFileCommit(t *testing.T) {
	dir := t.TempDir()
	ca1, ca2 := newIssuer(t, "ca1", 1), newIssuer(t, "ca2", 2)
	c1, c2, c2r := ca1.client(t, 10), ca2.client(t, 20), ca2.client(t, 21)
	caPath, crlPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "crl.pem")
	if err := os.WriteFile(caPath, ca1.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(crlPath, append(ca1.crl(t), ca2.crl(t)...), 0o600); err != nil {
		t.Fatal(err)
	}
	cs := newCertStore(0)
	e := &certEntry{path: "srv"}
	e.cert.Store(selfSigned(t, "srv.test", "srv.test"))
	tb := &tlsBind{certs: []*certEntry{e}, filters: [][]string{nil}, files: []certFiles{{ca: caPath, crl: crlPath}}}
	tb.rebuild()
	s := &parser.BindSSL{CAFile: caPath, CRLFile: crlPath, Verify: "required"}
	tb.build = func(load caLoader) (*tlsLive, error) { return buildBindTLS(tb, s, "test", load) }
	live, err := tb.build(cs.caObjects)
	if err != nil {
		t.Fatal(err)
	}
	tb.live.Store(live)
	cs.binds = append(cs.binds, tb)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srvWG sync.WaitGroup
	defer func() {
		ln.Close()
		srvWG.Wait()
	}()
	srvWG.Add(1)
	go func() {
		defer srvWG.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			srvWG.Add(1)
			go func() {
				defer srvWG.Done()
				defer c.Close()
				tc := tls.Server(c, tb.live.Load().conf)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				if tc.Handshake() == nil {
					_, _ = tc.Write([]byte("ok"))
				}
			}()
		}
	}()
	accepted := func(cert *tls.Certificate) bool {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }})
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 2)
		_, err = c.Read(b)
		return err == nil && string(b) == "ok"
	}
	if !accepted(c1) || accepted(c2) {
		t.Fatal("before the commit: want ca1's client accepted, ca2's refused")
	}
	var wg sync.WaitGroup
	failed := make(chan struct{}, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			if !accepted(c1) {
				select {
				case failed <- struct{}{}:
				default:
				}
			}
		}
	}()
	if _, err := cs.SetCAFile(caPath, KindCA, append(ca1.pem, ca2.pem...)); err != nil {
		t.Fatal(err)
	}
	if n, err := cs.CommitCAFile(caPath, KindCA); err != nil || n != 1 {
		t.Fatalf("commit ca-file: %d, %v", n, err)
	}
	if _, err := cs.SetCAFile(crlPath, KindCRL, append(ca1.crl(t), ca2.crl(t, c2r)...)); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CommitCAFile(crlPath, KindCRL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case <-failed:
		t.Error("a handshake of ca1's client failed during the commits")
	default:
	}
	if !accepted(c2) || accepted(c2r) || !accepted(c1) {
		t.Errorf("after the commits: ca2's client %v, revoked %v, ca1's %v", accepted(c2), accepted(c2r), accepted(c1))
	}
	files, tx := cs.CAFiles(KindCA)
	if len(files) != 1 || files[0].Count != 2 || tx.Path != "" {
		t.Errorf("CAFiles: %v, transaction %v", files, tx)
	}
	if _, err := cs.CommitCAFile(caPath, KindCA); err == nil || err.Error() != "No ongoing transaction! !" {
		t.Errorf("commit without a transaction: %v", err)
	}
	if _, err := cs.SetCAFile(crlPath, KindCA, ca2.pem); err == nil {
		t.Error("a crl-file replaced as a ca-file")
	}
}

// FuzzParseCAObjects feeds the payload parser of set ssl ca-file and
// crl-file.
func FuzzParseCAObjects(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, recognized, err := parseCAObjects(data)
		if err == nil && len(objs) > 0 && !recognized {
			t.Error("objects from a text not recognized")
		}
		for _, o := range objs {
			if (o.Cert == nil) == (o.CRL == nil) {
				t.Error("an object is neither or both")
			}
		}
	})
}
