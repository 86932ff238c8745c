// Package ocspresp reads OCSP responses (RFC 6960) for stapling, as HAProxy
// 2.6 checks the `.ocsp` file of a certificate and the payload of `set ssl
// ocsp-response`: a successful basic response with exactly one single
// response, whose status is good or revoked, with a next update, valid now
// within five minutes of skew. It also computes a certificate's OCSP
// certificate ID (SHA-1, as OpenSSL's OCSP_cert_to_id), the key under which
// HAProxy files responses. The signature is not verified, as HAProxy does
// not verify it: the client does.
//
// It is a leaf: it imports only the standard library. Its error texts are
// HAProxy's.
package ocspresp

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// MaxSkew is the clock skew HAProxy allows around a response's validity
// (OCSP_MAX_RESPONSE_TIME_SKEW); a response stops being stapled that long
// before its next update.
const MaxSkew = 300 * time.Second

// MaxCertIDLen bounds the DER of a certificate ID (HAProxy's
// OCSP_MAX_CERTID_ASN1_LENGTH).
const MaxCertIDLen = 128

var (
	oidBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA1  = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
)

// Certificate statuses of a single response.
const (
	Good = iota
	Revoked
	Unknown
)

// Response is the part of an OCSP response that stapling needs.
type Response struct {
	// CertID is the DER of the single response's certificate ID.
	CertID     []byte
	Status     int
	ThisUpdate time.Time
	NextUpdate time.Time
}

// Expire is when the response stops being stapled.
func (r *Response) Expire() time.Time { return r.NextUpdate.Add(-MaxSkew) }

type certID struct {
	Raw           asn1.RawContent
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type responseASN1 struct {
	Status asn1.Enumerated
	Bytes  responseBytes `asn1:"explicit,tag:0,optional"`
}

type responseBytes struct {
	Type     asn1.ObjectIdentifier
	Response []byte
}

type basicResponse struct {
	TBS                responseData
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type responseData struct {
	Version     int `asn1:"optional,default:0,explicit,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []asn1.RawValue
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type singleResponse struct {
	CertID     certID
	Good       asn1.Flag        `asn1:"tag:0,optional"`
	Revoked    revokedInfo      `asn1:"tag:1,optional"`
	Unknown    asn1.Flag        `asn1:"tag:2,optional"`
	ThisUpdate time.Time        `asn1:"generalized"`
	NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type revokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

// Parse reads a DER OCSP response and checks it as HAProxy does before
// stapling it; the error is HAProxy's text. now decides the validity.
func Parse(der []byte, now time.Time) (*Response, error) {
	var resp responseASN1
	if rest, err := asn1.Unmarshal(der, &resp); err != nil || len(rest) > 0 {
		return nil, errors.New("Unable to parse OCSP response")
	}
	if resp.Status != 0 {
		return nil, errors.New("OCSP response status not successful")
	}
	var basic basicResponse
	if !resp.Bytes.Type.Equal(oidBasic) {
		return nil, errors.New("Failed to get basic response from OCSP Response")
	}
	if rest, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil || len(rest) > 0 {
		return nil, errors.New("Failed to get basic response from OCSP Response")
	}
	if n := len(basic.TBS.Responses); n > 1 {
		return nil, fmt.Errorf("OCSP response ignored because contains multiple single responses (%d)", n)
	} else if n == 0 {
		return nil, errors.New("Failed to get OCSP single response")
	}
	var sr singleResponse
	if rest, err := asn1.Unmarshal(basic.TBS.Responses[0].FullBytes, &sr); err != nil || len(rest) > 0 {
		return nil, errors.New("Failed to get OCSP single response")
	}
	out := &Response{CertID: sr.CertID.Raw, ThisUpdate: sr.ThisUpdate, NextUpdate: sr.NextUpdate}
	switch {
	case bool(sr.Good):
		out.Status = Good
	case !sr.Revoked.RevocationTime.IsZero():
		out.Status = Revoked
	default:
		return nil, errors.New("OCSP single response: certificate status is unknown")
	}
	if sr.NextUpdate.IsZero() {
		return nil, errors.New("OCSP single response: missing nextupdate")
	}
	if sr.ThisUpdate.After(now.Add(MaxSkew)) || sr.NextUpdate.Before(now.Add(-MaxSkew)) || sr.NextUpdate.Before(sr.ThisUpdate) {
		return nil, errors.New("OCSP single response: no longer valid.")
	}
	if len(out.CertID) > MaxCertIDLen {
		return nil, errors.New("OCSP single response: Certificate ID too long")
	}
	return out, nil
}

// SameCert reports whether two DER certificate IDs name the same
// certificate, as OpenSSL's OCSP_id_cmp: the same hash algorithm, issuer
// name and key hashes and serial number.
func SameCert(a, b []byte) bool {
	var x, y certID
	if _, err := asn1.Unmarshal(a, &x); err != nil {
		return false
	}
	if _, err := asn1.Unmarshal(b, &y); err != nil {
		return false
	}
	return x.HashAlgorithm.Algorithm.Equal(y.HashAlgorithm.Algorithm) &&
		bytes.Equal(x.NameHash, y.NameHash) && bytes.Equal(x.IssuerKeyHash, y.IssuerKeyHash) &&
		x.SerialNumber != nil && y.SerialNumber != nil && x.SerialNumber.Cmp(y.SerialNumber) == 0
}

// CertID is the DER of leaf's OCSP certificate ID under issuer: SHA-1 of
// the issuer's name and of its public key, and the leaf's serial number.
func CertID(leaf, issuer *x509.Certificate) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, fmt.Errorf("issuer public key: %w", err)
	}
	name := sha1.Sum(issuer.RawSubject)
	key := sha1.Sum(spki.PublicKey.RightAlign())
	id := struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		NameHash      []byte
		IssuerKeyHash []byte
		SerialNumber  *big.Int
	}{pkix.AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue}, name[:], key[:], leaf.SerialNumber}
	return asn1.Marshal(id)
}

// Fields are the parts of a certificate ID that HAProxy's show ssl
// ocsp-response prints.
type Fields struct {
	NameHash, KeyHash []byte
	Serial            *big.Int
}

// ParseCertID returns the fields of a DER certificate ID.
func ParseCertID(der []byte) (Fields, error) {
	var id certID
	if rest, err := asn1.Unmarshal(der, &id); err != nil || len(rest) > 0 || id.SerialNumber == nil {
		return Fields{}, errors.New("not a certificate ID")
	}
	return Fields{NameHash: id.NameHash, KeyHash: id.IssuerKeyHash, Serial: id.SerialNumber}, nil
}

// IssuedBy reports whether issuer is the issuer of leaf as OpenSSL's
// X509_check_issued decides it without a signature check: the names
// match, and so do the key identifiers when both certificates carry them.
func IssuedBy(leaf, issuer *x509.Certificate) bool {
	if !bytes.Equal(leaf.RawIssuer, issuer.RawSubject) {
		return false
	}
	if len(leaf.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(leaf.AuthorityKeyId, issuer.SubjectKeyId) {
		return false
	}
	return true
}
