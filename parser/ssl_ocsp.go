package parser

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"goproxy/internal/ocspresp"
)

// OCSPFile is the stapling set-up of one certificate file, from the
// "<crt>.ocsp" file beside it, as HAProxy 2.6 loads it.
type OCSPFile struct {
	// CertID is the DER of the certificate's OCSP ID, the key under which
	// responses are filed (and set ssl ocsp-response finds them).
	CertID []byte
	// Response is the DER response to staple, nil when HAProxy ignores the
	// file's content (with a warning); Expire is when it stops being
	// stapled.
	Response []byte
	Expire   time.Time
}

// LoadOCSP reads the ".ocsp" file of the certificate file path (loaded as
// cert), as HAProxy does when it builds the bind's TLS context. It returns
// nil when there is no such file. fatal is HAProxy's alert (no issuer to
// compute the certificate ID with); warning is HAProxy's warning for a
// response it ignores (the certificate then serves without stapling).
func LoadOCSP(path string, cert *tls.Certificate, extra ExtraFiles, now time.Time) (o *OCSPFile, warning, fatal string) {
	if extra&ExtraOCSP == 0 {
		return nil, "", ""
	}
	der, err := os.ReadFile(path + ".ocsp")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", ""
	}
	if err != nil {
		return nil, "", " Error opening OCSP response file"
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, "", fmt.Sprintf("unable to load certificate from file '%s'.", path)
		}
	}
	issuer, fatal := ocspIssuer(path, cert, leaf, extra)
	if fatal != "" {
		return nil, "", fatal
	}
	if issuer == nil {
		return nil, "", fmt.Sprintf(" '%s.ocsp' is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'.", path)
	}
	id, err := ocspresp.CertID(leaf, issuer)
	if err != nil || len(id) > ocspresp.MaxCertIDLen {
		return nil, "", fmt.Sprintf(" '%s.ocsp' is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'.", path)
	}
	o = &OCSPFile{CertID: id}
	r, err := ocspresp.Parse(der, now)
	if err == nil && !ocspresp.SameCert(r.CertID, id) {
		err = errors.New("OCSP single response: Certificate ID does not match certificate and issuer")
	}
	if err != nil {
		return o, OCSPWarning(err), ""
	}
	o.Response, o.Expire = der, r.Expire()
	return o, "", ""
}

// OCSPWarning is HAProxy's warning for a response it ignores.
func OCSPWarning(err error) string {
	return "Loading: " + err.Error() + ". Content will be ignored."
}

// ocspIssuer finds the issuer of leaf as HAProxy does: a certificate of the
// file's chain that issued it, else the "<crt>.issuer" file.
func ocspIssuer(path string, cert *tls.Certificate, leaf *x509.Certificate, extra ExtraFiles) (*x509.Certificate, string) {
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil && ocspresp.IssuedBy(leaf, c) {
			return c, ""
		}
	}
	if extra&ExtraIssuer == 0 {
		return nil, ""
	}
	data, err := os.ReadFile(path + ".issuer")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ""
	}
	var issuer *x509.Certificate
	if err == nil {
		if b, _ := pem.Decode(data); b != nil && b.Type == "CERTIFICATE" {
			issuer, err = x509.ParseCertificate(b.Bytes)
		}
	}
	if err != nil || issuer == nil {
		return nil, fmt.Sprintf("'%s.issuer' cannot be read or parsed'.", path)
	}
	if !ocspresp.IssuedBy(leaf, issuer) {
		return nil, fmt.Sprintf(" '%s.issuer' is not an issuer'.", path)
	}
	return issuer, ""
}
