package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// Test certificates, generated with crypto/x509 into the test's temporary
// directory: a CA, and certificates it issues (server or client, ECDSA
// P-256 or RSA 2048, valid or expired).

// testCA is a certificate authority of a test.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	file string // its certificate, PEM
	pool *x509.CertPool
}

// certSerial numbers the test certificates; parallel tests issue them.
var certSerial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(1001 + certSerial.Add(1)) }

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name, Organization: []string{"goproxy tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(dir, name+".pem")
	writePEM(t, file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, file: file, pool: pool}
}

// certOpts describe a certificate to issue.
type certOpts struct {
	cn      string
	dns     []string
	client  bool
	rsa     bool
	expired bool
}

// issue writes a PEM file with the certificate and its key and returns
// its path and the certificate for Go clients and servers.
func (ca *testCA) issue(t *testing.T, dir, file string, o certOpts) (string, tls.Certificate) {
	t.Helper()
	var key crypto.Signer
	var err error
	if o.rsa {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	nb, na := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if o.expired {
		nb, na = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	usage := x509.ExtKeyUsageServerAuth
	if o.client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: o.cn, Organization: []string{"goproxy tests"}},
		DNSNames: o.dns, NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	path := filepath.Join(dir, file)
	writePEM(t, path, append(certPEM, keyPEM...))
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return path, pair
}

// crl writes a revocation list of ca naming revoked (valid for a day from
// an hour ago) and returns its path.
func (ca *testCA) crl(t *testing.T, dir, file string, revoked ...*x509.Certificate) string {
	t.Helper()
	tpl := &x509.RevocationList{Number: nextSerial(), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(23 * time.Hour)}
	for _, c := range revoked {
		tpl.RevokedCertificateEntries = append(tpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	writePEM(t, path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
	return path
}

func writePEM(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsDial connects to addr with Go's TLS client and returns the
// connection and the common name of the certificate it was served, or
// the handshake's error.
func tlsDial(addr string, conf *tls.Config) (*tls.Conn, string, error) {
	d := &net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	c, err := tls.DialWithDialer(d, "tcp", addr, conf)
	if err != nil {
		return nil, "", err
	}
	cs := c.ConnectionState()
	return c, cs.PeerCertificates[0].Subject.CommonName, nil
}

// tlsEchoServer is a TLS server that sends its name (unless empty) then
// echoes, and half-closes after the client's end; it records the SNI it
// was asked for.
type tlsEchoServer struct {
	ln   net.Listener
	snis chan string
}

func startTLSEchoServer(t *testing.T, name string, cert tls.Certificate, clientCAs *x509.CertPool) *tlsEchoServer {
	t.Helper()
	conf := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		conf.ClientCAs, conf.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	s := &tlsEchoServer{snis: make(chan string, 16)}
	conf.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		select {
		case s.snis <- h.ServerName:
		default:
		}
		return nil, nil
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				if name != "" {
					if _, err := c.Write([]byte(name + "\n")); err != nil {
						return
					}
				}
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						if tc, ok := c.(*tls.Conn); ok {
							_ = tc.CloseWrite()
						}
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return s
}

func (s *tlsEchoServer) addr() string { return s.ln.Addr().String() }
