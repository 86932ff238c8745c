package parser

import (
	"strings"
	"testing"
	"time"
)

const statsCfg = `defaults
    timeout client 5s
    timeout server 5s
    timeout connect 1s
userlist admins
    group ops users alice
    user alice password $6$xx$jvXijrWq9QrPovHWdQFibuAMXQsiCgkv7/U4gTVEfgj6pNQiL8wDcCiJQLTNN3dDpbTaXiiG2ybljEj2OiIen.
    user bob insecure-password secret groups ops
listen stats
    mode http
    bind 127.0.0.1:8404
    stats enable
    stats uri /st
    stats realm My\ Stats
    stats auth a:b
    stats auth c:d
    stats refresh 5s
    stats hide-version
    stats show-legends
    stats show-modules
    stats show-node edge-1
    stats show-desc primary load balancer
    stats admin if LOCALHOST
    stats scope app
    stats http-request deny if { src 10.0.0.0/8 }
    http-request auth realm R unless { http_auth(admins) }
    http-request use-service prometheus-exporter if { path /metrics }
listen app
    bind 127.0.0.1:8500
    server s1 127.0.0.1:9000
`

func TestStatsKeywords(t *testing.T) {
	cfg, err := parseText(t, statsCfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	px := cfg.Proxies[0]
	st := px.Stats
	if st == nil || !px.ServesHTTP() || cfg.Proxies[1].ServesHTTP() {
		t.Fatalf("stats page not parsed: %+v", px)
	}
	if st.URI != "/st" || st.Realm != "My Stats" || st.Refresh != 5*time.Second || !st.HideVersion ||
		!st.ShowLegends || !st.ShowModules || !st.ShowNode || st.Node != "edge-1" || !st.ShowDesc || st.Desc != "primary load balancer" {
		t.Errorf("settings: %+v", st)
	}
	if len(st.Users) != 2 || st.Users[1] != (StatsUser{"c", "d"}) {
		t.Errorf("users: %+v", st.Users)
	}
	if st.Admin == nil || st.Admin.Unless || st.Admin.Terms[0][0].ACL != "LOCALHOST" {
		t.Errorf("admin: %+v", st.Admin)
	}
	if len(st.Scope) != 1 || st.Scope[0] != "app" {
		t.Errorf("scope: %v", st.Scope)
	}
	if len(st.Rules) != 1 || st.Rules[0].Action != "deny" || st.Rules[0].Status != 403 || st.Rules[0].Cond.Terms[0][0].Anon.Criterion != "src" {
		t.Errorf("stats rules: %+v", st.Rules)
	}
	if len(px.HTTPRules) != 1 || px.HTTPRules[0].Action != "auth" || px.HTTPRules[0].Realm != "R" {
		t.Fatalf("http rules: %+v", px.HTTPRules)
	}
	a := px.HTTPRules[0].Cond.Terms[0][0].Anon
	if !px.HTTPRules[0].Cond.Unless || a.Criterion != "http_auth" || a.Arg != "admins" {
		t.Errorf("auth condition: %+v", a)
	}
	if !px.PromExporter || px.PromPath != "/metrics" {
		t.Errorf("exporter: %v %q", px.PromExporter, px.PromPath)
	}
	ul := cfg.Userlist("admins")
	if ul == nil || len(ul.Users) != 2 || ul.Users[1].Password != "secret" || !ul.Users[1].Insecure || ul.Users[0].Insecure {
		t.Fatalf("userlist: %+v", ul)
	}
	if !ul.InGroup("alice", "ops") || !ul.InGroup("bob", "ops") || ul.InGroup("carol", "ops") {
		t.Error("groups")
	}
}

func TestStatsDefaults(t *testing.T) {
	cfg, err := parseText(t, "defaults\n  mode http\n  timeout client 1s\n  stats enable\n  stats auth a:b\nlisten s1\n  bind :8404\n  stats uri /x\nlisten s2\n  bind :8405\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	s1, s2 := cfg.Proxies[0].Stats, cfg.Proxies[1].Stats
	if s1 == nil || s2 == nil || s1.URI != "/x" || s2.URI != "" || len(s1.Users) != 1 || len(s2.Users) != 1 {
		t.Fatalf("inherited: %+v %+v", s1, s2)
	}
}

func TestStatsInTCPProxyIgnored(t *testing.T) {
	src := "defaults\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n" +
		"listen l\n  mode tcp\n  bind :8404\n  stats enable\n  stats uri /st\n  stats admin if TRUE\n" +
		"  http-request auth unless { http_auth(ul) }\n  server s1 127.0.0.1:1\n"
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	got := diagText(cfg)
	for _, want := range []string{
		"'stats' statement ignored for proxy 'l' as it requires HTTP mode.",
		"'http-request' rules ignored for proxy 'l' as they require HTTP mode.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diagnostics:\n%s\nwant %q", got, want)
		}
	}
	if cfg.Proxies[0].ServesHTTP() {
		t.Error("a TCP proxy must not serve the page")
	}
}

