package proxy

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"goproxy/internal/certcheck"
	"goproxy/parser"
)

// CertStore holds the certificates of the graph's ssl binds, one entry per
// file, shared by every bind that names the file. Handshakes read an
// entry's certificate through an atomic pointer, so that a certificate
// replaced at run time ("set ssl cert" then "commit ssl cert") serves the
// next handshakes without a reload, while established sessions go on.
type CertStore struct {
	mu      sync.Mutex // guards order, byPath, binds and the transaction
	order   []string
	byPath  map[string]*certEntry
	binds   []*tlsBind
	txPath  string           // the file of the open transaction, "" = none
	txCert  *tls.Certificate // its new certificate
	txBytes []byte
	ocsp    map[string]*ocspSlot // by certificate ID (DER)
	extra   parser.ExtraFiles    // ssl-load-extra-files
}

// certEntry is one certificate file.
type certEntry struct {
	path string
	cert atomic.Pointer[tls.Certificate]
	ocsp atomic.Pointer[ocspSlot] // nil: no OCSP stapling
}

// newCertStore returns an empty store.
func newCertStore(extra parser.ExtraFiles) *CertStore {
	return &CertStore{byPath: map[string]*certEntry{}, extra: extra}
}

// load returns the entry of path, loading the file the first time.
func (cs *CertStore) load(path string) (*certEntry, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if e := cs.byPath[path]; e != nil {
		return e, nil
	}
	c, err := parser.LoadCertFile(path, cs.extra)
	if err != nil {
		return nil, err
	}
	e := &certEntry{path: path}
	e.cert.Store(c)
	cs.fileOCSP(e, c)
	cs.byPath[path] = e
	cs.order = append(cs.order, path)
	return e, nil
}

// tlsBind is the TLS termination of one bind line: its certificates in
// configuration order, the SNI index built from their names, and the
// tls.Config that handshakes use.
type tlsBind struct {
	conf    *tls.Config
	certs   []*certEntry
	filters [][]string // per cert: crt-list SNI filters, nil = its names
	strict  bool
	index   atomic.Pointer[sniIndex]
	// verifier is the bind's client verification when it ignores errors
	// (ca-ignore-err, crt-ignore-err), for the fetches; nil otherwise.
	verifier *clientVerifier
}

// sniIndex maps names to the certificates that carry them, in order.
type sniIndex struct {
	exact    map[string][]*certEntry
	wildcard map[string][]*certEntry // "*.example.com" keyed by "example.com"
	negative map[*certEntry]map[string]bool
}

// certNames returns the DNS names of a certificate: its SANs, and its
// common name when it is not also a SAN.
func certNames(c *tls.Certificate) []string {
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil
		}
	}
	names := append([]string(nil), leaf.DNSNames...)
	if cn := leaf.Subject.CommonName; cn != "" {
		dup := false
		for _, n := range names {
			dup = dup || strings.EqualFold(n, cn)
		}
		if !dup {
			names = append(names, cn)
		}
	}
	return names
}

// rebuild recomputes the SNI index from the current certificates.
func (tb *tlsBind) rebuild() {
	ix := &sniIndex{exact: map[string][]*certEntry{}, wildcard: map[string][]*certEntry{}, negative: map[*certEntry]map[string]bool{}}
	for i, e := range tb.certs {
		names := tb.filters[i]
		if names == nil {
			names = certNames(e.cert.Load())
		}
		for _, n := range names {
			n = strings.ToLower(n)
			if neg, ok := strings.CutPrefix(n, "!"); ok {
				if ix.negative[e] == nil {
					ix.negative[e] = map[string]bool{}
				}
				ix.negative[e][neg] = true
				continue
			}
			if rest, ok := strings.CutPrefix(n, "*."); ok {
				ix.wildcard[rest] = append(ix.wildcard[rest], e)
			} else {
				ix.exact[n] = append(ix.exact[n], e)
			}
		}
	}
	tb.index.Store(ix)
}

// errNoCertificate fails a handshake under strict-sni.
var errNoCertificate = errors.New("no certificate matches the server name (strict-sni)")

