package parser

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// OpenSSL cipher strings mapped to Go's crypto/tls suites (TLS 1.0-1.2).
// A string is a list of elements separated by ':', ',' or spaces; an
// element is a suite name or aliases joined by '+', optionally prefixed
// with '!' (removed for good), '-' (removed) or '+' (moved to the end).
// "@STRENGTH" and "@SECLEVEL=n" are accepted. Go chooses among the
// enabled suites by its own preference, so only the set counts.
//
// Suites OpenSSL knows and Go lacks (DHE, CAMELLIA, ARIA, PSK, ...) are
// left out with a warning naming them; names OpenSSL does not know are an
// error, as in HAProxy.

// goSuite is one of Go's suites with its OpenSSL name and attributes.
type goSuite struct {
	id    uint16
	name  string
	attrs string // space-separated OpenSSL aliases it belongs to
}

var goSuites = []goSuite{
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "kECDHE ECDHE EECDH aECDSA ECDSA AESGCM AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "kECDHE ECDHE EECDH aRSA AESGCM AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "kECDHE ECDHE EECDH aECDSA ECDSA AESGCM AES AES256 SHA384 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "kECDHE ECDHE EECDH aRSA AESGCM AES AES256 SHA384 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "kECDHE ECDHE EECDH aECDSA ECDSA CHACHA20 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "kECDHE ECDHE EECDH aRSA CHACHA20 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256", "kECDHE ECDHE EECDH aECDSA ECDSA AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", "kECDHE ECDHE EECDH aRSA AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", "kECDHE ECDHE EECDH aECDSA ECDSA AES AES128 SHA1 SHA SSLv3 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", "kECDHE ECDHE EECDH aRSA AES AES128 SHA1 SHA SSLv3 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", "kECDHE ECDHE EECDH aECDSA ECDSA AES AES256 SHA1 SHA SSLv3 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", "kECDHE ECDHE EECDH aRSA AES AES256 SHA1 SHA SSLv3 HIGH"},
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "kRSA RSA aRSA AESGCM AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "kRSA RSA aRSA AESGCM AES AES256 SHA384 TLSv1.2 HIGH"},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256", "kRSA RSA aRSA AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", "kRSA RSA aRSA AES AES128 SHA1 SHA SSLv3 HIGH"},
	{tls.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", "kRSA RSA aRSA AES AES256 SHA1 SHA SSLv3 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-RSA-DES-CBC3-SHA", "kECDHE ECDHE EECDH aRSA 3DES SHA1 SHA SSLv3 MEDIUM"},
	{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, "DES-CBC3-SHA", "kRSA RSA aRSA 3DES SHA1 SHA SSLv3 MEDIUM"},
}

// openSSLOnly are name fragments of suites OpenSSL has and Go does not.
var openSSLOnly = []string{"DHE-", "EDH-", "CAMELLIA", "ARIA", "PSK", "SRP", "SEED", "IDEA", "CCM", "DSS", "ECDH-", "NULL", "RC4", "DES-CBC-", "EXP", "ADH", "AECDH", "GOST", "SM4"}

// opensslAliases are OpenSSL aliases that match no Go suite (fine to
// name, mostly to exclude) but are not errors.
var opensslAliases = map[string]bool{
	"aNULL": true, "eNULL": true, "NULL": true, "MD5": true, "EXPORT": true, "EXP": true, "LOW": true,
	"RC4": true, "DES": true, "DSS": true, "aDSS": true, "PSK": true, "SRP": true, "kDHE": true, "DHE": true,
	"EDH": true, "kEDH": true, "ADH": true, "AECDH": true, "CAMELLIA": true, "ARIA": true, "SEED": true,
	"IDEA": true, "CCM": true, "CCM8": true, "aPSK": true, "kPSK": true, "SHA224": true, "kDH": true,
	"aDH": true, "kECDH": true, "aECDH": true, "RC2": true, "GOST": true, "DH": true, "IDEA-CBC": true,
	"COMPLEMENTOFDEFAULT": true, "COMPLEMENTOFALL": true, "SSLv2": true, "TLSv1": true, "TLSv1.0": true,
	"CAMELLIA128": true, "CAMELLIA256": true, "CHACHA20-POLY1305": false,
}

// CipherList is a cipher string mapped to Go's suites.
type CipherList struct {
	IDs     []uint16 // Go's suites, in the string's order
	Dropped []string // names OpenSSL knows and Go lacks
}

