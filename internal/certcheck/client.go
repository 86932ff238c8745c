package certcheck

import (
	"bytes"
	"crypto/x509"
	"errors"
	"time"
)

// More of OpenSSL's verification error codes, those VerifyClient reports.
const (
	ErrUnableToGetIssuer       = 2
	ErrCertNotYetValid         = 9
	ErrCertHasExpired          = 10
	ErrDepthZeroSelfSigned     = 18
	ErrSelfSignedInChain       = 19
	ErrUnableToGetIssuerLocal  = 20
	ErrUnableToVerifyLeafSig   = 21
	ErrInvalidCA               = 79
	ErrPathLengthExceeded      = 25
	ErrInvalidPurpose          = 26
	ErrUnhandledCriticalExtens = 34
)

// errText is OpenSSL's text of a code (X509_verify_cert_error_string).
var errText = map[int]string{
	ErrUnableToGetCRL:          textUnableToGetCRL,
	ErrCRLSignature:            "CRL signature failure",
	ErrCertNotYetValid:         "certificate is not yet valid",
	ErrCertHasExpired:          "certificate has expired",
	ErrCRLNotYetValid:          "CRL is not yet valid",
	ErrCRLHasExpired:           "CRL has expired",
	ErrDepthZeroSelfSigned:     "self-signed certificate",
	ErrSelfSignedInChain:       "self-signed certificate in certificate chain",
	ErrUnableToGetIssuerLocal:  "unable to get local issuer certificate",
	ErrUnableToVerifyLeafSig:   "unable to verify the first certificate",
	ErrUnableToGetIssuer:       "unable to get issuer certificate",
	ErrCertRevoked:             "certificate revoked",
	ErrInvalidCA:               "invalid CA certificate",
	ErrPathLengthExceeded:      "path length constraint exceeded",
	ErrInvalidPurpose:          "unsupported certificate purpose",
	ErrUnhandledCriticalExtens: "unhandled critical extension",
}

// ClientResult is what a client chain's verification leaves for HAProxy's
// fetches: ssl_c_verify (the last error, ignored or not), ssl_c_err (the
// first error at depth 0), ssl_c_ca_err and ssl_c_ca_err_depth (the first
// error above it).
type ClientResult struct {
	Last, CrtErr, CAErr, CAErrDepth int
}

