package parser

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"goproxy/internal/certcheck"
	"goproxy/internal/hatext"
)

// TLS options of bind and server lines (HAProxy's ssl_sock keywords). What
// HAProxy acts on and Go's crypto/tls can do is parsed into BindSSL or
// ServerSSL; the rest is rejected naming the keyword.

// tlsVersions maps HAProxy's version names to Go's.
var tlsVersions = map[string]uint16{
	"SSLv3": tls.VersionSSL30, "TLSv1.0": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11,
	"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13,
}

// methodVersions maps the suffix of no-*/force-* options to versions.
var methodVersions = map[string]uint16{
	"sslv3": tls.VersionSSL30, "tlsv10": tls.VersionTLS10, "tlsv11": tls.VersionTLS11,
	"tlsv12": tls.VersionTLS12, "tlsv13": tls.VersionTLS13,
}

// rejectedBindSSL are the bind TLS keywords HAProxy acts on that goproxy
// does not implement, with the reason.
var rejectedBindSSL = map[string]string{
	"npn":                   "Go's TLS has no NPN; use 'alpn'",
	"ca-ignore-err":         "verification errors cannot be ignored selectively",
	"crt-ignore-err":        "verification errors cannot be ignored selectively",
	"ca-verify-file":        "not implemented",
	"ca-sign-file":          "certificate generation is not implemented",
	"ca-sign-pass":          "certificate generation is not implemented",
	"generate-certificates": "certificate generation is not implemented",
	"prefer-client-ciphers": "Go's TLS chooses the cipher suite itself",
	"force-sslv3":           "Go's TLS has no SSLv3",
	"tls-ticket-keys":       "ticket keys are generated and rotated by Go's TLS",
	"no-ca-names":           "not implemented",
	"sigalgs":               "signature algorithms are not configurable in Go's TLS",
	"client-sigalgs":        "signature algorithms are not configurable in Go's TLS",
	"allow-0rtt":            "0-RTT is not supported by Go's TLS",
	"ssl-engine":            "not implemented",
}

// isBindSSLKeyword reports whether kw is a TLS option of a bind line.
func isBindSSLKeyword(kw string) bool {
	switch kw {
	case "ssl", "crt", "crt-list", "ca-file", "crl-file", "verify", "alpn", "ciphers", "ciphersuites",
		"curves", "ecdhe", "ssl-min-ver", "ssl-max-ver", "no-tls-tickets", "tls-tickets",
		"strict-sni", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13",
		"force-tlsv10", "force-tlsv11", "force-tlsv12", "force-tlsv13":
		return true
	}
	_, ok := rejectedBindSSL[kw]
	return ok
}

// bindSSL returns o's TLS settings, created with the global defaults.
func (p *parser) bindSSL(o *BindOptions, addr string) *BindSSL {
	if o.SSL == nil {
		g := &p.cfg.Global.SSL
		o.SSL = &BindSSL{Addr: addr, Verify: "none", Ciphers: g.BindCiphers, Suites13: g.BindSuites13, Curves: g.BindCurves}
	}
	return o.SSL
}

