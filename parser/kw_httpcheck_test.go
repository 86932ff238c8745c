package parser

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const httpCheckDefaults = "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"

func TestHTTPCheckOptionForms(t *testing.T) {
	tests := []struct {
		line string
		want HTTPCheck
	}{
		{"option httpchk", HTTPCheck{}},
		{"option httpchk /health", HTTPCheck{URI: "/health"}},
		{"option httpchk GET /healthz", HTTPCheck{Method: "GET", URI: "/healthz"}},
		{"option httpchk HEAD /v1/sys/health HTTP/1.1", HTTPCheck{Method: "HEAD", URI: "/v1/sys/health", Version: "HTTP/1.1"}},
		{`option httpchk OPTIONS * HTTP/1.1\r\nHost:\ www`, HTTPCheck{Method: "OPTIONS", URI: "*", Version: "HTTP/1.1",
			Headers: []HTTPHeader{{"Host", "www"}}}},
		{`option httpchk POST /x HTTP/1.0\r\nA:\ 1\r\nB:\ 2\r\n\r\nbody`, HTTPCheck{Method: "POST", URI: "/x", Version: "HTTP/1.0",
			Headers: []HTTPHeader{{"A", "1"}, {"B", "2"}}, Body: "body"}},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			cfg, err := parseText(t, httpCheckDefaults+"backend b\n  "+tc.line+"\n  server s 127.0.0.1:80 check\n")
			if err != nil {
				t.Fatalf("%v\n%s", err, diagText(cfg))
			}
			px := cfg.Backend("b")
			if px.CheckKind != CheckHTTP {
				t.Errorf("CheckKind = %d", px.CheckKind)
			}
			if !reflect.DeepEqual(px.HTTPCheck, tc.want) {
				t.Errorf("HTTPCheck = %+v, want %+v", px.HTTPCheck, tc.want)
			}
			hidden := strings.Contains(tc.line, `\r\n`)
			if got := strings.Contains(diagText(cfg), "hiding headers or body at the end of the version string is deprecated"); got != hidden {
				t.Errorf("deprecation warning = %v:\n%s", got, diagText(cfg))
			}
		})
	}
}

func TestHTTPCheckRules(t *testing.T) {
	src := httpCheckDefaults + `backend b
  option httpchk GET /healthz
  http-check disable-on-404
  http-check send-state
  http-check connect port 8443 ssl sni api.local alpn h2,http/1.1 comment tls
  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host api.local hdr User-Agent hc body ping
  http-check expect min-recv 3 comment c ok-status L7OKC error-status L7STS tout-status L6TOUT ! status 500-599,404
  http-check expect hdr name -m beg x-rol value -m sub mast
  http-check comment done
  server s 127.0.0.1:80 check check-ssl verify none check-sni api.local check-alpn h2 sni str(x)
`
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	px := cfg.Backend("b")
	if !px.HTTPCheck.Disable404 || !px.HTTPCheck.SendState {
		t.Errorf("switches: %+v", px.HTTPCheck)
	}
	if len(px.HTTPChecks) != 5 {
		t.Fatalf("%d rules", len(px.HTTPChecks))
	}
	c := px.HTTPChecks[0]
	if c.Kind != "connect" || c.Port != 8443 || !c.SSL || c.SNI != "api.local" || c.ALPN != "h2,http/1.1" || c.Comment != "tls" {
		t.Errorf("connect: %+v", c)
	}
	s := px.HTTPChecks[1]
	if s.Method != "GET" || s.URI != "/healthz" || s.Version != "HTTP/1.1" || !s.HasBody || s.Body != "ping" ||
		!reflect.DeepEqual(s.Headers, []HTTPHeader{{"Host", "api.local"}, {"User-Agent", "hc"}}) {
		t.Errorf("send: %+v", s)
	}
	e := px.HTTPChecks[2]
	if !e.Negate || e.Match != "status" || e.Pattern != "500-599,404" || e.MinRecv != 3 || e.Comment != "c" ||
		e.OKStatus != "L7OKC" || e.ErrorStatus != "L7STS" || e.ToutStatus != "L6TOUT" {
		t.Errorf("expect: %+v", e)
	}
	h := px.HTTPChecks[3]
	if h.Match != "hdr" || h.HdrName != "x-rol" || h.HdrNameMeth != "beg" || !h.HasHdrValue || h.HdrValue != "mast" || h.HdrValueMeth != "sub" {
		t.Errorf("expect hdr: %+v", h)
	}
	sv := px.Servers[0]
	if !sv.CheckSSL || sv.Verify != "none" || sv.CheckSNI != "api.local" || sv.CheckALPN != "h2" || sv.SNI != "str(x)" {
		t.Errorf("server: %+v", sv.ServerParams)
	}
}

