package proxy

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"

	"goproxy/internal/certcheck"
	"goproxy/parser"
)

// The ca-file and crl-file of the ssl binds at run time: each file is
// loaded once and shared by every bind (and crt-list line) naming it.
// "set ssl ca-file|crl-file <file>" opens a transaction with a new PEM
// payload, "commit" puts it in place: every TLS configuration built on the
// file is built again from the new contents and swapped in for the next
// handshakes; sessions already established keep the configuration they
// were accepted with. As in HAProxy there is one transaction per kind at
// a time.

// CAKind tells a CA file from a CRL file.
type CAKind int

// The kinds of verification files.
const (
	KindCA  CAKind = iota // ca-file
	KindCRL               // crl-file
)

// CAObject is one object of a verification file, in file order: a
// certificate or a revocation list.
type CAObject struct {
	Cert *x509.Certificate
	CRL  *x509.RevocationList
}

// caEntry is one verification file; objs is replaced on commit.
type caEntry struct {
	path string
	objs atomic.Pointer[[]CAObject]
}

// caTx is the open transaction of one kind.
type caTx struct {
	path string
	objs []CAObject
}

// parseCAObjects reads the certificates and revocation lists of a PEM
// text as OpenSSL's PEM_X509_INFO_read_bio into a store: an object equal
// to one before it is left out, private keys are skipped, one that does
// not parse is an error. recognized reports whether the text had a block
// OpenSSL reads at all (a text of keys only has no object but is read).
func parseCAObjects(data []byte) (objs []CAObject, recognized bool, err error) {
	seen := map[string]bool{}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var o CAObject
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, false, fmt.Errorf("bad certificate: %w", err)
			}
			o.Cert = c
		case "X509 CRL":
			l, err := certcheck.ParseCRL(b.Bytes)
			if err != nil {
				return nil, false, fmt.Errorf("bad CRL: %w", err)
			}
			o.CRL = l
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			recognized = true
			continue
		default:
			continue
		}
		recognized = true
		if key := string(b.Bytes); !seen[key] {
			seen[key] = true
			objs = append(objs, o)
		}
	}
	return objs, recognized, nil
}

// errNoObjects is OpenSSL's complaint about a file without any.
var errNoObjects = errors.New("no certificate or crl found")

// certsOf returns the certificates among objs.
func certsOf(objs []CAObject) []*x509.Certificate {
	var out []*x509.Certificate
	for _, o := range objs {
		if o.Cert != nil {
			out = append(out, o.Cert)
		}
	}
	return out
}

// revocationOf returns what a crl-file's objects verify with.
func revocationOf(objs []CAObject) *certcheck.Revocation {
	r := &certcheck.Revocation{}
	for _, o := range objs {
		if o.CRL != nil {
			r.Lists = append(r.Lists, o.CRL)
		} else {
			r.Certs = append(r.Certs, o.Cert)
		}
	}
	return r
}

// loadCA returns the entry of path, loading the file the first time. A
// ca-file is read as at start-up before (its certificates), a crl-file
// with its lists and certificates.
func (cs *CertStore) loadCA(path string, kind CAKind) (*caEntry, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if e := cs.cas[kind][path]; e != nil {
		return e, nil
	}
	var objs []CAObject
	switch kind {
	case KindCA:
		certs, err := parser.LoadCACerts(path)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, c := range certs {
			if !seen[string(c.Raw)] { // a store keeps one of equal certificates
				seen[string(c.Raw)] = true
				objs = append(objs, CAObject{Cert: c})
			}
		}
	case KindCRL:
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if objs, _, err = parseCAObjects(data); err != nil {
			return nil, err
		}
		if len(objs) == 0 {
			return nil, errNoObjects
		}
	}
	e := &caEntry{path: path}
	e.objs.Store(&objs)
	if cs.cas[kind] == nil {
		cs.cas[kind] = map[string]*caEntry{}
	}
	cs.cas[kind][path] = e
	return e, nil
}

