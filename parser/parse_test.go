package parser

import (
	"strings"
	"testing"
	"time"
)

// parseText parses a configuration given as text, with no environment.
func parseText(t *testing.T, src string) (*Config, error) {
	t.Helper()
	return Parse("t.cfg", src, Options{Env: testEnv(map[string]string{"PORT": "8080", "HOSTS": "a b"}), LookupHost: fakeLookup})
}

func diagText(cfg *Config) string {
	var b strings.Builder
	for _, d := range cfg.Diags {
		b.WriteString(d.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

const seedConfig = `global
    log 127.0.0.1 local2
    maxconn 50000
    daemon
    stats socket /var/run/haproxy.sock mode 600 level admin
    stats timeout 2m

defaults
    mode tcp
    log global
    option dontlognull
    timeout connect 5000ms
    timeout client 3600000ms # 1小时
    timeout server 3600000ms
    timeout check 5000ms
    maxconn 50000

frontend persistent_connection_frontend
    bind *:9999
    default_backend persistent_connection_backend

backend persistent_connection_backend
    balance source
    option tcp-check
    server server1 127.0.0.1:9315 check inter 5s fall 3 rise 2 weight 1
    server server2 127.0.0.1:9316 check inter 5s fall 3 rise 2 weight 1
    server server3 127.0.0.1:9317 check inter 5s fall 3 rise 2 weight 1
`

func TestSeedModel(t *testing.T) {
	cfg, err := parseText(t, seedConfig)
	if err != nil {
		t.Fatalf("seed config rejected: %v\n%s", err, diagText(cfg))
	}
	g := cfg.Global
	if g.MaxConn != 50000 || !g.Daemon || g.StatsTimeout != 2*time.Minute || len(g.Logs) != 1 {
		t.Errorf("global = %+v", g)
	}
	if l := g.Logs[0]; l.Addr.Host != "127.0.0.1" || l.Addr.Port != 514 || l.Facility != 18 || l.Level != 7 {
		t.Errorf("log target = %+v", l)
	}
	if len(g.StatsSockets) != 1 || g.StatsSockets[0].Addr.Path != "/var/run/haproxy.sock" || g.StatsSockets[0].Mode != 0600 || g.StatsSockets[0].Level != "admin" {
		t.Errorf("stats socket = %+v", g.StatsSockets)
	}
	if len(cfg.Proxies) != 2 {
		t.Fatalf("proxies = %d", len(cfg.Proxies))
	}
	fe, be := cfg.Proxies[0], cfg.Proxies[1]
	if fe.ID != 2 || be.ID != 3 {
		t.Errorf("iids = %d, %d; want 2, 3 (the stats socket's GLOBAL proxy takes 1)", fe.ID, be.ID)
	}
	if fe.MaxConn != 50000 || fe.Timeouts.Client != time.Hour || !fe.Options.DontLogNull || !fe.LogGlobal {
		t.Errorf("frontend did not inherit defaults: %+v", fe)
	}
	if len(fe.Binds) != 1 || fe.Binds[0].Addr.Port != 9999 || fe.Binds[0].Addr.Host != "" || fe.Binds[0].Addr.Family != FamilyTCP4 {
		t.Errorf("bind = %+v", fe.Binds[0])
	}
	if fe.DefaultBackend != "persistent_connection_backend" {
		t.Errorf("default_backend = %q", fe.DefaultBackend)
	}
	if be.Balance.Algo != "source" || be.CheckKind != CheckTCP || be.Timeouts.Connect != 5*time.Second || be.Timeouts.Check != 5*time.Second {
		t.Errorf("backend = %+v", be)
	}
	for i, s := range be.Servers {
		if s.ID != i+1 || !s.Check || s.Inter != 5*time.Second || s.Fall != 3 || s.Rise != 2 || s.Weight != 1 || s.Addr.Port != 9315+i {
			t.Errorf("server %d = %+v", i, s)
		}
	}
	if cfg.Listeners() != 1 {
		t.Errorf("listeners = %d", cfg.Listeners())
	}
}

func TestKeywordErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // substring of the rendered diagnostics
	}{
		{"out of section", "maxconn 5\n", "parsing [t.cfg:1]: unknown keyword 'maxconn' out of section."},
		{"unknown global keyword", "global\n  maxcon 5\n", "parsing [t.cfg:2] : unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?"},
		{"global maxconn missing", "global\n  maxconn\n", "'maxconn' expects an integer argument."},
		{"too many args", "global\n  daemon 1\n", "'daemon' cannot handle unexpected argument '1'."},
		{"nbthread range", "global\n  nbthread 0\n", "'nbthread' value must be between 1 and 64 (was 0)"},
		{"stats socket relative path", "global\n  stats socket ./x.sock\n", "'stats socket' : missing port specification in './x.sock'"},
		{"stats socket level", "global\n  stats socket /tmp/a.sock level foo\n", "''level' only supports 'user', 'operator', and 'admin' (got 'foo')'"},
		{"stats socket severity-output", "global\n  stats socket /tmp/a.sock severity-output foo\n", "'stats socket' : ''severity-output' only supports 'none', 'number', and 'string' (got 'foo')'"},
		{"stats socket severity-output missing", "global\n  stats socket /tmp/a.sock severity-output\n", "'stats socket' : ''severity-output' : missing severity format'"},
		{"stats socket bad fd", "global\n  stats socket fd@99 level admin\n", "parsing [t.cfg:2] : 'stats socket' : cannot use file descriptor '99' : Bad file descriptor."},
		{"stats keyword", "global\n  stats bogus\n", "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got 'bogus')"},
		{"log facility", "global\n  log 127.0.0.1 local9\n", "log : unknown log facility 'local9'"},
		{"log level", "global\n  log 127.0.0.1 local2 debugx\n", "log : unknown optional log level 'debugx'"},
		{"spread-checks", "global\n  spread-checks 60\n", "parsing [t.cfg:2]: 'spread-checks' needs a positive value in range 0..50."},
		{"unsupported global", "global\n  lua-load /x.lua\n", "'lua-load' is not supported by goproxy (Lua is not implemented)."},
		{"negation not allowed", "global\n  no maxconn\n", "negation/default currently supported only for options"},
		{"proxy without name", "frontend\n", "'frontend' expects an <id> argument"},
		{"bad proxy name", "backend a/b\n", "character '/' is not permitted in 'backend' name 'a/b'."},
		{"duplicate proxy", "backend a\nbackend a\n", "Parsing [t.cfg:2]: backend 'a' has the same name as backend 'a' declared at t.cfg:1."},
		{"mode udp", "backend b\n  mode udp\n", "unknown proxy mode 'udp'."},
		{"mode http rejected", "backend b\n  mode http\n", "'mode http' is not supported by goproxy"},
		{"http frontend without exporter", "frontend f\n  mode http\n  bind :80\n  timeout client 1s\n", "'mode http' is not supported by goproxy in frontend 'f'"},
		{"exporter without mode http", "frontend f\n  bind :80\n  timeout client 1s\n  http-request use-service prometheus-exporter\n", "needs 'mode http'"},
		{"other http rule", "frontend f\n  mode http\n  http-request use-service prometheus-exporter\n  http-request deny\n", "and no other HTTP rule in an HTTP frontend"},
		{"unknown http action", "frontend f\n  http-request bogus\n", "'http-request bogus' is not supported by goproxy: unknown action"},
		{"http rule in anonymous defaults", "defaults\n  http-request deny\n", "'http-request' not allowed in anonymous 'defaults' section."},
		{"mode http inherited", "defaults\n  mode http\nbackend b\n", "'mode http' is not supported by goproxy in backend 'b' (inherited from the defaults section, set at t.cfg:2;"},
		{"errorfile missing", "defaults\n  errorfile 503 /nonexistent/503.http\n", "errorfile : error opening file '/nonexistent/503.http'."},
		{"errorfile code", "defaults\n  errorfile 999 /dev/null\n", "errorfile : status code '999' not handled."},
		{"http-reuse", "backend b\n  http-reuse sometimes\n", "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'."},
		{"compression", "backend b\n  compression algo lzma\n", "'compression' : 'lzma' is not a supported algorithm."},
		{"forwardfor args", "backend b\n  option forwardfor bogus\n", "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'."},
		{"forwardfor negated", "backend b\n  no option forwardfor\n", "negation/default is not supported for option 'forwardfor'."},
		{"rules defaults for both", "defaults d\n  tcp-request content accept\nfrontend f from d\nbackend b from d\n", "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at t.cfg:1)."},
		{"unsupported http rule", "frontend f\n  mode http\n  stats enable\n  http-request set-header X y\n", "'http-request set-header' is not supported by goproxy"},
		{"exporter condition", "frontend f\n  mode http\n  http-request use-service prometheus-exporter if { hdr(host) x }\n", "only supports no condition or 'if { path <path> }'"},
		{"exporter with backend", "frontend f\n  mode http\n  bind :80\n  timeout client 1s\n  http-request use-service prometheus-exporter\n  default_backend b\nbackend b\n", "goproxy does not forward HTTP requests to backends"},
		{"balance", "backend b\n  balance foo\n", "balance only supports 'roundrobin'"},
		{"balance random draws", "backend b\n  balance random(x)\n", "balance random : unexpected character 'x' after argument."},
		{"hash-type", "backend b\n  hash-type foo\n", "'hash-type' only supports 'consistent' and 'map-based'."},
		{"hash function", "backend b\n  hash-type consistent foo\n", "only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions."},
		{"timeout name", "backend b\n  timeout foo 1s\n", "'timeout' supports 'client', 'server', 'connect'"},
		{"timeout empty", "backend b\n  timeout connect\n", "'timeout connect' expects an integer value (in milliseconds)"},
		{"timeout unit", "backend b\n  timeout connect 1x\n", "unexpected character 'x' in 'timeout connect'"},
		{"timeout overflow", "backend b\n  timeout connect 25d\n", "timer overflow in argument '25d' to 'timeout connect' (maximum value is 2147483647 ms or ~24.8 days)"},
		{"retries", "backend b\n  retries\n", "'retries' expects an integer argument (dispatch counts for one)."},
		{"option name", "backend b\n  option\n", "parsing [t.cfg:2]: 'option' expects an option name."},
		{"unknown option", "backend b\n  option tcp-chek\n", "unknown option 'tcp-chek'; did you mean 'tcp-check' maybe ?"},
		{"option extra arg", "backend b\n  option tcpka x\n", "'option tcpka' cannot handle unexpected argument 'x'."},
		{"no option not negatable", "backend b\n  no option tcplog\n", "negation/default is not supported for option 'tcplog'."},
		{"bind in defaults", "defaults\n  bind :80\n", "'bind' not allowed in 'defaults' section."},
		{"bind port", "frontend f\n  bind *:99999\n", "'bind' : invalid port '99999'"},
		{"bind port zero", "frontend f\n  bind *:0\n", "'bind' : invalid port '0'"},
		{"bind port chars", "frontend f\n  bind *:abc\n", "'bind' : invalid character 'a' in port number 'abc' in '*:abc'"},
		{"bind no port", "frontend f\n  bind 1.2.3.4\n", "'bind' : missing port specification in '1.2.3.4'"},
		{"bind range", "frontend f\n  bind *:80-70\n", "'bind' : invalid port range '80-70'"},
		{"bind udp", "frontend f\n  bind udp@1.2.3.4:88\n", "'bind' : dgram-type address not acceptable in 'udp@1.2.3.4:88'"},
		{"bind option", "frontend f\n  bind *:85 bogus\n", "'bind *:85' in section 'frontend': unknown keyword 'bogus'."},
		{"bind option value", "frontend f\n  bind *:86 backlog\n", "'bind *:86' in section 'frontend' : 'backlog' : missing value"},
		{"bind ssl", "frontend f\n  bind *:443 ssl crt /x.pem\n", "unable to stat SSL certificate from file '/x.pem' : No such file or directory."},
		{"bind unix too long", "frontend f\n  bind unix@/" + strings.Repeat("a", 97) + "\n", "'bind' : socket path 'unix@/" + strings.Repeat("a", 97) + "' too long (max 97)"},
		{"bind abns too long", "frontend f\n  bind abns@" + strings.Repeat("a", 108) + "\n", "too long (max 107)"},
		{"bind unix mode", "frontend f\n  bind /tmp/x.sock mode 8\n", "'bind /tmp/x.sock' in section 'frontend' : 'mode' : missing or invalid mode '8' (octal integer expected)"},
		{"bind unix user", "frontend f\n  bind /tmp/x.sock user no-such-user-here\n", "'user' : unknown user name 'no-such-user-here'"},
		{"bind unix uid", "frontend f\n  bind /tmp/x.sock uid\n", "'uid' : missing value"},
		{"bind env empty", "frontend f\n  bind ${GOPROXY_NO_SUCH_VAR}\n", "'bind' : '${GOPROXY_NO_SUCH_VAR}' resolves to an empty address (environment variable missing?)"},
		{"bind too many", "frontend f\n  bind " + strings.TrimSuffix(strings.Repeat(":1-65535,", 3), ",") + "\n", "goproxy's limit is 65536 listeners"},
		{"binds too many", "frontend f\n  bind :1-65535\n  bind :1-100\n", "too many listening addresses in the configuration"},
		{"bind tfo", "frontend f\n  bind :80 tfo\n", "'tfo' is not supported by goproxy"},
		{"server unix too long", "backend b\n  server s /" + strings.Repeat("a", 97) + "\n", "'server b/s' : socket path '/" + strings.Repeat("a", 97) + "' too long (max 97)"},
		{"server minconn", "backend b\n  server s 127.0.0.1:1 minconn 5\n", "'minconn' is not supported by goproxy"},
		{"server args", "backend b\n  server s1\n", "[t.cfg:2] : 'server' expects <name> and <addr>[:<port>] as arguments."},
		{"server port", "backend b\n  server s1 127.0.0.1:abc\n", "[t.cfg:2] : 'server b/s1' : invalid character 'a' in port number 'abc' in '127.0.0.1:abc'"},
		{"server keyword", "backend b\n  server s1 127.0.0.1:80 bogus\n", "'server b/s1' : unknown keyword 'bogus'."},
		{"server weight", "backend b\n  server s1 127.0.0.1:80 weight -1\n", "weight of server s1 is not within 0 and 256 (-1).."},
		{"server inter zero", "backend b\n  server s1 127.0.0.1:80 inter 0\n", "invalid value 0 for argument 'inter' of server s1.."},
		{"server inter empty", "backend b\n  server s1 127.0.0.1:80 inter\n", "'inter' expects a delay as argument.."},
		{"server inter unit", "backend b\n  server s1 127.0.0.1:80 check inter 1.5s\n", "unexpected character '.' in 'agent-inter' argument of server s1.."},
		{"server rise", "backend b\n  server s1 127.0.0.1:80 rise 0\n", "'rise' has to be > 0.."},
		{"server slowstart", "backend b\n  server s1 127.0.0.1:80 slowstart 1x\n", "unexpected character 'x' in 'slowstart' argument of server s1.."},
		{"on-marked-down", "backend b\n  server s1 127.0.0.1:80 on-marked-down foo\n", "'on-marked-down' expects 'shutdown-sessions' but got 'foo'."},
		{"server id", "backend b\n  server s1 127.0.0.1:80 id 0\n", "'id' : custom id has to be > 0."},
		{"agent port", "backend b\n  server s1 127.0.0.1:80 agent-check\n", "server s1 does not have agent port. Agent check has been disabled."},
		{"init-addr", "backend b\n  server s1 127.0.0.1:80 init-addr foo\n", "unknown init-addr method 'foo', supported methods are 'libc', 'last', 'none'.."},
		{"server ssl", "backend b\n  server s1 127.0.0.1:80 ssl\n", "'server b/s1' : verify is enabled by default but no CA file specified."},
		{"acl fetch", "frontend f\n  acl a foo 1\n", "error detected while parsing ACL 'a' : unknown fetch method 'foo' in ACL expression 'foo'."},
		{"acl ip", "frontend f\n  acl a src 1.2.3.999\n", "error detected while parsing ACL 'a' : '1.2.3.999' is not a valid IPv4 or IPv6 address."},
		{"acl port", "frontend f\n  acl a src_port x\n", "error detected while parsing ACL 'a' : 'x' is not a number."},
		{"acl http fetch", "frontend f\n  acl a path /x\n", "fetch method 'path' is not supported by goproxy"},
		{"use_backend keyword", "frontend f\n  use_backend x foo\n", "unexpected keyword 'foo' after switching rule, only 'if' and 'unless' are allowed."},
		{"use_backend acl", "frontend f\n  use_backend x if a\n", "error detected while parsing switching rule : no such ACL : 'a'"},
		{"tcp-request acl", "frontend f\n  tcp-request connection reject if foo\n", "'tcp-request connection reject' : error detected in frontend 'f' while parsing 'if' condition : no such ACL : 'foo'"},
		{"tcp-request connection in backend", "backend b\n  tcp-request connection accept\n", "tcp-request connection is not allowed because backend b is not a frontend"},
		{"tcp-request action", "frontend f\n  tcp-request connection sc-inc-gpc(0,1)\n", "'tcp-request connection sc-inc-gpc(0,1)' is not supported by goproxy"},
		{"track-sc without table", "frontend f\n  tcp-request connection track-sc0 src\n", "Proxy 'f': unable to find table 'f' referenced by track-sc0."},
		{"tcp-check kind", "backend b\n  tcp-check foo\n", "'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect'"},
		{"tcp-check send", "backend b\n  tcp-check send\n", "'tcp-check send' : 'string' expects a send as argument."},
		{"tcp-check expect", "backend b\n  tcp-check expect\n", "'tcp-check expect' : expects at least a matching pattern as arguments."},
		{"tcp-check expect kind", "backend b\n  tcp-check expect foo x\n", "but got 'foo' as argument.."},
		{"tcp-check hex", "backend b\n  tcp-check send-binary zz\n", "'zz' invalid binary string (an hex digit is expected (found 'z'))."},
		{"tcp-check odd hex", "backend b\n  tcp-check expect binary 0\n", "invalid binary string (an even number of hex digit is expected)."},
		{"tcp-check regex", "backend b\n  tcp-check expect rstring (\n", "regex '(' is invalid"},
		{"tcp-check log-format", "backend b\n  tcp-check expect string OK on-error \"%[check.desc]\"\n", "'on-error' : log-format expressions are not supported by goproxy"},
		{"tcp-check port", "backend b\n  tcp-check connect port\n", "'port' expects a port number or a sample expression as argument.."},
		{"tcp-check connect not first", "backend b\n  option tcp-check\n  tcp-check comment c\n  tcp-check send x\n  tcp-check connect\n", "'tcp-check connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset."},
		{"unsupported section", "mailers m\n  mailer a 1.2.3.4:1\n", "'mailers' section is not supported by goproxy"},
		{"unsupported proxy keyword", "backend b\n  persist rdp-cookie\n", "'persist' is not supported by goproxy (RDP cookie persistence is not implemented)."},
		{"stick-table peers", "backend b\n  stick-table type ip size 1m peers p\n", "Proxy 'b': unable to find sync peers 'p'."},
		{"peers table peers", "peers p\n  table t type ip size 1 peers p\n", "table: unknown argument 'peers'."},
		{"peer and bind", "peers p\n  peer a 1.2.3.4:1\n  bind :1\n", "mixing \"peer\" and \"bind\" line is forbidden"},
		{"peers unknown", "peers p\n  peeer a 1.2.3.4:1\n", "unknown keyword 'peeer' in 'peers' section"},
		{"localpeer empty", "global\n  localpeer\n", "'localpeer' expects a name as an argument."},
		{"unknown proxy keyword", "backend b\n  srvr s 1.2.3.4:5\n", "unknown keyword 'srvr' in 'backend' section; did you mean 'server' maybe ?"},
		{"missing default backend", "frontend f\n  bind :80\n  timeout client 1s\n  default_backend nope\n", "Proxy 'f': unable to find required default_backend: 'nope'."},
		{"missing use_backend", "frontend f\n  bind :80\n  timeout client 1s\n  use_backend nope if { src 1.2.3.4 }\n", "Proxy 'f': unable to find required use_backend: 'nope'."},
		{"duplicate server", "backend b\n  server s 127.0.0.1:1\n  server s 127.0.0.1:2\n", "parsing [t.cfg:3] : backend 'b', another server named 's' was already defined at line 2, please use distinct names."},
		{"unterminated if", "global\n.if 1\n", "parsing [t.cfg:2]: non-terminated '.if' block."},
		{"lone endif", "global\n.endif\n", "parsing [t.cfg:2]: lone '.endif' with no matching '.if'."},
		{"elif after else", ".if 0\n.else\n.elif 1\n.endif\n", "'.elif' after '.else' is not permitted."},
		{"bad condition", ".if foo\n.endif\n", "unparsable conditional expression 'foo' in '.if' at position 1:\n  .if foo\n      ^"},
		{"alert directive", ".alert \"stop here\"\n", "parsing [t.cfg:1]: 'stop here'."},
		{"message args", ".notice a b\n", "Unexpected argument 'b' for '.notice'. Use quotes if the message should contain spaces."},
		{"unknown directive", ".foo\n", "unknown directive '.foo'."},
		{"missing LF", "global\n  maxconn 5", "parsing [t.cfg:2]: Missing LF on last line, file might have been truncated at position 12."},
		{"NUL byte", "global\n  max\x00conn 5\nfrontend f\n", "parsing [t.cfg:2]: Stray NUL character at position 6."},
		{"unmatched quote", "global\n  log \"x\n", "parsing [t.cfg:2]: unmatched quote at position 7:"},
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

func TestWarnings(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"missing timeouts", "frontend f\n  bind :80\n", "missing timeouts for frontend 'f'.\n   | While not properly invalid"},
		{"no bind", "frontend f\n  timeout client 1s\n", "frontend 'f' has no 'bind' directive. Please declare it as a backend if this was intended."},
		{"listen is proxy", "listen l\n  bind :80\n  server s 127.0.0.1:1\n", "missing timeouts for proxy 'l'."},
		{"option in wrong cap", "backend b\n  option dontlognull\n", "'dontlognull' ignored because backend 'b' has no frontend capability."},
		{"maxconn in backend", "backend b\n  maxconn 5\n", "'maxconn' ignored because backend 'b' has no frontend capability. Maybe you want 'fullconn' instead ?"},
		{"tcplog without log", "frontend f\n  bind :80\n  timeout client 1s\n  option tcplog\n", "log format ignored for frontend 'f' since it has no log address."},
		{"timer trailing garbage", "frontend f\n  bind :80\n  timeout client 1sec\n", "unexpected character 'e' after the timer value '1sec', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported."},
		{"warning directive", ".warning \"careful\"\nfrontend f\n  bind :80\n  timeout client 1s\n", "parsing [t.cfg:1]: 'careful'."},
		{"acl without pattern", "frontend f\n  bind :80\n  timeout client 1s\n  acl a src\n", "no pattern to match against were provided"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseText(t, tc.src)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !strings.Contains(diagText(cfg), tc.want) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", diagText(cfg), tc.want)
			}
			if len(cfg.Warnings()) == 0 {
				t.Errorf("no warning recorded")
			}
		})
	}
}

