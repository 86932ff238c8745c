package proxy

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"goproxy/parser"
)

// parseConfig parses configuration text; the test fails on any error.
func parseConfig(t *testing.T, src string) *parser.Config {
	t.Helper()
	cfg, err := parser.Parse("test.cfg", src, parser.Options{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

func TestParsedConfig(t *testing.T) {
	one := startServer(t, func(c net.Conn) { _, _ = c.Write([]byte("one")) })
	two := startServer(t, echo)
	port := deadPort(t)
	cfg := parseConfig(t, fmt.Sprintf(`
global
    maxconn 100

defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    retries 2
    option redispatch

frontend fe
    bind 127.0.0.1:%d name main
    acl local2 src 127.0.0.2
    use_backend be2 if local2
    default_backend be1

backend be1
    server a 127.0.0.1:%d

backend be2
    balance roundrobin
    server dead 127.0.0.1:%d
    server b 127.0.0.1:%d
`, port, one.port(), deadPort(t), two.port()))
	g := startGraph(t, cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := dial(t, addr)
	got, _ := io.ReadAll(c)
	if string(got) != "one" {
		t.Errorf("default backend answered %q", got)
	}
	for i := 0; i < 2; i++ {
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
		c2, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c2.SetDeadline(time.Now().Add(5 * time.Second))
		roundTrip(t, c2, "to be2")
		c2.Close()
	}
	if fe := g.Frontend("fe"); fe.ID == 0 || fe.Listeners[0].Name != "main" || fe.MaxConn() != 100 {
		t.Errorf("frontend id=%d listener=%s maxconn=%d", fe.ID, fe.Listeners[0].Name, fe.MaxConn())
	}
	if st := g.Backend("be1").Stats(); st.Slim != 10 {
		t.Errorf("be1 slim=%d, want 10 (10%% of the frontend's maxconn)", st.Slim)
	}
}
