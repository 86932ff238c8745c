package parser

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeTestCert writes a self-signed ECDSA certificate with its key into
// dir/name and returns the path.
func writeTestCert(t *testing.T, dir, name string, dns ...string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name},
		DNSNames: dns, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMapCiphers(t *testing.T) {
	tests := []struct {
		in      string
		want    []uint16
		dropped []string
		err     string
	}{
		{in: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384", want: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}},
		// Mozilla's intermediate list: the DHE suites are not Go's.
		{in: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-CHACHA20-POLY1305",
			want:    []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
			dropped: []string{"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-CHACHA20-POLY1305"}},
		{in: "ECDHE+AESGCM:!aNULL", want: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}},
		{in: "HIGH:!kRSA:!SHA1:!SHA256:!SHA384", want: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}},
		{in: "ECDHE-RSA-CHACHA20-POLY1305:-ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA", want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}},
		{in: "FOO", err: "'FOO' is not a cipher name or alias"},
		{in: "ECDHE-RSA-AES128-GCM-SHA256:BOGUS-CIPHER", err: "'BOGUS-CIPHER'"},
		{in: "", err: "empty"},
	}
	for _, tc := range tests {
		got, err := MapCiphers(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !slices.Equal(got.IDs, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, got.IDs, tc.want)
		}
		if !slices.Equal(got.Dropped, tc.dropped) {
			t.Errorf("%q: dropped %v, want %v", tc.in, got.Dropped, tc.dropped)
		}
	}
}

func TestTLS13SuitesAndCurves(t *testing.T) {
	if msg, extra := check13Suites("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"); msg != "" || extra != nil {
		t.Errorf("all three suites: %s %v", msg, extra)
	}
	if msg, extra := check13Suites("TLS_AES_256_GCM_SHA384"); msg != "" || !slices.Equal(extra, []string{"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"}) {
		t.Errorf("one suite: %q %v", msg, extra)
	}
	if msg, _ := check13Suites("TLS_FOO"); !strings.Contains(msg, "'TLS_FOO' is not a TLS 1.3 cipher suite") {
		t.Errorf("unknown suite: %q", msg)
	}
	if ids, err := MapCurves("X25519:prime256v1:secp384r1"); err != nil || !slices.Equal(ids, []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}) {
		t.Errorf("curves: %v %v", ids, err)
	}
	if _, err := MapCurves("X448"); err == nil || !strings.Contains(err.Error(), "not supported by Go's TLS") {
		t.Errorf("X448: %v", err)
	}
}

func TestBindSSLOptions(t *testing.T) {
	dir := t.TempDir()
	a := writeTestCert(t, dir, "a.pem", "a.test")
	b := writeTestCert(t, dir, "b.pem", "b.test")
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("# certificates\nb.pem [] b.test !x.b.test\na.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "global\n  crt-base " + dir + "\n  ssl-default-bind-options no-tls-tickets ssl-min-ver TLSv1.2\n" +
		"  ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256\n" +
		"defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n" +
		"frontend f\n  bind 127.0.0.1:8443 ssl crt a.pem crt " + b + " alpn h2,mqtt strict-sni ssl-max-ver TLSv1.3 ca-file " + a + " verify optional\n" +
		"  bind 127.0.0.1:8444 ssl crt-list " + list + " force-tlsv12\n" +
		"  default_backend b\nbackend b\n  server s 127.0.0.1:1\n"
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	s := cfg.Proxies[0].Binds[0].SSL
	if !s.Enabled || !slices.Equal(s.Certs, []string{a, b}) || !slices.Equal(s.ALPN, []string{"h2", "mqtt"}) ||
		!s.StrictSNI || !s.NoTickets || s.MinVer != tls.VersionTLS12 || s.MaxVer != tls.VersionTLS13 ||
		s.Verify != "optional" || s.CAFile != a || !slices.Equal(s.CipherIDs, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}) {
		t.Errorf("first bind: %+v", s)
	}
	s2 := cfg.Proxies[0].Binds[1].SSL
	if !slices.Equal(s2.Certs, []string{b, a}) || !slices.Equal(s2.CertSNI[0], []string{"b.test", "!x.b.test"}) || s2.CertSNI[1] != nil ||
		s2.MinVer != tls.VersionTLS12 || s2.MaxVer != tls.VersionTLS12 {
		t.Errorf("crt-list bind: %+v", s2)
	}
}