func TestTrailers(t *testing.T) {
	cfg, _ := parseText(t, "global\n  bogus\n")
	var trailers []string
	for _, d := range cfg.Diags {
		if d.Trailer {
			trailers = append(trailers, d.Msg)
		}
	}
	want := []string{"Error(s) found in configuration file : t.cfg", "Fatal errors found in configuration."}
	if strings.Join(trailers, "|") != strings.Join(want, "|") {
		t.Errorf("trailers = %q, want %q", trailers, want)
	}
	cfg, _ = parseText(t, "global\n.if 1\n")
	trailers = nil
	for _, d := range cfg.Diags {
		if d.Trailer {
			trailers = append(trailers, d.Msg)
		}
	}
	if len(trailers) != 1 || trailers[0] != "Error(s) found in configuration file : t.cfg" {
		t.Errorf("abort trailers = %q", trailers)
	}
}

func TestDefaultsInheritance(t *testing.T) {
	src := `defaults base
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    retries 5
    option redispatch
    option dontlognull
    balance leastconn
    maxconn 100
    default-server inter 3s fall 4 rise 1 weight 7
    log 127.0.0.1:1514 local0
    tcp-check connect
    tcp-check send-binary 0000000c0000000800000001
    tcp-check expect binary 0000000d80000008
    acl local src 127.0.0.0/8
    tcp-request content accept if local

defaults plain
    timeout connect 1s
    timeout client 2s
    timeout server 3s

frontend implicit
    bind :81
    default_backend b_from

backend b_from from base
    no option redispatch
    server s1 127.0.0.1:1
    server s2 127.0.0.1:2 weight 3

backend b_own from base
    tcp-check connect port 9
    server s1 127.0.0.1:1

backend b_last
    server s1 127.0.0.1:1
`
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	by := map[string]*Proxy{}
	for _, p := range cfg.Proxies {
		by[p.Name] = p
	}
	fe := by["implicit"]
	if fe.Timeouts.Client != 2*time.Second || fe.MaxConn != 0 {
		t.Errorf("frontend should inherit the last defaults ('plain'): %+v", fe.Timeouts)
	}
	b := by["b_from"]
	if b.From != "base" || b.Retries != 5 || b.Options.Redispatch || !b.Options.DontLogNull || b.Balance.Algo != "leastconn" {
		t.Errorf("b_from = retries %d redispatch %v dontlognull %v balance %q", b.Retries, b.Options.Redispatch, b.Options.DontLogNull, b.Balance.Algo)
	}
	if s := b.Servers[0]; s.Inter != 3*time.Second || s.Fall != 4 || s.Rise != 1 || s.Weight != 7 {
		t.Errorf("default-server not applied: %+v", s.ServerParams)
	}
	if b.Servers[1].Weight != 3 {
		t.Errorf("server line must override default-server")
	}
	if len(b.TCPChecks) != 3 || b.TCPChecks[1].Kind != "send-binary" || len(b.TCPChecks[1].Data) != 12 {
		t.Errorf("tcp-check rules not inherited: %+v", b.TCPChecks)
	}
	if len(b.Logs) != 1 || b.Logs[0].Addr.Port != 1514 {
		t.Errorf("log targets not inherited: %+v", b.Logs)
	}
	if len(b.TCPReqContent) != 1 || len(b.ACLs) != 1 {
		t.Errorf("named defaults rules not inherited: %d rules, %d acls", len(b.TCPReqContent), len(b.ACLs))
	}
	own := by["b_own"]
	if len(own.TCPChecks) != 1 || own.TCPChecks[0].Port != 9 {
		t.Errorf("own tcp-check rules must replace inherited ones: %+v", own.TCPChecks)
	}
	last := by["b_last"]
	if last.Retries != 3 || last.Balance.Algo != "roundrobin" || last.Timeouts.Server != 3*time.Second {
		t.Errorf("b_last should use 'plain' and built-in defaults: retries %d balance %q", last.Retries, last.Balance.Algo)
	}
	if last.Servers[0].Inter != 2*time.Second || last.Servers[0].Weight != 1 {
		t.Errorf("built-in server defaults: %+v", last.Servers[0].ServerParams)
	}
}

