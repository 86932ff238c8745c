package proxy

import (
	"crypto/x509"
	"fmt"
	"time"

	"goproxy/internal/certcheck"
	"goproxy/parser"
)

// clientVerifier verifies client certificates of a bind with ca-ignore-err
// or crt-ignore-err as HAProxy's OpenSSL set-up does: every verification
// error is offered to the ignore lists with its depth, and the first one
// not ignored ends the handshake.
type clientVerifier struct {
	roots               []*x509.Certificate
	rev                 *certcheck.Revocation
	caIgnore, crtIgnore parser.IgnoreErr
}

func newClientVerifier(set tlsSettings, at string) (*clientVerifier, error) {
	v := &clientVerifier{caIgnore: set.caIgnore, crtIgnore: set.crtIgnore}
	if set.caFile != "" {
		objs, err := set.load(set.caFile, KindCA)
		if err != nil {
			return nil, fmt.Errorf("%s : 'ca-file' : unable to load %s", at, set.caFile)
		}
		v.roots = certsOf(objs)
	}
	if set.crlFile != "" {
		objs, err := set.load(set.crlFile, KindCRL)
		if err != nil {
			return nil, fmt.Errorf("%s : 'crl-file' : unable to load %s (%v)", at, set.crlFile, err)
		}
		rev := revocationOf(objs)
		v.rev = rev
		v.roots = append(v.roots, rev.Certs...) // trusted beside the ca-file's, as in OpenSSL's store
	}
	return v, nil
}

// pool is the roots, whose names the server sends in its certificate
// request.
func (v *clientVerifier) pool() *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range v.roots {
		p.AddCert(c)
	}
	return p
}

func (v *clientVerifier) ignored(depth, code int) bool {
	if depth > 0 {
		return v.caIgnore.Has(code)
	}
	return v.crtIgnore.Has(code)
}

// verifyPeer is the handshake's check of the client's certificates.
func (v *clientVerifier) verifyPeer(raw [][]byte, _ [][]*x509.Certificate) error {
	if len(raw) == 0 {
		return nil // verify optional without a certificate
	}
	peer, err := parsePeer(raw)
	if err != nil {
		return err
	}
	_, err = certcheck.VerifyClient(peer, v.roots, v.rev, time.Now(), v.ignored)
	return err
}

// result is what the verification of a handshake that succeeded left for
// the fetches: every error on the way was ignored, so verifying again
// with all ignored meets the same ones.
func (v *clientVerifier) result(peer []*x509.Certificate) certcheck.ClientResult {
	res, _ := certcheck.VerifyClient(peer, v.roots, v.rev, time.Now(), func(int, int) bool { return true })
	return res
}

func parsePeer(raw [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(raw))
	for _, der := range raw {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}
