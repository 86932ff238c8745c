package parser

import (
	"cmp"
	"crypto/tls"
	"fmt"
)

// Global TLS settings that ssl binds and servers use: ca-base, crt-base,
// ssl-server-verify and the ssl-default-* defaults. Each is checked as
// HAProxy checks it (kw_global_noop.go's checkers), then recorded in
// Global.SSL for the bind and server lines that follow.

func init() {
	for k, fn := range map[string]func(p *parser, w []string, mod kwMod){
		"ca-base":                         (*parser).globalSSLBase,
		"crt-base":                        (*parser).globalSSLBase,
		"ssl-server-verify":               (*parser).globalSSLVerify,
		"ssl-default-bind-ciphers":        (*parser).globalSSLCiphers,
		"ssl-default-bind-ciphersuites":   (*parser).globalSSLCiphers,
		"ssl-default-server-ciphers":      (*parser).globalSSLCiphers,
		"ssl-default-server-ciphersuites": (*parser).globalSSLCiphers,
		"ssl-default-bind-curves":         (*parser).globalSSLCiphers,
		"ssl-default-bind-options":        (*parser).globalSSLDefaultOptions,
		"ssl-default-server-options":      (*parser).globalSSLDefaultOptions,
		"ssl-load-extra-files":            (*parser).globalSSLExtraFiles,
	} {
		globalKeywords[k] = fn
	}
}

// checked runs a checker and reports whether it added no diagnostic.
func (p *parser) checked(check func(*parser, []string, kwMod), w []string, mod kwMod) bool {
	n := len(p.cfg.Diags)
	check(p, w, mod)
	return len(p.cfg.Diags) == n
}

func (p *parser) globalSSLBase(w []string, mod kwMod) {
	if !p.checked((*parser).globalBaseDir, w, mod) {
		return
	}
	if w[0] == "ca-base" {
		p.cfg.Global.SSL.CABase = w[1]
	} else {
		p.cfg.Global.SSL.CrtBase = w[1]
	}
}

func (p *parser) globalSSLVerify(w []string, mod kwMod) {
	if p.checked((*parser).globalSSLServerVerify, w, mod) {
		p.cfg.Global.SSL.ServerVerify = w[1]
	}
}

func (p *parser) globalSSLCiphers(w []string, mod kwMod) {
	if !p.checked((*parser).globalCiphers, w, mod) {
		return
	}
	g := &p.cfg.Global.SSL
	v := w[1]
	switch w[0] {
	case "ssl-default-bind-ciphers":
		g.BindCiphers = v
	case "ssl-default-bind-ciphersuites":
		g.BindSuites13 = v
	case "ssl-default-bind-curves":
		g.BindCurves = v
	case "ssl-default-server-ciphers":
		g.ServerCiphers = v
	case "ssl-default-server-ciphersuites":
		g.ServerSuites13 = v
	}
}

func (p *parser) globalSSLDefaultOptions(w []string, mod kwMod) {
	if !p.checked((*parser).globalSSLOptions, w, mod) {
		return
	}
	opts := append([]string(nil), w[1:]...)
	for _, o := range opts {
		switch o {
		case "force-sslv3":
			p.alert("'%s' : 'force-sslv3' is not supported by goproxy (Go's TLS has no SSLv3).", w[0])
			return
		case "prefer-client-ciphers":
			p.alert("'%s' : 'prefer-client-ciphers' is not supported by goproxy (Go's TLS chooses the cipher suite itself).", w[0])
			return
		}
	}
	if w[0] == "ssl-default-bind-options" {
		p.cfg.Global.SSL.BindOptions = opts
	} else {
		p.cfg.Global.SSL.ServerOptions = opts
	}
}

// validateSSL runs HAProxy's post-parse TLS checks of a proxy's binds and
// servers and maps cipher and curve lists to Go's.
func (p *parser) validateSSL(px *Proxy) {
	if px.Cap&CapFrontend != 0 {
		for _, b := range px.Binds {
			if s := b.SSL; s != nil && s.Enabled {
				p.validateBindSSL(px, b, s)
			}
		}
	}
	if px.Cap&CapBackend != 0 {
		for _, sv := range px.Servers {
			if sv.SSL != nil && sv.SSL.Enabled {
				p.validateServerSSL(px, sv)
			}
		}
	}
}

func (p *parser) validateBindSSL(px *Proxy, b *Bind, s *BindSSL) {
	at := fmt.Sprintf("for bind '%s' at [%s:%d]", s.Addr, b.File, b.Line)
	if len(s.Certs) == 0 {
		p.checkAlert(Pos{}, "Proxy '%s': no SSL certificate specified %s (use 'crt').", px.Name, at)
		return
	}
	s.CipherIDs, s.CurveIDs = p.validateTLSLists(px, b, s.Addr, at, s.Ciphers, s.Suites13, s.Curves)
	for _, o := range s.CertOpts {
		if o == nil {
			continue
		}
		// A crt-list line's lists replace the bind's: checked the same way.
		if o.Ciphers != "" || o.Suites13 != "" || o.Curves != "" {
			o.CipherIDs, o.CurveIDs = p.validateTLSLists(px, b, s.Addr, at, o.Ciphers, o.Suites13, o.Curves)
		}
		verify, ca := cmp.Or(o.Verify, s.Verify), cmp.Or(o.CAFile, s.CAFile)
		if verify != "none" && ca == "" {
			msg := fmt.Sprintf("Proxy '%s': verify is enabled but no CA file specified %s.", px.Name, at)
			p.checkAlert(Pos{}, "%s\n%s", msg, msg)
		}
	}
	if s.Verify != "none" && s.CAFile == "" {
		msg := fmt.Sprintf("Proxy '%s': verify is enabled but no CA file specified %s.", px.Name, at)
		p.checkAlert(Pos{}, "%s\n%s", msg, msg)
	}
}