func TestExplicitAndImplicitDefaultsIsFatal(t *testing.T) {
	src := "defaults d\n  timeout client 1s\nbackend a from d\nbackend b\n"
	cfg, err := parseText(t, src)
	if err == nil || !strings.Contains(diagText(cfg), "defaults section 'd' (declared at t.cfg:1) is explicitly referenced by another proxy and implicitly used here.") {
		t.Errorf("want the explicit/implicit ambiguity alert, got %v\n%s", err, diagText(cfg))
	}
}

func TestBindForms(t *testing.T) {
	src := `frontend f
    timeout client 1s
    bind :26602,:26603-26605 backlog 100 maxconn 50 name multi
    bind ipv6@:::26606 v6only
    bind [::1]:26607
    bind 127.0.0.1:26608 accept-proxy transparent interface lo
    bind ipv4@127.0.0.2:26609 v4v6 defer-accept
`
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	b := cfg.Proxies[0].Binds
	if len(b) != 8 {
		t.Fatalf("binds = %d, want 8", len(b))
	}
	if b[0].Addr.Port != 26602 || b[3].Addr.Port != 26605 || b[3].Name != "multi" || b[3].Backlog != 100 || b[3].MaxConn != 50 {
		t.Errorf("multi bind = %+v %+v", b[0], b[3])
	}
	if b[4].Addr.Family != FamilyTCP6 || b[4].Addr.Host != "" || !b[4].V6Only {
		t.Errorf("ipv6 any = %+v", b[4])
	}
	if b[5].Addr.Family != FamilyTCP6 || b[5].Addr.Host != "::1" || b[5].Addr.String() != "[::1]:26607" {
		t.Errorf("[::1] = %+v", b[5])
	}
	if !b[6].AcceptProxy || !b[6].Transparent || b[6].Interface != "lo" {
		t.Errorf("options = %+v", b[6])
	}
	if b[7].Addr.Host != "127.0.0.2" || !b[7].V4V6 {
		t.Errorf("ipv4@ = %+v", b[7])
	}
}