// MapCiphers maps an OpenSSL cipher string to Go's suites; the error
// names the part that is not a cipher name or alias.
func MapCiphers(s string) (CipherList, error) {
	var out CipherList
	var order []uint16
	in := map[uint16]bool{}
	banned := map[uint16]bool{}
	elems := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
	if len(elems) == 0 {
		return out, fmt.Errorf("empty cipher list")
	}
	for _, e := range elems {
		op := byte(0)
		if e[0] == '!' || e[0] == '-' || e[0] == '+' {
			op, e = e[0], e[1:]
		}
		if strings.HasPrefix(e, "@") {
			continue // @STRENGTH, @SECLEVEL=n: ordering and levels
		}
		matched, known := matchCipherElem(e)
		if !known {
			return out, fmt.Errorf("'%s' is not a cipher name or alias", e)
		}
		if matched == nil && op == 0 && !isAlias(e) {
			out.Dropped = append(out.Dropped, e)
		}
		for _, id := range matched {
			switch op {
			case '!':
				banned[id] = true
				in[id] = false
			case '-':
				in[id] = false
			case '+':
				if in[id] {
					order = append(removeID(order, id), id)
				}
			default:
				if !banned[id] && !in[id] {
					in[id] = true
					order = append(removeID(order, id), id)
				}
			}
		}
	}
	for _, id := range order {
		if in[id] {
			out.IDs = append(out.IDs, id)
		}
	}
	return out, nil
}

func removeID(list []uint16, id uint16) []uint16 {
	for i, x := range list {
		if x == id {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

func isAlias(e string) bool {
	for _, part := range strings.Split(e, "+") {
		if _, ok := opensslAliases[part]; ok {
			return true
		}
		for _, g := range goSuites {
			if strings.Contains(" "+g.attrs+" ", " "+part+" ") {
				return true
			}
		}
		switch part {
		case "ALL", "DEFAULT", "HIGH", "MEDIUM", "kRSA", "RSA", "aRSA", "AESGCM", "AES":
			return true
		}
	}
	return false
}

// matchCipherElem returns Go's suites an element selects; known is false
// when OpenSSL would not know the element either.
func matchCipherElem(e string) (ids []uint16, known bool) {
	for _, g := range goSuites {
		if g.name == e {
			return []uint16{g.id}, true
		}
	}
	if strings.Contains(e, "-") && !strings.Contains(e, "+") {
		for _, frag := range openSSLOnly {
			if strings.Contains(e, frag) {
				return nil, true
			}
		}
		return nil, false
	}
	parts := strings.Split(e, "+")
	for _, g := range goSuites {
		all := true
		for _, part := range parts {
			switch {
			case part == "ALL" || part == "DEFAULT":
				if g.attrs == "" {
					all = false
				}
				if part == "DEFAULT" && strings.Contains(g.attrs, "3DES") {
					all = false
				}
			case strings.Contains(" "+g.attrs+" ", " "+part+" "):
			default:
				all = false
			}
		}
		if all {
			ids = append(ids, g.id)
		}
	}
	if ids != nil {
		return ids, true
	}
	for _, part := range parts {
		if _, ok := opensslAliases[part]; !ok {
			switch part {
			case "ALL", "DEFAULT", "HIGH", "MEDIUM", "kRSA", "RSA", "aRSA", "AESGCM", "AES", "SHA256", "SHA384", "SHA1", "SHA":
			default:
				if !isAlias(part) {
					return nil, false
				}
			}
		}
	}
	return nil, true
}

// tls13Suites are the TLS 1.3 suites Go enables, always all of them.
var tls13Suites = map[string]bool{"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true}

// check13Suites checks a ciphersuites list (TLS 1.3): an error for a
// name that is not a TLS 1.3 suite, else the suites Go enables that the
// list leaves out. Go's TLS 1.3 suites cannot be chosen: Go always
// enables its three (all AEADs of equal standing), which the caller
// reports as a warning.
func check13Suites(s string) (errMsg string, extra []string) {
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ":") {
		switch {
		case tls13Suites[n]:
			seen[n] = true
		case n == "TLS_AES_128_CCM_SHA256" || n == "TLS_AES_128_CCM_8_SHA256":
			// Known to OpenSSL, not offered by Go: the others remain.
		default:
			return fmt.Sprintf("'%s' is not a TLS 1.3 cipher suite", n), nil
		}
	}
	for _, n := range []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"} {
		if !seen[n] {
			extra = append(extra, n)
		}
	}
	return "", extra
}

// suites13Warning is the warning for the TLS 1.3 suites a list leaves out.
func suites13Warning(extra []string) string {
	return fmt.Sprintf("TLS 1.3 cipher suites are not configurable in Go's TLS: %s stay enabled.", strings.Join(extra, ", "))
}

// curveNames maps OpenSSL group names to Go's.
var curveNames = map[string]tls.CurveID{
	"X25519": tls.X25519, "x25519": tls.X25519,
	"P-256": tls.CurveP256, "prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256,
	"P-384": tls.CurveP384, "secp384r1": tls.CurveP384,
	"P-521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"X25519MLKEM768": tls.X25519MLKEM768,
}

// MapCurves maps an OpenSSL curves list (':'-separated) to Go's.
func MapCurves(s string) ([]tls.CurveID, error) {
	var out []tls.CurveID
	for _, n := range strings.Split(s, ":") {
		id, ok := curveNames[n]
		if !ok {
			switch n {
			case "X448", "x448", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "secp256k1":
				return nil, fmt.Errorf("'%s' is not supported by Go's TLS", n)
			}
			return nil, fmt.Errorf("'%s' is not a curve name", n)
		}
		out = append(out, id)
	}
	return out, nil
}
