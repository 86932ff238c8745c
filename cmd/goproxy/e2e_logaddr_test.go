package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peerServer is a backend that greets with "s1\n", reports the address
// each connection comes from on peers, echoes lines and closes the
// connection itself on "quit\n"; with a certificate, it speaks TLS.
type peerServer struct {
	*speaker
	peers chan string
}

func startPeerServer(t *testing.T, cert *tls.Certificate) *peerServer {
	t.Helper()
	s := &peerServer{peers: make(chan string, 16)}
	s.speaker = startSpeaker(t, func(tc *net.TCPConn) {
		s.peers <- tc.RemoteAddr().String()
		var c net.Conn = tc
		if cert != nil {
			c = tls.Server(tc, &tls.Config{Certificates: []tls.Certificate{*cert}})
		}
		if _, err := c.Write([]byte("s1\n")); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for range 100 {
			line, err := r.ReadString('\n')
			if err != nil || line == "quit\n" {
				return
			}
			if _, err := c.Write([]byte(line)); err != nil {
				return
			}
		}
	})
	return s
}

// logTokens splits a log line at spaces, ':' and '_', keeping them, and
// names the tokens that differ between two proxies by nature: the client,
// frontend and server-side source ports, and epoch seconds within
// [from, to].
func logTokens(line string, ports map[string]string, from, to int64) string {
	var b strings.Builder
	for _, tok := range regexp.MustCompile(`[^ :_]+|[ :_]`).FindAllString(line, -1) {
		if name, ok := ports[tok]; ok {
			tok = name
		} else if n, err := strconv.ParseInt(tok, 10, 64); err == nil && len(tok) == 10 && n >= from && n <= to {
			tok = "TS"
		}
		b.WriteString(tok)
	}
	return b.String()
}

// TestE2ELogAddressesDifferential sends the same sessions through haproxy
// and goproxy with a unique-id-format of addresses, ports and dates and a
// log-format of %ID, sample fetches and the addresses of both
// connections, and compares the datagrams once the ports and dates that
// differ by nature are named. %bi:%bp must be the address the server saw
// the connection come from, also when the server closed it first.
func TestE2ELogAddressesDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	format := `log-format "UL %ID %[src] %[dst_port] %bi:%bp %si:%sp %ci:%cp %fi:%fp %[unique-id] %{+Q}[unique-id,upper] %[src,hex]:%[be_name]:%[nbsrv(be)] %ts %b/%s %B %U"`
	cases := []struct {
		name string
		bye  string // what the client sends last
		want string // the masked line, HAProxy's
		// refused: the server refuses connections, retried once.
		refused bool
		tls     bool // TLS to the server
	}{
		{name: "the client closes", bye: "", want: "UL 127.0.0.2:CP_127.0.0.1:FP_TS_0 127.0.0.2 FP 127.0.0.1:BP SRV 127.0.0.2:CP 127.0.0.1:FP 127.0.0.2:CP_127.0.0.1:FP_TS_0 \"127.0.0.2:CP_127.0.0.1:FP_TS_0\" 7F000002:be:1 -- be/s1 9 6"},
		{name: "the server closes", bye: "quit\n", want: "UL 127.0.0.2:CP_127.0.0.1:FP_TS_0 127.0.0.2 FP 127.0.0.1:BP SRV 127.0.0.2:CP 127.0.0.1:FP 127.0.0.2:CP_127.0.0.1:FP_TS_0 \"127.0.0.2:CP_127.0.0.1:FP_TS_0\" 7F000002:be:1 -- be/s1 9 11"},
		// With TLS to the server, the descriptor of the connection is
		// not the one the loop reads (a socket pair).
		{name: "TLS to the server", tls: true, want: "UL 127.0.0.2:CP_127.0.0.1:FP_TS_0 127.0.0.2 FP 127.0.0.1:BP SRV 127.0.0.2:CP 127.0.0.1:FP 127.0.0.2:CP_127.0.0.1:FP_TS_0 \"127.0.0.2:CP_127.0.0.1:FP_TS_0\" 7F000002:be:1 -- be/s1 9 6"},
		// The local end of the refused attempt, which no server saw:
		// any port, as long as it is one.
		{name: "the server refuses", refused: true, want: "UL 127.0.0.2:CP_127.0.0.1:FP_TS_0 127.0.0.2 FP 127.0.0.1:BP SRV 127.0.0.2:CP 127.0.0.1:FP 127.0.0.2:CP_127.0.0.1:FP_TS_0 \"127.0.0.2:CP_127.0.0.1:FP_TS_0\" 7F000002:be:1 SC be/s1 0 0"},
	}
	cert, _ := selfSigned(t, "backend.test")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := startSyslog(t)
			var srvCert *tls.Certificate
			if tc.tls {
				srvCert = &cert
			}
			srv := startPeerServer(t, srvCert)
			cfg := e2eCfg{
				global:   []string{"log " + sink.addr() + " local2"},
				defaults: []string{"log global", "unique-id-format %ci:%cp_%fi:%fp_%Ts_%rt"},
				frontend: []string{format},
				servers:  []string{"server s1 " + srv.ln.Addr().String()},
			}
			srvAddr := srv.ln.Addr().String()
			if tc.tls {
				cfg.servers[0] += " ssl verify none"
			}
			if tc.refused {
				srvAddr = loopAddr(t)
				cfg.servers = []string{"server s1 " + srvAddr}
				cfg.backend = []string{"retries 1"}
			}
			re := regexp.MustCompile(syslogHeader + `(UL .*)\n$`)
			var lines [2]string
			for i, bin := range []string{haproxy, goproxyBin} {
				addr, p := cfg.runWith(t, bin)
				from := time.Now().Unix()
				var c net.Conn
				if tc.refused {
					if c, err = dialFrom("127.0.0.2", addr); err != nil {
						t.Fatal(err)
					}
					expectClosed(t, c, 5*time.Second)
				} else {
					c, _ = openName(t, "127.0.0.2", addr)
					if err := echoRoundTrip(c, "hello\n"); err != nil {
						t.Fatal(err)
					}
				}
				if tc.bye != "" {
					if _, err := c.Write([]byte(tc.bye)); err != nil {
						t.Fatal(err)
					}
					expectClosed(t, c, 3*time.Second)
				}
				cp := c.LocalAddr().(*net.TCPAddr).Port
				c.Close()
				line := sink.next(t, re, 5*time.Second)[3]
				p.stop()
				for len(sink.msgs) > 0 {
					<-sink.msgs
				}
				var peer string
				if f := strings.Fields(line); tc.refused && len(f) > 4 {
					peer = f[4]
				} else {
					select {
					case peer = <-srv.peers:
					case <-time.After(3 * time.Second):
						t.Fatal("the server saw no connection")
					}
				}
				_, fp, _ := net.SplitHostPort(addr)
				_, bp, _ := net.SplitHostPort(peer)
				if n, err := strconv.Atoi(bp); err != nil || n <= 0 || n > 65535 {
					t.Fatalf("%s: no server-side port in %q", bin, line)
				}
				ports := map[string]string{strconv.Itoa(cp): "CP", fp: "FP", bp: "BP"}
				line = strings.ReplaceAll(line, srvAddr, "SRV")
				lines[i] = logTokens(line, ports, from, time.Now().Unix())
				t.Logf("%s: %s", bin, line)
			}
			if lines[0] != lines[1] {
				t.Errorf("masked lines differ:\nhaproxy %s\ngoproxy %s", lines[0], lines[1])
			}
			if lines[0] != tc.want {
				t.Errorf("haproxy's masked line:\n%s\nthe test expects\n%s", lines[0], tc.want)
			}
		})
	}
}