func TestServerAddrForms(t *testing.T) {
	src := `backend b
    server a 127.0.0.1
    server b 127.0.0.1:+10
    server c 127.0.0.1:-5
    server d [::1]:80
    server e 127.0.0.1:83
    server f 127.0.0.1:80 id 10
    server g 127.0.0.1:81
    server h localhost:82 check agent-check agent-port 9 agent-inter 5s disabled init-addr last,libc,none
`
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	s := cfg.Proxies[0].Servers
	if s[0].Addr.Port != 0 || s[0].Addr.HasOffset {
		t.Errorf("no port = %+v", s[0].Addr)
	}
	if !s[1].Addr.HasOffset || s[1].Addr.PortOffset != 10 || s[2].Addr.PortOffset != -5 {
		t.Errorf("offsets = %+v %+v", s[1].Addr, s[2].Addr)
	}
	if s[3].Addr.Family != FamilyTCP6 || s[4].Addr.Family != FamilyTCP4 {
		t.Errorf("families = %v %v", s[3].Addr.Family, s[4].Addr.Family)
	}
	ids := []int{1, 2, 3, 4, 5, 10, 6, 7}
	for i, want := range ids {
		if s[i].ID != want {
			t.Errorf("server %s id = %d, want %d", s[i].Name, s[i].ID, want)
		}
	}
	if h := s[7]; h.Addr.Host != "127.0.0.1" && h.Addr.Host != "::1" {
		t.Errorf("localhost not resolved: %+v", h.Addr)
	}
}

func TestMultipleGlobalsAndFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		path := dir + "/" + name
		if err := writeFile(path, text); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("10-a.cfg", "global\n  maxconn 10\n")
	write("02-b.cfg", "global\n  daemon\n")
	write("B.cfg", "frontend f\n  bind :80\n  timeout client 1s\n")
	write(".hidden.cfg", "bogus\n")
	write("x.conf", "bogus\n")
	extra := write("../extra.cfg", "global\n  no strict-limits\n")
	cfg, err := LoadFiles([]string{dir, extra}, Options{Env: testEnv(nil)})
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	want := []string{dir + "/02-b.cfg", dir + "/10-a.cfg", dir + "/B.cfg", extra}
	if strings.Join(cfg.Files, "|") != strings.Join(want, "|") {
		t.Errorf("files = %q, want %q", cfg.Files, want)
	}
	if !cfg.Global.Daemon || cfg.Global.MaxConn != 10 || cfg.Global.StrictLimits || !cfg.Global.StrictLimitsSet {
		t.Errorf("globals not merged: %+v", cfg.Global)
	}
	_, err = LoadFiles([]string{dir + "/missing.cfg"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "Cannot open configuration file/directory "+dir+"/missing.cfg : No such file or directory") {
		t.Errorf("missing file error = %v", err)
	}
}

