package main

import (
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of TLS termination and origination through the real
// binaries: Go's crypto/tls and openssl s_client as clients, the same
// assertions on goproxy and haproxy (onOracles).

// startTLSProxy starts bin on c with bindOpts after the bind address.
func startTLSProxy(t *testing.T, bin string, c e2eCfg, bindOpts string) (string, *e2eProc) {
	t.Helper()
	addr := loopAddr(t)
	p := startServing(t, bin, c.render(addr+" "+bindOpts), addr)
	return addr, p
}

// tlsGreeting completes a handshake with conf and reads the backend's
// greeting line through it.
func tlsGreeting(addr string, conf *tls.Config) (cn, greeting string, err error) {
	c, cn, err := tlsDial(addr, conf)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	name, err := readName(c)
	if err != nil {
		return cn, "", err
	}
	if err := echoRoundTrip(c, "ping\n"); err != nil {
		return cn, name, err
	}
	return cn, name, nil
}

func TestE2ETLSSNISelection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	a, _ := ca.issue(t, dir, "a.pem", certOpts{cn: "a.test", dns: []string{"a.test"}})
	w, _ := ca.issue(t, dir, "w.pem", certOpts{cn: "wild", dns: []string{"*.w.test"}})
	b, _ := ca.issue(t, dir, "b.pem", certOpts{cn: "b.test", dns: []string{"b.test"}, rsa: true})
	cdir := filepath.Join(dir, "certs")
	if err := os.Mkdir(cdir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca.issue(t, cdir, "1-c.pem", certOpts{cn: "c.test", dns: []string{"c.test"}})
	ca.issue(t, cdir, "2-d.pem", certOpts{cn: "d.test", dns: []string{"d.test"}})
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 2)
		c := e2eCfg{
			frontend: []string{"use_backend be2 if { ssl_fc_sni -i b.test }"},
			servers:  []string{"server s1 " + ss[0].addr(), "backend be2", "server s2 " + ss[1].addr()},
		}
		addr, _ := startTLSProxy(t, bin, c, "ssl crt "+a+" crt "+w+" crt "+b+" crt "+cdir)
		for _, tc := range []struct{ sni, cn, backend string }{
			{"a.test", "a.test", "s1"},
			{"x.w.test", "wild", "s1"},
			{"b.test", "b.test", "s2"},
			{"B.TEST", "b.test", "s2"},
			{"d.test", "d.test", "s1"},
			{"unknown.test", "a.test", "s1"},
			{"", "a.test", "s1"},
			{"y.x.w.test", "a.test", "s1"}, // a wildcard covers one label
		} {
			cn, name, err := tlsGreeting(addr, &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true})
			if err != nil || cn != tc.cn || name != tc.backend {
				t.Errorf("SNI %q: served %q, backend %q, err %v; want %q from %s", tc.sni, cn, name, err, tc.cn, tc.backend)
			}
		}
		// The served chain verifies against the CA for its name.
		if _, _, err := tlsGreeting(addr, &tls.Config{ServerName: "x.w.test", RootCAs: ca.pool}); err != nil {
			t.Errorf("verified handshake for x.w.test: %v", err)
		}
	})
	t.Run("strict-sni", func(t *testing.T) {
		onOracles(t, func(t *testing.T, bin string) {
			ss := nameServers(t, 1)
			addr, _ := startTLSProxy(t, bin, e2eCfg{servers: srvLines(ss, []int{1})}, "ssl strict-sni crt "+a+" crt "+w)
			if cn, _, err := tlsGreeting(addr, &tls.Config{ServerName: "q.w.test", InsecureSkipVerify: true}); err != nil || cn != "wild" {
				t.Errorf("strict-sni, known name: served %q, err %v", cn, err)
			}
			for _, sni := range []string{"unknown.test", ""} {
				if _, _, err := tlsGreeting(addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true}); err == nil {
					t.Errorf("strict-sni, SNI %q: handshake accepted", sni)
				}
			}
		})
	})
	t.Run("openssl s_client", func(t *testing.T) {
		openssl, err := exec.LookPath("openssl")
		if err != nil {
			t.Skip("SKIP: openssl is not on PATH")
		}
		onOracles(t, func(t *testing.T, bin string) {
			ss := nameServers(t, 1)
			addr, _ := startTLSProxy(t, bin, e2eCfg{servers: srvLines(ss, []int{1})}, "ssl crt "+a+" crt "+b+" alpn mqtt,h2")
			for sni, want := range map[string]string{"b.test": "CN = b.test", "a.test": "CN = a.test"} {
				cmd := exec.Command(openssl, "s_client", "-connect", addr, "-servername", sni, "-alpn", "mqtt", "-CAfile", ca.file, "-verify_return_error")
				cmd.Stdin = strings.NewReader("")
				out, err := runBounded(cmd, 5*time.Second)
				if err != nil {
					t.Errorf("s_client -servername %s: %v\n%s", sni, err, out)
					continue
				}
				if !strings.Contains(out, "subject="+strings.ReplaceAll(want, " = ", " = ")) && !strings.Contains(out, want) {
					t.Errorf("s_client -servername %s: no %q in\n%s", sni, want, out)
				}
				if !strings.Contains(out, "ALPN protocol: mqtt") || !strings.Contains(out, "Verify return code: 0 (ok)") {
					t.Errorf("s_client -servername %s: ALPN or verification missing in\n%s", sni, out)
				}
			}
		})
	})
}

