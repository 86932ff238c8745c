package parser

import "strings"

// rejectedServerSSL are the server TLS keywords HAProxy acts on that
// goproxy does not implement, with the reason.
var rejectedServerSSL = map[string]string{
	"npn":         "Go's TLS has no NPN; use 'alpn'",
	"force-sslv3": "Go's TLS has no SSLv3",
	"allow-0rtt":  "0-RTT is not supported by Go's TLS",
	"sigalgs":     "signature algorithms are not configurable in Go's TLS",
	"curves":      "curves of server connections are Go's defaults",
}

// serverSSL returns sp's TLS settings, copied first when they are shared
// with the default-server line they came from.
func (p *parser) serverSSL(sp *ServerParams) *ServerSSL {
	if sp.SSL == nil {
		g := &p.cfg.Global.SSL
		sp.SSL = &ServerSSL{Ciphers: g.ServerCiphers, Suites13: g.ServerSuites13}
		p.applySSLOptions(g.ServerOptions, sp.SSL.NoVersionsRef(), &sp.SSL.MinVer, &sp.SSL.MaxVer, &sp.SSL.NoTickets)
		return sp.SSL
	}
	c := *sp.SSL
	c.NoVersions = map[uint16]bool{}
	for k, v := range sp.SSL.NoVersions {
		c.NoVersions[k] = v
	}
	c.ALPN = append([]string(nil), sp.SSL.ALPN...)
	sp.SSL = &c
	return sp.SSL
}

// parseServerSSL parses the TLS option at w[i] of a server line. handled
// is false when w[i] is not one; j is the index of its last word, or -1
// after an error reported through fail.
func (p *parser) parseServerSSL(w []string, i int, sp *ServerParams, fail func(string, ...any) bool) (j int, handled bool) {
	kw := w[i]
	if why, ok := rejectedServerSSL[kw]; ok {
		fail("'%s' is not supported by goproxy (%s)", kw, why)
		return -1, true
	}
	switch kw {
	case "ssl", "no-ssl", "crt", "alpn", "ciphers", "ciphersuites", "ssl-min-ver", "ssl-max-ver",
		"no-tls-tickets", "tls-tickets", "no-ssl-reuse", "ssl-reuse", "verifyhost",
		"send-proxy-v2-ssl", "send-proxy-v2-ssl-cn", "no-send-proxy-v2-ssl", "no-send-proxy-v2-ssl-cn":
	default:
		if !strings.HasPrefix(kw, "no-") && !strings.HasPrefix(kw, "force-") {
			return 0, false
		}
		m := strings.TrimPrefix(strings.TrimPrefix(kw, "no-"), "force-")
		if _, ok := methodVersions[m]; !ok {
			return 0, false
		}
	}
	arg := func(missing string) (string, bool) {
		if i+1 >= len(w) || w[i+1] == "" {
			fail("'%s' : %s", kw, missing)
			return "", false
		}
		i++
		return w[i], true
	}
	s := p.serverSSL(sp)
	switch kw {
	case "send-proxy-v2-ssl":
		s.ProxyV2SSL, sp.SendProxyV2 = true, true
	case "send-proxy-v2-ssl-cn":
		s.ProxyV2SSL, s.ProxyV2SSLCN, sp.SendProxyV2 = true, true, true
	case "no-send-proxy-v2-ssl":
		s.ProxyV2SSL, s.ProxyV2SSLCN = false, false
	case "no-send-proxy-v2-ssl-cn":
		s.ProxyV2SSLCN = false
	case "ssl":
		s.Enabled = true
	case "no-ssl":
		s.Enabled = false
	case "crt":
		v, ok := arg("missing certificate file path")
		if !ok {
			return -1, true
		}
		path := withBase(p.cfg.Global.SSL.CrtBase, v)
		if _, err := LoadCertFile(path, p.cfg.Global.SSL.Extra()); err != nil {
			fail("%s", strings.TrimSuffix(err.Error(), "."))
			return -1, true
		}
		s.Crt = path
	case "alpn":
		v, ok := arg("missing the comma-delimited ALPN protocol suite")
		if !ok {
			return -1, true
		}
		s.ALPN = splitALPN(v)
	case "ciphers":
		v, ok := arg("missing cipher suite")
		if !ok {
			return -1, true
		}
		s.Ciphers = v
	case "ciphersuites":
		v, ok := arg("missing cipher suite")
		if !ok {
			return -1, true
		}
		s.Suites13 = v
	case "ssl-min-ver", "ssl-max-ver":
		v, ok := arg("missing the ssl/tls version")
		if !ok {
			return -1, true
		}
		ver, known := tlsVersions[v]
		if !known {
			fail("'%s' : unknown ssl/tls version", v)
			return -1, true
		}
		if kw == "ssl-min-ver" {
			s.MinVer = ver
		} else {
			s.MaxVer = ver
		}
	case "no-tls-tickets":
		s.NoTickets = true
	case "tls-tickets":
		s.NoTickets = false
	case "verifyhost":
		v, ok := arg("missing hostname to verify against")
		if !ok {
			return -1, true
		}
		sp.VerifyHost = v
	case "no-ssl-reuse", "ssl-reuse":
	default:
		applyMethod(kw, s.NoVersionsRef(), &s.MinVer, &s.MaxVer)
	}
	return i, true
}
