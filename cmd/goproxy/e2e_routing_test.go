package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"goproxy/internal/cmpp"
)

// routingConfig reads a testdata/routing config and fills in its @NAME@
// addresses.
func routingConfig(t *testing.T, name string, addrs map[string]string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/routing/" + name)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for k, v := range addrs {
		text = strings.ReplaceAll(text, "@"+k+"@", v)
	}
	if strings.Contains(text, "@") {
		t.Fatalf("%s: an address is left unset", name)
	}
	return text
}

// splitConn writes each Write in pieces of the given sizes, pausing between
// them, so that the proxy sees the first bytes arrive in several segments.
type splitConn struct {
	net.Conn
	sizes []int
}

func (c *splitConn) Write(b []byte) (int, error) {
	n := 0
	for _, sz := range c.sizes {
		if len(b) == 0 {
			break
		}
		sz = min(sz, len(b))
		m, err := c.Conn.Write(b[:sz])
		n += m
		if err != nil {
			return n, err
		}
		b = b[sz:]
		time.Sleep(15 * time.Millisecond)
	}
	c.sizes = nil // later writes go in one piece
	m, err := c.Conn.Write(b)
	return n + m, err
}

// selfSigned makes a certificate for names.
func selfSigned(t *testing.T, names ...string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// startTLSSite starts a TLS server that sends "name\n" then echoes.
func startTLSSite(t *testing.T, name string, cert tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write([]byte(name + "\n")); err != nil {
					return
				}
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// tlsSite opens a TLS session through addr for serverName and returns the
// name of the site that answered, after an echo round trip.
func tlsSite(addr, serverName string, pool *x509.CertPool, split []int) (string, error) {
	raw, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(8 * time.Second))
	cfg := &tls.Config{ServerName: serverName, RootCAs: pool}
	if serverName == "" {
		cfg.InsecureSkipVerify = true
	}
	c := tls.Client(&splitConn{Conn: raw, sizes: split}, cfg)
	if err := c.Handshake(); err != nil {
		return "", err
	}
	line := make([]byte, 0, 16)
	one := make([]byte, 1)
	for len(line) < 16 {
		if _, err := c.Read(one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			break
		}
		line = append(line, one[0])
	}
	msg := []byte("ping " + serverName)
	if _, err := c.Write(msg); err != nil {
		return "", err
	}
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(c, back); err != nil || !bytes.Equal(back, msg) {
		return "", fmt.Errorf("echo %q: %v", back, err)
	}
	return string(line), nil
}

// TestE2ESNIRouting routes TLS sessions by SNI through one port, on goproxy
// and on haproxy: the same sites must answer, with the ClientHello in one
// segment or split over several.
func TestE2ESNIRouting(t *testing.T) {
	certA, leafA := selfSigned(t, "a.example.com")
	certB, leafB := selfSigned(t, "b.example", "x.b.example")
	pool := x509.NewCertPool()
	pool.AddCert(leafA)
	pool.AddCert(leafB)
	siteA, siteB := startTLSSite(t, "site-a", certA), startTLSSite(t, "site-b", certB)
	results := map[string]map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		addr := loopAddr(t)
		startServing(t, bin, routingConfig(t, "sni.cfg", map[string]string{"LISTEN": addr, "SITE_A": siteA, "SITE_B": siteB}), addr)
		got := map[string]string{}
		for _, split := range [][]int{nil, {1, 3, 2, 60, 200}, {5, 5}} {
			for _, name := range []string{"a.example.com", "b.example", "x.b.example", ""} {
				key := fmt.Sprintf("%q split %v", name, split)
				site, err := tlsSite(addr, name, pool, split)
				if err != nil {
					site = "error"
					t.Logf("%s: %v", key, err)
				}
				got[key] = site
			}
		}
		// Not TLS: refused once the first bytes show it.
		c, err := dialFrom("", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		b, err := io.ReadAll(c)
		c.Close()
		got["plain text"] = fmt.Sprintf("%q %v", b, errors.Is(err, os.ErrDeadlineExceeded))
		for k, v := range got {
			want := "site-a"
			if strings.Contains(k, "b.example") {
				want = "site-b"
			}
			if k == "plain text" {
				want = `"" false`
			}
			if v != want {
				t.Errorf("%s: %s, want %s", k, v, want)
			}
		}
		results[t.Name()] = got
	})
	if len(results) == 2 {
		var r []map[string]string
		for _, v := range results {
			r = append(r, v)
		}
		if !reflect.DeepEqual(r[0], r[1]) {
			t.Errorf("goproxy and haproxy differ:\n%v\n%v", r[0], r[1])
		}
	}
}