// runBounded runs cmd for at most d and returns its combined output.
func runBounded(cmd *exec.Cmd, d time.Duration) (string, error) {
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		return out.String(), os.ErrDeadlineExceeded
	}
}

func TestE2ETLSClientCertificates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	_, good := ca.issue(t, dir, "good.pem", certOpts{cn: "client-1", client: true})
	_, stranger := other.issue(t, dir, "stranger.pem", certOpts{cn: "stranger", client: true})
	_, expired := ca.issue(t, dir, "expired.pem", certOpts{cn: "old", client: true, expired: true})
	with := func(c *tls.Certificate) *tls.Config {
		conf := &tls.Config{ServerName: "srv.test", RootCAs: ca.pool}
		if c != nil {
			// Sent whatever CAs the server names (Go's client would not
			// send a certificate of another CA).
			conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c, nil }
		}
		return conf
	}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		c := e2eCfg{
			global:   []string{"log " + sink.addr() + " local2"},
			defaults: []string{"log global"},
			frontend: []string{`log-format "%ci %ft %[ssl_fc] %[ssl_c_used] %[ssl_c_verify] %[ssl_c_s_dn] %[ssl_c_i_dn] %[ssl_fc_sni] %sslv"`},
			servers:  srvLines(ss, []int{1}),
		}
		req, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify required")
		opt, _ := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify optional")
		for _, tc := range []struct {
			name string
			addr string
			cert *tls.Certificate
			ok   bool
		}{
			{"required, trusted", req, &good, true},
			{"required, none", req, nil, false},
			{"required, other CA", req, &stranger, false},
			{"required, expired", req, &expired, false},
			{"optional, none", opt, nil, true},
			{"optional, trusted", opt, &good, true},
			{"optional, other CA", opt, &stranger, false},
		} {
			_, name, err := tlsGreeting(tc.addr, with(tc.cert))
			if tc.ok && (err != nil || name != "s1") {
				t.Errorf("%s: refused (%v, greeting %q)", tc.name, err, name)
			}
			if !tc.ok && err == nil {
				t.Errorf("%s: accepted", tc.name)
			}
		}
		re := regexp.MustCompile(syslogHeader + `127\.0\.0\.2 (fe\S*) 1 1 0 (/.+?) (/.+?) srv\.test TLSv1\.3\n$`)
		m := sink.next(t, re, 3*time.Second)
		if m[3] != "fe~" || m[4] != "/O=goproxy tests/CN=client-1" || m[5] != "/O=goproxy tests/CN=ca" {
			t.Errorf("log line %q: want fe~, the client's and the CA's DN", m[0])
		}
	})
}

