package health

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// TestParsedConfig runs checks built from configuration text through the
// real parser: rule indexes (comments count), expect patterns and the
// server check settings must come out as HAProxy numbers them.
func TestParsedConfig(t *testing.T) {
	silent := serve(t, func(c net.Conn) { c.Read(make([]byte, 64)); c.Write([]byte("nope")) })
	src := strings.NewReplacer("PORT", strconv.Itoa(silent)).Replace(`
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 300ms

backend cmpp
    option tcp-check
    tcp-check comment "heartbeat"
    tcp-check send-binary 0000000c0000000800000001
    tcp-check expect min-recv 4 binary 0000000D80000008
    server s1 127.0.0.1:PORT check inter 1s rise 2 fall 3
`)
	cfg, err := parser.Parse("t.cfg", src, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	px := cfg.Backend("cmpp")
	if px == nil || len(px.Servers) != 1 {
		t.Fatalf("backend not parsed: %+v", px)
	}
	srv := px.Servers[0]
	rs, err := rulesetFor(px)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := healthSpec(px, rs, srv.Addr, srv.ServerParams)
	if err != nil {
		t.Fatal(err)
	}
	if spec.inter != time.Second || spec.tCheck != 300*time.Millisecond {
		t.Fatalf("spec inter %v check %v", spec.inter, spec.tCheck)
	}
	o, ok := execute(t.Context(), spec)
	if !ok {
		t.Fatal("aborted")
	}
	// The comment line takes index 0 and labels the send only: HAProxy
	// drops a comment when the action changes (check_proxy_tcpcheck).
	want := "TCPCHK did not match content (binary) at step 3"
	if o.status != srvstate.CheckL7Rsp || o.desc != want {
		t.Fatalf("got %d %q, want L7RSP %q", o.status, o.desc, want)
	}
}