func TestStatsErrors(t *testing.T) {
	base := "listen s\n  mode http\n  bind :8404\n  timeout client 1s\n"
	tests := []struct{ name, src, want string }{
		{"admin without condition", base + "  stats enable\n  stats admin\n", "'stats admin' requires either 'if' or 'unless' followed by a condition."},
		{"admin bad word", base + "  stats admin xx TRUE\n", "'stats admin' requires either 'if' or 'unless' followed by a condition."},
		{"admin unknown acl", base + "  stats admin if nope\n", "no such ACL : 'nope'"},
		{"bad refresh", base + "  stats refresh x\n", "unexpected character 'x' in argument to stats refresh interval."},
		{"unknown parameter", base + "  stats foo\n", "unknown stats parameter 'foo', expects 'admin', 'uri'"},
		{"scope", base + "  stats scope\n", "'scope' needs a proxy name."},
		{"realm", base + "  stats realm\n", "'realm' needs an realm name."},
		{"uri", base + "  stats uri\n", "'uri' needs an URI prefix."},
		{"auth", base + "  stats auth nocolon\n", "'auth' needs a user:password account."},
		{"stats rule", base + "  stats http-request bogus\n", "'stats http-request bogus' is not supported by goproxy"},
		{"no userlist", base + "  stats enable\n  http-request auth unless { http_auth(nope) }\n", "unable to find userlist 'nope' referenced in arg 1 of ACL keyword 'http_auth' in proxy 's'."},
		{"bad group", "userlist ul\n  user u password x\n" + base + "  stats enable\n  http-request auth unless { http_auth_group(ul) g }\n", "invalid group 'g'"},
		{"servers in HTTP listen", base + "  stats enable\n  server s1 127.0.0.1:1\n", "goproxy does not forward HTTP requests to backends"},
		{"HTTP listen without page", base, "'mode http' is not supported by goproxy in proxy 's'"},
		{"http fetch in TCP", "frontend f\n  bind :80\n  tcp-request connection reject if { http_auth(ul) }\n", "not supported by goproxy"},
		{"userlist unknown keyword", "userlist ul\n  foo bar\n", "parsing [t.cfg:2]: unknown keyword 'foo' in 'users' section"},
		{"userlist group user", "userlist ul\n  group g users u9\n", "userlist 'ul': no such user 'u9' specified in group 'g'"},
		{"userlist user group", "userlist ul\n  user u insecure-password x groups nog\n", "userlist 'ul': no such group 'nog' specified in user 'u'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseText(t, tc.src)
			if err == nil {
				t.Fatalf("no error for %q\n%s", tc.src, diagText(cfg))
			}
			if got := diagText(cfg); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", got, tc.want)
			}
		})
	}
}

func TestUserlistDuplicateWarns(t *testing.T) {
	cfg, err := parseText(t, "userlist ul\n  user u insecure-password x\n  user u insecure-password y\nlisten s\n  mode http\n  bind :8404\n  timeout client 1s\n  stats enable\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	if got := diagText(cfg); !strings.Contains(got, "parsing [t.cfg:3]: ignoring duplicated user 'u' in userlist 'ul'.") {
		t.Errorf("diagnostics:\n%s", got)
	}
	if u := cfg.Userlist("ul"); len(u.Users) != 1 || u.Users[0].Password != "x" {
		t.Errorf("users: %+v", u.Users)
	}
}