func TestE2ETLSOrigination(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	_, backCert := ca.issue(t, dir, "back.pem", certOpts{cn: "backend.test", dns: []string{"backend.test"}})
	clientFile, _ := ca.issue(t, dir, "client.pem", certOpts{cn: "proxy", client: true})
	front, _ := ca.issue(t, dir, "front.pem", certOpts{cn: "front.test", dns: []string{"front.test", "backend.test"}})
	plain := startTLSEchoServer(t, "tls1", backCert, nil)
	mtls := startTLSEchoServer(t, "tls2", backCert, ca.pool)
	onOracles(t, func(t *testing.T, bin string) {
		for _, tc := range []struct {
			name, server string
			ok           bool
			wantSNI      string
		}{
			{"verify required, right name", "server s1 " + plain.addr() + " ssl verify required ca-file " + ca.file + " sni str(backend.test)", true, "backend.test"},
			{"verify required, wrong name", "server s1 " + plain.addr() + " ssl verify required ca-file " + ca.file + " sni str(other.test)", false, "other.test"},
			{"verify none", "server s1 " + plain.addr() + " ssl verify none", true, ""},
			{"client certificate", "server s1 " + mtls.addr() + " ssl verify required ca-file " + ca.file + " crt " + clientFile + " sni str(backend.test)", true, "backend.test"},
			{"no client certificate", "server s1 " + mtls.addr() + " ssl verify none", false, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				addr, _ := e2eCfg{servers: []string{tc.server}}.runWith(t, bin)
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				name, err := readName(c)
				if tc.ok && (err != nil || !strings.HasPrefix(name, "tls")) {
					t.Fatalf("greeting %q, err %v", name, err)
				}
				if !tc.ok && err == nil {
					t.Fatalf("greeting %q through a server connection that should fail", name)
				}
				if tc.ok {
					if err := echoRoundTrip(c, "over tls\n"); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
		t.Run("sni ssl_fc_sni", func(t *testing.T) {
			for len(plain.snis) > 0 {
				<-plain.snis
			}
			addr, _ := startTLSProxy(t, bin, e2eCfg{servers: []string{"server s1 " + plain.addr() + " ssl verify required ca-file " + ca.file + " sni ssl_fc_sni"}}, "ssl crt "+front)
			_, name, err := tlsGreeting(addr, &tls.Config{ServerName: "backend.test", RootCAs: ca.pool})
			if err != nil || name != "tls1" {
				t.Fatalf("greeting %q, err %v", name, err)
			}
			select {
			case sni := <-plain.snis:
				if sni != "backend.test" {
					t.Errorf("server asked for %q, want backend.test", sni)
				}
			case <-time.After(time.Second):
				t.Error("the server saw no handshake")
			}
		})
	})
}

// TestE2ETLSBadInput sends what is not a valid handshake, through goproxy
// and haproxy: each gets HAProxy's connection error line, and goproxy
// keeps no descriptor of them.
func TestE2ETLSBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	other := newTestCA(t, dir, "other")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	_, stranger := other.issue(t, dir, "stranger.pem", certOpts{cn: "stranger", client: true})
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		sock := filepath.Join(t.TempDir(), "cli.sock")
		c := e2eCfg{
			global:   []string{"log " + sink.addr() + " local2", "stats socket " + sock + " level admin"},
			defaults: []string{"log global", "option tcplog", "timeout client 300ms"},
			servers:  srvLines(ss, []int{1}),
		}
		addr, p := startTLSProxy(t, bin, c, "ssl crt "+srv+" ca-file "+ca.file+" verify required")
		before := fdCount(t, p.pid())
		raw := func(send []byte, wait time.Duration) {
			c, err := dialFrom("127.0.0.2", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if len(send) > 0 {
				if _, err := c.Write(send); err != nil {
					t.Fatal(err)
				}
			}
			if wait > 0 {
				expectClosed(t, c, wait)
			}
		}
		re := regexp.MustCompile(syslogHeader + `127\.0\.0\.2:\d+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe/1: (.+)\n$`)
		for _, tc := range []struct {
			name string
			run  func()
			want string
		}{
			{"garbage", func() { raw([]byte("GET / HTTP/1.0\r\n\r\n"), 3*time.Second) }, "SSL handshake failure"},
			{"truncated", func() { raw([]byte{0x16, 0x03, 0x01, 0x00}, 0) }, "Connection closed during SSL handshake"},
			{"slow handshake", func() { raw(nil, 3*time.Second) }, "Timeout during SSL handshake"},
			{"untrusted client certificate", func() {
				conf := &tls.Config{ServerName: "srv.test", RootCAs: ca.pool,
					GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &stranger, nil }}
				if _, _, err := tlsGreeting(addr, conf); err == nil {
					t.Error("untrusted client certificate accepted")
				}
			}, "SSL client certificate not trusted"},
		} {
			tc.run()
			if m := sink.next(t, re, 3*time.Second); m[3] != tc.want {
				t.Errorf("%s: logged %q, want %q", tc.name, m[3], tc.want)
			}
		}
		// A connection whose handshake failed never was a session (haproxy
		// may still be closing the last one when the log line comes).
		var fe map[string]string
		for deadline := time.Now().Add(3 * time.Second); ; {
			rows, _ := parseStat(t, cli(t, sock, "show stat"))
			fe = rows["fe/FRONTEND"]
			if fe["scur"] == "0" || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if fe["stot"] != "0" || fe["scur"] != "0" {
			t.Errorf("frontend after the failed handshakes: stot %s scur %s, want 0 and 0", fe["stot"], fe["scur"])
		}
		if bin != goproxyBin {
			return
		}
		deadline := time.Now().Add(3 * time.Second)
		for fdCount(t, p.pid()) > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if after := fdCount(t, p.pid()); after > before {
			t.Errorf("descriptors: %d before, %d after the bad handshakes", before, after)
		}
	})
}

// TestE2ETLSClientReset resets a terminated connection after an
// exchange: the tcplog line names the frontend fe~ and ends CD, as
// HAProxy's.
func TestE2ETLSClientReset(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		c := e2eCfg{global: []string{"log " + sink.addr() + " local2"}, defaults: []string{"log global", "option tcplog"}, servers: srvLines(ss, []int{1})}
		addr, _ := startTLSProxy(t, bin, c, "ssl crt "+srv)
		tc, _, err := tlsDial(addr, &tls.Config{ServerName: "srv.test", RootCAs: ca.pool})
		if err != nil {
			t.Fatal(err)
		}
		if name, err := readName(tc); err != nil || name != "s1" {
			t.Fatalf("greeting %q, %v", name, err)
		}
		raw := tc.NetConn().(*net.TCPConn)
		_ = raw.SetLinger(0)
		raw.Close()
		re := regexp.MustCompile(syslogHeader + `127\.0\.0\.2:\d+ \[[^\]]+\] (\S+) be/s1 \d+/\d+/\d+ (\d+) (\S\S) `)
		m := sink.next(t, re, 3*time.Second)
		if m[3] != "fe~" || m[4] != "3" || m[5] != "CD" {
			t.Errorf("log line %q: want fe~, 3 bytes, CD", m[0])
		}
	})
}