func TestBindSSLErrors(t *testing.T) {
	dir := t.TempDir()
	a := writeTestCert(t, dir, "a.pem", "a.test")
	list := filepath.Join(dir, "opts.txt")
	if err := os.WriteFile(list, []byte(a+" [verify required] a.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	head := "defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:8443 "
	tail := "\n  default_backend b\nbackend b\n  server s 127.0.0.1:1\n"
	for _, tc := range []struct{ opts, want string }{
		{"ssl crt " + a + " npn h2", "'npn' is not supported by goproxy (Go's TLS has no NPN; use 'alpn')."},
		{"ssl crt " + a + " crl-file " + filepath.Join(dir, "missing.crl"), "'crl-file' : unable to load " + filepath.Join(dir, "missing.crl")},
		{"ssl crt " + a + " crl-file " + list, "Couldn't open the ca-file '" + list + "' (no certificate or crl found)."},
		{"ssl crt-list " + list, "verify is enabled but no CA file specified for bind '127.0.0.1:8443'"},
		{"ssl crt " + a + " ciphersuites TLS_AES_128_GCM_SHA256:FOO", "'FOO' is not a TLS 1.3 cipher suite"},
		{"ssl crt " + a + " curves X448", "unable to set SSL curves list to 'X448'"},
		{"ssl crt " + a + " ciphers DHE-RSA-AES128-GCM-SHA256", "none of these ciphers is supported by Go's TLS"},
		{"ssl crt " + filepath.Join(dir, "missing.pem"), "unable to stat SSL certificate from file '" + filepath.Join(dir, "missing.pem") + "' : No such file or directory."},
		{"ssl crt " + a + " verify sometimes", "'verify' : unknown verify method 'sometimes', only 'none', 'optional', and 'required' are supported"},
		{"ssl", "no SSL certificate specified for bind '127.0.0.1:8443' at [t.cfg:7] (use 'crt')."},
	} {
		cfg, err := parseText(t, head+tc.opts+tail)
		if err == nil || !strings.Contains(diagText(cfg), tc.want) {
			t.Errorf("%s: err %v, diagnostics:\n%s\nwant %q", tc.opts, err, diagText(cfg), tc.want)
		}
	}
}

func TestServerSSLOptions(t *testing.T) {
	dir := t.TempDir()
	crt := writeTestCert(t, dir, "client.pem")
	src := "global\n  ssl-server-verify none\n  ssl-default-server-options ssl-min-ver TLSv1.3\n" +
		"defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n" +
		"backend b\n  default-server ssl alpn h2\n  server s1 127.0.0.1:1 crt " + crt + " sni str(x.test)\n  server s2 127.0.0.1:2 no-ssl\n"
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	s1, s2 := cfg.Proxies[0].Servers[0], cfg.Proxies[0].Servers[1]
	if !s1.SSL.Enabled || s1.SSL.Crt != crt || !slices.Equal(s1.SSL.ALPN, []string{"h2"}) || s1.SSL.MinVer != tls.VersionTLS13 || s1.SNI != "str(x.test)" {
		t.Errorf("s1: %+v", s1.SSL)
	}
	if s2.SSL.Enabled || cfg.Proxies[0].DefServer.SSL.Crt != "" {
		t.Errorf("s2 %+v, default-server %+v: settings leaked between lines", s2.SSL, cfg.Proxies[0].DefServer.SSL)
	}
}

func FuzzMapCiphers(f *testing.F) {
	for _, s := range []string{"HIGH:!aNULL:!MD5", "ECDHE+AESGCM", "DHE-RSA-AES128-SHA:-AES", "@STRENGTH:+RSA", "!", "+", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cl, err := MapCiphers(s)
		if err == nil {
			seen := map[uint16]bool{}
			for _, id := range cl.IDs {
				if seen[id] {
					t.Fatalf("%q: suite %#x twice", s, id)
				}
				seen[id] = true
			}
		}
		_, _ = MapCurves(s)
		_, _ = check13Suites(s)
	})
}

func TestParseSCTL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"\x00\x00", nil, true},
		{"\x00\x05\x00\x03abc", []string{"abc"}, true},
		{"\x00\x08\x00\x01a\x00\x03bcd", []string{"a", "bcd"}, true},
		{"", nil, false},
		{"\x00", nil, false},
		{"\x00\x04\x00\x03abc", nil, false}, // the list's length is wrong
		{"\x00\x05\x00\x04abc", nil, false}, // an SCT runs past the list
		{"\x00\x01\x00", nil, false},        // a truncated SCT length
	} {
		got, ok := parseSCTL([]byte(tc.in))
		if ok != tc.ok || len(got) != len(tc.want) {
			t.Errorf("parseSCTL(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("parseSCTL(%q)[%d] = %q, want %q", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}
