package main

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestE2ETLSRuntimeCAFile replaces a bind's ca-file and crl-file through
// the runtime API, on goproxy and haproxy with the same expected answers:
// show ssl ca-file|crl-file (list, details, index), set with a bad
// payload, a file not in use, a transaction on another file, commit and
// abort. After the commits, new handshakes verify against the new CA and
// the new list (a client of the new CA accepted, one revoked by the new
// list refused) while handshakes go on, and a session established before
// is untouched.
func TestE2ETLSRuntimeCAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca1 := newTestCA(t, dir, "ca1")
	ca2 := newTestCA(t, dir, "ca2")
	srv, _ := ca1.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	_, c1 := ca1.issue(t, dir, "c1.pem", certOpts{cn: "client-1", client: true})
	_, c2 := ca2.issue(t, dir, "c2.pem", certOpts{cn: "client-2", client: true})
	_, c2r := ca2.issue(t, dir, "c2r.pem", certOpts{cn: "client-3", client: true})
	// The crl-file: a list from each CA, as every certificate of a chain
	// needs one; the new one revokes c2r.
	crlFile := filepath.Join(dir, "clients.crl")
	writePEM(t, crlFile, append(readFile(t, ca1.crl(t, dir, "ca1.crl")), readFile(t, ca2.crl(t, dir, "ca2.crl"))...))
	newCRL := append(readFile(t, ca1.crl(t, dir, "ca1-new.crl")), readFile(t, ca2.crl(t, dir, "ca2-new.crl", c2r.Leaf))...)
	caFile := filepath.Join(dir, "clients-ca.pem")
	writePEM(t, caFile, readFile(t, ca1.file))
	newCA := append(readFile(t, ca1.file), readFile(t, ca2.file)...)

	kder, err := x509.MarshalPKCS8PrivateKey(c1.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyOnly := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	with := func(c tls.Certificate) *tls.Config {
		return &tls.Config{ServerName: "srv.test", RootCAs: ca1.pool,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }}
	}
	accepted := func(addr string, c tls.Certificate) bool {
		_, name, err := tlsGreeting(addr, with(c))
		return err == nil && name == "s1"
	}
	onOracles(t, func(t *testing.T, bin string) {
		sock := filepath.Join(t.TempDir(), "cli.sock")
		ss := nameServers(t, 1)
		c := e2eCfg{global: []string{"stats socket " + sock + " level admin"}, servers: srvLines(ss, []int{1})}
		addr, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+caFile+" crl-file "+crlFile+" verify required")
		waitSock(t, sock)
		expect := func(cmd, want string) {
			t.Helper()
			got := cli(t, sock, cmd)
			if strings.HasPrefix(cmd, "show ssl ca-file") {
				// HAProxy's HTTP client loads the system CAs, which
				// goproxy, without one, has not.
				got = withoutPrefixed(got, "@system-ca - ")
			}
			if got != want {
				t.Errorf("%s:\n got %q\nwant %q", strings.SplitN(cmd, "\n", 2)[0], got, want)
			}
		}
		if !accepted(addr, c1) || accepted(addr, c2) {
			t.Fatalf("before the commits: client of ca1 accepted %v, of ca2 accepted %v", accepted(addr, c1), accepted(addr, c2))
		}
		expect("show ssl ca-file", "# filename\n"+caFile+" - 1 certificate(s)\n\n")
		expect("show ssl ca-file "+caFile, "Filename: "+caFile+"\nStatus: Used\n"+caDetail(1, ca1.cert)+"\n")
		expect("show ssl ca-file /nonexistent.pem", "Can't display the CA file : Not found!\n\n")
		expect("show ssl ca-file "+caFile+":0", "wrong CA index after colons in '"+caFile+":0'!\n")
		expect("show ssl crl-file", "# filename\n"+crlFile+"\n\n")
		expect("show ssl crl-file "+crlFile+":2", "Filename: "+crlFile+"\nStatus: Used\n"+crlDetail(t, 2, readFile(t, crlFile))+"\n")
		expect("show ssl crl-file "+caFile, "Can't display the CRL file : Not found!\n\n")

		// Errors.
		expect("set ssl ca-file "+caFile+" <<\ngarbage\n", "Invalid payload\nCan't update "+caFile+"!\n\n")
		expect("set ssl ca-file /nonexistent.pem <<\n"+string(newCA), "Can't replace a CA file which is not referenced by the configuration!\nCan't update /nonexistent.pem!\n\n")
		expect("set ssl crl-file "+crlFile+" <<\ngarbage\n", "Invalid payload\nCan't update "+crlFile+"!\n\n")
		expect("commit ssl ca-file "+caFile, "No ongoing transaction! !\nCan't commit "+caFile+"!\n\n")
		expect("abort ssl ca-file "+caFile, "No ongoing transaction!\n\n")
		expect("commit ssl crl-file "+crlFile, "No ongoing transaction! !\nCan't commit "+crlFile+"!\n\n")
		expect("set ssl ca-file "+caFile, "'set ssl ca-file expects a filename and CAs as a payload\n\n")
		expect("commit ssl crl-file", "'commit ssl ca-file expects a filename\n\n")
		expect("abort ssl crl-file", "'abort ssl crl-file' expects a filename\n\n")

		// A payload of keys only is read, without a certificate; equal
		// certificates count once, as in OpenSSL's store.
		expect("set ssl ca-file "+caFile+" <<\n"+string(keyOnly), "transaction created for CA "+caFile+"!\n\n")
		expect("show ssl ca-file", "# transaction\n*"+caFile+" - 0 certificate(s)\n# filename\n"+caFile+" - 1 certificate(s)\n\n")
		expect("set ssl ca-file "+caFile+" <<\n"+string(readFile(t, ca1.file))+string(readFile(t, ca1.file)), "transaction updated for CA "+caFile+"!\n\n")
		expect("show ssl ca-file", "# transaction\n*"+caFile+" - 1 certificate(s)\n# filename\n"+caFile+" - 1 certificate(s)\n\n")
		expect("abort ssl ca-file "+caFile, "Transaction aborted for certificate '"+caFile+"'!\n\n")

		// Handshakes of a client of ca1 under way during the commits.
		var stop atomic.Bool
		var fails, done atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000 && !stop.Load(); i++ {
				if accepted(addr, c1) {
					done.Add(1)
				} else {
					fails.Add(1)
				}
			}
		}()
		defer func() {
			stop.Store(true)
			wg.Wait()
		}()

		// The new CA file.
		expect("set ssl ca-file "+caFile+" <<\n"+string(readFile(t, ca2.file)), "transaction created for CA "+caFile+"!\n\n")
		expect("set ssl ca-file "+caFile+" <<\n"+string(newCA), "transaction updated for CA "+caFile+"!\n\n")
		expect("set ssl ca-file "+crlFile+" <<\n"+string(newCA), "The ongoing transaction is about '"+caFile+"' but you are trying to set '"+crlFile+"'\nCan't update "+crlFile+"!\n\n")
		expect("abort ssl ca-file "+crlFile, "The ongoing transaction is about '"+caFile+"' but you are trying to abort a transaction for '"+crlFile+"'\n\n")
		expect("show ssl ca-file", "# transaction\n*"+caFile+" - 2 certificate(s)\n# filename\n"+caFile+" - 1 certificate(s)\n\n")
		expect("show ssl ca-file *"+caFile+":2", "Filename: *"+caFile+"\nStatus: Unused\n"+caDetail(2, ca2.cert)+"\n")
		expect("show ssl ca-file *"+caFile, "Filename: *"+caFile+"\nStatus: Unused\n"+caDetail(1, ca1.cert)+caDetail(2, ca2.cert)+"\n")
		if accepted(addr, c2) {
			t.Errorf("a client of ca2 accepted before the commit")
		}
		expect("commit ssl ca-file "+caFile, "Committing "+caFile+".\nSuccess!\n\n")
		expect("show ssl ca-file", "# filename\n"+caFile+" - 2 certificate(s)\n\n")
		if !accepted(addr, c2) || !accepted(addr, c2r) {
			t.Errorf("after the ca-file commit: client of ca2 accepted %v, to be revoked accepted %v", accepted(addr, c2), accepted(addr, c2r))
		}

		// A session established before the list revokes its certificate.
		old, _, err := tlsDial(addr, with(c2r))
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		if name, err := readName(old); err != nil || name != "s1" {
			t.Fatalf("greeting %q, %v", name, err)
		}
		expect("set ssl crl-file "+crlFile+" <<\n"+string(newCRL), "transaction created for CRL "+crlFile+"!\n\n")
		expect("show ssl crl-file", "# transaction\n*"+crlFile+"\n# filename\n"+crlFile+"\n\n")
		expect("show ssl crl-file *"+crlFile, "Filename: *"+crlFile+"\nStatus: Unused\n"+crlDetail(t, 1, newCRL)+crlDetail(t, 2, newCRL)+"\n")
		expect("abort ssl crl-file "+crlFile, "Transaction aborted for certificate '"+crlFile+"'!\n\n")
		expect("show ssl crl-file", "# filename\n"+crlFile+"\n\n")
		expect("set ssl crl-file "+crlFile+" <<\n"+string(newCRL), "transaction created for CRL "+crlFile+"!\n\n")
		expect("commit ssl crl-file "+crlFile, "Committing "+crlFile+".\nSuccess!\n\n")
		expect("show ssl crl-file "+crlFile+":2", "Filename: "+crlFile+"\nStatus: Used\n"+crlDetail(t, 2, newCRL)+"\n")
		if accepted(addr, c2r) || !accepted(addr, c2) || !accepted(addr, c1) {
			t.Errorf("after the crl-file commit: revoked accepted %v, client of ca2 %v, of ca1 %v", accepted(addr, c2r), accepted(addr, c2), accepted(addr, c1))
		}
		if err := echoRoundTrip(old, "still here\n"); err != nil {
			t.Errorf("the session established before the commits: %v", err)
		}
		stop.Store(true)
		wg.Wait()

		// A new CA file, filled, then deleted; the files in use stay.
		newFile := filepath.Join(dir, "new-ca.pem")
		expect("new ssl ca-file "+newFile, "New CA file created '"+newFile+"'!\n\n")
		expect("new ssl crl-file "+newFile, "CRL file '"+newFile+"' already exists!\n\n")
		expect("show ssl ca-file "+newFile, "\n")
		expect("show ssl ca-file", "# filename\n"+caFile+" - 2 certificate(s)\n"+newFile+" - 0 certificate(s)\n\n")
		expect("set ssl ca-file "+newFile+" <<\n"+string(readFile(t, ca2.file)), "transaction created for CA "+newFile+"!\n\n")
		expect("commit ssl ca-file "+newFile, "Committing "+newFile+"\nSuccess!\n\n")
		expect("show ssl ca-file "+newFile, "Filename: "+newFile+"\nStatus: Unused\n"+caDetail(1, ca2.cert)+"\n")
		expect("del ssl ca-file "+caFile, "Can't remove the CA file: CA file '"+caFile+"' in use, can't be deleted!\n\n\n")
		expect("del ssl crl-file "+newFile, "Can't remove the CRL file: 'del ssl crl-file' does not work on CA files!\n\n\n")
		expect("del ssl ca-file "+newFile, "CA file '"+newFile+"' deleted!\n\n")
		expect("del ssl ca-file "+newFile, "Can't remove the CA file: CA file '"+newFile+"' doesn't exist!\n\n\n")
		newCRLFile := filepath.Join(dir, "new.crl")
		expect("new ssl crl-file "+newCRLFile, "New CRL file created '"+newCRLFile+"'!\n\n")
		expect("show ssl crl-file "+newCRLFile, "Filename: "+newCRLFile+"\nStatus: Empty\n\n")
		expect("del ssl crl-file "+crlFile, "Can't remove the CRL file: CRL file '"+crlFile+"' in use, can't be deleted!\n\n\n")
		expect("del ssl crl-file "+newCRLFile, "CRL file '"+newCRLFile+"' deleted!\n\n")
		expect("show ssl crl-file", "# filename\n"+crlFile+"\n\n")

		if fails.Load() > 0 || done.Load() == 0 {
			t.Errorf("handshakes during the commits: %d failed, %d done", fails.Load(), done.Load())
		}
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withoutPrefixed removes the lines starting with prefix.
func withoutPrefixed(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// caDetail is one certificate of show ssl ca-file <file>, as HAProxy
// prints one of the test CAs (ECDSA P-256, no SAN).
func caDetail(n int, c *x509.Certificate) string {
	const asn1Time = "Jan _2 15:04:05 2006 GMT"
	return fmt.Sprintf(" \nCertificate #%d:\nSerial: %X\nnotBefore: %s\nnotAfter: %s\nSubject Alternative Name: \nAlgorithm: EC256\n"+
		"SHA1 FingerPrint: %X\nSubject: /O=goproxy tests/CN=%s\nIssuer: /O=goproxy tests/CN=%s\n",
		n, c.SerialNumber.Bytes(), c.NotBefore.UTC().Format(asn1Time), c.NotAfter.UTC().Format(asn1Time),
		sha1.Sum(c.Raw), c.Subject.CommonName, c.Issuer.CommonName)
}

// crlDetail is the n-th list of a PEM text in show ssl crl-file <file>,
// as HAProxy prints the lists of the test CAs (v2, ECDSA with SHA-256).
func crlDetail(t *testing.T, n int, data []byte) string {
	t.Helper()
	const asn1Time = "Jan _2 15:04:05 2006 GMT"
	var l *x509.RevocationList
	for i, rest := 0, data; i < n; i++ {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			t.Fatalf("no list %d", n)
		}
		var err error
		if l, err = x509.ParseRevocationList(b.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	s := fmt.Sprintf(" \nCertificate Revocation List #%d:\nVersion 2\nSignature Algorithm: ecdsa-with-SHA256\nIssuer: /O=goproxy tests/CN=%s\n"+
		"Last Update: %s\nNext Update: %s\n", n, l.Issuer.CommonName, l.ThisUpdate.UTC().Format(asn1Time), l.NextUpdate.UTC().Format(asn1Time))
	if len(l.RevokedCertificateEntries) == 0 {
		return s + "No Revoked Certificates.\n"
	}
	s += "Revoked Certificates:\n"
	for _, r := range l.RevokedCertificateEntries {
		s += fmt.Sprintf("    Serial Number: %X\n        Revocation Date: %s\n", r.SerialNumber.Bytes(), r.RevocationTime.UTC().Format(asn1Time))
	}
	return s
}

// TestE2ETLSRuntimeCAFileCrtList commits the ca-files of a crt-list bind
// on goproxy and haproxy: a commit builds again every certificate line
// using the file (HAProxy's dots), and a line's own ca-file serves the
// handshakes of its names.
func TestE2ETLSRuntimeCAFileCrtList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca1 := newTestCA(t, dir, "ca1")
	ca2 := newTestCA(t, dir, "ca2")
	srv, _ := ca1.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"a.test", "b.test", "c.test"}})
	_, c2 := ca2.issue(t, dir, "c2.pem", certOpts{cn: "client-2", client: true})
	bindCA, lineCA := filepath.Join(dir, "bind-ca.pem"), filepath.Join(dir, "line-ca.pem")
	writePEM(t, bindCA, readFile(t, ca1.file))
	writePEM(t, lineCA, readFile(t, ca1.file))
	list := filepath.Join(dir, "certs.list")
	writePEM(t, list, []byte(srv+" [ca-file "+lineCA+" verify required] a.test\n"+srv+" b.test\n"+srv+" c.test\n"))
	dial := func(addr, name string) bool {
		conf := &tls.Config{ServerName: name, RootCAs: ca1.pool,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c2, nil }}
		_, greeting, err := tlsGreeting(addr, conf)
		return err == nil && greeting == "s1"
	}
	onOracles(t, func(t *testing.T, bin string) {
		sock := filepath.Join(t.TempDir(), "cli.sock")
		ss := nameServers(t, 1)
		c := e2eCfg{global: []string{"stats socket " + sock + " level admin"}, servers: srvLines(ss, []int{1})}
		addr, _ := startTLSProxy(t, bin, c, "ssl crt-list "+list+" ca-file "+bindCA+" verify required")
		waitSock(t, sock)
		expect := func(cmd, want string) {
			t.Helper()
			if got := withoutPrefixed(cli(t, sock, cmd), "@system-ca - "); got != want {
				t.Errorf("%s:\n got %q\nwant %q", strings.SplitN(cmd, "\n", 2)[0], got, want)
			}
		}
		expect("show ssl ca-file", "# filename\n"+bindCA+" - 1 certificate(s)\n"+lineCA+" - 1 certificate(s)\n\n")
		if dial(addr, "a.test") || dial(addr, "b.test") {
			t.Fatal("a client of ca2 accepted before the commits")
		}
		expect("set ssl ca-file "+lineCA+" <<\n"+string(readFile(t, ca2.file)), "transaction created for CA "+lineCA+"!\n\n")
		expect("commit ssl ca-file "+lineCA, "Committing "+lineCA+".\nSuccess!\n\n")
		if !dial(addr, "a.test") || dial(addr, "b.test") {
			t.Errorf("after the line's commit: a.test accepted %v (want true), b.test %v (want false)", dial(addr, "a.test"), dial(addr, "b.test"))
		}
		expect("set ssl ca-file "+bindCA+" <<\n"+string(readFile(t, ca2.file)), "transaction created for CA "+bindCA+"!\n\n")
		expect("commit ssl ca-file "+bindCA, "Committing "+bindCA+"..\nSuccess!\n\n")
		if !dial(addr, "b.test") || !dial(addr, "c.test") {
			t.Errorf("after the bind's commit: b.test accepted %v, c.test %v", dial(addr, "b.test"), dial(addr, "c.test"))
		}
	})
}