func TestHTTPCheckInheritance(t *testing.T) {
	src := `defaults d
  mode tcp
  timeout connect 1s
  timeout client 1s
  timeout server 1s
  option httpchk GET /def
  http-check disable-on-404
  http-check send hdr X-Def 1
backend inherits
  server s 127.0.0.1:80 check
backend own_rules
  http-check send hdr X-Own 2
  server s 127.0.0.1:80 check
backend own_option
  option httpchk HEAD /own
  server s 127.0.0.1:80 check
`
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	in, rules, opt := cfg.Backend("inherits"), cfg.Backend("own_rules"), cfg.Backend("own_option")
	if in.CheckKind != CheckHTTP || in.HTTPCheck.URI != "/def" || len(in.HTTPChecks) != 1 || !in.HTTPCheck.Disable404 {
		t.Errorf("inherits: %+v %d", in.HTTPCheck, len(in.HTTPChecks))
	}
	if len(rules.HTTPChecks) != 1 || rules.HTTPChecks[0].Headers[0].Name != "X-Own" || rules.HTTPCheck.URI != "" || rules.CheckKind != CheckHTTP {
		t.Errorf("own rules: %+v", rules.HTTPChecks)
	}
	if opt.HTTPCheck.Method != "HEAD" || len(opt.HTTPChecks) != 0 || !opt.HTTPCheck.Disable404 {
		t.Errorf("own option: %+v %d", opt.HTTPCheck, len(opt.HTTPChecks))
	}
}

func TestHTTPCheckErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"option httpchk GET / HTTP/1.1 extra", "parsing [t.cfg:7] : 'option httpchk' cannot handle unexpected argument 'extra'."},
		{"no option httpchk", "negation/default is not supported for option 'httpchk'."},
		{"http-check", "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got ''"},
		{"http-check send meth", "'http-check send' : 'meth' expects a string as argument.."},
		{"http-check send hdr X", "'http-check send' : 'hdr' expects <name> and <value> as arguments."},
		{"http-check send foo", "'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got 'foo' as argument.."},
		{"http-check send uri-lf /%[src]", "'uri-lf' is not supported by goproxy"},
		{"http-check expect", "'http-check expect' : expects at least a matching pattern as arguments."},
		{"http-check expect status", "'http-check expect' : 'status' expects a <pattern> as argument."},
		{"http-check expect foo x", "'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got 'foo' as argument.."},
		{"http-check expect status abc", "invalid character 'a' in the list of status codes."},
		{"http-check expect string a string b", "'http-check expect' : only on pattern expected."},
		{"http-check expect hdr value x", "'hdr' expects at the name keyword as first argument followed by a pattern."},
		{"http-check expect hdr name x value", "'hdr' expect a pattern with the value keyword."},
		{"http-check expect min-recv", "'min-recv' expects a integer as argument."},
		{"http-check expect ok-status FOO status 200", "'ok-status' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got 'FOO').."},
		{"http-check expect error-status L7OK status 200", "'error-status' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got 'L7OK').."},
		{"http-check expect tout-status L4OK status 200", "'tout-status' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got 'L4OK').."},
		{"http-check expect status-code", "'status-code' expects an expression as argument."},
		{"http-check connect foo", "'http-check connect' : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got 'foo' as argument.."},
		{"http-check connect port", "'port' expects a port number or a sample expression as argument.."},
		{"http-check connect alpn", "'http-check connect' : 'alpn' : missing the comma-delimited ALPN protocol suite."},
		{"http-check connect proto", "'proto' expects a MUX protocol as argument.."},
		{"http-check comment", "'http-check comment' : expects a string as argument."},
		{"http-check disable-on-404 x", "'http-check' cannot handle unexpected argument 'x'."},
		{"http-check send-state x", "'http-check' cannot handle unexpected argument 'x'."},
		// The order of rules, as haproxy 2.6.12 -c reports it: once
		// option httpchk is on, connect, send and expect alternate, a
		// send merged into option httpchk's request keeps its step.
		{"option httpchk\n  http-check send hdr A 1\n  http-check send hdr B 2", "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule).."},
		{"option httpchk\n  http-check expect status 200\n  http-check send", "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule).."},
		{"option httpchk\n  http-check comment a\n  http-check expect status 200\n  http-check send", "at step 3 (missing connect rule).."},
		{"option httpchk\n  http-check connect\n  http-check send\n  http-check expect status 200\n  http-check send", "at step 3 (missing connect rule).."},
		{"option httpchk\n  http-check comment a\n  http-check comment b\n  http-check send\n  http-check send", "at step 2 (missing connect rule).."},
		{"http-check comment a\n  option httpchk\n  http-check send\n  http-check send", "at step 2 (missing connect rule).."},
		{"option httpchk\n  http-check connect\n  http-check comment a\n  http-check connect", "'http-check connect' : unable to add http-check connect rule at step 3 (missing expect rule).."},
		{"option httpchk\n  http-check connect\n  http-check expect status 200", "'http-check expect' : unable to add http-check expect rule at step 2 (missing send rule).."},
		{"option httpchk\n  http-check send meth HEAD\n  http-check expect status 200\n  http-check connect", "'http-check connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset."},
		{"http-check send\n  http-check connect", "'http-check connect' : first step MUST also be a 'connect'"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			cfg, err := parseText(t, httpCheckDefaults+"backend b\n  "+tc.line+"\n  server s 127.0.0.1:80 check\n")
			if err == nil {
				t.Fatalf("no error\n%s", diagText(cfg))
			}
			if got := diagText(cfg); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", got, tc.want)
			}
		})
	}
}

