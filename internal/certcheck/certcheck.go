// Package certcheck verifies a peer's certificate chain as HAProxy's
// OpenSSL set-up does: against the CAs of a ca-file, the expected name, and,
// with a crl-file, the revocation lists of every certificate of the chain
// (OpenSSL's X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL, which HAProxy
// sets whenever a crl-file is configured). The TLS terminations and
// originations of proxy and the TLS health checks of health share it.
// VerifyClient verifies a client's chain error by error in OpenSSL's
// order and codes, for binds that ignore some errors (ca-ignore-err,
// crt-ignore-err).
//
// It is a leaf: it imports only the standard library.
package certcheck

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// OpenSSL's verification error codes (X509_V_ERR_*), the values of HAProxy's
// ssl_c_err and ssl_c_ca_err.
const (
	ErrUnableToGetCRL = 3
	ErrCRLSignature   = 8
	ErrCRLNotYetValid = 11
	ErrCRLHasExpired  = 12
	ErrCertRevoked    = 23
)

// textUnableToGetCRL is OpenSSL's text of ErrUnableToGetCRL.
const textUnableToGetCRL = "unable to get certificate CRL"

// Error is a revocation failure of the certificate at Depth of the chain
// (0: the peer's own certificate), with OpenSSL's code and text.
type Error struct {
	Depth int
	Code  int
	Text  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("certificate at depth %d: %s", e.Depth, e.Text)
}

// Revocation is what a crl-file holds: revocation lists, and certificates,
// which OpenSSL's store takes as trusted CAs beside those of the ca-file.
type Revocation struct {
	Lists []*x509.RevocationList
	Certs []*x509.Certificate
}

// errEmpty is OpenSSL's complaint about a file with neither.
var errEmpty = errors.New("no certificate or crl found")

// LoadFile reads a PEM crl-file. A file without any certificate or CRL is
// an error, as in HAProxy; other PEM blocks are skipped.
func LoadFile(path string) (*Revocation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse reads the PEM blocks of a crl-file.
func Parse(data []byte) (*Revocation, error) {
	r := &Revocation{}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "X509 CRL":
			l, err := ParseCRL(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("bad CRL: %w", err)
			}
			r.Lists = append(r.Lists, l)
		case "CERTIFICATE", "TRUSTED CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("bad certificate: %w", err)
			}
			r.Certs = append(r.Certs, c)
		}
	}
	if len(r.Lists) == 0 && len(r.Certs) == 0 {
		return nil, errEmpty
	}
	return r, nil
}

// AddCAs adds the crl-file's certificates to a CA pool.
func (r *Revocation) AddCAs(pool *x509.CertPool) {
	if r == nil {
		return
	}
	for _, c := range r.Certs {
		pool.AddCert(c)
	}
}

// CheckChain checks every certificate of chain (the peer's first, the
// trust anchor last) against the lists: each needs a valid list from its
// issuer (the anchor: from itself) that does not name it.
func (r *Revocation) CheckChain(chain []*x509.Certificate, now time.Time) error {
	if r == nil {
		return nil
	}
	for depth, c := range chain {
		issuer := c
		if depth+1 < len(chain) {
			issuer = chain[depth+1]
		}
		if err := r.checkOne(c, issuer, depth, now); err != nil {
			return err
		}
	}
	return nil
}

// checkOne checks c, issued by issuer, at depth.
func (r *Revocation) checkOne(c, issuer *x509.Certificate, depth int, now time.Time) error {
	var found *x509.RevocationList
	for _, l := range r.Lists {
		if !bytes.Equal(l.RawIssuer, c.RawIssuer) {
			continue
		}
		if l.CheckSignatureFrom(issuer) != nil {
			continue
		}
		found = l
		break
	}
	if found == nil {
		for _, l := range r.Lists {
			if bytes.Equal(l.RawIssuer, c.RawIssuer) {
				return &Error{Depth: depth, Code: ErrCRLSignature, Text: "CRL signature failure"}
			}
		}
		return &Error{Depth: depth, Code: ErrUnableToGetCRL, Text: textUnableToGetCRL}
	}
	if now.Before(found.ThisUpdate) {
		return &Error{Depth: depth, Code: ErrCRLNotYetValid, Text: "CRL is not yet valid"}
	}
	if !found.NextUpdate.IsZero() && now.After(found.NextUpdate) {
		return &Error{Depth: depth, Code: ErrCRLHasExpired, Text: "CRL has expired"}
	}
	for _, e := range found.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return &Error{Depth: depth, Code: ErrCertRevoked, Text: "certificate revoked"}
		}
	}
	return nil
}

// CheckChains accepts a peer when one of its verified chains passes
// CheckChain; otherwise it returns the first chain's failure.
func (r *Revocation) CheckChains(chains [][]*x509.Certificate, now time.Time) error {
	if r == nil {
		return nil
	}
	var first error
	for _, ch := range chains {
		err := r.CheckChain(ch, now)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = &Error{Depth: 0, Code: ErrUnableToGetCRL, Text: textUnableToGetCRL}
	}
	return first
}

// VerifyServer verifies a server's chain (peer: its certificate first, then
// the intermediates it sent) against roots and, when name is not empty,
// the name; then the lists when r is not nil.
func VerifyServer(peer []*x509.Certificate, roots *x509.CertPool, name string, r *Revocation, now time.Time) error {
	if len(peer) == 0 {
		return errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), DNSName: name, CurrentTime: now}
	for _, c := range peer[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := peer[0].Verify(opts)
	if err != nil {
		return err
	}
	return r.CheckChains(chains, now)
}
