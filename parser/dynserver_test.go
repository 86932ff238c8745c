package parser

import (
	"strings"
	"testing"
)

// The answers are HAProxy 2.6's to the same "add server" lines (captured
// from haproxy 2.6.12's stats socket).
func TestParseDynamicServer(t *testing.T) {
	cfg, err := Parse("t.cfg", "defaults\n    mode tcp\nbackend be\n    default-server weight 50 check inter 1s maxconn 7\n    server s1 127.0.0.1:9001\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	px := cfg.Proxies[0]
	current := append([]*Server{}, px.Servers...)
	current = append(current, &Server{Pos: DynamicPos, Name: "d1", ServerParams: ServerParams{ID: 2}})
	for _, c := range []struct{ line, want string }{
		{"d2", "'server' expects <name> and <addr>[:<port>] as arguments.\n"},
		{"d+3 127.0.0.1:1", "character '+' is not permitted in server name 'd+3'.\n"},
		{"d2 127.0.0.1:1 cookie x", "'cookie' option is not accepted for dynamic server\n"},
		{"d2 127.0.0.1:1 resolvers x", "'resolvers' option is not accepted for dynamic server\n"},
		{"d2 127.0.0.1:1 init-addr none", "'init-addr' option is not accepted for dynamic server\n"},
		{"d2 127.0.0.1:1 weight 2 no-check", "'no-check' option is not accepted for dynamic server\n"},
		{"d2 127.0.0.1:1 chekc", "unknown keyword 'chekc'; did you mean 'check' maybe ?\n"},
		{"d2 127.0.0.1:1 weight 300", "weight of server d2 is not within 0 and 256 (300)..\n"},
		{"d2 127.0.0.1:1 agent-check", "server d2 does not have agent port. Agent check has been disabled.\n"},
		{"d2 127.0.0.1:1 id 1", "'id' : custom id 1 already used at t.cfg:5 ('server s1').\n"},
		{"d2 127.0.0.1:1 id 2", "'id' : custom id 2 already used at (null):0 ('server d1').\n"},
		{"d2 127.0.0.1:1 id 0", "'id' : custom id has to be > 0.\n"},
		{"d2 127.0.0.1:99999", "invalid port '99999'\n"},
		{"d2 127.0.0.1 check", "config: backend 'be': server 'd2' has neither service port nor check port nor tcp_check rule 'connect' with port information.\n"},
		{"d2 host.invalid:80", "a server added at run time needs an IP address: goproxy does not resolve 'host.invalid' at run time.\n"},
	} {
		_, got := ParseDynamicServer(cfg, px, current, strings.Fields(c.line))
		if got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.line, got, c.want)
		}
	}
	s, msg := ParseDynamicServer(cfg, px, current, strings.Fields("d2 127.0.0.1:80 check agent-check agent-port 81 id 9 maxconn 3"))
	if msg != "" {
		t.Fatal(msg)
	}
	// The backend's default-server is not applied.
	if s.Weight != 1 || s.Inter != DefaultInter || s.MaxConn != 3 || !s.Check || s.ID != 9 || s.Pos != DynamicPos {
		t.Errorf("parsed %+v", s.ServerParams)
	}
}

func FuzzParseDynamicServer(f *testing.F) {
	for _, s := range []string{"d1 127.0.0.1:80 check weight 3", "d1 [::1]:+5 id 4 maxconn 2", "x", "d1 1.2.3.4 cookie",
		"d1 127.0.0.1:1 ssl verify none sni str(x)", "d1 127.0.0.1:1 inter 10s rise 3 fall 2 agent-check agent-port 9"} {
		f.Add(s)
	}
	cfg := &Config{}
	px := &Proxy{Name: "be", Cap: CapBackend}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			return
		}
		s, msg := ParseDynamicServer(cfg, px, nil, strings.Fields(line))
		if (s == nil) == (msg == "") {
			t.Fatalf("%q: server %v with message %q", line, s, msg)
		}
		if msg != "" && !strings.HasSuffix(msg, "\n") {
			t.Fatalf("%q: message %q without its newline", line, msg)
		}
	})
}
