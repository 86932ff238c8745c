package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"regexp"
	"testing"
	"time"
)

// issueChain makes a client certificate under a new intermediate of ca:
// the intermediate a CA or not, valid or expired. The returned
// certificate carries the chain [leaf, intermediate].
func issueChain(t *testing.T, ca *testCA, name string, intermediateIsCA, intermediateExpired bool) tls.Certificate {
	t.Helper()
	ikey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nb, na := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if intermediateExpired {
		nb, na = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	itpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name + " intermediate"},
		NotBefore: nb, NotAfter: na, BasicConstraintsValid: true, IsCA: intermediateIsCA,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	ider, err := x509.CreateCertificate(rand.Reader, itpl, ca.cert, ikey.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	icert, _ := x509.ParseCertificate(ider)
	lkey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ltpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	lder, err := x509.CreateCertificate(rand.Reader, ltpl, icert, lkey.Public(), ikey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{lder, ider}, PrivateKey: lkey}
}

// TestE2ETLSIgnoreErr: ca-ignore-err and crt-ignore-err on goproxy and
// haproxy, client by client: which handshakes succeed, the connection
// error logged for the others, and ssl_c_verify, ssl_c_err, ssl_c_ca_err
// and ssl_c_ca_err_depth for the accepted ones; goproxy's verification
// follows OpenSSL's order and codes.
func TestE2ETLSIgnoreErr(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	self := newTestCA(t, dir, "self")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	_, good := ca.issue(t, dir, "good.pem", certOpts{cn: "good", client: true})
	_, expired := ca.issue(t, dir, "expired.pem", certOpts{cn: "expired", client: true, expired: true})
	_, unknown := other.issue(t, dir, "unknown.pem", certOpts{cn: "unknown", client: true})
	_, serverOnly := ca.issue(t, dir, "server-only.pem", certOpts{cn: "server-only"})
	selfSigned := tls.Certificate{Certificate: [][]byte{self.cert.Raw}, PrivateKey: self.key}
	notCA := issueChain(t, ca, "not-ca", false, false)
	expiredCA := issueChain(t, ca, "expired-ca", true, true)
	clients := []struct {
		name string
		cert *tls.Certificate
	}{
		{"good", &good}, {"expired", &expired}, {"unknown CA", &unknown}, {"server purpose only", &serverOnly},
		{"self-signed", &selfSigned}, {"intermediate not a CA", &notCA}, {"expired intermediate", &expiredCA},
	}
	binds := []string{"crt-ignore-err 10", "ca-ignore-err 10,79", "crt-ignore-err 26", "crt-ignore-err all ca-ignore-err all", "crt-ignore-err 18,20,21"}
	re := regexp.MustCompile(syslogHeader + `(?:V=(\S+) E=(\S+) CA=(\S+) D=(\S+)|127\.0\.0\.2:\d+ \[[^]]+\] fe/1: (.+))\n$`)
	results := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		var got []string
		for _, b := range binds {
			sink := startSyslog(t)
			c := e2eCfg{
				global:   []string{"log " + sink.addr() + " local2"},
				defaults: []string{"log global", "log-format \"V=%[ssl_c_verify] E=%[ssl_c_err] CA=%[ssl_c_ca_err] D=%[ssl_c_ca_err_depth]\""},
				servers:  srvLines(ss, []int{1}),
			}
			addr, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify required "+b)
			for _, cl := range clients {
				conf := &tls.Config{ServerName: "srv.test", RootCAs: ca.pool,
					GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cl.cert, nil }}
				_, name, err := tlsGreeting(addr, conf)
				verdict := "accepted"
				if err != nil || name != "s1" {
					verdict = "refused"
				}
				m := sink.next(t, re, 3*time.Second)
				line := fmt.Sprintf("%s / %s: %s, verify=%s err=%s ca_err=%s depth=%s conn_err=%q", b, cl.name, verdict, m[3], m[4], m[5], m[6], m[7])
				got = append(got, line)
			}
		}
		results[t.Name()] = got
	})
	g, h := results["TestE2ETLSIgnoreErr/goproxy"], results["TestE2ETLSIgnoreErr/haproxy"]
	for i := range g {
		if h == nil {
			t.Logf("goproxy: %s", g[i])
			continue
		}
		if i >= len(h) || g[i] != h[i] {
			t.Errorf("\ngoproxy: %s\nhaproxy: %s", g[i], h[min(i, len(h)-1)])
		}
	}
}
