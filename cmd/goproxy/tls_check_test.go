package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTLSCheckDifferential runs -c on TLS configurations through goproxy
// and haproxy: the same verdict (exit status) and the same first alert.
func TestTLSCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	crt, _ := ca.issue(t, dir, "site.pem", certOpts{cn: "site.test", dns: []string{"site.test"}})
	certOnly := filepath.Join(dir, "certonly.pem")
	data, _ := os.ReadFile(ca.file)
	writePEM(t, certOnly, data)
	garbage := filepath.Join(dir, "garbage.pem")
	writePEM(t, garbage, []byte("not a certificate\n"))
	crl := ca.crl(t, dir, "ca.crl")
	list := filepath.Join(dir, "list.txt")
	writePEM(t, list, []byte(crt+" site.test\n"))
	optLists := []string{}
	for i, opts := range []string{
		"[verify required ca-file " + ca.file + " alpn h2] site.test",
		"[verify required] site.test",
		"[strict-sni] site.test",
		"[verify maybe]",
		"[ciphers FOO]",
		"[ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3]",
		"[alpn]",
		"[ca-file " + filepath.Join(dir, "none.pem") + "]",
		"[crl-file " + crl + " verify required ca-file " + ca.file + "]",
		"[crl-file " + garbage + "]",
	} {
		f := filepath.Join(dir, "opts"+string(rune('a'+i))+".txt")
		writePEM(t, f, []byte(crt+" "+opts+"\n"))
		optLists = append(optLists, "ssl crt "+crt+" crt-list "+f)
	}
	binds := []string{
		"ssl crt " + crt,
		"ssl crt " + crt + " alpn h2,http/1.1 force-tlsv12 no-tls-tickets strict-sni",
		"ssl crt " + crt + " ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3 no-tlsv10 no-tlsv11 no-sslv3",
		"ssl crt " + crt + " ca-file " + ca.file + " verify required",
		"ssl crt " + crt + " ca-file " + ca.file + " verify optional",
		"ssl crt " + crt + " verify required",
		"ssl crt " + crt + " verify maybe",
		"ssl crt " + crt + " ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
		"ssl crt " + crt + " ciphers HIGH:!aNULL:!MD5",
		"ssl crt " + crt + " ciphers FOO",
		"ssl crt " + crt + " ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
		"ssl crt " + crt + " ciphersuites FOO",
		"ssl crt " + crt + " curves X25519:P-256",
		"ssl crt " + crt + " curves FOO",
		"ssl crt " + crt + " ssl-min-ver TLSv9",
		"ssl crt " + crt + " crt",
		"ssl crt " + crt + " ca-file " + filepath.Join(dir, "none.pem"),
		"ssl crt " + filepath.Join(dir, "none.pem"),
		"ssl crt " + certOnly,
		"ssl crt " + garbage,
		"ssl crt " + dir + "/",
		"ssl crt-list " + list,
		"ssl crt " + crt + " ca-file " + ca.file + " verify required crl-file " + crl,
		"ssl crt " + crt + " crl-file " + crl,
		"ssl crt " + crt + " crl-file " + filepath.Join(dir, "none.crl"),
		"ssl crt " + crt + " crl-file " + garbage,
		"ssl crt " + crt + " crl-file " + certOnly,
		"ssl crt " + crt + " crl-file",
		"ssl",
		"crt " + crt,
		"ssl crt " + crt + " ca-file " + ca.file + " verify required crt-ignore-err 10,20 ca-ignore-err all",
		"ssl crt " + crt + " ca-file " + ca.file + " verify required crt-ignore-err 10x,0",
		"ssl crt " + crt + " ca-file " + ca.file + " verify required crt-ignore-err 95",
		"ssl crt " + crt + " ca-file " + ca.file + " verify required crt-ignore-err 94",
		"ssl crt " + crt + " ca-file " + ca.file + " verify required ca-ignore-err X509_V_ERR_CERT_HAS_EXPIRED",
		"ssl crt " + crt + " ca-file " + ca.file + " verify required ca-ignore-err",
	}
	binds = append(binds, optLists...)
	servers := []string{
		"ssl",
		"ssl verify none",
		"ssl verify required ca-file " + ca.file + " sni str(site.test) alpn h2",
		"ssl verify none crt " + crt,
		"ssl verify none crt " + filepath.Join(dir, "none.pem"),
		"ssl verify none crt " + certOnly,
		"ssl verify none ciphers FOO",
		"ssl verify none alpn",
		"ssl verify none ssl-min-ver TLSv1.3 no-tls-tickets",
		"ssl verify required ca-file " + ca.file + " crl-file " + crl + " verifyhost site.test",
		"ssl verify required ca-file " + ca.file + " crl-file " + filepath.Join(dir, "none.crl"),
		"ssl verify required ca-file " + ca.file + " crl-file " + garbage,
		"ssl verify none crl-file",
		"ssl verify none verifyhost",
		"ssl verify none no-verifyhost",
	}
	var cfgs []string
	for _, b := range binds {
		cfgs = append(cfgs, "frontend fe\n  bind 127.0.0.1:9443 "+b+"\n  default_backend be\nbackend be\n  server s1 127.0.0.1:1\n")
	}
	for _, s := range servers {
		cfgs = append(cfgs, "frontend fe\n  bind 127.0.0.1:9443\n  default_backend be\nbackend be\n  server s1 127.0.0.1:1 "+s+"\n")
	}
	cfgs = append(cfgs, "global\n  crt-base "+dir+"\n  ca-base "+dir+"\n  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n  ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256\n  ssl-server-verify none\n"+
		"frontend fe\n  bind 127.0.0.1:9443 ssl crt site.pem ca-file ca.pem verify required crl-file ca.crl\n  default_backend be\nbackend be\n  server s1 127.0.0.1:1 ssl\n  server s2 127.0.0.1:1 ssl verify required ca-file ca.pem crl-file ca.crl\n")
	pid := regexp.MustCompile(`\(\d+\)`)
	firstAlert := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "[ALERT]") {
				return pid.ReplaceAllString(l, "(pid)")
			}
		}
		return ""
	}
	for i, body := range cfgs {
		path := writeFile(t, dir, "c.cfg", "defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"+body)
		codes, alerts := checkBoth(t, haproxy, path, firstAlert)
		if codes[0] != codes[1] || alerts[0] != alerts[1] {
			t.Errorf("config %d:\n%s\ngoproxy: exit %d %q\nhaproxy: exit %d %q", i, body, codes[0], alerts[0], codes[1], alerts[1])
		}
	}
}

// checkBoth runs -c on cfg through goproxy then haproxy and returns their
// exit codes and what keep takes of their outputs.
func checkBoth(t *testing.T, haproxy, cfg string, keep func(string) string) (codes [2]int, kept [2]string) {
	t.Helper()
	for j, bin := range []string{goproxyBin, haproxy} {
		out, err := exec.Command(bin, "-c", "-f", cfg).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			codes[j] = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		kept[j] = keep(string(out))
	}
	return codes, kept
}