func TestCheckTLSServerOptions(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ opts, want string }{
		{"check-ssl", "[t.cfg:8] : 'server b/s' : verify is enabled by default but no CA file specified."},
		{"check-ssl verify required", "verify is enabled by default but no CA file specified."},
		{"check-ssl verify", "[t.cfg:8] : 'server b/s' : 'verify' : missing verify method."},
		{"check-ssl verify foo", "'verify' : unknown verify method 'foo', only 'none' and 'required' are supported."},
		{"check-ssl ca-file", "'ca-file' : missing CAfile path."},
		{"check-ssl ca-file /nonexistent/ca.pem", "'server b/s' : Couldn't open the ca-file '/nonexistent/ca.pem' (No such file or directory).\n'ca-file' : unable to load /nonexistent/ca.pem."},
		{"check-sni", "'check-sni' : missing SNI."},
		{"check-alpn", "'check-alpn' : missing the comma-delimited ALPN protocol suite."},
		{"sni", "'sni' : missing sni expression."},
		{"ssl", "[t.cfg:8] : 'server b/s' : verify is enabled by default but no CA file specified."},
		{"check-ssl verify required ca-file " + ca, ""},
		{"check-ssl verify none check-sni a check-alpn h2,http/1.1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.opts, func(t *testing.T) {
			cfg, err := parseText(t, httpCheckDefaults+"backend b\n  option httpchk\n  server s 127.0.0.1:80 check "+tc.opts+"\n")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("%v\n%s", err, diagText(cfg))
				}
				return
			}
			if err == nil {
				t.Fatalf("no error\n%s", diagText(cfg))
			}
			if got := diagText(cfg); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", got, tc.want)
			}
		})
	}
}

func TestConnectSSLNeedsVerifySetting(t *testing.T) {
	cfg, err := parseText(t, httpCheckDefaults+"backend b\n  option httpchk\n  http-check connect ssl\n  server s 127.0.0.1:80 check\n  server s2 127.0.0.1:80 check verify none\n")
	if err == nil {
		t.Fatalf("no error\n%s", diagText(cfg))
	}
	got := diagText(cfg)
	if !strings.Contains(got, "'server b/s' : verify is enabled by default but no CA file specified.") || strings.Contains(got, "b/s2") {
		t.Errorf("diagnostics:\n%s", got)
	}
}

func TestHTTPCheckRulesWithoutOption(t *testing.T) {
	// Without option httpchk, HAProxy does not check the order of the
	// rules (two sends in a row pass), only that a connect comes first.
	cfg, err := parseText(t, httpCheckDefaults+"backend b\n  http-check expect status 200\n  http-check send\n  http-check send\n  server s 127.0.0.1:80 check\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	if want := "backend 'b' uses http-check rules without 'option httpchk', so the rules are ignored."; !strings.Contains(diagText(cfg), want) {
		t.Errorf("diagnostics:\n%s\nwant %q", diagText(cfg), want)
	}
}

// TestHTTPCheckPrefixes parses every prefix of long http-check lines: each
// either parses or fails with a message, never panics.
func TestHTTPCheckPrefixes(t *testing.T) {
	lines := []string{
		"option httpchk OPTIONS /master HTTP/1.1",
		"http-check connect default port 8443 addr 127.0.0.1 send-proxy ssl sni a alpn h2 linger proto h1 comment c",
		"http-check send meth GET uri /x ver HTTP/1.1 hdr Host a hdr X b body c comment d",
		"http-check expect min-recv 3 comment c ok-status L7OK error-status L7RSP tout-status L7TOUT on-success s on-error e ! status 200-299,404",
		"http-check expect ! hdr name -m reg ^x- value -m beg y",
		"http-check expect fhdr name x value -m sub y",
		"http-check expect rstring ^ok$",
	}
	for _, l := range lines {
		w := strings.Fields(l)
		for n := 1; n <= len(w); n++ {
			src := httpCheckDefaults + "backend b\n  option httpchk\n  " + strings.Join(w[:n], " ") + "\n"
			if cfg, err := parseText(t, src); err != nil && len(cfg.Diags) == 0 {
				t.Errorf("%q: error without a diagnostic: %v", strings.Join(w[:n], " "), err)
			}
		}
	}
}
