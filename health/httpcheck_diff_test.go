package health_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/health"
	"goproxy/parser"
	"goproxy/proxy"
)

// httpServer answers every HTTP request it reads with resp (after delay),
// over TLS when cert is set.
func httpServer(t *testing.T, cert *tls.Certificate, delay time.Duration, resp string) int {
	return startBackend(t, func(c net.Conn) {
		if cert != nil {
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
			if tc.Handshake() != nil {
				return
			}
			c = tc
		}
		rd := bufio.NewReader(c)
		for {
			line, err := rd.ReadString('\n')
			if err != nil || line == "\r\n" || line == "\n" {
				break
			}
		}
		time.Sleep(delay)
		io.WriteString(c, resp)
	}).port
}

const (
	resp200      = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
	resp503      = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
	resp401      = "HTTP/1.0 401 Unauthorized\r\n\r\n"
	resp429      = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n"
	respSynced   = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 40\r\n\r\nPercona XtraDB Cluster Node is synced.\r\n"
	respUnsynced = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 44\r\n\r\nPercona XtraDB Cluster Node is not synced.\r\n"
	respGarbage  = "SSH-2.0-OpenSSH_9.2\r\n"
)

// *proxy.Server describes itself to HTTP checks (send-state, disable-on-404).
var _ health.StateTarget = (*proxy.Server)(nil)

var httpDiffCols = []string{"status", "check_status", "check_code", "last_chk", "check_desc"}

