package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// OCSP stapling: the ".ocsp" file beside a certificate, set ssl
// ocsp-response and show ssl ocsp-response, on goproxy and haproxy. The
// responses are made by `openssl ocsp`, an OCSP responder of its own.

// ocspResponder makes OCSP responses for the certificates of ca with
// openssl.
type ocspResponder struct {
	dir, keyFile string
	ca           *testCA
}

func newOCSPResponder(t *testing.T, dir string, ca *testCA) *ocspResponder {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("SKIP: openssl is not installed (it makes the OCSP responses)")
	}
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "ca.key")
	writePEM(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return &ocspResponder{dir: dir, keyFile: keyFile, ca: ca}
}

// respond returns a DER response for leaf, good or revoked, valid a day.
func (r *ocspResponder) respond(t *testing.T, leaf *x509.Certificate, revoked bool) []byte {
	t.Helper()
	d, err := os.MkdirTemp(r.dir, "ocsp")
	if err != nil {
		t.Fatal(err)
	}
	leafFile := filepath.Join(d, "leaf.pem")
	writePEM(t, leafFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))
	serial := fmt.Sprintf("%X", leaf.SerialNumber)
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	exp := leaf.NotAfter.UTC().Format("060102150405Z")
	line := "V\t" + exp + "\t\t" + serial + "\tunknown\t/CN=" + leaf.Subject.CommonName + "\n"
	if revoked {
		line = "R\t" + exp + "\t" + time.Now().Add(-time.Hour).UTC().Format("060102150405Z") + "\t" + serial + "\tunknown\t/CN=" + leaf.Subject.CommonName + "\n"
	}
	index := filepath.Join(d, "index.txt")
	writePEM(t, index, []byte(line))
	req, resp := filepath.Join(d, "req.der"), filepath.Join(d, "resp.der")
	for _, args := range [][]string{
		{"ocsp", "-issuer", r.ca.file, "-cert", leafFile, "-reqout", req, "-no_nonce"},
		{"ocsp", "-index", index, "-rsigner", r.ca.file, "-rkey", r.keyFile, "-CA", r.ca.file, "-reqin", req, "-respout", resp, "-ndays", "1"},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	b, err := os.ReadFile(resp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withChain writes the certificate file src followed by the CA's
// certificate to dst.
func withChain(t *testing.T, src, dst string, ca *testCA) {
	t.Helper()
	a, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(ca.file)
	writePEM(t, dst, append(a, b...))
}

// TestTLSOCSPCheckDifferential: the -c verdicts and messages of the .ocsp
// and .issuer files, on goproxy and haproxy.
func TestTLSOCSPCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	resp := newOCSPResponder(t, dir, ca)
	leafFile, pair := ca.issue(t, dir, "leaf.pem", certOpts{cn: "site.test", dns: []string{"site.test"}})
	_, otherPair := ca.issue(t, dir, "x.pem", certOpts{cn: "x.test", dns: []string{"x.test"}})
	good := resp.respond(t, pair.Leaf, false)
	wrong := resp.respond(t, otherPair.Leaf, false)
	file := func(name string, chain bool, ocsp []byte, issuer string) string {
		p := filepath.Join(dir, name)
		if chain {
			withChain(t, leafFile, p, ca)
		} else {
			data, _ := os.ReadFile(leafFile)
			writePEM(t, p, data)
		}
		if ocsp != nil {
			writePEM(t, p+".ocsp", ocsp)
		}
		if issuer != "" {
			data, _ := os.ReadFile(issuer)
			writePEM(t, p+".issuer", data)
		}
		return p
	}
	writePEM(t, leafFile+".nothing", []byte("not PEM\n"))
	cases := map[string]string{
		"chain, good response":     file("a.pem", true, good, ""),
		"no issuer":                file("b.pem", false, good, ""),
		"garbage":                  file("c.pem", true, []byte("garbage"), ""),
		"another certificate's":    file("d.pem", true, wrong, ""),
		".issuer file":             file("e.pem", false, good, ca.file),
		".issuer of another CA":    file("f.pem", false, good, other.file),
		".issuer not a cert":       file("g.pem", false, good, leafFile+".nothing"),
		"chain, no .ocsp":          file("h.pem", true, nil, ""),
		"crt directory with .ocsp": "",
	}
	badSCTL := file("i.pem", true, nil, "")
	writePEM(t, badSCTL+".sctl", []byte("\x00\x09\x00\x03abc"))
	cases["a .sctl that does not parse"] = badSCTL
	sub := filepath.Join(dir, "dir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	withChain(t, leafFile, filepath.Join(sub, "site.pem"), ca)
	writePEM(t, filepath.Join(sub, "site.pem.ocsp"), []byte("garbage"))
	cases["crt directory with .ocsp"] = sub
	pid := regexp.MustCompile(`\(\d+\)`)
	messages := func(out string) string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "[ALERT]") || strings.HasPrefix(l, "[WARNING]") {
				keep = append(keep, pid.ReplaceAllString(l, "(pid)"))
			}
		}
		return strings.Join(keep, "\n")
	}
	// ssl-load-extra-files decides which of those files are looked for.
	keyApart := filepath.Join(dir, "k.pem")
	data, _ := os.ReadFile(leafFile)
	certPart, keyPart, _ := strings.Cut(string(data), "-----BEGIN PRIVATE KEY")
	writePEM(t, keyApart, []byte(certPart))
	writePEM(t, keyApart+".key", []byte("-----BEGIN PRIVATE KEY"+keyPart))
	globals := map[string]string{}
	for name, g := range map[string][2]string{
		"none: no .ocsp, so no issuer needed": {"none", cases["no issuer"]},
		"ocsp without issuer":                 {"ocsp", cases[".issuer file"]},
		"ocsp issuer":                         {"ocsp issuer", cases[".issuer file"]},
		"none: no .sctl":                      {"none", badSCTL},
		"sctl":                                {"sctl", badSCTL},
		"none: no .key":                       {"none", keyApart},
		"key":                                 {"key", keyApart},
		"all":                                 {"all", keyApart},
		"no argument":                         {"", keyApart},
		"none all":                            {"none all", keyApart},
		"ocsp none":                           {"ocsp none", keyApart},
		"unknown kind":                        {"ocsp foo", keyApart},
	} {
		cases["ssl-load-extra-files: "+name] = g[1]
		globals["ssl-load-extra-files: "+name] = "global\n  ssl-load-extra-files " + g[0] + "\n"
	}
	for name, crt := range cases {
		cfg := writeFile(t, dir, "c.cfg", globals[name]+"defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"+
			"frontend fe\n  bind 127.0.0.1:9443 ssl crt "+crt+"\n  default_backend be\nbackend be\n  server s1 127.0.0.1:1\n")
		codes, msgs := checkBoth(t, haproxy, cfg, messages)
		if codes[0] != codes[1] || msgs[0] != msgs[1] {
			t.Errorf("%s:\ngoproxy: exit %d\n%s\nhaproxy: exit %d\n%s", name, codes[0], msgs[0], codes[1], msgs[1])
		}
	}
}