// VerifyClient verifies a client's chain (peer: its certificate first, then
// the intermediates it sent) as OpenSSL's X509_verify_cert does for a
// HAProxy bind: the chain is built from the trusted roots first, then the
// peer's certificates; then the CA and purpose (SSL client) extensions are
// checked, then the revocation lists of r when it is not nil, then every
// certificate's validity from the top down. Each error is offered to
// ignore with its depth and code, as HAProxy's verify callback sees it
// (ca-ignore-err, crt-ignore-err); the first one not ignored is returned
// as an *Error and ends the verification.
func VerifyClient(peer []*x509.Certificate, roots []*x509.Certificate, r *Revocation, now time.Time, ignore func(depth, code int) bool) (ClientResult, error) {
	var res ClientResult
	report := func(depth, code int) error {
		res.Last = code
		if depth == 0 && res.CrtErr == 0 {
			res.CrtErr = code
		}
		if depth > 0 && res.CAErr == 0 {
			res.CAErr, res.CAErrDepth = code, depth
		}
		if ignore != nil && ignore(depth, code) {
			return nil
		}
		return &Error{Depth: depth, Code: code, Text: errText[code]}
	}
	if len(peer) == 0 {
		return res, nil
	}
	chain, code := buildChain(peer, roots)
	top := len(chain) - 1
	trusted := code == 0
	if !trusted {
		if err := report(top, code); err != nil {
			return res, err
		}
	}
	// check_extensions: leaf first.
	plen := 0
	for i, c := range chain {
		anchor := trusted && i == top
		if len(c.UnhandledCriticalExtensions) > 0 {
			if err := report(i, ErrUnhandledCriticalExtens); err != nil {
				return res, err
			}
		}
		if i > 0 && !(c.BasicConstraintsValid && c.IsCA) {
			if err := report(i, ErrInvalidCA); err != nil {
				return res, err
			}
		}
		if !anchor && !clientPurpose(c, i > 0) {
			if err := report(i, ErrInvalidPurpose); err != nil {
				return res, err
			}
		}
		if i > 1 && c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) && plen > c.MaxPathLen {
			if err := report(i, ErrPathLengthExceeded); err != nil {
				return res, err
			}
		}
		if !selfIssued(c) {
			plen++
		}
	}
	if r != nil {
		for depth, c := range chain {
			issuer := c
			if depth < top {
				issuer = chain[depth+1]
			}
			if e := r.checkOne(c, issuer, depth, now); e != nil {
				var ce *Error
				if errors.As(e, &ce) {
					if err := report(ce.Depth, ce.Code); err != nil {
						return res, err
					}
				}
			}
		}
	}
	// internal_verify: validity from the top down (signatures were
	// checked while building the chain). A top that is not self-issued
	// has no issuer to check it with: OpenSSL skips it, or, alone,
	// reports that the leaf's signature cannot be verified.
	n := top
	if !selfIssued(chain[top]) {
		if n > 0 {
			n--
		} else if err := report(0, ErrUnableToVerifyLeafSig); err != nil {
			return res, err
		}
	}
	for i := n; i >= 0; i-- {
		c := chain[i]
		switch {
		case now.Before(c.NotBefore):
			if err := report(i, ErrCertNotYetValid); err != nil {
				return res, err
			}
		case now.After(c.NotAfter):
			if err := report(i, ErrCertHasExpired); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// buildChain builds the chain of peer[0] as OpenSSL does: each issuer
// looked for among the roots first (trusted-first), then, until a root was
// used, among the peer's other certificates. It returns the chain and 0
// when it ends at a self-issued root, else OpenSSL's error for its top:
// a self-signed certificate (alone or in the chain), a root that is not
// self-issued (no issuer for it), or no issuer found.
func buildChain(peer, roots []*x509.Certificate) ([]*x509.Certificate, int) {
	chain := []*x509.Certificate{peer[0]}
	fromStore := inChain(roots, peer[0])
	for len(chain) < 32 {
		cur := chain[len(chain)-1]
		if fromStore && selfIssued(cur) {
			return chain, 0
		}
		if is := findIssuer(cur, roots); is != nil && !inChain(chain, is) {
			chain, fromStore = append(chain, is), true
			continue
		}
		if fromStore {
			return chain, ErrUnableToGetIssuer
		}
		if selfIssued(cur) {
			if len(chain) == 1 {
				return chain, ErrDepthZeroSelfSigned
			}
			return chain, ErrSelfSignedInChain
		}
		is := findIssuer(cur, peer[1:])
		if is == nil || inChain(chain, is) {
			break
		}
		chain = append(chain, is)
	}
	return chain, ErrUnableToGetIssuerLocal
}

func inChain(chain []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range chain {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// findIssuer returns the first candidate that issued c (names, key
// identifiers, key usage and signature).
func findIssuer(c *x509.Certificate, candidates []*x509.Certificate) *x509.Certificate {
	for _, is := range candidates {
		if !bytes.Equal(c.RawIssuer, is.RawSubject) {
			continue
		}
		if len(c.AuthorityKeyId) > 0 && len(is.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, is.SubjectKeyId) {
			continue
		}
		// As OpenSSL's check_issued: a key usage without keyCertSign
		// disqualifies; the CA flag is checked later, as an error of
		// its own (invalid CA certificate).
		if is.KeyUsage != 0 && is.KeyUsage&x509.KeyUsageCertSign == 0 {
			continue
		}
		if is.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil {
			return is
		}
	}
	return nil
}

// selfIssued: subject and issuer are the same name.
func selfIssued(c *x509.Certificate) bool { return bytes.Equal(c.RawIssuer, c.RawSubject) }

// clientPurpose is OpenSSL's SSL client purpose check: an extended key
// usage, when present, includes clientAuth; a key usage, when present and
// on the client's own certificate, includes digitalSignature or
// keyAgreement; a CA certificate is a CA.
func clientPurpose(c *x509.Certificate, ca bool) bool {
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		ok := false
		for _, u := range c.ExtKeyUsage {
			ok = ok || u == x509.ExtKeyUsageClientAuth
		}
		if !ok {
			return false
		}
	}
	if ca {
		return c.BasicConstraintsValid && c.IsCA
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement) == 0 {
		return false
	}
	return true
}