// cmppConnect sends a CMPP_CONNECT for account (through split writes) and
// returns the gateway that answered, after a SUBMIT on the same session;
// "refused" when the proxy closed the connection.
func cmppConnect(addr, account string, split []int) (string, error) {
	return cmppConnectFrom("", addr, account, split)
}

// cmppConnectFrom is cmppConnect from the source address ip.
func cmppConnectFrom(ip, addr, account string, split []int) (string, error) {
	raw, err := dialFrom(ip, addr)
	if err != nil {
		return "", err
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(8 * time.Second))
	sc := &splitConn{Conn: raw, sizes: split}
	req := cmpp.NewConnect(account, "", cmpp.Version30, time.Now())
	if _, err := sc.Write(cmpp.AppendPDU(nil, cmpp.CmdConnect, 1, req.Marshal())); err != nil {
		return "", err
	}
	p, err := cmpp.ReadPDU(raw)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset") {
			return "refused", nil
		}
		return "", err
	}
	resp, err := cmpp.ParseConnectResp(p.Body)
	if err != nil {
		return "", err
	}
	c := cmpp.NewClient(raw)
	sr, err := c.Submit(cmpp.Submit{ServiceID: "svc", SrcID: "1065", DestID: "13800000000", Content: []byte("hi")})
	if err != nil {
		return "", err
	}
	if sr.Gateway() != resp.Gateway {
		return "", fmt.Errorf("CONNECT answered by %s, SUBMIT by %s", resp.Gateway, sr.Gateway())
	}
	return resp.Gateway, nil
}

// TestE2ECMPPAccountRouting routes CMPP sessions by the Source_Addr of
// their CMPP_CONNECT, on goproxy and on haproxy.
func TestE2ECMPPAccountRouting(t *testing.T) {
	_, gws := startGateways(t, 4)
	results := map[string]map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		addr := loopAddr(t)
		cfg := routingConfig(t, "cmpp-accounts.cfg", map[string]string{
			"LISTEN": addr, "GW1": gws[0], "GW2": gws[1], "GW3": gws[2], "GW4": gws[3]})
		startServing(t, bin, cfg, addr)
		got := map[string]string{}
		for _, split := range [][]int{nil, {12}, {3, 9, 4, 1}} {
			for _, acct := range []string{"901234", "901235", "908811", "777777"} {
				key := fmt.Sprintf("%s split %v", acct, split)
				gw, err := cmppConnect(addr, acct, split)
				if err != nil {
					gw = "error: " + err.Error()
				}
				got[key] = gw
			}
		}
		// A first PDU other than CONNECT is refused.
		c, err := dialFrom("", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(binary.BigEndian.AppendUint32(cmpp.AppendPDU(nil, cmpp.CmdActiveTest, 7, nil), 0)[:12])
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		got["ACTIVE_TEST first"] = fmt.Sprintf("%d bytes", len(b))
		for k, v := range got {
			var want []string
			switch {
			case strings.HasPrefix(k, "90123"):
				want = []string{"server1", "server2"}
			case strings.HasPrefix(k, "9088"):
				want = []string{"server3"}
			case strings.HasPrefix(k, "777777"):
				want = []string{"server4"}
			default:
				want = []string{"0 bytes"}
			}
			ok := false
			for _, w := range want {
				ok = ok || v == w
			}
			if !ok {
				t.Errorf("%s: %s, want one of %v", k, v, want)
			}
			if strings.HasPrefix(k, "90123") {
				got[k] = "pool_gold" // round robin: the pool, not the member
			}
		}
		results[t.Name()] = got
	})
	if len(results) == 2 {
		var r []map[string]string
		for _, v := range results {
			r = append(r, v)
		}
		if !reflect.DeepEqual(r[0], r[1]) {
			t.Errorf("goproxy and haproxy differ:\n%v\n%v", r[0], r[1])
		}
	}
}