// TestHTTPChecksAgainstHAProxy runs the real haproxy and our checkers with
// the same configuration against the same HTTP endpoints, in the shapes
// of Patroni, Kubernetes API servers, Galera clustercheck and Vault, and
// compares the servers' status, check_status, check_code, last_chk and
// check_desc, and the state change log lines.
func TestHTTPChecksAgainstHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		fmt.Println("SKIP: haproxy is not installed; HTTP checks not compared with it")
		t.Skip("haproxy is not on PATH")
	}
	cert, caPEM := health.SelfSignedCert(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	plainTCP := func() int { return startBackend(t, func(c net.Conn) { io.Copy(io.Discard, c) }).port }
	p := func(cert *tls.Certificate, delay time.Duration, resp string) int {
		return httpServer(t, cert, delay, resp)
	}
	silent := startBackend(t, func(c net.Conn) { io.Copy(io.Discard, c) }).port
	// An HTTP server on the port a TLS check dials: it answers the
	// ClientHello as if it were a request.
	notTLS := startBackend(t, func(c net.Conn) {
		c.Read(make([]byte, 512))
		io.WriteString(c, resp200)
	}).port
	refused := refusingPort(t)

	sock := filepath.Join(dir, "h.sock")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global\n    stats socket %s mode 600 level admin\n", sock)
	cfg.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n    timeout check 500ms\n    default-server inter 200ms rise 2 fall 3\n")
	// Patroni: the service port is PostgreSQL, the REST API on its own port.
	fmt.Fprintf(&cfg, `backend patroni
    option httpchk OPTIONS /master
    http-check expect status 200
    server leader 127.0.0.1:%d check port %d
    server replica 127.0.0.1:%d check port %d
    server api_down 127.0.0.1:%d check port %d
`, plainTCP(), p(nil, 0, resp200), plainTCP(), p(nil, 0, resp503), plainTCP(), refused)
	// Kubernetes API servers: HTTPS /healthz, certificates not verified.
	fmt.Fprintf(&cfg, `backend kube_api
    option httpchk GET /healthz
    http-check connect ssl
    http-check send meth GET uri /healthz
    http-check expect status 200
    server ok 127.0.0.1:%d check check-ssl verify none
    server unauthorized 127.0.0.1:%d check check-ssl verify none
    server not_tls 127.0.0.1:%d check check-ssl verify none
    server tls_silent 127.0.0.1:%d check check-ssl verify none
    server verified 127.0.0.1:%d check check-ssl verify required ca-file %s
`, p(&cert, 0, resp200), p(&cert, 0, resp401), notTLS, silent, p(&cert, 0, resp200), caFile)
	// Galera clustercheck on port 9200 style: its own check port.
	fmt.Fprintf(&cfg, `backend galera
    option httpchk
    http-check expect string is\ synced
    server synced 127.0.0.1:%d check port %d
    server unsynced 127.0.0.1:%d check port %d
    server slow 127.0.0.1:%d check port %d
    server garbage 127.0.0.1:%d check port %d
`, plainTCP(), p(nil, 0, respSynced), plainTCP(), p(nil, 0, respUnsynced), plainTCP(), p(nil, 2*time.Second, respSynced), plainTCP(), p(nil, 0, respGarbage))
	// Vault: HEAD /v1/sys/health, standby nodes answer 429.
	fmt.Fprintf(&cfg, `backend vault
    option httpchk HEAD /v1/sys/health
    http-check disable-on-404
    server active 127.0.0.1:%d check
    server standby 127.0.0.1:%d check
    server sealed 127.0.0.1:%d check
    server gone 127.0.0.1:%d check
`, p(nil, 0, resp200), p(nil, 0, resp429), p(nil, 0, resp503), p(nil, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
	cfgPath := filepath.Join(dir, "h.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	// Our side: the same text through our parser.
	conf, err := parser.Parse("h.cfg", cfg.String(), parser.Options{})
	if err != nil {
		t.Fatalf("our parser: %v", err)
	}
	var servers []*proxy.Server
	for _, px := range conf.Proxies {
		be := &proxy.Backend{Name: px.Name, Config: px}
		for i, ps := range px.Servers {
			s := &proxy.Server{Name: ps.Name, ID: i + 1, Backend: be, Config: ps.ServerParams, Addr: ps.Addr}
			be.Servers = append(be.Servers, s)
			servers = append(servers, s)
		}
	}

	cmd := exec.Command(bin, "-db", "-f", cfgPath)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	log, hook := test.NewNullLogger()
	m, err := health.New(serversOf(servers...), health.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(t.Context())
	defer m.Stop()

	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond)
	ours := func() map[string][]string {
		out := map[string][]string{}
		for _, s := range servers {
			snap := s.CheckSnapshot(time.Now())
			code := ""
			if snap.Check.Code != 0 {
				code = fmt.Sprint(snap.Check.Code)
			}
			out[s.Backend.Name+"/"+s.Name] = []string{snap.Status, snap.Check.Status, code, snap.Check.LastChk, snap.Check.Desc}
		}
		return out
	}
	// Whether a failed handshake also reports the socket's error (a reset
	// by the peer) depends on timing, on both sides.
	norm := func(s string) string {
		s = strings.TrimPrefix(s, "* ")
		if strings.HasPrefix(s, "SSL handshake failure") {
			return "SSL handshake failure"
		}
		return s
	}
	same := func(a, b []string) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if norm(a[i]) != norm(b[i]) {
				return false
			}
		}
		return true
	}
	var theirs, our map[string][]string
	for range 40 {
		theirs, our = showStat(t, sock, httpDiffCols), ours()
		agree := len(theirs) == len(our)
		for k, row := range our {
			agree = agree && same(row, theirs[k])
		}
		if agree {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(theirs) != len(servers) {
		t.Errorf("haproxy shows %d servers, we have %d", len(theirs), len(servers))
	}
	keys := make([]string, 0, len(our))
	for k := range our {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-22s haproxy %q goproxy %q", k, theirs[k], our[k])
		if !same(our[k], theirs[k]) {
			t.Errorf("%s\n  haproxy: %q\n  goproxy: %q", k, theirs[k], our[k])
		}
	}

	var logged []string
	for _, e := range hook.AllEntries() {
		logged = append(logged, e.Message)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		_, msg, ok := strings.Cut(line, ") : ")
		if !ok || !strings.HasPrefix(msg, "Server ") {
			continue
		}
		msg, _, _ = strings.Cut(msg, ", check duration")
		msg, _, _ = strings.Cut(msg, "SSL handshake failure")
		found := false
		for _, o := range logged {
			found = found || strings.HasPrefix(o, msg)
		}
		if !found {
			t.Errorf("haproxy logged %q; ours:\n%s", msg, strings.Join(logged, "\n"))
		}
	}
	if t.Failed() {
		t.Logf("haproxy stderr:\n%s", stderr.String())
	}
}
