package tlshello

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// captureHello returns the first TLS record a crypto/tls client sends.
func captureHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		_ = tls.Client(a, cfg).Handshake()
	}()
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

func helloConfigs() map[string]*tls.Config {
	return map[string]*tls.Config{
		"sni+alpn": {ServerName: "a.example.com", NextProtos: []string{"h2", "http/1.1"}},
		"tls12":    {ServerName: "b.example", MaxVersion: tls.VersionTLS12},
		"no sni":   {InsecureSkipVerify: true},
	}
}

func TestParseClientHello(t *testing.T) {
	want := map[string]struct {
		sni, alpn string
		ver       int
	}{
		"sni+alpn": {"a.example.com", "h2,http/1.1", 0x030003},
		"tls12":    {"b.example", "", 0x030003},
		"no sni":   {"", "", 0x030003},
	}
	for name, cfg := range helloConfigs() {
		t.Run(name, func(t *testing.T) {
			rec := captureHello(t, cfg)
			h, st := Parse(rec)
			if st != OK {
				t.Fatalf("status %d", st)
			}
			w := want[name]
			var protos []string
			for rest := h.ALPN; len(rest) > 0; {
				var p []byte
				var ok bool
				if p, rest, ok = NextProtocol(rest); !ok {
					t.Fatalf("bad ALPN list %q", h.ALPN)
				}
				protos = append(protos, string(p))
			}
			if string(h.SNI) != w.sni || strings.Join(protos, ",") != w.alpn || !h.ECExt {
				t.Errorf("sni=%q alpn=%q ec=%v, want %q %q true", h.SNI, protos, h.ECExt, w.sni, w.alpn)
			}
			if typ, st := HandshakeType(rec); st != OK || typ != 1 {
				t.Errorf("hello type %d (status %d)", typ, st)
			}
			if v, st := RequestVersion(rec, BufSize); st != OK || v != w.ver {
				t.Errorf("version %#x (status %d)", v, st)
			}
			// Every proper prefix waits for more bytes.
			for n := 0; n < len(rec); n++ {
				if _, st := Parse(rec[:n]); st != Short {
					t.Fatalf("prefix of %d/%d bytes: status %d, want short", n, len(rec), st)
				}
			}
		})
	}
	for _, bad := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n"),
		{0x16, 0x02, 0x00, 0x00, 0x40},
		{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03},
	} {
		if _, st := Parse(bad); st != Bad {
			t.Errorf("%q: status %d, want bad", bad, st)
		}
	}
}

// FuzzClientHello feeds the ClientHello parsers arbitrary bytes: they must
// not panic, and what they return must lie within the input. Its seeds
// are crypto/tls ClientHellos in testdata/fuzz/FuzzClientHello (TLS 1.3
// with SNI and ALPN, TLS 1.2, no SNI, a long SNI): a TLS handshake in the
// target itself would make every fuzzing worker slow to start.
func FuzzClientHello(f *testing.F) {
	f.Add([]byte{0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, st := Parse(b)
		if st == OK {
			for _, s := range [][]byte{h.SNI, h.ALPN} {
				if len(s) > len(b) {
					t.Fatalf("field of %d bytes from %d", len(s), len(b))
				}
			}
		}
		_, _ = HandshakeType(b)
		_, _ = RequestVersion(b, BufSize)
	})
}