// TestE2ETLSOCSPStapling: the response of the .ocsp file is stapled (Go's
// client and openssl s_client read it), a certificate whose .ocsp HAProxy
// ignores staples nothing, set ssl ocsp-response replaces the response for
// the next handshakes, and the CLI's answers are haproxy's.
func TestE2ETLSOCSPStapling(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	resp := newOCSPResponder(t, dir, ca)
	leafFile, pair := ca.issue(t, dir, "leaf.pem", certOpts{cn: "site.test", dns: []string{"site.test"}})
	site := filepath.Join(dir, "site.pem")
	withChain(t, leafFile, site, ca)
	good := resp.respond(t, pair.Leaf, false)
	revoked := resp.respond(t, pair.Leaf, true)
	writePEM(t, site+".ocsp", good)
	// Two signed certificate timestamps (their content is not checked by
	// the proxies: the clients check them).
	sctl := []byte("\x00\x0b\x00\x03sct\x00\x04sct2")
	writePEM(t, site+".sctl", sctl)
	ignoredFile, _ := ca.issue(t, dir, "plain.pem", certOpts{cn: "plain.test", dns: []string{"plain.test"}})
	ignored := filepath.Join(dir, "ignored.pem")
	withChain(t, ignoredFile, ignored, ca)
	writePEM(t, ignored+".ocsp", []byte("garbage"))
	_, stranger := ca.issue(t, dir, "stranger.pem", certOpts{cn: "stranger.test"})
	strangerResp := resp.respond(t, stranger.Leaf, false)

	staple := func(addr, name string) ([]byte, error) {
		c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: name, RootCAs: ca.pool})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.ConnectionState().OCSPResponse, nil
	}
	timestamps := func(addr string, max uint16) [][]byte {
		c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "site.test", RootCAs: ca.pool, MaxVersion: max})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().SignedCertificateTimestamps
	}
	answers := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		tmp := t.TempDir()
		sock, admin := filepath.Join(tmp, "user.sock"), filepath.Join(tmp, "admin.sock")
		c := e2eCfg{global: []string{"stats socket " + sock + " level user", "stats socket " + admin + " level admin"}, servers: srvLines(ss, []int{1})}
		addr, _ := startTLSProxy(t, bin, c, "ssl crt "+site+" crt "+ignored)
		got, err := staple(addr, "site.test")
		if err != nil || !bytes.Equal(got, good) {
			t.Fatalf("site.test: stapled %d bytes (%v), want the %d of its .ocsp file", len(got), err, len(good))
		}
		// HAProxy sends the .sctl list in TLS 1.2 handshakes only (OpenSSL's
		// custom extensions of its API are TLS 1.2 and below); goproxy
		// sends it in TLS 1.3 too, where RFC 8446 carries it in the
		// certificate entry.
		if scts := timestamps(addr, tls.VersionTLS12); len(scts) != 2 || string(scts[0]) != "sct" || string(scts[1]) != "sct2" {
			t.Errorf("site.test over TLS 1.2: signed certificate timestamps %q, want the two of its .sctl file", scts)
		}
		if scts := timestamps(addr, 0); bin == goproxyBin && len(scts) != 2 {
			t.Errorf("site.test over TLS 1.3: signed certificate timestamps %q, want the two of its .sctl file", scts)
		}
		if got, err := staple(addr, "plain.test"); err != nil || len(got) != 0 {
			t.Fatalf("plain.test, whose .ocsp is ignored: stapled %d bytes (%v), want none", len(got), err)
		}
		if _, err := exec.LookPath("openssl"); err == nil {
			out, _ := exec.Command("sh", "-c", "echo | timeout 5 openssl s_client -connect "+addr+" -servername site.test -status 2>/dev/null").Output()
			if !strings.Contains(string(out), "OCSP Response Status: successful") || !strings.Contains(string(out), "Cert Status: good") {
				t.Errorf("openssl s_client -status read no good stapled response:\n%s", out)
			}
		}
		var got2 []string
		ask := func(cmd string) string {
			a := cli(t, sock, cmd)
			got2 = append(got2, cmd+" => "+a)
			return a
		}
		list := ask("show ssl ocsp-response")
		if !strings.HasPrefix(list, "# Certificate IDs\nCertificate ID key : ") {
			t.Errorf("show ssl ocsp-response:\n%s", list)
		}
		for _, l := range strings.Split(cli(t, admin, "show ssl cert "+site), "\n") {
			if strings.HasPrefix(l, "OCSP Response Key") || strings.HasPrefix(l, "Subject Alternative") {
				got2 = append(got2, "show ssl cert => "+l)
			}
		}
		ask("show ssl ocsp-response 00")
		ask("show ssl ocsp-response " + strings.Repeat("ab", 129))
		ask("set ssl ocsp-response")
		ask("set ssl ocsp-response !!!")
		ask("set ssl ocsp-response " + base64.StdEncoding.EncodeToString([]byte("garbage")))
		ask("set ssl ocsp-response " + base64.StdEncoding.EncodeToString(strangerResp))
		if a := ask("set severity-output number; set ssl ocsp-response " + base64.StdEncoding.EncodeToString(revoked)); !strings.Contains(a, "OCSP Response updated!\n") {
			t.Fatalf("set ssl ocsp-response: %q", a)
		}
		if got, err := staple(addr, "site.test"); err != nil || !bytes.Equal(got, revoked) {
			t.Fatalf("after set ssl ocsp-response: stapled %d bytes (%v), want the new response's %d", len(got), err, len(revoked))
		}
		answers[filepath.Base(t.Name())] = got2
	})
	g, h := answers["goproxy"], answers["haproxy"]
	if h == nil {
		return
	}
	for i := range g {
		if i >= len(h) || g[i] != h[i] {
			t.Errorf("answer %d:\ngoproxy: %q\nhaproxy: %q", i, g[i], h[min(i, len(h)-1)])
		}
	}
}
