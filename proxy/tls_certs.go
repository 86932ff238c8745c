package proxy

import (
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
}

// certEntry is one certificate file.
type certEntry struct {
	path string
	cert atomic.Pointer[tls.Certificate]
}

// newCertStore returns an empty store.
func newCertStore() *CertStore { return &CertStore{byPath: map[string]*certEntry{}} }

// load returns the entry of path, loading the file the first time.
func (cs *CertStore) load(path string) (*certEntry, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if e := cs.byPath[path]; e != nil {
		return e, nil
	}
	c, err := parser.LoadCertFile(path)
	if err != nil {
		return nil, err
	}
	e := &certEntry{path: path}
	e.cert.Store(c)
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
	ix := tb.index.Load()
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	choose := func(list []*certEntry) *tls.Certificate {
		var first *tls.Certificate
		for _, e := range list {
			if ix.negative[e][name] {
				continue
			}
			c := e.cert.Load()
			if first == nil {
				first = c
			}
			if hello.SupportsCertificate(c) == nil {
				return c
			}
		}
		return first
	}
	if name != "" {
		if c := choose(ix.exact[name]); c != nil {
			return c, nil
		}
		if i := strings.IndexByte(name, '.'); i > 0 {
			if c := choose(ix.wildcard[name[i+1:]]); c != nil {
				return c, nil
			}
		}
	}
	if tb.strict {
		return nil, errNoCertificate
	}
	return tb.certs[0].cert.Load(), nil
}

// setupListenerTLS prepares ln's TLS termination when its bind has "ssl".
func (g *Graph) setupListenerTLS(ln *Listener) error {
	s := ln.Bind.SSL
	if s == nil || !s.Enabled {
		return nil
	}
	if g.certs == nil {
		g.certs = newCertStore()
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
	conf := &tls.Config{
		GetCertificate:         tb.pick,
		MinVersion:             tls.VersionTLS12,
		NextProtos:             s.ALPN,
		CipherSuites:           s.CipherIDs,
		CurvePreferences:       s.CurveIDs,
		SessionTicketsDisabled: s.NoTickets,
	}
	if s.MinVer != 0 {
		conf.MinVersion = s.MinVer
	}
	if s.MaxVer != 0 {
		conf.MaxVersion = s.MaxVer
	}
	conf.MinVersion, conf.MaxVersion = versionRange(conf.MinVersion, conf.MaxVersion, s.NoVersions)
	if conf.MinVersion < tls.VersionTLS10 {
		conf.MinVersion = tls.VersionTLS10 // Go's TLS has no SSLv3
	}
	if s.CAFile != "" {
		pool, err := parser.LoadCAFile(s.CAFile)
		if err != nil {
			return fmt.Errorf("parsing [%s:%d] : 'bind %s' : 'ca-file' : unable to load %s", ln.Bind.File, ln.Bind.Line, s.Addr, s.CAFile)
		}
		conf.ClientCAs = pool
	}
	switch s.Verify {
	case "optional":
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if s.CRLFile != "" && s.Verify != "none" {
		// As HAProxy: the revocation lists of every certificate of the
		// client's chain are checked (OpenSSL's CRL_CHECK_ALL), and the
		// crl-file's certificates are trusted beside the ca-file's.
		rev, err := certcheck.LoadFile(s.CRLFile)
		if err != nil {
			return fmt.Errorf("parsing [%s:%d] : 'bind %s' : 'crl-file' : unable to load %s (%v)", ln.Bind.File, ln.Bind.Line, s.Addr, s.CRLFile, err)
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
	tb.conf = conf
	ln.tls = tb
	g.certs.mu.Lock()
	g.certs.binds = append(g.certs.binds, tb)
	g.certs.mu.Unlock()
	return nil
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