// inspectionConfig waits for content for 600ms: CONNECT-like rules on the
// first bytes, a default accept once the delay expires.
const inspectionConfig = `
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe
    bind %s
    tcp-request inspect-delay 600ms
    tcp-request content reject if { req.payload(0,4) -m bin 51554954 }
    tcp-request content accept if { req.len ge 8 }
    tcp-request content reject if { req.len lt 4 }
    use_backend bea if { req.payload(0,3) -m str AAA }
    default_backend beo

backend bea
    server a %s
backend beo
    server o %s
`

// TestE2EContentInspectionSemantics checks when the content rules decide
// (at once, at inspect-delay, at the client's FIN) and what they decide, on
// goproxy and on haproxy: the answers must be the same.
func TestE2EContentInspectionSemantics(t *testing.T) {
	a := startNameServer(t, "bea", "127.0.0.1:0")
	o := startNameServer(t, "beo", "127.0.0.1:0")
	const now, later = "before inspect-delay", "at inspect-delay"
	cases := []struct {
		name  string
		send  []string
		fin   bool
		delay time.Duration // between the writes
		want  string        // as haproxy 2.6 answers
	}{
		{"complete first bytes", []string{"AAA-12345"}, false, 0, "bea, " + now},
		{"split first bytes", []string{"AA", "A-", "123", "45"}, false, 30 * time.Millisecond, "bea, " + now},
		{"other prefix", []string{"BBB-12345"}, false, 0, "beo, " + now},
		{"short, delay expires", []string{"AAAAA"}, false, 0, "bea, " + later},
		{"too short, delay expires", []string{"AA"}, false, 0, "closed, " + later},
		{"nothing, delay expires", nil, false, 0, "closed, " + later},
		{"reject at once", []string{"QUIT"}, false, 0, "closed, " + now},
		{"short then FIN", []string{"AAAAA"}, true, 0, "bea, " + now},
		{"too short then FIN", []string{"AA"}, true, 0, "closed, " + now},
		{"nothing then FIN", nil, true, 0, "closed, " + now},
	}
	results := map[string]map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		addr := loopAddr(t)
		startServing(t, bin, fmt.Sprintf(inspectionConfig, addr, a.addr(), o.addr()), addr)
		got := map[string]string{}
		for _, tc := range cases {
			c, err := dialFrom("", addr)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for _, w := range tc.send {
				_, _ = c.Write([]byte(w))
				time.Sleep(tc.delay)
			}
			if tc.fin {
				_ = c.CloseWrite()
			}
			// The greeting line of the backend chosen, or the close.
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			var b []byte
			one := make([]byte, 1)
			for len(b) < 64 {
				if _, err := c.Read(one); err != nil || one[0] == '\n' {
					break
				}
				b = append(b, one[0])
			}
			took := now
			if time.Since(start) >= 450*time.Millisecond {
				took = later
			}
			c.Close()
			line := string(b)
			if line == "" {
				line = "closed"
			}
			got[tc.name] = line + ", " + took
			if got[tc.name] != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, got[tc.name], tc.want)
			}
		}
		results[t.Name()] = got
	})
	if len(results) == 2 {
		var r []map[string]string
		for _, v := range results {
			r = append(r, v)
		}
		for _, tc := range cases {
			if r[0][tc.name] != r[1][tc.name] {
				t.Errorf("%s: %s and %s", tc.name, r[0][tc.name], r[1][tc.name])
			}
		}
	}
}

