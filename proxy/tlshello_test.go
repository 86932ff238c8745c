package proxy

import (
	"crypto/tls"
	"io"
	"net"
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
		"sni+alpn": {"a.example.com", "h2", 0x030003},
		"tls12":    {"b.example", "", 0x030003},
		"no sni":   {"", "", 0x030003},
	}
	for name, cfg := range helloConfigs() {
		t.Run(name, func(t *testing.T) {
			rec := captureHello(t, cfg)
			h, st := parseClientHello(rec)
			if st != helloOK {
				t.Fatalf("status %d", st)
			}
			w := want[name]
			if string(h.sni) != w.sni || string(h.alpn) != w.alpn || !h.ecExt {
				t.Errorf("sni=%q alpn=%q ec=%v, want %q %q true", h.sni, h.alpn, h.ecExt, w.sni, w.alpn)
			}
			if typ, st := sslHelloType(rec); st != helloOK || typ != 1 {
				t.Errorf("hello type %d (status %d)", typ, st)
			}
			if v, st := sslRequestVersion(rec); st != helloOK || v != w.ver {
				t.Errorf("version %#x (status %d)", v, st)
			}
			// Every proper prefix waits for more bytes.
			for n := 0; n < len(rec); n++ {
				if _, st := parseClientHello(rec[:n]); st != helloShort {
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
		if _, st := parseClientHello(bad); st != helloBad {
			t.Errorf("%q: status %d, want bad", bad, st)
		}
	}
}

// FuzzClientHello feeds the ClientHello parsers arbitrary bytes: they must
// not panic, and what they return must lie within the input.
func FuzzClientHello(f *testing.F) {
	for _, cfg := range helloConfigs() {
		f.Add(captureHello(f, cfg))
	}
	f.Add([]byte{0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, st := parseClientHello(b)
		if st == helloOK {
			for _, s := range [][]byte{h.sni, h.alpn} {
				if len(s) > len(b) {
					t.Fatalf("field of %d bytes from %d", len(s), len(b))
				}
			}
		}
		_, _ = sslHelloType(b)
		_, _ = sslRequestVersion(b)
		c := &connInfo{req: b}
		for _, fn := range []fetchFn{fetchPayloadLV, fetchSSLSNI, fetchSSLALPN, fetchSSLECExt} {
			_, _ = fn(&fetchArgs{off: 1, size: 2, off2Set: true, rel: true, off2: -3}, c)
		}
	})
}