// parseBindSSL parses the TLS option at w[i] of a bind line; it returns
// the index of its last word, or -1 after reporting an error.
func (p *parser) parseBindSSL(where string, w []string, i int, o *BindOptions, addr string) int {
	kw := w[i]
	if why, ok := rejectedBindSSL[kw]; ok {
		p.alert("%s : '%s' is not supported by goproxy (%s).", where, kw, why)
		return -1
	}
	b := p.bindSSL(o, addr)
	arg := func(missing string) (string, bool) {
		if i+1 >= len(w) || w[i+1] == "" {
			p.alert("%s : '%s' : %s", where, kw, missing)
			return "", false
		}
		i++
		return w[i], true
	}
	switch kw {
	case "ssl":
		if !b.Enabled {
			b.Enabled = true
			p.applySSLOptions(p.cfg.Global.SSL.BindOptions, b.NoVersionsRef(), &b.MinVer, &b.MaxVer, &b.NoTickets)
		}
	case "crt":
		v, ok := arg("missing certificate location")
		if !ok {
			return -1
		}
		files, msg := p.loadCertPath(withBase(p.cfg.Global.SSL.CrtBase, v))
		if msg != "" {
			p.alert("%s : %s", where, msg)
			return -1
		}
		for _, f := range files {
			b.Certs = append(b.Certs, f)
			b.CertSNI = append(b.CertSNI, nil)
			b.CertOpts = append(b.CertOpts, nil)
		}
	case "crt-list":
		v, ok := arg("missing certificate location")
		if !ok {
			return -1
		}
		if msg := p.loadCrtList(b, withBase(p.cfg.Global.SSL.CrtBase, v), where); msg != "" {
			if msg != errReported {
				p.alert("%s : %s", where, msg)
			}
			return -1
		}
	case "ca-file":
		v, ok := arg("missing CAfile path")
		if !ok {
			return -1
		}
		path := withBase(p.cfg.Global.SSL.CABase, v)
		if msg := unreadableFile(path); msg != "" {
			p.report(&Error{Msg: fmt.Sprintf("Couldn't open the ca-file '%s' (%s).", path, msg), Phase: PhaseParse})
			p.alert("%s : 'ca-file' : unable to load %s", where, path)
			return -1
		}
		if _, err := LoadCAFile(path); err != nil {
			p.alert("%s : 'ca-file' : unable to load %s (%v)", where, path, err)
			return -1
		}
		b.CAFile = path
	case "crl-file":
		v, ok := arg("missing CRLfile path")
		if !ok {
			return -1
		}
		path := withBase(p.cfg.Global.SSL.CABase, v)
		if msg := crlFileProblem(path); msg != "" {
			p.report(&Error{Msg: fmt.Sprintf("Couldn't open the ca-file '%s' (%s).", path, msg), Phase: PhaseParse})
			p.alert("%s : 'crl-file' : unable to load %s", where, path)
			return -1
		}
		b.CRLFile = path
	case "verify":
		v, ok := arg("missing verify method")
		if !ok {
			return -1
		}
		switch v {
		case "none", "optional", "required":
			b.Verify = v
		default:
			p.alert("%s : 'verify' : unknown verify method '%s', only 'none', 'optional', and 'required' are supported", where, v)
			return -1
		}
	case "alpn":
		v, ok := arg("missing the comma-delimited ALPN protocol suite")
		if !ok {
			return -1
		}
		b.ALPN = splitALPN(v)
	case "ciphers":
		v, ok := arg("missing cipher suite")
		if !ok {
			return -1
		}
		b.Ciphers = v
	case "ciphersuites":
		v, ok := arg("missing cipher suite")
		if !ok {
			return -1
		}
		b.Suites13 = v
	case "curves", "ecdhe":
		v, ok := arg("missing curve suite")
		if !ok {
			return -1
		}
		b.Curves = v
	case "ssl-min-ver", "ssl-max-ver":
		v, ok := arg("missing the ssl/tls version")
		if !ok {
			return -1
		}
		ver, known := tlsVersions[v]
		if !known {
			p.alert("%s : '%s' : unknown ssl/tls version", where, v)
			return -1
		}
		if kw == "ssl-min-ver" {
			b.MinVer = ver
		} else {
			b.MaxVer = ver
		}
	case "no-tls-tickets":
		b.NoTickets = true
	case "tls-tickets":
		b.NoTickets = false
	case "strict-sni":
		b.StrictSNI = true
	default: // no-* and force-*
		applyMethod(kw, b.NoVersionsRef(), &b.MinVer, &b.MaxVer)
	}
	return i
}