// TestE2ETLSALPN: a client offering one of the bind's protocols gets it;
// one offering none of them is served without ALPN, as OpenSSL does.
func TestE2ETLSALPN(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		addr, _ := startTLSProxy(t, bin, e2eCfg{servers: srvLines(ss, []int{1})}, "ssl crt "+srv+" alpn mqtt,h2")
		for _, tc := range []struct {
			offer []string
			want  string
		}{{[]string{"h2"}, "h2"}, {[]string{"x-other", "mqtt"}, "mqtt"}, {[]string{"x-other"}, ""}, {nil, ""}} {
			c, _, err := tlsDial(addr, &tls.Config{ServerName: "srv.test", RootCAs: ca.pool, NextProtos: tc.offer})
			if err != nil {
				t.Errorf("offer %v: %v", tc.offer, err)
				continue
			}
			if got := c.ConnectionState().NegotiatedProtocol; got != tc.want {
				t.Errorf("offer %v: negotiated %q, want %q", tc.offer, got, tc.want)
			}
			if name, err := readName(c); err != nil || name != "s1" {
				t.Errorf("offer %v: greeting %q, %v", tc.offer, name, err)
			}
			c.Close()
		}
	})
}

// TestE2ETLSAcceptProxy: behind a layer-4 balancer, the PROXY header comes
// in clear before the ClientHello (bind ... accept-proxy ssl); the session
// gets the header's client address.
func TestE2ETLSAcceptProxy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		c := e2eCfg{
			global:   []string{"log " + sink.addr() + " local2"},
			defaults: []string{"log global"},
			frontend: []string{`log-format "%ci:%cp %ft %[ssl_fc_sni]"`},
			servers:  srvLines(ss, []int{1}),
		}
		addr, _ := startTLSProxy(t, bin, c, "accept-proxy ssl crt "+srv)
		raw, err := dialFrom("127.0.0.2", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Write([]byte("PROXY TCP4 192.0.2.7 127.0.0.1 40001 8883\r\n")); err != nil {
			t.Fatal(err)
		}
		tc := tls.Client(raw, &tls.Config{ServerName: "srv.test", RootCAs: ca.pool})
		if name, err := readName(tc); err != nil || name != "s1" {
			t.Fatalf("greeting %q, %v", name, err)
		}
		tc.Close()
		re := regexp.MustCompile(syslogHeader + `(\S+) fe~ srv\.test\n$`)
		if m := sink.next(t, re, 3*time.Second); m[3] != "192.0.2.7:40001" {
			t.Errorf("log line %q: want the PROXY header's client 192.0.2.7:40001", m[0])
		}
	})
}