// pick chooses the certificate for a ClientHello as HAProxy does: an exact
// name, then a wildcard, then the first certificate of the bind (none
// under strict-sni). Among several certificates for one name, the first
// one the client supports (ECDSA or RSA) wins.
func (tb *tlsBind) pick(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	e, err := tb.pickEntry(hello)
	if errors.Is(err, errNoCertificate) {
		// No certificate and no error: crypto/tls, which has none
		// configured either, then sends the unrecognized_name alert, as
		// OpenSSL does for HAProxy's strict-sni (an error would send
		// internal_error).
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return e.stapled(time.Now()), nil
}

// pickEntry is pick's choice of certificate file.
func (tb *tlsBind) pickEntry(hello *tls.ClientHelloInfo) (*certEntry, error) {
	ix := tb.index.Load()
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	choose := func(list []*certEntry) *certEntry {
		var first *certEntry
		for _, e := range list {
			if ix.negative[e][name] {
				continue
			}
			if first == nil {
				first = e
			}
			if hello.SupportsCertificate(e.cert.Load()) == nil {
				return e
			}
		}
		return first
	}
	if name != "" {
		if e := choose(ix.exact[name]); e != nil {
			return e, nil
		}
		if i := strings.IndexByte(name, '.'); i > 0 {
			if e := choose(ix.wildcard[name[i+1:]]); e != nil {
				return e, nil
			}
		}
	}
	if tb.strict {
		return nil, errNoCertificate
	}
	return tb.certs[0], nil
}

// setupListenerTLS prepares ln's TLS termination when its bind has "ssl".
func (g *Graph) setupListenerTLS(ln *Listener) error {
	s := ln.Bind.SSL
	if s == nil || !s.Enabled {
		return nil
	}
	if g.certs == nil {
		g.certs = newCertStore(g.cfg.Global.SSL.Extra())
	}
	tb := &tlsBind{strict: s.StrictSNI, filters: s.CertSNI}
	for _, path := range s.Certs {
		e, err := g.certs.load(path)
		if err != nil {
			return fmt.Errorf("parsing [%s:%d] : 'bind %s' : %v", ln.Bind.File, ln.Bind.Line, s.Addr, err)
		}
		tb.certs = append(tb.certs, e)
	}
	if len(tb.certs) == 0 {
		return fmt.Errorf("Proxy '%s': no SSL certificate specified for bind '%s' at [%s:%d] (use 'crt').", ln.Frontend.Name, s.Addr, ln.Bind.File, ln.Bind.Line)
	}
	tb.rebuild()
	at := fmt.Sprintf("parsing [%s:%d] : 'bind %s'", ln.Bind.File, ln.Bind.Line, s.Addr)
	conf, verifier, err := bindTLSConfig(tb, tlsSettings{alpn: s.ALPN, caFile: s.CAFile, crlFile: s.CRLFile, verify: s.Verify,
		cipherIDs: s.CipherIDs, curveIDs: s.CurveIDs, minVer: s.MinVer, maxVer: s.MaxVer, noVersions: s.NoVersions, noTickets: s.NoTickets,
		caIgnore: s.CAIgnoreErr, crtIgnore: s.CrtIgnoreErr}, at)
	if err != nil {
		return err
	}
	tb.verifier = verifier
	// A crt-list line's options make a configuration of their own for the
	// handshakes that select its certificate, as HAProxy gives such a
	// line its own SSL context.
	var byEntry map[*certEntry]*tls.Config
	for i, o := range s.CertOpts {
		if o == nil {
			continue
		}
		set := tlsSettings{alpn: s.ALPN, caFile: s.CAFile, crlFile: s.CRLFile, verify: s.Verify,
			cipherIDs: s.CipherIDs, curveIDs: s.CurveIDs, minVer: s.MinVer, maxVer: s.MaxVer, noVersions: s.NoVersions, noTickets: s.NoTickets,
			caIgnore: s.CAIgnoreErr, crtIgnore: s.CrtIgnoreErr}
		if o.ALPN != nil {
			set.alpn = o.ALPN
		}
		set.caFile = cmp.Or(o.CAFile, set.caFile)
		set.crlFile = cmp.Or(o.CRLFile, set.crlFile)
		set.verify = cmp.Or(o.Verify, set.verify)
		if o.Ciphers != "" {
			set.cipherIDs = o.CipherIDs
		}
		if o.Curves != "" {
			set.curveIDs = o.CurveIDs
		}
		if o.MinVer != 0 || o.MaxVer != 0 {
			set.minVer, set.maxVer, set.noVersions = o.MinVer, o.MaxVer, nil
		}
		c, _, err := bindTLSConfig(tb, set, at+" : 'crt-list'")
		if err != nil {
			return err
		}
		if byEntry == nil {
			byEntry = map[*certEntry]*tls.Config{}
		}
		byEntry[tb.certs[i]] = c
	}
	if byEntry != nil {
		base := conf.GetConfigForClient
		conf = conf.Clone()
		conf.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if e, err := tb.pickEntry(h); err == nil {
				if c := byEntry[e]; c != nil {
					if c.GetConfigForClient != nil {
						if alt, _ := c.GetConfigForClient(h); alt != nil {
							return alt, nil
						}
					}
					return c, nil
				}
			}
			if base != nil {
				return base(h)
			}
			return nil, nil
		}
	}
	tb.conf = conf
	ln.tls = tb
	g.certs.mu.Lock()
	g.certs.binds = append(g.certs.binds, tb)
	g.certs.mu.Unlock()
	return nil
}

