package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"goproxy/parser"
)

// Certificates at run time: "set ssl cert <file>" opens a transaction on
// one certificate file with a new PEM payload, "commit ssl cert" puts it
// in place for the next handshakes of every bind using the file (the SNI
// indexes are rebuilt: the new certificate may carry other names), and
// "abort ssl cert" drops it. As in HAProxy, there is one transaction at a
// time. Established sessions are not touched.

// Certs returns the graph's certificate store.
func (g *Graph) Certs() *CertStore { return g.certs }

// CertDetail is what "show ssl cert <file>" shows of one certificate.
type CertDetail struct {
	Path  string
	Used  bool                // false for the certificate of a transaction
	Chain []*x509.Certificate // the leaf first
	// OCSPKey is the certificate ID its OCSP response is filed under,
	// nil without OCSP stapling.
	OCSPKey []byte
}

// CertError is a refused certificate operation, with HAProxy's text.
type CertError struct{ Msg string }

func (e *CertError) Error() string { return e.Msg }

func certErr(format string, args ...any) error { return &CertError{fmt.Sprintf(format, args...)} }

// Paths returns the certificate files in configuration order, and the
// file of the open transaction ("" when none).
func (cs *CertStore) Paths() (paths []string, tx string) {
	if cs == nil {
		return nil, ""
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]string(nil), cs.order...), cs.txPath
}

// Detail returns the certificate of path, or of the transaction on path
// when tx is set.
func (cs *CertStore) Detail(path string, tx bool) (CertDetail, bool) {
	if cs == nil {
		return CertDetail{}, false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var c *tls.Certificate
	if tx {
		if cs.txPath != path || cs.txCert == nil || len(cs.txCert.Certificate) == 0 {
			return CertDetail{}, false
		}
		c = cs.txCert
	} else {
		e := cs.byPath[path]
		if e == nil {
			return CertDetail{}, false
		}
		c = e.cert.Load()
	}
	d := CertDetail{Path: path, Used: !tx}
	if e := cs.byPath[path]; !tx && e != nil {
		if slot := e.ocsp.Load(); slot != nil {
			d.OCSPKey = slot.id
		}
	}
	for _, der := range c.Certificate {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			return CertDetail{}, false
		}
		d.Chain = append(d.Chain, x)
	}
	return d, len(d.Chain) > 0
}

// Set puts a PEM payload in the transaction of path, opening it when
// none is open; created reports which.
func (cs *CertStore) Set(path string, payload []byte) (created bool, err error) {
	if cs == nil {
		return false, certErr("Can't replace a certificate which is not referenced by the configuration!")
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.txPath != "" && cs.txPath != path {
		return false, certErr("The ongoing transaction is about '%s' but you are trying to set '%s'", cs.txPath, path)
	}
	if cs.byPath[path] == nil {
		return false, certErr("Can't replace a certificate which is not referenced by the configuration!")
	}
	var certs [][]byte
	var keyPEM []byte
	for rest := payload; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			certs = append(certs, b.Bytes)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			keyPEM = pem.EncodeToMemory(b)
		}
	}
	if len(certs) == 0 && keyPEM == nil {
		return false, certErr("unable to load certificate from file '%s'.\nCan't load the payload", path)
	}
	created = cs.txPath == ""
	if created {
		cs.txPath, cs.txCert, cs.txBytes = path, &tls.Certificate{}, nil
	}
	if len(certs) > 0 {
		cs.txCert.Certificate = certs
	}
	if keyPEM != nil {
		cs.txBytes = keyPEM
	}
	return created, nil
}

// Commit puts the transaction's certificate in place for path.
func (cs *CertStore) Commit(path string) error {
	if cs == nil {
		return certErr("No ongoing transaction! !")
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch {
	case cs.txPath == "":
		return certErr("No ongoing transaction! !")
	case cs.txPath != path:
		return certErr("The ongoing transaction is about '%s' but you are trying to set '%s'", cs.txPath, path)
	case len(cs.txCert.Certificate) == 0 || cs.txBytes == nil:
		return certErr("The transaction must contain at least a certificate and a private key!")
	}
	var chain []byte
	for _, der := range cs.txCert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	c, err := parser.ParseCertPEM(path, chain, cs.txBytes)
	if err != nil {
		return err
	}
	cs.byPath[path].cert.Store(c)
	cs.byPath[path].ocsp.Store(nil) // as HAProxy: the new certificate has no .ocsp
	for _, tb := range cs.binds {
		tb.rebuild()
	}
	cs.txPath, cs.txCert, cs.txBytes = "", nil, nil
	return nil
}

// Abort drops the transaction on path.
func (cs *CertStore) Abort(path string) error {
	if cs == nil {
		return certErr("No ongoing transaction!")
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.txPath == "" || cs.txPath != path {
		return certErr("No ongoing transaction!")
	}
	cs.txPath, cs.txCert, cs.txBytes = "", nil, nil
	return nil
}