// validateTLSLists checks a bind's (or a crt-list line's) cipher list,
// TLS 1.3 suites and curves, with HAProxy's messages, and returns Go's ids
// (nil: Go's defaults).
func (p *parser) validateTLSLists(px *Proxy, b *Bind, addr, at, ciphers, suites13, curves string) ([]uint16, []tls.CurveID) {
	// HAProxy prints these twice; the second line here says why.
	twice := func(head string, why error) {
		p.checkAlert(Pos{}, "%s\n%s (%v).", head, head[:len(head)-1], why)
	}
	var ids []uint16
	var curveIDs []tls.CurveID
	if ciphers != "" {
		cl, err := MapCiphers(ciphers)
		switch {
		case err != nil:
			twice(fmt.Sprintf("Proxy '%s': unable to set SSL cipher list to '%s' %s.", px.Name, ciphers, at), err)
		case len(cl.IDs) == 0:
			twice(fmt.Sprintf("Proxy '%s': unable to set SSL cipher list to '%s' %s.", px.Name, ciphers, at),
				fmt.Errorf("none of these ciphers is supported by Go's TLS"))
		default:
			ids = cl.IDs
			if len(cl.Dropped) > 0 {
				p.report(&Error{Pos: b.Pos, Phase: PhaseCheck, Sev: SevWarning,
					Msg: fmt.Sprintf("'bind %s' : ciphers %v are not supported by Go's TLS and are not offered.", addr, cl.Dropped)})
			}
		}
	}
	if suites13 != "" {
		if msg, extra := check13Suites(suites13); msg != "" {
			twice(fmt.Sprintf("Proxy '%s': unable to set TLS 1.3 cipher suites to '%s' %s.", px.Name, suites13, at), fmt.Errorf("%s", msg))
		} else if len(extra) > 0 {
			p.report(&Error{Pos: b.Pos, Phase: PhaseCheck, Sev: SevWarning,
				Msg: fmt.Sprintf("'bind %s' : ciphersuites '%s': %s", addr, suites13, suites13Warning(extra))})
		}
	}
	if curves != "" {
		c, err := MapCurves(curves)
		if err != nil {
			twice(fmt.Sprintf("Proxy '%s': unable to set SSL curves list to '%s' %s.", px.Name, curves, at), err)
		}
		curveIDs = c
	}
	return ids, curveIDs
}

func (p *parser) validateServerSSL(px *Proxy, sv *Server) {
	alert := func(format string, args ...any) {
		p.report(&Error{Pos: sv.Pos, Server: px.Name + "/" + sv.Name, Style: StyleServer, Phase: PhaseCheck,
			Msg: fmt.Sprintf(format, args...)})
	}
	verify := sv.Verify
	if verify == "" {
		verify = p.cfg.Global.SSL.ServerVerify
	}
	if verify != "none" && sv.CAFile == "" {
		alert("verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.")
		return
	}
	if c := sv.SSL.Suites13; c != "" {
		if msg, extra := check13Suites(c); msg != "" {
			alert("unable to set TLS 1.3 cipher suites to '%s'.\n%s.", c, msg)
			return
		} else if len(extra) > 0 {
			p.report(&Error{Pos: sv.Pos, Server: px.Name + "/" + sv.Name, Style: StyleServer, Phase: PhaseCheck, Sev: SevWarning,
				Msg: fmt.Sprintf("ciphersuites '%s': %s", c, suites13Warning(extra))})
		}
	}
	if c := sv.SSL.Ciphers; c != "" {
		cl, err := MapCiphers(c)
		if err == nil && len(cl.IDs) == 0 {
			err = fmt.Errorf("none of these ciphers is supported by Go's TLS")
		}
		if err != nil {
			alert("unable to set SSL cipher list to '%s'.\n%v.", c, err)
			return
		}
		sv.SSL.CipherIDs = cl.IDs
	}
}

// globalSSLExtraFiles reads ssl-load-extra-files as HAProxy does: kinds of
// files, or none or all alone.
func (p *parser) globalSSLExtraFiles(w []string, _ kwMod) {
	kinds := map[string]ExtraFiles{"bundle": ExtraBundle, "sctl": ExtraSCTL, "ocsp": ExtraOCSP, "issuer": ExtraIssuer, "key": ExtraKey}
	if len(w) < 2 || w[1] == "" {
		p.alert("'%s' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).", w[0])
		return
	}
	var set ExtraFiles
	for i, a := range w[1:] {
		switch {
		case a == "none" || a == "all":
			if set != 0 || i+2 < len(w) {
				p.alert("'%s' 'none' and 'all' can be only used alone", w[0])
				return
			}
			if a == "all" {
				set = ExtraAll
			}
		case kinds[a] != 0:
			set |= kinds[a]
		default:
			p.alert("'%s' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).", w[0])
			return
		}
	}
	p.cfg.Global.SSL.ExtraFiles, p.cfg.Global.SSL.ExtraFilesSet = set, true
}
