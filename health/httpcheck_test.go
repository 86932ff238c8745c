package health

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"goproxy/internal/fakesrv"
	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// parseBackend parses a backend "b" made of lines, after a TCP defaults.
func parseBackend(t *testing.T, lines string) *parser.Proxy {
	t.Helper()
	src := "defaults\n  mode tcp\n  timeout connect 300ms\n  timeout client 1s\n  timeout server 1s\n  timeout check 300ms\nbackend b\n" +
		lines + "  server s 127.0.0.1:1 check\n"
	cfg, err := parser.Parse("t.cfg", src, parser.Options{})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return cfg.Backend("b")
}

// stateStub is a StateTarget with a fixed answer.
type stateStub struct{ down bool }

func (s stateStub) CheckStateHeader() string {
	return "UP 1/3; address=127.0.0.1; port=80; name=b/s; node=n; weight=1/1; scur=0/0; qcur=0"
}
func (s stateStub) CheckServerDown() bool { return s.down }

func runHTTP(t *testing.T, px *parser.Proxy, port int, params parser.ServerParams, st StateTarget) outcome {
	t.Helper()
	rs, err := rulesetFor(px)
	if err != nil {
		t.Fatal(err)
	}
	params.Inter = 2 * time.Second
	spec, err := healthSpec(px, rs, parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port}, params)
	if err != nil {
		t.Fatal(err)
	}
	spec.state = st
	o, ok := execute(t.Context(), spec)
	if !ok {
		t.Fatal("check aborted")
	}
	return o
}

// readRequest reads one request head (and a body of content-length).
func readRequest(c net.Conn) []byte {
	rd := bufio.NewReader(c)
	var b bytes.Buffer
	cl := 0
	for {
		line, err := rd.ReadString('\n')
		b.WriteString(line)
		if err != nil || line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "content-length: "); ok {
			cl = atoiOr(strings.TrimSpace(v))
		}
	}
	body := make([]byte, cl)
	io.ReadFull(rd, body)
	b.Write(body)
	return b.Bytes()
}

