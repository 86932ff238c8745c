package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// tagged answers with its tag, then echoes what it receives.
func tagged(tag string) func(c net.Conn) {
	return func(c net.Conn) {
		_, _ = c.Write([]byte(tag))
		echo(c)
	}
}

func TestContentInspection(t *testing.T) {
	a, b, other := startServer(t, tagged("A:")), startServer(t, tagged("B:")), startServer(t, tagged("O:"))
	port := deadPort(t)
	cfg := parseConfig(t, fmt.Sprintf(`
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:%d
    tcp-request inspect-delay 400ms
    acl short req.len lt 4
    tcp-request content reject if { req.payload(0,4) -m bin 51554954 }
    tcp-request content accept if { req.len ge 8 } || { req.payload_lv(0,1) -m found }
    tcp-request content reject if short
    use_backend bea if { req.payload(0,3) -m str AAA }
    use_backend beb if { req.payload(1,2),lower -m str bb }
    default_backend beo

backend bea
    server a 127.0.0.1:%d
backend beb
    server b 127.0.0.1:%d
backend beo
    server o 127.0.0.1:%d
`, port, a.port(), b.port(), other.port()))
	g := startGraph(t, cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for _, tc := range []struct {
		name   string
		writes []string
		want   string // tag of the backend; "" = closed without answer
		min    time.Duration
	}{
		{"one write", []string{"AAA-12345"}, "A:", 0},
		{"split writes", []string{"x", "BB", "-", "1234"}, "B:", 0},
		{"length-value block", []string{"\x03", "abc"}, "O:", 0},
		{"reject by content", []string{"QUIT1234"}, "", 0},
		{"delay expires, final", []string{"AAAAA"}, "A:", 350 * time.Millisecond},
		{"delay expires, short", []string{"AA"}, "", 350 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			defer c.Close()
			start := time.Now()
			var sent []byte
			for _, w := range tc.writes {
				if _, err := c.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, w...)
				time.Sleep(20 * time.Millisecond)
			}
			want := ""
			if tc.want != "" {
				want = tc.want + string(sent)
			}
			var got []byte
			if tc.min == 0 || want == "" {
				if tc.min == 0 {
					_ = c.CloseWrite()
				}
				got, _ = io.ReadAll(c)
			} else {
				// Keep the client open: only inspect-delay can decide.
				got = make([]byte, len(want)+1)
				n, _ := io.ReadAtLeast(c, got, len(want))
				got = got[:n]
			}
			if took := time.Since(start); took < tc.min {
				t.Errorf("decided after %v, before inspect-delay", took)
			}
			if string(got) != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	if st := g.Frontend("fe").Stats(); st.Dreq != 2 {
		t.Errorf("dreq=%d, want 2", st.Dreq)
	}
}

// TestContentInspectionLargeFirstBytes checks that bytes beyond the
// inspection window reach the server intact and in order.
func TestContentInspectionLargeFirstBytes(t *testing.T) {
	a := startServer(t, tagged("A:"))
	port := deadPort(t)
	cfg := parseConfig(t, fmt.Sprintf(`
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen li
    bind 127.0.0.1:%d
    tcp-request inspect-delay 2s
    tcp-request content accept if { req.len gt 100000 }
    server a 127.0.0.1:%d
`, port, a.port()))
	startGraph(t, cfg)
	c := dial(t, fmt.Sprintf("127.0.0.1:%d", port))
	defer c.Close()
	msg := bytes.Repeat([]byte("0123456789abcdef"), 8192) // 128 KiB
	go func() {
		_, _ = c.Write(msg)
		_ = c.CloseWrite()
	}()
	start := time.Now()
	got, _ := io.ReadAll(c)
	if !bytes.Equal(got, append([]byte("A:"), msg...)) {
		t.Errorf("got %d bytes, want %d", len(got), len(msg)+2)
	}
	// A full buffer makes the rules final at once.
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("took %v: waited for inspect-delay with a full buffer", took)
	}
}

// TestBackendContentInspection: a backend's own content rules wait for the
// client's bytes with the backend's inspect-delay.
func TestBackendContentInspection(t *testing.T) {
	a := startServer(t, tagged("A:"))
	port := deadPort(t)
	cfg := parseConfig(t, fmt.Sprintf(`
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:%d
    default_backend be

backend be
    tcp-request inspect-delay 2s
    tcp-request content reject if { req.payload(0,3) -m str BAD }
    tcp-request content accept if { req.len ge 3 }
    tcp-request content reject
    server a 127.0.0.1:%d
`, port, a.port()))
	g := startGraph(t, cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for _, tc := range []struct {
		writes []string
		want   string
	}{
		{[]string{"G", "OOD"}, "A:GOOD"},
		{[]string{"B", "AD"}, ""},
	} {
		c := dial(t, addr)
		for _, w := range tc.writes {
			_, _ = c.Write([]byte(w))
			time.Sleep(30 * time.Millisecond)
		}
		_ = c.CloseWrite()
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != tc.want {
			t.Errorf("%q: got %q, want %q", tc.writes, got, tc.want)
		}
	}
	if st := g.Frontend("fe").Stats(); st.Dreq != 1 {
		t.Errorf("frontend dreq=%d, want 1", st.Dreq)
	}
}