// crlFileProblem returns why a crl-file cannot serve, in OpenSSL's words
// as HAProxy prints them, or "".
func crlFileProblem(path string) string {
	if msg := unreadableFile(path); msg != "" {
		return msg
	}
	if _, err := certcheck.LoadFile(path); err != nil {
		return err.Error()
	}
	return ""
}

// NoVersionsRef returns the map of disabled versions, creating it.
func (b *BindSSL) NoVersionsRef() map[uint16]bool {
	if b.NoVersions == nil {
		b.NoVersions = map[uint16]bool{}
	}
	return b.NoVersions
}

// NoVersionsRef returns the map of disabled versions, creating it.
func (s *ServerSSL) NoVersionsRef() map[uint16]bool {
	if s.NoVersions == nil {
		s.NoVersions = map[uint16]bool{}
	}
	return s.NoVersions
}

// applyMethod applies one no-<version> or force-<version> option.
func applyMethod(kw string, no map[uint16]bool, minV, maxV *uint16) {
	if m, ok := strings.CutPrefix(kw, "no-"); ok {
		no[methodVersions[m]] = true
		return
	}
	if m, ok := strings.CutPrefix(kw, "force-"); ok {
		v := methodVersions[m]
		*minV, *maxV = v, v
	}
}

// applySSLOptions applies ssl-default-bind-options or
// ssl-default-server-options (already checked by globalSSLOptions).
func (p *parser) applySSLOptions(opts []string, no map[uint16]bool, minV, maxV *uint16, noTickets *bool) {
	for i := 0; i < len(opts); i++ {
		switch o := opts[i]; o {
		case "no-tls-tickets":
			*noTickets = true
		case "ssl-min-ver", "ssl-max-ver":
			if i+1 < len(opts) {
				i++
				if o == "ssl-min-ver" {
					*minV = tlsVersions[opts[i]]
				} else {
					*maxV = tlsVersions[opts[i]]
				}
			}
		default:
			applyMethod(o, no, minV, maxV)
		}
	}
}

// splitALPN splits a comma-delimited ALPN list.
func splitALPN(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// withBase resolves a relative path against a base directory (ca-base,
// crt-base).
func withBase(base, path string) string {
	if base == "" || path == "" || strings.HasPrefix(path, "/") {
		return path
	}
	return filepath.Join(base, path)
}

// loadCertPath checks a crt argument: a PEM file, or a directory whose
// files (in name order, dot files and .key/.ocsp/.issuer/.sctl files
// skipped) are each a certificate. It returns the files, or HAProxy's
// message.
func (p *parser) loadCertPath(path string) ([]string, string) {
	st, err := os.Stat(path)
	if err != nil {
		if p.cfg.Global.SSL.Extra()&ExtraBundle != 0 {
			for _, ext := range []string{".rsa", ".ecdsa", ".dsa"} {
				if _, e := os.Stat(path + ext); e == nil {
					return nil, fmt.Sprintf("'%s' is a certificate bundle ('%s%s'...), which goproxy does not load: name each of its files with its own 'crt'.", path, path, ext)
				}
			}
		}
		return nil, fmt.Sprintf("unable to stat SSL certificate from file '%s' : %s.", path, hatext.Strerror(err))
	}
	if !st.IsDir() {
		if msg := p.loadBindCert(path); msg != "" {
			return nil, msg
		}
		return []string{path}, ""
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Sprintf("unable to scan directory '%s' : %s.", path, hatext.Strerror(err))
	}
	var files []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		switch filepath.Ext(n) {
		case ".key", ".ocsp", ".issuer", ".sctl", ".crl":
			continue
		}
		f := filepath.Join(path, n)
		if msg := p.loadBindCert(f); msg != "" {
			return nil, msg
		}
		files = append(files, f)
	}
	sort.Strings(files)
	return files, ""
}

