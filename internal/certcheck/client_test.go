package certcheck

import (
	"crypto/x509"
	"testing"
	"time"
)

// VerifyClient meets OpenSSL's errors in OpenSSL's order: the chain's
// problem first, then the extensions, then the dates from the top down;
// the first error not ignored ends it.
func TestVerifyClientOrder(t *testing.T) {
	p := newPKI(t)
	roots := []*x509.Certificate{p.root}
	all := func(int, int) bool { return true }
	now := time.Now()
	for _, tc := range []struct {
		name  string
		peer  []*x509.Certificate
		roots []*x509.Certificate
		at    time.Time
		want  ClientResult
	}{
		{"trusted chain", []*x509.Certificate{p.leaf, p.inter}, roots, now, ClientResult{}},
		{"intermediate not sent", []*x509.Certificate{p.leaf}, roots, now, ClientResult{Last: ErrUnableToVerifyLeafSig, CrtErr: ErrUnableToGetIssuerLocal}},
		{"unknown root", []*x509.Certificate{p.leaf, p.inter}, nil, now, ClientResult{Last: ErrUnableToGetIssuerLocal, CAErr: ErrUnableToGetIssuerLocal, CAErrDepth: 1}},
		{"self-signed alone", []*x509.Certificate{p.root}, nil, now, ClientResult{Last: ErrDepthZeroSelfSigned, CrtErr: ErrDepthZeroSelfSigned}},
		{"self-signed in chain", []*x509.Certificate{p.leaf, p.inter, p.root}, nil, now, ClientResult{Last: ErrSelfSignedInChain, CAErr: ErrSelfSignedInChain, CAErrDepth: 2}},
		{"all expired", []*x509.Certificate{p.leaf, p.inter}, roots, now.Add(2 * time.Hour), ClientResult{Last: ErrCertHasExpired, CrtErr: ErrCertHasExpired, CAErr: ErrCertHasExpired, CAErrDepth: 2}},
	} {
		got, err := VerifyClient(tc.peer, tc.roots, nil, tc.at, all)
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	// Not ignored: the first error ends the verification, with its depth.
	_, err := VerifyClient([]*x509.Certificate{p.leaf, p.inter}, roots, nil, now.Add(2*time.Hour), func(d, c int) bool { return d == 0 })
	wantCode(t, "expired root not ignored", err, 2, ErrCertHasExpired)
	_, err = VerifyClient([]*x509.Certificate{p.leaf}, nil, nil, now, nil)
	wantCode(t, "nothing ignored", err, 0, ErrUnableToGetIssuerLocal)
}
