package cmpp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// startGateway serves gw on a free loopback port until the test ends.
func startGateway(t *testing.T, gw *Gateway) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ln) }()
	t.Cleanup(func() {
		gw.Close()
		select {
		case err := <-done:
			if !errors.Is(err, ErrGatewayClosed) {
				t.Errorf("Serve returned %v, want ErrGatewayClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return ln.Addr().String()
}

func TestGatewaySession(t *testing.T) {
	gw := &Gateway{Name: "server2"}
	addr := startGateway(t, gw)
	c, err := Dial(t.Context(), addr, "127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if la := c.Conn().LocalAddr().(*net.TCPAddr); la.IP.String() != "127.0.0.3" {
		t.Fatalf("local address %v, want 127.0.0.3", la)
	}
	cr, err := c.Connect("901234", "any", Version30)
	if err != nil || cr.Status != StatusOK || cr.Gateway != "server2" || cr.Version != Version30 {
		t.Fatalf("CONNECT_RESP %+v, %v", cr, err)
	}
	for i := range 3 {
		sr, err := c.Submit(Submit{DestID: "13800000000", Content: []byte("hello")})
		if err != nil || sr.Result != 0 || sr.Gateway() != "server2" {
			t.Fatalf("submit %d: %+v (%q), %v", i, sr, sr.Gateway(), err)
		}
	}
	if err := c.ActiveTest(); err != nil {
		t.Fatal(err)
	}
	if err := c.Terminate(); err != nil {
		t.Fatal(err)
	}
	c.Conn().SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := c.Conn().Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after TERMINATE: read %d, %v; want EOF", n, err)
	}
	st := gw.Stats()
	if st != (Stats{Conns: 1, Connects: 1, Submits: 3, ActiveTests: 1}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestGatewayCMPP20AndAuth(t *testing.T) {
	addr := startGateway(t, &Gateway{Name: "gw", Secret: "s3cret"})
	tests := []struct {
		name       string
		secret     string
		version    byte
		wantStatus uint32
	}{
		{"good secret 2.0", "s3cret", Version20, StatusOK},
		{"bad secret", "wrong", Version30, StatusAuthFailed},
		{"version too high", "s3cret", 0x31, StatusVersionHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(t.Context(), addr, "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cr, err := c.Connect("901234", tt.secret, tt.version)
			if err != nil || cr.Status != tt.wantStatus {
				t.Fatalf("CONNECT_RESP %+v, %v; want status %d", cr, err, tt.wantStatus)
			}
			if tt.version == Version20 {
				sr, err := c.Submit(Submit{Content: []byte("x")})
				if err != nil || sr.Gateway() != "gw" {
					t.Fatalf("2.0 submit %+v, %v", sr, err)
				}
			}
		})
	}
}

func TestGatewayText(t *testing.T) {
	addr := startGateway(t, &Gateway{Name: "server1", TextIdle: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "test\r\nsecond line\nno newline")
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	want := "cmppgw server1: test\ncmppgw server1: second line\ncmppgw server1: no newline\n"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}

	// Without a half-close, the gateway closes after TextIdle.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c2, "test\n")
	got, err = io.ReadAll(c2)
	if err != nil || string(got) != "cmppgw server1: test\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestGatewayGarbage(t *testing.T) {
	addr := startGateway(t, &Gateway{Name: "g"})
	tests := []struct {
		name string
		in   []byte
	}{
		{"length too big", []byte{0, 0, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 1}},
		{"length too small", []byte{0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1}},
		{"bad connect body", AppendPDU(nil, CmdConnect, 1, []byte("short"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write(tt.in)
			if tt.name == "bad connect body" {
				p, err := ReadPDU(c)
				if err != nil {
					t.Fatal(err)
				}
				r, err := ParseConnectResp(p.Body)
				if err != nil || r.Status != StatusBadStruct {
					t.Fatalf("CONNECT_RESP %+v, %v; want status 1", r, err)
				}
				return
			}
			if n, err := c.Read(make([]byte, 64)); err == nil {
				t.Fatalf("read %d bytes, want the connection closed", n)
			}
		})
	}
}

func TestGatewayOwnActiveTest(t *testing.T) {
	gw := &Gateway{Name: "g", ActiveTestInterval: 50 * time.Millisecond, ResponseTimeout: 300 * time.Millisecond}
	addr := startGateway(t, gw)

	// A client that answers stays connected across several gateway probes.
	c, err := Dial(t.Context(), addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Connect("901234", "", Version30); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)     // one probe waits unanswered
	if err := c.ActiveTest(); err != nil { // answers the probe, then gets its own answer
		t.Fatalf("after idle: %v", err)
	}

	// A silent client is dropped after three unanswered probes.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.Write(AppendPDU(nil, CmdActiveTest, 1, nil))
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	var probes []string
	for {
		p, err := ReadPDU(raw)
		if err != nil {
			break
		}
		probes = append(probes, p.CommandID.String())
	}
	if want := "ACTIVE_TEST_RESP ACTIVE_TEST ACTIVE_TEST ACTIVE_TEST"; strings.Join(probes, " ") != want {
		t.Fatalf("silent client got %v, want %s then close", probes, want)
	}
}
