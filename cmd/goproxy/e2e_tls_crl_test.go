package main

import (
	"crypto/tls"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestE2ETLSRevocation checks crl-file on binds (client certificates) and
// servers, and verifyhost, on goproxy and haproxy: a revoked certificate
// is refused, a certificate whose issuer has no list in the crl-file too
// (HAProxy checks every certificate of the chain), the others pass; the
// connection error is logged in HAProxy's words.
func TestE2ETLSRevocation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	_, good := ca.issue(t, dir, "good.pem", certOpts{cn: "client-1", client: true})
	_, revoked := ca.issue(t, dir, "revoked.pem", certOpts{cn: "client-2", client: true})
	crl := ca.crl(t, dir, "ca.crl", revoked.Leaf)
	otherCRL := other.crl(t, dir, "other.crl")
	_, backGood := ca.issue(t, dir, "back.pem", certOpts{cn: "backend.test", dns: []string{"backend.test"}})
	_, backRevoked := ca.issue(t, dir, "back-revoked.pem", certOpts{cn: "backend.test", dns: []string{"backend.test"}})
	backCRL := ca.crl(t, dir, "back.crl", backRevoked.Leaf)
	goodBack := startTLSEchoServer(t, "tls-good", backGood, nil)
	revokedBack := startTLSEchoServer(t, "tls-revoked", backRevoked, nil)
	with := func(c *tls.Certificate) *tls.Config {
		conf := &tls.Config{ServerName: "srv.test", RootCAs: ca.pool}
		if c != nil {
			conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c, nil }
		}
		return conf
	}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		c := e2eCfg{
			global:   []string{"log " + sink.addr() + " local2"},
			defaults: []string{"log global", "option tcplog"},
			servers:  srvLines(ss, []int{1}),
		}
		req, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify required crl-file "+crl)
		opt, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify optional crl-file "+crl)
		noList, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify required crl-file "+otherCRL)
		unused, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" verify none crl-file "+crl)
		re := regexp.MustCompile(syslogHeader + `127\.0\.0\.2:\d+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe/1: (.+)\n$`)
		for _, tc := range []struct {
			name string
			addr string
			cert *tls.Certificate
			err  string // the connection error logged, "" = accepted
		}{
			{"required, not revoked", req, &good, ""},
			{"required, revoked", req, &revoked, "SSL client certificate not trusted"},
			{"optional, none", opt, nil, ""},
			{"optional, revoked", opt, &revoked, "SSL client certificate not trusted"},
			{"no list from the client's CA", noList, &good, "SSL client certificate not trusted"},
			{"verify none: the list is not used", unused, nil, ""},
		} {
			_, name, err := tlsGreeting(tc.addr, with(tc.cert))
			if tc.err == "" {
				if err != nil || name != "s1" {
					t.Errorf("%s: refused (%v, greeting %q)", tc.name, err, name)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s: accepted", tc.name)
				continue
			}
			if m := sink.next(t, re, 3*time.Second); m[3] != tc.err {
				t.Errorf("%s: logged %q, want %q", tc.name, m[3], tc.err)
			}
		}
		// Without a traffic log format (option tcplog, log-format),
		// HAProxy logs no connection error.
		quiet := startSyslog(t)
		plain := e2eCfg{global: []string{"log " + quiet.addr() + " local2"}, defaults: []string{"log global"}, servers: c.servers}
		silent, _ := startTLSProxy(t, bin, plain, "ssl crt "+srv+" ca-file "+ca.file+" verify required crl-file "+crl)
		if _, _, err := tlsGreeting(silent, with(&revoked)); err == nil {
			t.Error("without tcplog: a revoked certificate was accepted")
		}
		for wait := time.After(time.Second); ; {
			select {
			case m := <-quiet.msgs:
				if strings.Contains(m, "SSL") {
					t.Errorf("without tcplog: logged %q", m)
				}
				continue
			case <-wait:
			}
			break
		}
		for _, tc := range []struct {
			name, server string
			ok           bool
		}{
			{"server not revoked", "server s1 " + goodBack.addr() + " ssl verify required ca-file " + ca.file + " crl-file " + backCRL + " sni str(backend.test)", true},
			{"server revoked", "server s1 " + revokedBack.addr() + " ssl verify required ca-file " + ca.file + " crl-file " + backCRL + " sni str(backend.test)", false},
			{"server, no list from its CA", "server s1 " + goodBack.addr() + " ssl verify required ca-file " + ca.file + " crl-file " + otherCRL + " sni str(backend.test)", false},
			{"verifyhost without sni, right name", "server s1 " + goodBack.addr() + " ssl verify required ca-file " + ca.file + " verifyhost backend.test", true},
			{"verifyhost without sni, wrong name", "server s1 " + goodBack.addr() + " ssl verify required ca-file " + ca.file + " verifyhost wrong.test", false},
			{"sni wins over verifyhost", "server s1 " + goodBack.addr() + " ssl verify required ca-file " + ca.file + " verifyhost wrong.test sni str(backend.test)", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				addr, _ := e2eCfg{servers: []string{tc.server}}.runWith(t, bin)
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				name, err := readName(c)
				if tc.ok && (err != nil || !strings.HasPrefix(name, "tls-good")) {
					t.Fatalf("greeting %q, err %v", name, err)
				}
				if !tc.ok && err == nil {
					t.Fatalf("greeting %q through a server connection that should fail", name)
				}
			})
		}
	})
}