// loadBindCert loads one certificate file of a bind and its OCSP
// response as HAProxy does when it builds the bind's TLS context: a
// response it ignores is a warning without a location, a missing issuer
// an error of the bind line (returned).
func (p *parser) loadBindCert(path string) string {
	extra := p.cfg.Global.SSL.Extra()
	c, err := LoadCertFile(path, extra)
	if err != nil {
		return err.Error()
	}
	_, warning, fatal := LoadOCSP(path, c, extra, time.Now())
	if fatal != "" {
		return fatal
	}
	if warning != "" {
		p.report(&Error{Msg: warning, Phase: PhaseParse, Sev: SevWarning})
	}
	return ""
}

// errReported is loadCrtList's answer when it reported the error itself.
const errReported = "\x00reported"

// crtListKeywords are the options a crt-list line takes (HAProxy 2.6's
// ssl_bind_kw that goproxy implements); the other TLS options of its list
// are refused as on a bind line, the rest are unknown there.
var crtListKeywords = map[string]bool{
	"alpn": true, "ca-file": true, "ciphers": true, "ciphersuites": true, "crl-file": true,
	"curves": true, "ecdhe": true, "ssl-min-ver": true, "ssl-max-ver": true, "verify": true,
	"npn": false, "allow-0rtt": false, "no-ca-names": false, "ca-verify-file": false,
}

// loadCrtList reads a crt-list file: one certificate per line, optionally
// followed by "[options]" and SNI filters ("!" for a negative filter).
// Comments start with '#'.
func (p *parser) loadCrtList(b *BindSSL, path, where string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("unable to open crt-list file '%s' : %s.", path, hatext.Strerror(err))
	}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		crt := withBase(p.cfg.Global.SSL.CrtBase, f[0])
		rest := f[1:]
		var opts *CrtListOpts
		if len(rest) > 0 && strings.HasPrefix(rest[0], "[") {
			end := 0
			for end < len(rest) && !strings.HasSuffix(rest[end], "]") {
				end++
			}
			if end == len(rest) {
				return fmt.Sprintf("crt-list '%s' line %d: unclosed '['.", path, n+1)
			}
			words := strings.Fields(strings.Trim(strings.Join(rest[:end+1], " "), "[]"))
			if len(words) > 0 {
				if opts = p.crtListOpts(words, fmt.Sprintf("%s : 'crt-list'", where), fmt.Sprintf("[%s:%d]", path, n+1), b.Addr); opts == nil {
					return errReported
				}
			}
			rest = rest[end+1:]
		}
		files, msg := p.loadCertPath(crt)
		if msg != "" {
			return msg
		}
		for _, file := range files {
			b.Certs = append(b.Certs, file)
			var sni []string
			if len(rest) > 0 {
				sni = append([]string{}, rest...)
			}
			b.CertSNI = append(b.CertSNI, sni)
			b.CertOpts = append(b.CertOpts, opts)
		}
	}
	return ""
}

// crtListOpts parses the words inside a crt-list line's brackets with the
// bind line's option parser, into the fields they set; nil after an error
// it reported. at is "[file:line]" of the crt-list line.
func (p *parser) crtListOpts(words []string, where, at, addr string) *CrtListOpts {
	scratch := &BindOptions{SSL: &BindSSL{Addr: addr}}
	s := scratch.SSL
	for i := 0; i < len(words); i++ {
		kw := words[i]
		known, listed := crtListKeywords[kw]
		if !listed {
			p.alert("%s : parsing %s: unknown ssl keyword %s", where, at, kw)
			return nil
		}
		if known && i+1 >= len(words) {
			p.alert("%s : parsing %s: ssl args out of '[]' for %s", where, at, kw)
			return nil
		}
		if i = p.parseBindSSL(where, words, i, scratch, addr); i < 0 {
			return nil
		}
	}
	return &CrtListOpts{ALPN: s.ALPN, CAFile: s.CAFile, CRLFile: s.CRLFile, Verify: s.Verify,
		Ciphers: s.Ciphers, Suites13: s.Suites13, Curves: s.Curves, MinVer: s.MinVer, MaxVer: s.MaxVer}
}
