package certcheck

import (
	"crypto/x509"
	"encoding/asn1"
)

// ParseCRL parses a DER CRL as OpenSSL reads it: version 2, or version 1
// (no version field, no extensions), which OpenSSL still writes for a CRL
// without extensions and crypto/x509 refuses. A version 1 list is parsed
// with the version put in, then given back its own bytes, so that its
// signature is checked over what the issuer signed.
func ParseCRL(der []byte) (*x509.RevocationList, error) {
	l, err := x509.ParseRevocationList(der)
	if err == nil {
		return l, nil
	}
	v2, tbs, ok := asVersion2(der)
	if !ok {
		return nil, err
	}
	l, err2 := x509.ParseRevocationList(v2)
	if err2 != nil {
		return nil, err
	}
	l.Raw, l.RawTBSRevocationList = der, tbs
	return l, nil
}

// asVersion2 returns a version 1 CRL with an explicit version (v2), and
// its original tbsCertList; false when der is no version 1 CRL.
func asVersion2(der []byte) (v2, tbs []byte, ok bool) {
	var outer asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) != 0 || outer.Tag != asn1.TagSequence {
		return nil, nil, false
	}
	var parts [3]asn1.RawValue // tbsCertList, signatureAlgorithm, signatureValue
	body := outer.Bytes
	for i := range parts {
		rest, err := asn1.Unmarshal(body, &parts[i])
		if err != nil {
			return nil, nil, false
		}
		body = rest
	}
	t := parts[0]
	if len(body) != 0 || t.Tag != asn1.TagSequence || len(t.Bytes) == 0 || t.Bytes[0] == asn1.TagInteger {
		return nil, nil, false // trailing bytes, or a version field already
	}
	newTBS, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true,
		Bytes: append([]byte{asn1.TagInteger, 1, 1}, t.Bytes...)})
	if err != nil {
		return nil, nil, false
	}
	inner := append(append(newTBS, parts[1].FullBytes...), parts[2].FullBytes...)
	v2, err = asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: inner})
	if err != nil {
		return nil, nil, false
	}
	return v2, t.FullBytes, true
}
