package proxy

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strconv"
	"strings"

	"goproxy/internal/certcheck"
)

// The TLS fetches of a terminated session (parser/kw_fetch_ssl.go). They
// read what the handshake established; before it (tcp-request connection
// rules) and on plain binds, ssl_fc is false and the others have no value.

func init() {
	for name, fn := range map[string]struct {
		fn    fetchFn
		match string
	}{
		"ssl_fc":             {fetchSSLFc, "bool"},
		"ssl_fc_has_sni":     {fetchSSLFcHasSNI, "bool"},
		"ssl_fc_is_resumed":  {fetchSSLFcResumed, "bool"},
		"ssl_fc_sni":         {tlsStrFetch("ssl_fc_sni"), "str"},
		"ssl_fc_protocol":    {tlsStrFetch("ssl_fc_protocol"), "str"},
		"ssl_fc_cipher":      {tlsStrFetch("ssl_fc_cipher"), "str"},
		"ssl_fc_alpn":        {tlsStrFetch("ssl_fc_alpn"), "str"},
		"ssl_c_used":         {fetchSSLCUsed, "bool"},
		"ssl_c_verify":       {verifyFetch(func(r certcheck.ClientResult) int { return r.Last }), "int"},
		"ssl_c_err":          {verifyFetch(func(r certcheck.ClientResult) int { return r.CrtErr }), "int"},
		"ssl_c_ca_err":       {verifyFetch(func(r certcheck.ClientResult) int { return r.CAErr }), "int"},
		"ssl_c_ca_err_depth": {verifyFetch(func(r certcheck.ClientResult) int { return r.CAErrDepth }), "int"},
		"ssl_c_s_dn":         {tlsStrFetch("ssl_c_s_dn"), "str"},
		"ssl_c_i_dn":         {tlsStrFetch("ssl_c_i_dn"), "str"},
		"ssl_c_serial":       {fetchSSLCSerial, "bin"},
	} {
		fetchTable[name] = fetchDef{fn: fn.fn, match: fn.match}
	}
}

// tlsInfoOf returns the handshake of c's session, nil when it has none.
func tlsInfoOf(c *connInfo) *TLSInfo {
	if c.s == nil || c.s.tls == nil || !c.s.tls.shook.Load() {
		return nil
	}
	return &c.s.tls.info
}

func fetchSSLFc(_ *fetchArgs, c *connInfo) (sample, bool) { return boolSample(tlsInfoOf(c) != nil) }

func fetchSSLFcHasSNI(_ *fetchArgs, c *connInfo) (sample, bool) {
	t := tlsInfoOf(c)
	return boolSample(t != nil && t.SNI != "")
}

func fetchSSLFcResumed(_ *fetchArgs, c *connInfo) (sample, bool) {
	t := tlsInfoOf(c)
	return boolSample(t != nil && t.Resumed)
}

func fetchSSLCUsed(_ *fetchArgs, c *connInfo) (sample, bool) {
	t := tlsInfoOf(c)
	return boolSample(t != nil && t.PeerCert != nil)
}

// verifyFetch makes a fetch of the client certificate's verification:
// ssl_c_verify (OpenSSL's verify result: the last error met, ignored),
// ssl_c_err, ssl_c_ca_err and ssl_c_ca_err_depth (the first errors at
// depth 0 and above). Without ca-ignore-err or crt-ignore-err any error
// fails the handshake, so an established session has none: 0.
func verifyFetch(pick func(certcheck.ClientResult) int) fetchFn {
	return func(_ *fetchArgs, c *connInfo) (sample, bool) {
		t := tlsInfoOf(c)
		if t == nil {
			return sample{}, false
		}
		return intSample(int64(pick(t.verifyResult())))
	}
}

func fetchSSLCSerial(_ *fetchArgs, c *connInfo) (sample, bool) {
	t := tlsInfoOf(c)
	if t == nil || t.PeerCert == nil {
		return sample{}, false
	}
	return sample{typ: smpBin, b: t.PeerCert.SerialNumber.Bytes()}, true
}