// TestE2EInspectClientTimeout: timeout client shorter than inspect-delay
// ends a session still waiting for its first bytes, on goproxy as on
// haproxy.
func TestE2EInspectClientTimeout(t *testing.T) {
	a := startNameServer(t, "bea", "127.0.0.1:0")
	onOracles(t, func(t *testing.T, bin string) {
		addr := loopAddr(t)
		cfg := strings.Replace(fmt.Sprintf(inspectionConfig, addr, a.addr(), a.addr()), "timeout client 30s", "timeout client 300ms", 1)
		cfg = strings.Replace(cfg, "inspect-delay 600ms", "inspect-delay 3s", 1)
		startServing(t, bin, cfg, addr)
		c, err := dialFrom("", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write([]byte("AA"))
		took := expectClosed(t, c, 5*time.Second)
		if took < 200*time.Millisecond || took > 1500*time.Millisecond {
			t.Errorf("closed after %v, want timeout client (300ms)", took)
		}
	})
}

// clientHelloRecord returns the first TLS record a crypto/tls client sends.
func clientHelloRecord(t *testing.T, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _ = tls.Client(a, cfg).Handshake() }()
	_ = b.SetDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, 5+(int(hdr[3])<<8|int(hdr[4])))
	copy(rec, hdr)
	if _, err := io.ReadFull(b, rec[5:]); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestE2ETLSHelloFetches sends real ClientHellos (as raw bytes, in two
// segments) to frontends that each test one fetch, on goproxy and haproxy:
// the same ones must match.
func TestE2ETLSHelloFetches(t *testing.T) {
	yes := startNameServer(t, "yes", "127.0.0.1:0")
	no := startNameServer(t, "no", "127.0.0.1:0")
	tests := []string{
		"req.ssl_alpn h2",
		"req.ssl_alpn http/1.1",
		"req.ssl_ver 3.3",
		"req.ssl_ver 3.1",
		"req_ssl_ver 3.2:",
		"req.ssl_ec_ext",
		"req.ssl_sni -m found",
		"req_ssl_sni -m beg -i WWW.",
		"req.len gt 512",
		"req.payload_lv(3,2) -m len gt 200",
		"req.payload_lv(3,2) -m found",
		"req.payload_lv(3,2,5) -m found",
		"req.payload_lv(3,2),hex -m len gt 400",
		"req.payload(5,0) -m len gt 200",
		"req.payload(0,5) -m len 5",
		"req.payload_lv(3,1) -m found",
		"req.payload(0,3),hex 160301",
		"req.payload(1,2) -m bin 0301",
		"req.ssl_hello_type 1",
	}
	hellos := map[string][]byte{
		"tls13 h2+http/1.1 sni": clientHelloRecord(t, &tls.Config{ServerName: "www.example.com", NextProtos: []string{"h2", "http/1.1"}}),
		"tls12 http/1.1":        clientHelloRecord(t, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}),
		"tls10 only":            clientHelloRecord(t, &tls.Config{ServerName: "a.example", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}),
	}
	results := map[string]map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		var cfg strings.Builder
		cfg.WriteString("defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n")
		fmt.Fprintf(&cfg, "backend yes\n    server s %s\nbackend no\n    server s %s\n", yes.addr(), no.addr())
		addrs := make([]string, len(tests))
		for i, test := range tests {
			addrs[i] = loopAddr(t)
			fmt.Fprintf(&cfg, "frontend f%d\n    bind %s\n    tcp-request inspect-delay 2s\n", i, addrs[i])
			cfg.WriteString("    tcp-request content accept if { req.ssl_hello_type 1 }\n")
			fmt.Fprintf(&cfg, "    use_backend yes if { %s }\n    default_backend no\n", test)
		}
		startServing(t, bin, cfg.String(), addrs[len(addrs)-1])
		got := map[string]string{}
		for hname, rec := range hellos {
			for i, test := range tests {
				c, err := dialFrom("", addrs[i])
				if err != nil {
					t.Fatal(err)
				}
				// The accept rule matches on the first segment, so what the
				// other fetches see depends on the second one coming later
				// than the proxy's first read: 20 ms, then 60 ms, proved too
				// short on a loaded machine.
				_, _ = c.Write(rec[:7])
				time.Sleep(150 * time.Millisecond)
				_, _ = c.Write(rec[7:])
				name, err := readName(c)
				c.Close()
				if err != nil {
					name = err.Error()
				}
				got[hname+" / "+test] = name
			}
		}
		results[t.Name()] = got
	})
	if len(results) == 2 {
		g, h := results["TestE2ETLSHelloFetches/goproxy"], results["TestE2ETLSHelloFetches/haproxy"]
		for k := range g {
			if g[k] != h[k] {
				t.Errorf("%s: goproxy %s, haproxy %s", k, g[k], h[k])
			}
		}
	}
}