// TestE2EHandoffKeepsLogFields reloads goproxy with session-handoff
// while a session is open: the new process logs it with the unique id the
// old one made (its %pid in it) and the addresses of the server
// connection it took over.
func TestE2EHandoffKeepsLogFields(t *testing.T) {
	t.Parallel()
	sink := startSyslog(t)
	srv := startPeerServer(t, nil)
	addr := loopAddr(t)
	text := e2eCfg{
		global:   []string{"session-handoff", "log " + sink.addr() + " local2"},
		defaults: []string{"log global", "timeout client 1m", "timeout server 1m"},
		frontend: []string{"unique-id-format %pid_%ci", "tcp-request content set-var(sess.u) unique-id",
			`log-format "HO %ID %bi:%bp %si:%sp %pid"`},
		servers: []string{"server s1 " + srv.ln.Addr().String()},
	}.render(addr)
	cfg := writeFile(t, t.TempDir(), "ho.cfg", text)
	old := startServing(t, goproxyBin, text, addr)
	c, _ := openName(t, "127.0.0.2", addr)
	if err := echoRoundTrip(c, "before\n"); err != nil {
		t.Fatal(err)
	}
	var peer string
	select {
	case peer = <-srv.peers:
	case <-time.After(3 * time.Second):
		t.Fatal("the server saw no connection")
	}
	nu := startBin(t, goproxyBin, cfg, "-sf", strconv.Itoa(old.pid()))
	if code := old.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("the old process exited %d:\n%s", code, old.out.String())
	}
	if err := echoRoundTrip(c, "after\n"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	re := regexp.MustCompile(syslogHeader + `(HO .*)\n$`)
	m := sink.next(t, re, 5*time.Second)
	want := fmt.Sprintf("HO %d_127.0.0.2 %s %s %d", old.pid(), peer, srv.ln.Addr(), nu.pid())
	if m[3] != want {
		t.Errorf("the new process logged %q, want %q", m[3], want)
	}
}
