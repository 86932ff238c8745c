// Package parser reads HAProxy's configuration language into a plain config
// model (Config, Proxy, Server, ...), as HAProxy 2.6 does: a hand-written
// lexer (quotes, escapes, environment variables, .if blocks), keyword tables
// per section, defaults inheritance, then a validation pass. It reports every
// error at once, each with its file and line, in HAProxy's words.
//
// Usage:
//
//	cfg, err := parser.LoadFiles([]string{"haproxy.cfg"}, parser.Options{})
//	if err != nil {
//		// err is a *multierror.Error of *parser.Error, one HAProxy line each.
//	}
//	for _, p := range cfg.Proxies { ... }
//
// The package knows text, not sockets. It imports the standard library,
// go-multierror and two leaf packages of internal/ (packages that import
// nothing of goproxy's): hatext (HAProxy's text conventions) and cnum (C's
// number parsing); nothing else of goproxy's. TLS files are the exception
// it shares with HAProxy: certificates and CA files named by crt,
// crt-list and ca-file are loaded (with crypto/x509) while parsing, so
// that -c rejects what HAProxy rejects, and cipher and curve lists are
// mapped to Go's crypto/tls (kw_ssl*.go, ssl_*.go).
package parser