// caLoader returns the current objects of a verification file.
type caLoader func(path string, kind CAKind) ([]CAObject, error)

// caObjects is the caLoader of start-up: it loads the files.
func (cs *CertStore) caObjects(path string, kind CAKind) ([]CAObject, error) {
	e, err := cs.loadCA(path, kind)
	if err != nil {
		return nil, err
	}
	return *e.objs.Load(), nil
}

// caObjectsHeld is the caLoader of a commit, which holds cs.mu: every
// file was loaded at start-up.
func (cs *CertStore) caObjectsHeld(path string, kind CAKind) ([]CAObject, error) {
	e := cs.cas[kind][path]
	if e == nil || e.objs.Load() == nil {
		return nil, fmt.Errorf("%s is not loaded", path)
	}
	return *e.objs.Load(), nil
}

// CAFileInfo is one line of "show ssl ca-file" or "show ssl crl-file".
type CAFileInfo struct {
	Path  string
	Count int // objects in the file
}

// CAFiles returns the files of kind in HAProxy's order (by name), and
// the open transaction of that kind (Path "" when none).
func (cs *CertStore) CAFiles(kind CAKind) (files []CAFileInfo, tx CAFileInfo) {
	if cs == nil {
		return nil, CAFileInfo{}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, e := range cs.cas[kind] {
		n := 0
		if p := e.objs.Load(); p != nil {
			n = len(*p)
		}
		files = append(files, CAFileInfo{Path: e.path, Count: n})
	}
	slices.SortFunc(files, func(a, b CAFileInfo) int {
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	if t := cs.caTx[kind]; t != nil {
		tx = CAFileInfo{Path: t.path, Count: len(t.objs)}
	}
	return files, tx
}

// CAStatus is the Status line of show ssl ca-file|crl-file <file>.
type CAStatus string

// The statuses of a verification file.
const (
	CAUsed   CAStatus = "Used"
	CAUnused CAStatus = "Unused" // a transaction's, or a file no bind uses
	CAEmpty  CAStatus = "Empty"  // created by new ssl ca-file|crl-file, never set
)

// CAFileDetail returns the objects of the file path of kind, or of its
// transaction when tx is set, and its status.
func (cs *CertStore) CAFileDetail(path string, kind CAKind, tx bool) (objs []CAObject, status CAStatus, ok bool) {
	if cs == nil {
		return nil, "", false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if tx {
		t := cs.caTx[kind]
		if t == nil || t.path != path {
			return nil, "", false
		}
		return t.objs, CAUnused, true
	}
	e := cs.cas[kind][path]
	if e == nil {
		return nil, "", false
	}
	p := e.objs.Load()
	switch {
	case p == nil:
		return nil, CAEmpty, true
	case cs.usersLocked(path, kind) == 0:
		return *p, CAUnused, true
	}
	return *p, CAUsed, true
}

// usersLocked counts the certificates of the binds used with the file.
func (cs *CertStore) usersLocked(path string, kind CAKind) int {
	n := 0
	for _, tb := range cs.binds {
		n += tb.uses(path, kind)
	}
	return n
}

// NewCAFile creates an empty file of kind, for the commands to fill.
func (cs *CertStore) NewCAFile(path string, kind CAKind) error {
	_, long := caNoun(kind)
	if cs == nil {
		return certErr("Can't create the %s: no ssl bind", long)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.cas[KindCA][path] != nil || cs.cas[KindCRL][path] != nil {
		return certErr("%s '%s' already exists!", long, path)
	}
	if cs.cas[kind] == nil {
		cs.cas[kind] = map[string]*caEntry{}
	}
	cs.cas[kind][path] = &caEntry{path: path}
	return nil
}

// DelCAFile removes a file no bind uses. As in HAProxy, del ssl ca-file
// takes a file of either kind, del ssl crl-file only a CRL file.
func (cs *CertStore) DelCAFile(path string, kind CAKind) error {
	_, long := caNoun(kind)
	if cs == nil {
		return certErr("%s '%s' doesn't exist!", long, path)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	found := kind
	if cs.cas[kind][path] == nil {
		other := KindCRL
		if kind == KindCRL {
			other = KindCA
		}
		if cs.cas[other][path] == nil {
			return certErr("%s '%s' doesn't exist!", long, path)
		}
		if kind == KindCRL {
			return certErr("'del ssl crl-file' does not work on CA files!")
		}
		found = other
	}
	if cs.usersLocked(path, found) > 0 {
		return certErr("%s '%s' in use, can't be deleted!", long, path)
	}
	delete(cs.cas[found], path)
	return nil
}

// caNoun is the word of HAProxy's messages for a kind.
func caNoun(kind CAKind) (short, long string) {
	if kind == KindCRL {
		return "CRL", "CRL file"
	}
	return "CA", "CA file"
}

// SetCAFile puts a PEM payload in the transaction of path, opening it
// when none of that kind is open; created reports which.
func (cs *CertStore) SetCAFile(path string, kind CAKind, payload []byte) (created bool, err error) {
	_, long := caNoun(kind)
	if cs == nil {
		return false, certErr("Can't replace a %s which is not referenced by the configuration!", long)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	t := cs.caTx[kind]
	if t != nil && t.path != path {
		return false, certErr("The ongoing transaction is about '%s' but you are trying to set '%s'", t.path, path)
	}
	if cs.cas[kind][path] == nil {
		return false, certErr("Can't replace a %s which is not referenced by the configuration!", long)
	}
	objs, recognized, perr := parseCAObjects(payload)
	if perr != nil || !recognized {
		return false, certErr("Invalid payload")
	}
	created = t == nil
	cs.caTx[kind] = &caTx{path: path, objs: objs}
	return created, nil
}

// CommitCAFile puts the transaction of path in place; it returns the
// number of certificate instances (bind and certificate pairs) built
// again, HAProxy's dots.
func (cs *CertStore) CommitCAFile(path string, kind CAKind) (int, error) {
	if cs == nil {
		return 0, certErr("No ongoing transaction! !")
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	t := cs.caTx[kind]
	switch {
	case t == nil:
		return 0, certErr("No ongoing transaction! !")
	case t.path != path:
		return 0, certErr("The ongoing transaction is about '%s' but you are trying to set '%s'", t.path, path)
	}
	e := cs.cas[kind][path]
	old := e.objs.Load()
	objs := t.objs
	e.objs.Store(&objs)
	n := 0
	for _, tb := range cs.binds {
		uses := tb.uses(path, kind)
		if uses == 0 {
			continue
		}
		if err := tb.reconfigure(cs); err != nil {
			e.objs.Store(old)
			for _, tb := range cs.binds {
				if tb.uses(path, kind) > 0 {
					_ = tb.reconfigure(cs) // built with these contents before
				}
			}
			return 0, err
		}
		n += uses
	}
	cs.caTx[kind] = nil
	return n, nil
}

// AbortCAFile drops the transaction of path.
func (cs *CertStore) AbortCAFile(path string, kind CAKind) error {
	if cs == nil {
		return certErr("No ongoing transaction!")
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	t := cs.caTx[kind]
	switch {
	case t == nil:
		return certErr("No ongoing transaction!")
	case t.path != path:
		return certErr("The ongoing transaction is about '%s' but you are trying to abort a transaction for '%s'", t.path, path)
	}
	cs.caTx[kind] = nil
	return nil
}

// listServerCAFiles enters a server's ca-file and crl-file in the store,
// where show ssl ca-file|crl-file lists them as HAProxy does ("Unused":
// a server's TLS keeps the contents it was configured with). The store
// exists from the graph's start and locks its own state, so servers
// added at run time list theirs too.
func (g *Graph) listServerCAFiles(caFile, crlFile string) {
	if caFile != "" {
		_, _ = g.certs.loadCA(caFile, KindCA) // loaded by the caller already
	}
	if crlFile != "" {
		_, _ = g.certs.loadCA(crlFile, KindCRL)
	}
}
