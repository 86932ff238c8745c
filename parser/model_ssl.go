package parser

import "crypto/tls"

// BindSSL is the TLS termination of a bind line: "ssl" and the options
// that go with it. The certificates are loaded and checked while parsing
// (as HAProxy does), so that -c rejects a file HAProxy rejects; the
// runtime loads them again from Certs.
type BindSSL struct {
	Enabled bool     // the "ssl" keyword
	Addr    string   // the bind address as written, for messages
	Certs   []string // crt files in order (directories expanded, crt-base applied)
	// CertSNI holds, per entry of Certs, the SNI filters of a crt-list
	// line (nil: the certificate's own names).
	CertSNI [][]string
	// CertOpts holds, per entry of Certs, the [options] of its crt-list
	// line (nil: none): they replace the bind's for the handshakes that
	// select that certificate.
	CertOpts  []*CrtListOpts
	CAFile    string   // ca-file (ca-base applied)
	CRLFile   string   // crl-file (ca-base applied): used when verify is not none
	Verify    string   // "none" (default), "optional", "required"
	ALPN      []string // alpn, in order
	MinVer    uint16   // tls.VersionTLS10...; 0 = default (TLS 1.2)
	MaxVer    uint16   // 0 = highest
	Ciphers   string   // OpenSSL cipher list (ciphers or ssl-default-bind-ciphers)
	Suites13  string   // ciphersuites (TLS 1.3)
	Curves    string   // curves or ecdhe
	NoTickets bool     // no-tls-tickets
	StrictSNI bool     // strict-sni
	// Methods are the no-*/force-* options: disabled versions.
	NoVersions map[uint16]bool
	// Resolved at validation: Go's suite ids (nil = Go's defaults) and
	// curve ids (nil = Go's defaults).
	CipherIDs []uint16
	CurveIDs  []tls.CurveID
}

// CrtListOpts are the options of a crt-list line, HAProxy's "sslbindconf":
// each field set replaces the bind's.
type CrtListOpts struct {
	ALPN     []string // nil: the bind's
	CAFile   string
	CRLFile  string
	Verify   string
	Ciphers  string
	Suites13 string
	Curves   string
	MinVer   uint16
	MaxVer   uint16
	// Resolved at validation, as the bind's.
	CipherIDs []uint16
	CurveIDs  []tls.CurveID
}

// ServerSSL is the TLS origination of a server line ("ssl" and options).
// verify, ca-file and sni are ServerParams' (shared with check-ssl).
type ServerSSL struct {
	Enabled   bool
	Crt       string   // client certificate (crt-base applied)
	ALPN      []string // alpn
	MinVer    uint16
	MaxVer    uint16
	Ciphers   string
	Suites13  string // ciphersuites (TLS 1.3)
	NoTickets bool
	// NoVersions are the no-*/force-* options: disabled versions.
	NoVersions map[uint16]bool
	CipherIDs  []uint16
	// ProxyV2SSL and ProxyV2SSLCN are send-proxy-v2-ssl and
	// send-proxy-v2-ssl-cn: the PROXY v2 header carries the client's TLS
	// (they imply send-proxy-v2, and do not need "ssl").
	ProxyV2SSL, ProxyV2SSLCN bool
}

// GlobalSSL are the global TLS settings: bases, defaults and tuning.
type GlobalSSL struct {
	CABase, CrtBase string
	// BindOptions / ServerOptions are ssl-default-bind-options and
	// ssl-default-server-options, as written (applied to each ssl bind or
	// server parsed after them, as HAProxy does).
	BindOptions, ServerOptions []string
	BindCiphers, BindSuites13  string
	BindCurves                 string
	ServerCiphers              string
	ServerSuites13             string
	// ServerVerify is ssl-server-verify: "" (required), "none", "required".
	ServerVerify string
	// ExtraFiles is ssl-load-extra-files when ExtraFilesSet (else all):
	// the files looked for beside a certificate file.
	ExtraFiles    ExtraFiles `json:",omitempty"`
	ExtraFilesSet bool       `json:",omitempty"`
}

// ExtraFiles are the files HAProxy looks for beside a certificate file
// (ssl-load-extra-files).
type ExtraFiles uint8

// The kinds of extra files.
const (
	ExtraBundle ExtraFiles = 1 << iota // <crt>.rsa, .ecdsa, .dsa when <crt> does not exist
	ExtraSCTL                          // <crt>.sctl
	ExtraOCSP                          // <crt>.ocsp
	ExtraIssuer                        // <crt>.issuer
	ExtraKey                           // <crt>.key
	ExtraAll    = ExtraBundle | ExtraSCTL | ExtraOCSP | ExtraIssuer | ExtraKey
)

// Extra returns the extra files in effect: ssl-load-extra-files, or all.
func (g GlobalSSL) Extra() ExtraFiles {
	if g.ExtraFilesSet {
		return g.ExtraFiles
	}
	return ExtraAll
}
