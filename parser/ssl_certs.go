package parser

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"goproxy/internal/hatext"
)

// CertError is a certificate that could not be loaded, with HAProxy's text.
type CertError struct{ Msg string }

func (e *CertError) Error() string { return e.Msg }

// LoadCertFile loads a PEM certificate file as HAProxy's crt does: the
// certificate, its chain and its private key in one file, or the key in
// the same path suffixed by ".key".
func LoadCertFile(path string, extra ExtraFiles) (*tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &CertError{fmt.Sprintf("unable to stat SSL certificate from file '%s' : %s.", path, hatext.Strerror(err))}
	}
	var key []byte
	if !hasPEMKey(data) && extra&ExtraKey == 0 {
		if !hasPEMCert(data) {
			return nil, &CertError{fmt.Sprintf("unable to load certificate from file '%s'.", path)}
		}
		return nil, &CertError{fmt.Sprintf("No Private Key found in '%s'.", path)}
	}
	if !hasPEMKey(data) {
		keyPath := path + ".key"
		key, err = os.ReadFile(keyPath)
		if err != nil || !hasPEMKey(key) {
			if !hasPEMCert(data) {
				return nil, &CertError{fmt.Sprintf("unable to load certificate from file '%s'.", path)}
			}
			return nil, &CertError{fmt.Sprintf("No Private Key found in '%s'.", keyPath)}
		}
	}
	cert, err := ParseCertPEM(path, data, key)
	if err != nil {
		return nil, err
	}
	if extra&ExtraSCTL != 0 {
		if cert.SignedCertificateTimestamps, err = loadSCTL(path); err != nil {
			return nil, err
		}
	}
	return cert, nil
}

// loadSCTL reads the ".sctl" file beside a certificate file, as HAProxy
// does: a SignedCertificateTimestampList (RFC 6962, a 2-byte length, then
// SCTs of a 2-byte length each) sent in the handshake's
// signed_certificate_timestamp extension. No file: no SCTs. A file that
// does not hold such a list is HAProxy's error, with the path as HAProxy
// writes it (".sctl" twice).
func loadSCTL(path string) ([][]byte, error) {
	f := path + ".sctl"
	if _, err := os.Stat(f); err != nil {
		return nil, nil
	}
	data, err := os.ReadFile(f)
	scts, ok := parseSCTL(data)
	if err != nil || !ok {
		return nil, &CertError{fmt.Sprintf(" '%s.sctl' is present but cannot be read or parsed'.", f)}
	}
	return scts, nil
}

// parseSCTL splits a SignedCertificateTimestampList into its SCTs, with
// HAProxy's checks of its lengths.
func parseSCTL(data []byte) ([][]byte, bool) {
	if len(data) < 2 {
		return nil, false
	}
	n := int(data[0])<<8 | int(data[1])
	if n+2 != len(data) {
		return nil, false
	}
	var out [][]byte
	for rest := data[2:]; len(rest) > 0; {
		if len(rest) < 2 {
			return nil, false
		}
		l := int(rest[0])<<8 | int(rest[1])
		if 2+l > len(rest) {
			return nil, false
		}
		out = append(out, rest[2:2+l])
		rest = rest[2+l:]
	}
	return out, true
}

// ParseCertPEM builds a certificate from PEM blocks: data holds the
// certificate (and chain) and, when key is nil, the private key too.
func ParseCertPEM(path string, data, key []byte) (*tls.Certificate, error) {
	if key == nil {
		key = data
	}
	var cert tls.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, b.Bytes)
		}
	}
	if len(cert.Certificate) == 0 {
		return nil, &CertError{fmt.Sprintf("unable to load certificate from file '%s'.", path)}
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, &CertError{fmt.Sprintf("unable to load certificate from file '%s'.", path)}
	}
	cert.Leaf = leaf
	pk, err := parsePEMKey(key)
	if err != nil {
		return nil, &CertError{fmt.Sprintf("No Private Key found in '%s'.", path)}
	}
	if !keyMatches(leaf.PublicKey, pk) {
		return nil, &CertError{fmt.Sprintf("inconsistencies between private key and certificate loaded '%s'.", path)}
	}
	cert.PrivateKey = pk
	return &cert, nil
}

// LoadCAFile loads a PEM file of CA certificates (ca-file).
func LoadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("no certificate or crl found")
	}
	return pool, nil
}

func hasPEMBlock(data []byte, want func(string) bool) bool {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return false
		}
		if want(b.Type) {
			return true
		}
	}
}

func hasPEMKey(data []byte) bool {
	return hasPEMBlock(data, func(t string) bool {
		return t == "PRIVATE KEY" || t == "RSA PRIVATE KEY" || t == "EC PRIVATE KEY"
	})
}

func hasPEMCert(data []byte) bool {
	return hasPEMBlock(data, func(t string) bool { return t == "CERTIFICATE" })
}

// parsePEMKey returns the first private key of data.
func parsePEMKey(data []byte) (crypto.PrivateKey, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no private key")
		}
		switch b.Type {
		case "PRIVATE KEY":
			return x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(b.Bytes)
		}
	}
}

// keyMatches reports whether the private key belongs to the public key.
func keyMatches(pub crypto.PublicKey, pk crypto.PrivateKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch k := pk.(type) {
	case *rsa.PrivateKey:
		return k.PublicKey.Equal(pub)
	case *ecdsa.PrivateKey:
		return k.PublicKey.Equal(pub)
	case ed25519.PrivateKey:
		return k.Public().(equaler).Equal(pub)
	}
	return false
}
