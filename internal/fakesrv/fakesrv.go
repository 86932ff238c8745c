// Package fakesrv runs the fake backends that tests put behind goproxy and
// haproxy: loopback listeners that answer health checks as the real
// services do (HTTP APIs such as Patroni's, Vault's, a Kubernetes API
// server's or Galera's clustercheck, Redis, MySQL, LDAP, SMTP, ZooKeeper,
// TLS handshakes) and that tell proxied traffic apart from checks: a
// client that sends the probe "WHO\n" (after an optional PROXY protocol
// header) gets "NAME:<server name>\n" back and is counted as traffic.
//
// It is test support: nothing outside tests imports it. It imports only
// the standard library.
package fakesrv

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Probe is what a traffic client sends; Reply prefixes the server's answer.
const (
	Probe = "WHO\n"
	Reply = "NAME:"
)

// connDeadline bounds every connection a fake serves.
const connDeadline = 10 * time.Second

// Proto is how a fake answers a connection that is not traffic.
type Proto struct {
	// Banner is written as soon as a connection is accepted (a MySQL
	// greeting, an SMTP 220 line); traffic clients skip it.
	Banner []byte
	// TLS, when set, serves a connection whose first byte opens a TLS
	// record over TLS with this certificate, then runs Serve inside it.
	TLS *tls.Certificate
	// Serve answers a check, reading from rd (which holds the first
	// bytes); nil reads until the peer closes (a connect-only check).
	Serve func(c net.Conn, rd *bufio.Reader)
}

// Server is one fake backend listening on 127.0.0.1.
type Server struct {
	Name  string
	Port  int
	proto Proto
	ln    net.Listener

	traffic atomic.Int64
	checks  atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Start listens on a free loopback port and serves p until the test ends.
func Start(t testing.TB, name string, p Proto) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake backend %s: %v", name, err)
	}
	s := &Server{Name: name, Port: ln.Addr().(*net.TCPAddr).Port, proto: p, ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Addr is the server's "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Traffic is the number of probes answered.
func (s *Server) Traffic() int64 { return s.traffic.Load() }

// Checks is the number of connections that were not traffic.
func (s *Server) Checks() int64 { return s.checks.Load() }

// Close stops listening and closes the open connections.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			_ = c.SetDeadline(time.Now().Add(connDeadline))
			s.serve(c)
		}()
	}
}

func (s *Server) serve(c net.Conn) {
	if len(s.proto.Banner) > 0 {
		if _, err := c.Write(s.proto.Banner); err != nil {
			return
		}
	}
	rd := bufio.NewReader(c)
	skipProxyHeader(rd)
	if hasPrefix(rd, []byte(Probe)) {
		_, _ = rd.Discard(len(Probe))
		s.traffic.Add(1)
		if _, err := io.WriteString(c, Reply+s.Name+"\n"); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, rd)
		return
	}
	s.checks.Add(1)
	if s.proto.TLS != nil {
		if first, err := rd.Peek(1); err == nil && first[0] == 0x16 {
			tc := tls.Server(&bufferedConn{Conn: c, rd: rd}, &tls.Config{Certificates: []tls.Certificate{*s.proto.TLS}})
			if tc.Handshake() != nil {
				return
			}
			defer tc.Close()
			c, rd = tc, bufio.NewReader(tc)
		}
	}
	if s.proto.Serve == nil {
		_, _ = io.Copy(io.Discard, rd)
		return
	}
	s.proto.Serve(c, rd)
}

// proxyV2Sig opens a PROXY protocol version 2 header.
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// skipProxyHeader consumes a PROXY protocol header (version 1 or 2) at
// the start of rd, if there is one.
func skipProxyHeader(rd *bufio.Reader) {
	switch {
	case hasPrefix(rd, proxyV2Sig):
		hdr, err := rd.Peek(16)
		if err != nil {
			return
		}
		_, _ = rd.Discard(16 + int(binary.BigEndian.Uint16(hdr[14:16])))
	case hasPrefix(rd, []byte("PROXY ")):
		_, _ = rd.ReadString('\n')
	}
}

// hasPrefix reports whether rd's next bytes are want, without consuming
// them. It waits for more bytes only while those read so far match, so a
// check that sends a few bytes and waits for an answer is not held up.
func hasPrefix(rd *bufio.Reader, want []byte) bool {
	for n := 1; n <= len(want); n++ {
		b, err := rd.Peek(n)
		if err != nil || !bytes.Equal(b, want[:n]) {
			return false
		}
	}
	return true
}

// bufferedConn is a connection whose first bytes wait in rd.
type bufferedConn struct {
	net.Conn
	rd *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.rd.Read(p) }

// Ask connects to addr from the source address ip ("" for any), sends the
// probe and returns the name of the server that answered, with the
// connection left open (the caller closes it).
func Ask(ip, addr string) (string, net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	if ip != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, Probe); err != nil {
		c.Close()
		return "", nil, err
	}
	// A banner (binary or text) may come first: read up to the reply line.
	var got []byte
	buf := make([]byte, 512)
	for len(got) < 4096 {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if i := bytes.Index(got, []byte(Reply)); i >= 0 {
			if j := bytes.IndexByte(got[i:], '\n'); j >= 0 {
				_ = c.SetDeadline(time.Time{})
				return string(got[i+len(Reply) : i+j]), c, nil
			}
		}
		if err != nil {
			c.Close()
			return "", nil, &noReplyError{got: string(got), err: err}
		}
	}
	c.Close()
	return "", nil, &noReplyError{got: string(got)}
}

type noReplyError struct {
	got string
	err error
}

func (e *noReplyError) Error() string {
	return "no " + strings.TrimSuffix(Reply, ":") + " reply (got " + quote(e.got) + ")" + errSuffix(e.err)
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "\"" + strings.ToValidUTF8(s, "?") + "\""
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// RefusingPort returns a loopback port bound for the whole test but not
// listening: connections to it are refused and no listener can take it.
func RefusingPort(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}