func atoiOr(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestHTTPCheckRequest compares the request bytes with those HAProxy 2.6.12
// sent for the same configuration (captured with a raw TCP listener).
func TestHTTPCheckRequest(t *testing.T) {
	cases := []struct{ name, lines, want string }{
		{"default", "  option httpchk\n", "OPTIONS / HTTP/1.0\r\n\r\n"},
		{"uri", "  option httpchk /health\n", "OPTIONS /health HTTP/1.0\r\n\r\n"},
		{"method uri", "  option httpchk GET /healthz\n", "GET /healthz HTTP/1.0\r\n\r\n"},
		{"hidden headers", "  option httpchk OPTIONS /master HTTP/1.1\\r\\nHost:\\ www\n",
			"OPTIONS /master HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n"},
		{"send with body", "  option httpchk\n  http-check send meth GET uri /x ver HTTP/1.1 hdr Host foo body abc\n",
			"GET /x HTTP/1.1\r\nhost: foo\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc"},
		{"send-state", "  option httpchk HEAD /v1/sys/health HTTP/1.1\n  http-check send-state\n",
			"HEAD /v1/sys/health HTTP/1.1\r\nx-haproxy-server-state: UP 1/3; address=127.0.0.1; port=80; name=b/s; node=n; weight=1/1; scur=0/0; qcur=0\r\nconnection: close\r\n\r\n"},
		{"send after connect", "  option httpchk GET /a\n  http-check connect\n  http-check send meth GET uri /b\n", "GET /b HTTP/1.0\r\n\r\n"},
		{"send merges option", "  option httpchk GET /a HTTP/1.1\n  http-check send hdr Host x\n",
			"GET /a HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"},
		{"keep-alive header dropped", "  option httpchk GET /a HTTP/1.1\n  http-check send hdr Host x hdr Connection keep-alive\n",
			"GET /a HTTP/1.1\r\nhost: x\r\n\r\n"},
		{"send headers replace hidden ones", "  option httpchk GET /a HTTP/1.1\\r\\nHost:\\ foo\n  http-check send hdr User-Agent y\n",
			"GET /a HTTP/1.1\r\nuser-agent: y\r\nconnection: close\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan []byte, 1)
			port := serve(t, func(c net.Conn) {
				got <- readRequest(c)
				c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
			})
			o := runHTTP(t, parseBackend(t, tc.lines), port, parser.ServerParams{}, stateStub{})
			if o.status != srvstate.CheckL7OK || o.code != 200 || o.desc != "" {
				t.Errorf("outcome %+v", o)
			}
			select {
			case b := <-got:
				if string(b) != tc.want {
					t.Errorf("request\n got %q\nwant %q", b, tc.want)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("no request")
			}
		})
	}
}

func reply(s string) func(c net.Conn) {
	return func(c net.Conn) {
		readRequest(c)
		c.Write([]byte(s))
	}
}

// TestHTTPCheckResults checks statuses, codes and texts against those
// HAProxy 2.6.12 showed in "show stat" for the same answers.
func TestHTTPCheckResults(t *testing.T) {
	cert, caPEM := fakesrv.SelfSignedCert(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_, otherPEM := fakesrv.SelfSignedCert(t)
	otherCA := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(otherCA, otherPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	serveTLS := func(h func(c net.Conn)) int {
		return serve(t, func(c net.Conn) {
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			if tc.Handshake() != nil {
				return
			}
			h(tc)
		})
	}
	ok200 := reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	// sniServer answers "ok" to a TLS client that asked for check.test and
	// offered h2, and ends any other handshake.
	sniServer := serve(t, func(c net.Conn) {
		conf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"},
			GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				if h.ServerName != "check.test" || !slices.Contains(h.SupportedProtos, "h2") {
					return nil, errors.New("unexpected server name or ALPN")
				}
				return nil, nil
			}}
		tc := tls.Server(c, conf)
		if tc.Handshake() == nil {
			tc.Write([]byte("ok\n"))
		}
	})
	body := reply("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nX-Role: replica, standby\r\n\r\nnot ready")
	chk := "  option httpchk GET /\n"
	cases := []struct {
		name   string
		lines  string
		port   int
		params parser.ServerParams
		down   bool
		status srvstate.CheckStatus
		code   int
		desc   string
	}{
		{"200", chk, serve(t, ok200), parser.ServerParams{}, false, srvstate.CheckL7OK, 200, ""},
		{"302 passes", chk, serve(t, reply("HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7OK, 302, ""},
		{"503", chk, serve(t, reply("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Sts, 503, "Service Unavailable"},
		{"401", chk, serve(t, reply("HTTP/1.0 401 Unauthorized\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Sts, 401, "Unauthorized"},
		{"no reason", chk, serve(t, reply("HTTP/1.0 500\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Sts, 500, ""},
		{"garbage", chk, serve(t, reply("SSH-2.0-OpenSSH_9.2\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Rsp, 0, ""},
		{"empty", chk, serve(t, func(c net.Conn) { readRequest(c) }), parser.ServerParams{}, false, srvstate.CheckL7Rsp, 0, ""},
		{"partial", chk, serve(t, reply("HTTP/1.1 200 OK\r\nContent-Le")), parser.ServerParams{}, false, srvstate.CheckL7Rsp, 0, ""},
		{"slow", chk, serve(t, func(c net.Conn) { readRequest(c); time.Sleep(time.Second) }), parser.ServerParams{}, false, srvstate.CheckL7TOut, 0, ""},
		{"refused", chk, closedPort(t), parser.ServerParams{}, false, srvstate.CheckL4Con, 0, "Connection refused"},
		{"404 disable-on-404", chk + "  http-check disable-on-404\n", serve(t, reply("HTTP/1.0 404 Not Found\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7OKC, 404, ""},
		{"404 disable-on-404 down", chk + "  http-check disable-on-404\n", serve(t, reply("HTTP/1.0 404 Not Found\r\n\r\n")), parser.ServerParams{}, true, srvstate.CheckL7Sts, 404, "Not Found"},
		{"string found", chk + "  http-check expect string ready\n", serve(t, body), parser.ServerParams{}, false, srvstate.CheckL7OK, 200, ""},
		{"string missing", chk + "  http-check expect string ready\n", serve(t, ok200), parser.ServerParams{}, false, srvstate.CheckL7Rsp, 200, "HTTP content check did not match"},
		{"negated rstring", chk + "  http-check expect ! rstring not\n", serve(t, body), parser.ServerParams{}, false, srvstate.CheckL7Rsp, 200, "HTTP check matched unwanted content"},
		{"no body", chk + "  http-check expect string x\n", serve(t, reply("HTTP/1.0 200 OK\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Rsp, 200, "HTTP content check could not find a response body"},
		{"hdr mismatch", chk + "  http-check expect hdr name X-Role value master\n", serve(t, body), parser.ServerParams{}, false, srvstate.CheckL7Sts, 200, "OK"},
		{"hdr list value", chk + "  http-check expect hdr name x-role value standby\n", serve(t, body), parser.ServerParams{}, false, srvstate.CheckL7OK, 200, ""},
		{"fhdr whole value", chk + "  http-check expect fhdr name x-role value -m beg replica,\n", serve(t, body), parser.ServerParams{}, false, srvstate.CheckL7OK, 200, ""},
		{"rstatus", chk + "  http-check expect rstatus ^2\n", serve(t, reply("HTTP/1.1 503 Service Unavailable\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Sts, 503, "Service Unavailable"},
		{"status comment", chk + "  http-check expect status 200 comment \"need 200\"\n", serve(t, reply("HTTP/1.1 503 Service Unavailable\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Sts, 503, "Service Unavailable comment: need 200"},
		{"error-status and on-error", chk + "  http-check expect error-status L7RSP on-error down status 200\n", serve(t, reply("HTTP/1.1 503 Service Unavailable\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7Rsp, 503, "down"},
		{"chunked body", chk + "  http-check expect string world\n", serve(t, reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7OK, 200, ""},
		{"interim 100", chk, serve(t, reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")), parser.ServerParams{}, false, srvstate.CheckL7OK, 204, ""},
		{"check-ssl verify none", chk, serveTLS(ok200), parser.ServerParams{CheckSSL: true, Verify: "none"}, false, srvstate.CheckL7OK, 200, ""},
		{"check-ssl verify required", chk, serveTLS(ok200), parser.ServerParams{CheckSSL: true, Verify: "required", CAFile: caFile}, false, srvstate.CheckL7OK, 200, ""},
		{"check-ssl wrong CA", chk, serveTLS(ok200), parser.ServerParams{CheckSSL: true, Verify: "required", CAFile: otherCA}, false, srvstate.CheckL6Rsp, 0, "SSL handshake failure"},
		{"check-ssl plain server", chk, serve(t, func(c net.Conn) { c.Read(make([]byte, 512)); c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")) }), parser.ServerParams{CheckSSL: true, Verify: "none"}, false, srvstate.CheckL6Rsp, 0, "SSL handshake failure"},
		{"check-ssl silent server", chk, serve(t, func(c net.Conn) { io.Copy(io.Discard, c) }), parser.ServerParams{CheckSSL: true, Verify: "none"}, false, srvstate.CheckL6TOut, 0, ""},
		{"connect ssl", "  default-server verify none\n  option httpchk GET /healthz\n  http-check connect ssl\n  http-check send meth GET uri /healthz\n  http-check expect status 200\n",
			serveTLS(ok200), parser.ServerParams{Verify: "none"}, false, srvstate.CheckL7OK, 200, ""},
		{"check port and addr", chk, closedPort(t), parser.ServerParams{CheckAddr: "127.0.0.1", CheckPort: serve(t, ok200)}, false, srvstate.CheckL7OK, 200, ""},
		{"connect port", "  option httpchk\n  http-check connect port " + fmt.Sprint(serve(t, ok200)) + "\n", closedPort(t), parser.ServerParams{}, false, srvstate.CheckL7OK, 200, ""},
		{"L4 check-ssl", "", serveTLS(ok200), parser.ServerParams{CheckSSL: true, Verify: "none"}, false, srvstate.CheckL6OK, 0, ""},
		{"tcp-check connect ssl sni alpn", "  default-server verify none\n  option tcp-check\n  tcp-check connect ssl sni check.test alpn h2\n  tcp-check expect string ok\n",
			sniServer, parser.ServerParams{Verify: "none"}, false, srvstate.CheckL7OK, 0, "(tcp-check)"},
		{"tcp-check connect ssl wrong sni", "  default-server verify none\n  option tcp-check\n  tcp-check connect ssl sni other.test alpn h2\n  tcp-check expect string ok\n",
			sniServer, parser.ServerParams{Verify: "none"}, false, srvstate.CheckL6Rsp, 0, "SSL handshake failure at step 1 of tcp-check (connect)"},
		{"tcp-check connect default", "  option tcp-check\n  tcp-check connect default\n  tcp-check expect string ok\n",
			sniServer, parser.ServerParams{Verify: "none", CheckSSL: true, CheckSNI: "check.test", CheckALPN: "h2"}, false, srvstate.CheckL7OK, 0, "(tcp-check)"},
		{"tcp-check connect without default", "  option tcp-check\n  tcp-check connect\n  tcp-check expect string ok\n",
			sniServer, parser.ServerParams{Verify: "none", CheckSSL: true, CheckSNI: "check.test", CheckALPN: "h2"}, false, srvstate.CheckL7TOut, 0, " at step 2 of tcp-check (expect string 'ok')"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := runHTTP(t, parseBackend(t, tc.lines), tc.port, tc.params, stateStub{down: tc.down})
			if o.status != tc.status || o.code != tc.code || o.desc != tc.desc {
				t.Errorf("got status %d code %d desc %q, want %d %d %q", o.status, o.code, o.desc, tc.status, tc.code, tc.desc)
			}
		})
	}
}

func TestParseHTTPResponse(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		head     bool
		bad      bool
		partial  bool
		code     int
		body     string
		complete bool
	}{
		{"prefix", "HTT", false, false, true, 0, "", false},
		{"not http", "220 smtp ready\r\n", false, true, false, 0, "", false},
		{"bad version", "HTTP/x 200 OK\r\n\r\n", false, true, false, 0, "", false},
		{"bad code", "HTTP/1.1 20 OK\r\n\r\n", false, true, false, 0, "", false},
		{"bad header", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", false, true, false, 0, "", false},
		{"headers pending", "HTTP/1.1 200 OK\r\nA: b\r\n", false, false, true, 0, "", false},
		{"content-length partial", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", false, false, false, 200, "ab", false},
		{"content-length done", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcd", false, false, false, 200, "ab", true},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, false, false, 200, "", true},
		{"until close", "HTTP/1.0 200 OK\r\n\r\nabc", false, false, false, 200, "abc", false},
		{"bare LF", "HTTP/1.0 503 Busy\n\n", false, false, false, 503, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, bad := parseHTTPResponse([]byte(tc.in), tc.head)
			if bad != tc.bad || (r == nil) != (tc.bad || tc.partial) {
				t.Fatalf("got %+v bad=%v", r, bad)
			}
			if r == nil {
				return
			}
			if r.code != tc.code || string(r.body) != tc.body || r.complete != tc.complete {
				t.Errorf("got code %d body %q complete %v", r.code, r.body, r.complete)
			}
		})
	}
}