// tlsSettings are the options one TLS configuration of a bind is made of:
// the bind line's, or a crt-list line's over them.
type tlsSettings struct {
	alpn                    []string
	caFile, crlFile, verify string
	cipherIDs               []uint16
	curveIDs                []tls.CurveID
	minVer, maxVer          uint16
	noVersions              map[uint16]bool
	noTickets               bool
	// caIgnore, crtIgnore: ca-ignore-err and crt-ignore-err, the bind's.
	caIgnore, crtIgnore parser.IgnoreErr
}

// bindTLSConfig builds the configuration of a bind's handshakes from set;
// at prefixes its errors.
// With errors to ignore, it also returns the client verifier it set up.
func bindTLSConfig(tb *tlsBind, set tlsSettings, at string) (*tls.Config, *clientVerifier, error) {
	var v *clientVerifier
	conf := &tls.Config{
		GetCertificate:         tb.pick,
		MinVersion:             tls.VersionTLS12,
		NextProtos:             set.alpn,
		CipherSuites:           set.cipherIDs,
		CurvePreferences:       set.curveIDs,
		SessionTicketsDisabled: set.noTickets,
	}
	if set.minVer != 0 {
		conf.MinVersion = set.minVer
	}
	if set.maxVer != 0 {
		conf.MaxVersion = set.maxVer
	}
	conf.MinVersion, conf.MaxVersion = versionRange(conf.MinVersion, conf.MaxVersion, set.noVersions)
	if conf.MinVersion < tls.VersionTLS10 {
		conf.MinVersion = tls.VersionTLS10 // Go's TLS has no SSLv3
	}
	if set.caFile != "" {
		pool, err := parser.LoadCAFile(set.caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("%s : 'ca-file' : unable to load %s", at, set.caFile)
		}
		conf.ClientCAs = pool
	}
	switch set.verify {
	case "optional":
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if ignoring := set.caIgnore != (parser.IgnoreErr{}) || set.crtIgnore != (parser.IgnoreErr{}); ignoring && (set.verify == "optional" || set.verify == "required") {
		// Errors may be ignored: the chain is verified as OpenSSL does,
		// error by error, instead of by Go's verifier.
		var err error
		if v, err = newClientVerifier(set, at); err != nil {
			return nil, nil, err
		}
		conf.ClientAuth = tls.RequestClientCert
		if set.verify == "required" {
			conf.ClientAuth = tls.RequireAnyClientCert
		}
		conf.VerifyPeerCertificate = v.verifyPeer
		conf.ClientCAs = v.pool()
	} else if set.crlFile != "" && set.verify != "none" && set.verify != "" {
		// As HAProxy: the revocation lists of every certificate of the
		// client's chain are checked (OpenSSL's CRL_CHECK_ALL), and the
		// crl-file's certificates are trusted beside the ca-file's.
		rev, err := certcheck.LoadFile(set.crlFile)
		if err != nil {
			return nil, nil, fmt.Errorf("%s : 'crl-file' : unable to load %s (%v)", at, set.crlFile, err)
		}
		if conf.ClientCAs != nil {
			rev.AddCAs(conf.ClientCAs)
		}
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil // verify optional, no certificate
			}
			return rev.CheckChains(cs.VerifiedChains, time.Now())
		}
	}
	if len(conf.NextProtos) > 0 {
		// OpenSSL, and so HAProxy, goes on without ALPN when the client
		// offers none of the bind's protocols; Go's TLS would refuse the
		// handshake. Such clients get the configuration without ALPN.
		noALPN := conf.Clone()
		noALPN.NextProtos = nil
		conf.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if len(h.SupportedProtos) == 0 || overlaps(h.SupportedProtos, conf.NextProtos) {
				return nil, nil
			}
			return noALPN, nil
		}
	}
	return conf, v, nil
}

// overlaps reports whether a and b have a string in common.
func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// versionRange narrows [lo, hi] by the versions the no-* options
// disable, as HAProxy does: the range is the contiguous span of enabled
// versions starting from the lowest.
func versionRange(lo, hi uint16, no map[uint16]bool) (uint16, uint16) {
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	for lo <= hi && no[lo] {
		lo++
	}
	for v := lo; v <= hi; v++ {
		if no[v] {
			hi = v - 1
			break
		}
	}
	return lo, hi
}
