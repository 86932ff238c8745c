package parser

import (
	"strings"
	"testing"
)

func TestHTTPInTCPWarnings(t *testing.T) {
	src := `defaults
	mode http
	option httplog
	option forwardfor except 127.0.0.0/8
	option http-server-close
	option checkcache
	timeout http-request 10s
	errorfile 503 /dev/null
	timeout connect 1s
	timeout client 1s
	timeout server 1s
frontend fe
	mode tcp
	bind 127.0.0.1:8000
	log 127.0.0.1 local0
	default_backend be
backend be
	mode tcp
	http-reuse safe
	server s1 127.0.0.1:1
`
	cfg, err := Parse("t.cfg", src, Options{LookupHost: fakeLookup})
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	want := []string{
		"parsing [t.cfg:3] : 'option httplog' not usable with frontend 'fe' (needs 'mode http'). Falling back to 'option tcplog'.",
		"'option forwardfor' ignored for frontend 'fe' as it requires HTTP mode.",
		"'option forwardfor' ignored for backend 'be' as it requires HTTP mode.",
		"'option checkcache' ignored for backend 'be' as it requires HTTP mode.",
	}
	if got := diagText(cfg); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if !cfg.Proxies[0].Options.TCPLog {
		t.Error("option httplog in a TCP frontend must fall back to tcplog")
	}
}

func TestNoEffectGlobals(t *testing.T) {
	src := "global\n\tnode edge-1\n\tdescription front  door\n"
	for _, kw := range NoEffectGlobals() {
		arg := "1"
		switch {
		case kw == "ca-base" || kw == "crt-base":
			arg = "/etc/ssl"
		case kw == "ssl-server-verify":
			arg = "none"
		case strings.HasSuffix(kw, "-options"):
			arg = "ssl-min-ver TLSv1.2 no-tls-tickets"
		case strings.HasPrefix(kw, "ssl-"):
			arg = "ECDHE-RSA-AES128-GCM-SHA256"
		case kw == "tune.ssl.default-dh-param":
			arg = "2048"
		case kw == "tune.idle-pool.shared":
			arg = "off"
		}
		src += "\t" + kw + " " + arg + "\n"
	}
	cfg, err := Parse("t.cfg", src, Options{LookupHost: fakeLookup})
	if err != nil || len(cfg.Diags) != 0 {
		t.Fatalf("err %v, diagnostics:\n%s", err, diagText(cfg))
	}
	if cfg.Global.Node != "edge-1" || cfg.Global.Description != "front door" {
		t.Errorf("node %q description %q", cfg.Global.Node, cfg.Global.Description)
	}
}

func TestCheckWithoutPort(t *testing.T) {
	src := "backend b\n\tserver s1 127.0.0.1 check\n\tserver s2 127.0.0.1 check port 80\nbackend c\n\tserver s1 127.0.0.1 check\n"
	_, err := Parse("t.cfg", src, Options{LookupHost: fakeLookup})
	want := "parsing [t.cfg:2] : config: backend 'b': server 's1' has neither service port nor check port.\n" +
		"parsing [t.cfg:5] : config: backend 'c': server 's1' has neither service port nor check port nor tcp_check rule 'connect' with port information."
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestCrossReferencePositions: the errors HAProxy reports without a line
// after parsing keep its text and name the line of the reference.
func TestCrossReferencePositions(t *testing.T) {
	stats := "listen s\n  mode http\n  bind :80\n  timeout client 1s\n  stats enable\n"
	tests := []struct{ name, src, want string }{
		{"default_backend", "frontend f\n\tbind 127.0.0.1:8000\n\tdefault_backend nope\n",
			"parsing [t.cfg:3] : Proxy 'f': unable to find required default_backend: 'nope'."},
		{"default_backend loop", "listen l\n\tbind 127.0.0.1:8000\n\tdefault_backend l\n",
			"parsing [t.cfg:3] : Proxy 'l': loop detected for default_backend: 'l'."},
		{"use_backend", "frontend f\n\tbind 127.0.0.1:8000\n\tdefault_backend b\n\tuse_backend nope if TRUE\nbackend b\n",
			"parsing [t.cfg:4] : Proxy 'f': unable to find required use_backend: 'nope'."},
		{"group member", "userlist ul\n  user u insecure-password x\n  group g users u9\n",
			"parsing [t.cfg:3] : userlist 'ul': no such user 'u9' specified in group 'g'"},
		{"user group", "userlist ul\n  group g\n  user u insecure-password x groups nog\n",
			"parsing [t.cfg:3] : userlist 'ul': no such group 'nog' specified in user 'u'"},
		{"http_auth_group", "userlist ul\n  user u insecure-password x\n" + stats + "  http-request auth unless { http_auth_group(ul) g }\n",
			"parsing [t.cfg:8] : proxy s: acl  http_auth_group(): invalid group 'g'."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.cfg", tc.src, Options{LookupHost: fakeLookup})
			if err == nil || !strings.Contains("\n"+err.Error()+"\n", "\n"+tc.want+"\n") {
				t.Errorf("err = %v, want a line %q", err, tc.want)
			}
		})
	}
}

func TestUndefinedEnvIsEmpty(t *testing.T) {
	cfg, err := Parse("t.cfg", "global\n\tdescription \"a${GOPROXY_UNDEFINED_VAR}b\"\n", Options{Env: func(string) (string, bool) { return "", false }})
	if err != nil || cfg.Global.Description != "ab" {
		t.Errorf("description %q, err %v", cfg.Global.Description, err)
	}
}