// TestE2ETLSCrtListOptions: the [options] of a crt-list line apply to the
// handshakes that select its certificate, the bind's to the others, on
// goproxy and haproxy.
func TestE2ETLSCrtListOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	def, _ := ca.issue(t, dir, "def.pem", certOpts{cn: "def.test", dns: []string{"def.test"}})
	mtls, _ := ca.issue(t, dir, "mtls.pem", certOpts{cn: "mtls.test", dns: []string{"mtls.test"}})
	modern, _ := ca.issue(t, dir, "modern.pem", certOpts{cn: "modern.test", dns: []string{"modern.test"}})
	_, client := ca.issue(t, dir, "client.pem", certOpts{cn: "client-1", client: true})
	_, revoked := ca.issue(t, dir, "revoked.pem", certOpts{cn: "client-2", client: true})
	crl := ca.crl(t, dir, "ca.crl", revoked.Leaf)
	list := dir + "/list.txt"
	writePEM(t, list, []byte(def+"\n"+
		mtls+" [verify required ca-file "+ca.file+" crl-file "+crl+" alpn h2,http/1.1] mtls.test\n"+
		modern+" [ssl-min-ver TLSv1.3] modern.test\n"))
	type hs struct {
		name, sni string
		cert      *tls.Certificate
		maxVer    uint16
		ok        bool
		alpn      string
	}
	onOracles(t, func(t *testing.T, bin string) {
		c := e2eCfg{servers: srvLines(nameServers(t, 1), []int{1})}
		addr, _ := startTLSProxy(t, bin, c, "ssl crt-list "+list)
		for _, tc := range []hs{
			{"default certificate, no client certificate", "def.test", nil, 0, true, ""},
			{"mtls line, no client certificate", "mtls.test", nil, 0, false, ""},
			{"mtls line, client certificate", "mtls.test", &client, 0, true, "h2"},
			{"mtls line, revoked client certificate", "mtls.test", &revoked, 0, false, ""},
			{"modern line, TLS 1.2 client", "modern.test", nil, tls.VersionTLS12, false, ""},
			{"modern line, TLS 1.3 client", "modern.test", nil, 0, true, ""},
			{"default certificate, TLS 1.2 client", "def.test", nil, tls.VersionTLS12, true, ""},
		} {
			conf := &tls.Config{ServerName: tc.sni, RootCAs: ca.pool, MaxVersion: tc.maxVer, NextProtos: []string{"h2", "http/1.1"}}
			if tc.cert != nil {
				cert := tc.cert
				conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
			}
			conn, cn, err := tlsDial(addr, conf)
			if err == nil {
				var name string
				name, err = readName(conn)
				if err == nil && name != "s1" {
					t.Errorf("%s: greeting %q", tc.name, name)
				}
				if err == nil && conn.ConnectionState().NegotiatedProtocol != tc.alpn {
					t.Errorf("%s: ALPN %q, want %q", tc.name, conn.ConnectionState().NegotiatedProtocol, tc.alpn)
				}
				if err == nil && cn != strings.TrimSuffix(tc.sni, ".test")+".test" {
					t.Errorf("%s: served %q", tc.name, cn)
				}
				conn.Close()
			}
			if tc.ok && err != nil {
				t.Errorf("%s: refused: %v", tc.name, err)
			}
			if !tc.ok && err == nil {
				t.Errorf("%s: accepted", tc.name)
			}
		}
	})
}