func TestPrometheusExporterFrontend(t *testing.T) {
	src := "frontend prometheus\n    mode http\n    bind 127.0.0.1:8405\n    timeout client 10s\n" +
		"    http-request use-service prometheus-exporter if { path /metrics }\n    no log\n"
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	px := cfg.Proxies[0]
	if px.Mode != ModeHTTP || !px.PromExporter || px.PromPath != "/metrics" || px.PromPos.Line != 5 {
		t.Errorf("exporter frontend = mode %v exporter %v path %q", px.Mode, px.PromExporter, px.PromPath)
	}
	if len(cfg.Warnings()) != 0 {
		t.Errorf("unexpected warnings:\n%s", diagText(cfg))
	}
}

func TestMaxConnRate(t *testing.T) {
	cfg, err := parseText(t, "global\n  maxconnrate 100\n  maxconnrate 5\nfrontend f\n  bind :80\n  timeout client 1s\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	if cfg.Global.MaxConnRate != 100 || !strings.Contains(diagText(cfg), "'maxconnrate' already specified. Continuing.") {
		t.Errorf("maxconnrate = %d\n%s", cfg.Global.MaxConnRate, diagText(cfg))
	}
}

// TestStatsSocketSeverityOutput checks that the option is kept for the CLI
// and, as in HAProxy, accepted (and ignored) on a frontend bind.
func TestStatsSocketSeverityOutput(t *testing.T) {
	cfg, err := parseText(t, "global\n  stats socket /tmp/a.sock level admin severity-output number\n"+
		"frontend f\n  mode tcp\n  bind 127.0.0.1:1 severity-output string\n  timeout client 1s\n  default_backend b\n"+
		"backend b\n  server s 127.0.0.1:2\n  server s2 127.0.0.1:3 id 9\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Global.StatsSockets[0].SeverityOutput; got != "number" {
		t.Fatalf("SeverityOutput = %q", got)
	}
	b := cfg.Proxies[1]
	if b.Servers[0].IDForced || !b.Servers[1].IDForced || b.Servers[0].ID != 1 || b.Servers[1].ID != 9 {
		t.Fatalf("server ids: %+v %+v", b.Servers[0].ServerParams.ID, b.Servers[1].ServerParams.ID)
	}
}