// tlsStrFetch returns the fetch of one of TLSText's names.
func tlsStrFetch(name string) fetchFn {
	return func(_ *fetchArgs, c *connInfo) (sample, bool) {
		v, ok := TLSText(name, tlsInfoOf(c))
		if !ok {
			return sample{}, false
		}
		return sample{typ: smpStr, b: []byte(v)}, true
	}
}

// TLSText renders a TLS fetch of a handshake as text (log-format and the
// string fetches); false when the fetch has no value.
func TLSText(name string, t *TLSInfo) (string, bool) {
	if name == "ssl_fc" {
		return strconv.Itoa(b2i(t != nil)), true
	}
	if t == nil {
		return "", false
	}
	switch name {
	case "ssl_fc_sni":
		return t.SNI, t.SNI != ""
	case "ssl_fc_protocol":
		return TLSVersionName(t.Version), true
	case "ssl_fc_cipher":
		return CipherName(t.Cipher), true
	case "ssl_fc_alpn":
		return t.ALPN, t.ALPN != ""
	case "ssl_c_used":
		return strconv.Itoa(b2i(t.PeerCert != nil)), true
	case "ssl_c_verify":
		return strconv.Itoa(t.verifyResult().Last), true
	case "ssl_c_err":
		return strconv.Itoa(t.verifyResult().CrtErr), true
	case "ssl_c_ca_err":
		return strconv.Itoa(t.verifyResult().CAErr), true
	case "ssl_c_ca_err_depth":
		return strconv.Itoa(t.verifyResult().CAErrDepth), true
	case "ssl_fc_has_sni":
		return strconv.Itoa(b2i(t.SNI != "")), true
	case "ssl_fc_is_resumed":
		return strconv.Itoa(b2i(t.Resumed)), true
	}
	if t.PeerCert == nil {
		return "", false
	}
	switch name {
	case "ssl_c_s_dn":
		return OnelineDN(t.PeerCert.Subject), true
	case "ssl_c_i_dn":
		return OnelineDN(t.PeerCert.Issuer), true
	case "ssl_c_serial":
		return strings.ToUpper(hexString(t.PeerCert.SerialNumber.Bytes())), true
	}
	return "", false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TLSVersionName is OpenSSL's name of a protocol version ("TLSv1.3").
func TLSVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return "unknown"
}

// opensslCipherNames are OpenSSL's names of Go's suites.
var opensslCipherNames = map[uint16]string{
	tls.TLS_AES_128_GCM_SHA256:                        "TLS_AES_128_GCM_SHA256",
	tls.TLS_AES_256_GCM_SHA384:                        "TLS_AES_256_GCM_SHA384",
	tls.TLS_CHACHA20_POLY1305_SHA256:                  "TLS_CHACHA20_POLY1305_SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:       "ECDHE-ECDSA-AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:         "ECDHE-RSA-AES128-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:               "AES128-SHA256",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:           "ECDHE-RSA-DES-CBC3-SHA",
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:                 "DES-CBC3-SHA",
}

// CipherName is OpenSSL's name of a suite, as HAProxy's %sslc prints it.
func CipherName(id uint16) string {
	if n, ok := opensslCipherNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

// dnShort are OpenSSL's short names of distinguished name attributes.
var dnShort = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.5": "serialNumber", "2.5.4.9": "street", "2.5.4.17": "postalCode",
	"1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.25": "DC",
	"2.5.4.4": "SN", "2.5.4.42": "GN", "2.5.4.12": "title",
}

// OnelineDN renders a name as OpenSSL's X509_NAME_oneline, which HAProxy's
// ssl_c_s_dn and ssl_c_i_dn print: "/C=FR/O=Example/CN=client".
func OnelineDN(n pkix.Name) string {
	var b strings.Builder
	for _, atv := range n.Names {
		key := atv.Type.String()
		if s, ok := dnShort[key]; ok {
			key = s
		}
		b.WriteByte('/')
		b.WriteString(key)
		b.WriteByte('=')
		switch v := atv.Value.(type) {
		case string:
			b.WriteString(v)
		default:
			if raw, err := asn1.Marshal(v); err == nil {
				b.WriteString(hexString(raw))
			}
		}
	}
	return b.String()
}
