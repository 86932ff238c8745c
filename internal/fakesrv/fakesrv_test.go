package fakesrv

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestProbeAfterBannerAndProxyHeader: a traffic client is answered with
// the server's name through a banner and behind PROXY headers of both
// versions, and is counted as traffic, not as a check.
func TestProbeAfterBannerAndProxyHeader(t *testing.T) {
	s := Start(t, "mx1", SMTP(true))
	if name, c, err := Ask("", s.Addr()); err != nil || name != "mx1" {
		t.Fatalf("Ask = %q, %v", name, err)
	} else {
		c.Close()
	}
	for _, hdr := range []string{
		"PROXY TCP4 127.0.0.2 127.0.0.1 1000 25\r\n",
		"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x7f\x00\x00\x02\x7f\x00\x00\x01\x03\xe8\x00\x19",
	} {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, hdr+Probe)
		rd := bufio.NewReader(c)
		banner, _ := rd.ReadString('\n')
		reply, err := rd.ReadString('\n')
		c.Close()
		if !strings.HasPrefix(banner, "220 ") || reply != Reply+"mx1\n" {
			t.Errorf("after %q: got %q then %q, %v", hdr, banner, reply, err)
		}
	}
	if s.Traffic() != 3 || s.Checks() != 0 {
		t.Errorf("traffic %d checks %d, want 3 and 0", s.Traffic(), s.Checks())
	}
}

// TestShortCheckNotHeld: a check that sends fewer bytes than the probe and
// waits (ZooKeeper's ruok) is answered at once.
func TestShortCheckNotHeld(t *testing.T) {
	s := Start(t, "zk1", ZooKeeper(true))
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	io.WriteString(c, "ruok")
	b, err := io.ReadAll(c)
	if string(b) != "imok" {
		t.Fatalf("got %q, %v", b, err)
	}
}

// TestHTTPOverTLS: a TLS client gets the HTTP answer inside TLS, a plain
// probe on the same port is traffic.
func TestHTTPOverTLS(t *testing.T) {
	cert, _ := SelfSignedCert(t)
	s := Start(t, "vault1", OverTLS(Status(429), &cert))
	c, err := tls.Dial("tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /v1/sys/health HTTP/1.0\r\n\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if line != "HTTP/1.1 429 Too Many Requests\r\n" {
		t.Fatalf("status line %q, %v", line, err)
	}
	if name, pc, err := Ask("", s.Addr()); err != nil || name != "vault1" {
		t.Fatalf("Ask = %q, %v", name, err)
	} else {
		pc.Close()
	}
}

func TestRedisRole(t *testing.T) {
	s := Start(t, "r2", Redis(false))
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	io.WriteString(c, "PING\r\ninfo replication\r\nQUIT\r\n")
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "+PONG\r\n$") || !strings.Contains(string(b), "role:slave\r\n") || !strings.HasSuffix(string(b), "+OK\r\n") {
		t.Fatalf("got %q", b)
	}
}
