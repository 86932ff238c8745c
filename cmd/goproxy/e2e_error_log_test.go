package main

import (
	"crypto/tls"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// connErrCase is a client that fails before its session begins: what it
// sends (then it closes; hold: it waits for the proxy to close).
type connErrCase struct {
	name string
	send string
	hold bool
	tls  *tls.Config // a TLS client instead of raw bytes
}

// errLogFormat prints what an error line knows of the connection (not
// %ac and %fc: the previous case's connection may still be counted).
const errLogFormat = `error-log-format "X %ft %b/%s %Tw/%Tc %B %ts %bc/%sc/%rc %sq/%bq E=%[fc_err] S=%[fc_err_str] T=%[ssl_fc_err] U=%[ssl_fc_err_str]"`

// TestE2EErrorLogFormatLikeHAProxy sends broken PROXY headers and failed
// TLS handshakes to goproxy and haproxy with the same error-log-format:
// the same error codes and texts, one line per connection and no tcplog
// line; without error-log-format, HAProxy's default error line; without
// a log format, no error line, and the Connect from line of a good header
// with the header's addresses.
func TestE2EErrorLogFormatLikeHAProxy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	v2bad := "\r\n\r\n\x00\r\nQUIT\n\x11\x11\x00\x0c" + strings.Repeat("\x00", 12) // version 1
	proxyCases := []connErrCase{
		{name: "short garbage", send: "GARBAGE\r\n"},
		{name: "long garbage", send: "0123456789ABCDEFGHIJ\r\n"},
		{name: "v1 udp", send: "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"},
		{name: "v1 bad port", send: "PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n"},
		{name: "v2 version 1", send: v2bad},
		{name: "half header", send: "PROX"},
		{name: "nothing", send: ""},
		{name: "timeout", hold: true},
	}
	tlsCases := []connErrCase{
		{name: "plain text", send: "hello world\r\n"},
		{name: "http", send: "GET / HTTP/1.0\r\n\r\n"},
		{name: "nothing", send: ""},
		{name: "tls 1.1 client", tls: &tls.Config{ServerName: "srv.test", RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}},
		{name: "untrusting client", tls: &tls.Config{ServerName: "srv.test"}},
	}
	re := regexp.MustCompile(syslogHeader + `(.*)\n$`)
	results := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		var got []string
		for _, mode := range []struct {
			bind  string
			cases []connErrCase
			extra []string
		}{
			{"accept-proxy", proxyCases, []string{errLogFormat}},
			{"ssl crt " + srv, tlsCases, []string{errLogFormat}},
			{"accept-proxy", proxyCases[:1], []string{"option tcplog"}},
			{"accept-proxy", []connErrCase{{name: "good header", send: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"}, proxyCases[0]}, nil},
		} {
			sink := startSyslog(t)
			c := e2eCfg{
				global:   []string{"log " + sink.addr() + " local2"},
				defaults: append([]string{"log global", "timeout client 1s"}, mode.extra...),
				servers:  srvLines(ss, []int{1}),
			}
			addr, _ := startTLSProxy(t, bin, c, mode.bind)
			for i, k := range mode.cases {
				failConn(t, addr, k)
				if mode.extra == nil && i > 0 {
					continue // without a log format, no error line
				}
				line := sink.next(t, re, 4*time.Second)[3]
				got = append(got, k.name+": "+line)
			}
			select {
			case m := <-sink.msgs:
				t.Errorf("one more line: %q", m)
			case <-time.After(200 * time.Millisecond):
			}
		}
		results[t.Name()] = got
	})
	g := results["TestE2EErrorLogFormatLikeHAProxy/goproxy"]
	common := "X fe fe/<NOSRV> -1/-1 0 PR 0/0/0 0/0 "
	want := []string{
		"short garbage: " + common + "E=14 S=Truncated PROXY protocol header received T=- U=-",
		"long garbage: " + common + "E=15 S=Received something which does not look like a PROXY protocol header T=- U=-",
		"v1 udp: " + common + "E=17 S=Received an unhandled protocol in the PROXY protocol header T=- U=-",
		"v1 bad port: " + common + "E=16 S=Received an invalid PROXY protocol header T=- U=-",
		"v2 version 1: " + common + "E=15 S=Received something which does not look like a PROXY protocol header T=- U=-",
		"half header: " + common + "E=14 S=Truncated PROXY protocol header received T=- U=-",
		"nothing: " + common + "E=11 S=Connection closed while waiting for PROXY protocol header T=- U=-",
		"timeout: " + common + "E=13 S=Timeout while waiting for PROXY protocol header T=- U=-",
		"plain text: X fe~ fe/<NOSRV> -1/-1 0 PR 0/0/0 0/0 E=34 S=SSL handshake failure T=167772427 U=error:0A00010B:SSL routines::wrong version number",
		"http: X fe~ fe/<NOSRV> -1/-1 0 PR 0/0/0 0/0 E=34 S=SSL handshake failure T=167772316 U=error:0A00009C:SSL routines::http request",
		"nothing: X fe~ fe/<NOSRV> -1/-1 0 PR 0/0/0 0/0 E=24 S=Connection closed during SSL handshake T=0 U=-",
		"tls 1.1 client: X fe~ fe/<NOSRV> -1/-1 0 PR 0/0/0 0/0 E=34 S=SSL handshake failure T=167772418 U=error:0A000102:SSL routines::unsupported protocol",
		"untrusting client: X fe~ fe/<NOSRV> -1/-1 0 PR 0/0/0 0/0 E=34 S=SSL handshake failure T=167773202 U=error:0A000412:SSL routines::sslv3 alert bad certificate",
	}
	defaultLine := regexp.MustCompile(`^short garbage: 127\.0\.0\.2:\d+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe/1: Truncated PROXY protocol header received$`)
	if len(g) != len(want)+2 {
		t.Fatalf("goproxy logged %d lines, want %d: %q", len(g), len(want)+2, g)
	}
	for i, w := range want {
		if g[i] != w {
			t.Errorf("goproxy:\n got %q\nwant %q", g[i], w)
		}
	}
	if !defaultLine.MatchString(g[len(want)]) {
		t.Errorf("default error line: %q", g[len(want)])
	}
	// The Connect from line comes once the header is read, with its addresses.
	if w := "good header: Connect from 1.2.3.4:1 to 5.6.7.8:2 (fe/TCP)"; g[len(want)+1] != w {
		t.Errorf("got %q, want %q", g[len(want)+1], w)
	}
	h, ok := results["TestE2EErrorLogFormatLikeHAProxy/haproxy"]
	if !ok {
		return
	}
	for i := range h {
		if i != len(want) && (i >= len(g) || h[i] != g[i]) {
			t.Errorf("haproxy logged %q, goproxy %q", h[i], g[i])
		}
	}
}

// failConn runs one failing client of k against addr, from 127.0.0.2.
func failConn(t *testing.T, addr string, k connErrCase) {
	t.Helper()
	d := &net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	switch {
	case k.tls != nil:
		tc := tls.Client(c, k.tls)
		if err := tc.Handshake(); err == nil {
			t.Fatalf("%s: the handshake succeeded", k.name)
		}
	case k.hold:
		var b [1]byte
		c.Read(b[:]) // the proxy closes at its timeout
	default:
		if k.send != "" {
			if _, err := c.Write([]byte(k.send)); err != nil {
				t.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		var b [64]byte
		c.Read(b[:])
	}
}
