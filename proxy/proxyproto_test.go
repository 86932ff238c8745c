package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestParseProxyHeader(t *testing.T) {
	v2 := appendProxyV2(nil, netip.MustParseAddrPort("10.0.0.1:1234"), netip.MustParseAddrPort("10.0.0.2:80"))
	v2six := appendProxyV2(nil, netip.MustParseAddrPort("[2001:db8::1]:1"), netip.MustParseAddrPort("[2001:db8::2]:2"))
	tests := []struct {
		name    string
		in      string
		ok, bad bool
		src     string
		size    int
		local   bool
	}{
		{"v1 tcp4", "PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\nDATA", true, false, "10.0.0.1:1234", 38, false},
		{"v1 tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n", true, false, "[2001:db8::1]:1", 40, false},
		{"v1 unknown", "PROXY UNKNOWN\r\n", true, false, "", 15, true},
		{"v1 partial", "PROXY TCP4 10.0.", false, false, "", 0, false},
		{"v1 family mismatch", "PROXY TCP4 2001:db8::1 10.0.0.2 1 2\r\n", false, true, "", 0, false},
		{"v1 bad port", "PROXY TCP4 10.0.0.1 10.0.0.2 99999 80\r\n", false, true, "", 0, false},
		{"v1 too long", "PROXY TCP4 " + string(make([]byte, 120)), false, true, "", 0, false},
		{"not a header", "GET / HTTP/1.0\r\n", false, true, "", 0, false},
		{"v2 tcp4", string(v2) + "DATA", true, false, "10.0.0.1:1234", 28, false},
		{"v2 tcp6", string(v2six), true, false, "[2001:db8::1]:1", 52, false},
		{"v2 partial", string(v2[:20]), false, false, "", 0, false},
		{"v2 local", string(append(append([]byte{}, proxyV2Sig[:]...), 0x20, 0, 0, 0)), true, false, "", 16, true},
		{"v2 bad version", string(append(append([]byte{}, proxyV2Sig[:]...), 0x11, 0x11, 0, 12)), false, true, "", 0, false},
		{"v2 too long", string(append(append([]byte{}, proxyV2Sig[:]...), 0x21, 0x11, 0xff, 0xff)), false, true, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok, err := parseProxyHeader([]byte(tt.in))
			if ok != tt.ok || (err != nil) != tt.bad {
				t.Fatalf("ok=%v err=%v, want ok=%v bad=%v", ok, err, tt.ok, tt.bad)
			}
			if !ok {
				return
			}
			if h.size != tt.size || h.local != tt.local || (!h.local && h.src.String() != tt.src) {
				t.Errorf("got %+v", h)
			}
		})
	}
}

func TestAcceptProxy(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Binds[0].AcceptProxy = true
	p.Timeouts.Client = 300 * time.Millisecond
	g := startGraph(t, config(p))
	addr := feAddr(t, g, "li")

	t.Run("v1 in two pieces", func(t *testing.T) {
		c := dial(t, addr)
		_, _ = c.Write([]byte("PROXY TCP4 192.0.2.7 "))
		time.Sleep(50 * time.Millisecond)
		_, _ = c.Write([]byte("198.51.100.1 5555 80\r\nhello"))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("got %q, %v", buf, err)
		}
		found := false
		for _, s := range g.Sessions() {
			if s.Source.String() == "192.0.2.7:5555" {
				found = true
			}
		}
		if !found {
			t.Errorf("session source not taken from the header: %+v", g.Sessions())
		}
	})
	t.Run("v2", func(t *testing.T) {
		c := dial(t, addr)
		h := appendProxyV2(nil, netip.MustParseAddrPort("192.0.2.8:6000"), netip.MustParseAddrPort("198.51.100.1:80"))
		_, _ = c.Write(append(h, "v2 data"...))
		buf := make([]byte, 7)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "v2 data" {
			t.Fatalf("got %q, %v", buf, err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		before := g.Frontend("li").Stats().Stot
		c := dial(t, addr)
		_, _ = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		expectClosed(t, c, 2*time.Second)
		// As HAProxy: a connection error, neither a session nor a request.
		if st := g.Frontend("li").Stats(); st.Ereq != 0 || st.Stot != before {
			t.Errorf("bad header counted: ereq %d, stot %d -> %d", st.Ereq, before, st.Stot)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		c := dial(t, addr)
		_, _ = c.Write([]byte("PROXY TCP4"))
		if d := expectClosed(t, c, 2*time.Second); d < 250*time.Millisecond {
			t.Errorf("closed after %v, want about 300ms", d)
		}
	})
}

func TestSendProxy(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		name := "v1"
		if v2 {
			name = "v2"
		}
		t.Run(name, func(t *testing.T) {
			got := make(chan []byte, 1)
			srv := startServer(t, func(c net.Conn) {
				r := bufio.NewReader(c)
				var hdr []byte
				if v2 {
					hdr = make([]byte, 28)
					_, _ = io.ReadFull(r, hdr)
				} else {
					hdr, _ = r.ReadBytes('\n')
				}
				got <- hdr
				_, _ = io.Copy(c, r)
			})
			p := listenProxy(srv.port())
			p.Servers[0].SendProxy = !v2
			p.Servers[0].SendProxyV2 = v2
			g := startGraph(t, config(p))
			c := dial(t, feAddr(t, g, "li"))
			roundTrip(t, c, "payload")
			h := <-got
			src := c.LocalAddr().(*net.TCPAddr)
			dst := c.RemoteAddr().(*net.TCPAddr)
			if !v2 {
				want := "PROXY TCP4 127.0.0.1 127.0.0.1 " + strconv.Itoa(src.Port) + " " + strconv.Itoa(dst.Port) + "\r\n"
				if string(h) != want {
					t.Errorf("header %q, want %q", h, want)
				}
				return
			}
			if !bytes.Equal(h[:12], proxyV2Sig[:]) || h[12] != 0x21 || h[13] != 0x11 ||
				binary.BigEndian.Uint16(h[14:]) != 12 ||
				int(binary.BigEndian.Uint16(h[24:])) != src.Port || int(binary.BigEndian.Uint16(h[26:])) != dst.Port {
				t.Errorf("bad v2 header % x", h)
			}
		})
	}
}

// TestProxyHeaderErrorCodes checks HAProxy's connection error for each
// way a header is refused.
func TestProxyHeaderErrorCodes(t *testing.T) {
	sig := string(proxyV2Sig[:])
	tests := []struct {
		in   string
		want connErr
	}{
		{"GARBAGE\r\n", cerrPrxTrunc},
		{"GET / HTTP/1.0\r\n\r\n", cerrPrxNotHdr},
		{"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", cerrPrxBadProto},
		{"PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n", cerrPrxBadHdr},
		{"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", cerrPrxBadHdr},
		{"PROXY TCP4 " + string(make([]byte, 120)), cerrPrxBadHdr},
		{sig + "\x11\x11\x00\x0c", cerrPrxNotHdr},
		{sig + "\x22\x11\x00\x0c", cerrPrxBadHdr},
	}
	for _, tt := range tests {
		_, ok, err := parseProxyHeader([]byte(tt.in))
		var code proxyHdrErr
		if ok || !errors.As(err, &code) || connErr(code) != tt.want {
			t.Errorf("%q: ok=%v err=%v, want code %d (%s)", tt.in, ok, err, tt.want, tt.want)
		}
	}
}
