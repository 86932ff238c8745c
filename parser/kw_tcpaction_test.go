package parser

import (
	"strings"
	"testing"
)

// TestTCPActionErrors holds HAProxy 2.6's messages (haproxy -c on the same
// lines) for the tcp-request actions, var() and the server rules.
func TestTCPActionErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"tcp-request connection set-var(e) src", "invalid variable name 'e'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"},
		{"tcp-request connection set-var(sess.g)", "missing fetch method"},
		{"tcp-request connection set-var(sess.h) req.len", "fetch method 'set-var(sess.h)' extracts information from 'request buffer', none of which is available here"},
		{"tcp-request connection set-src", "missing fetch method"},
		{"tcp-request connection expect-proxy", "'tcp-request connection expect-proxy' only supports 'layer4' in frontend 'fe' (got '')"},
		{"tcp-request connection expect-proxy layer5", "'tcp-request connection expect-proxy' only supports 'layer4' in frontend 'fe' (got 'layer5')"},
		{"tcp-request content set-var(txn.i) nosuch", "unknown fetch method 'nosuch'"},
		{"tcp-request content set-var(txn.i) req.payload(0,3),nosuch", "unknown converter 'nosuch'"},
		{"tcp-request content set-var(txn.i) src extra", "'tcp-request content set-var(txn.i)' only accepts 'if' or 'unless', in frontend 'fe' (got 'extra')"},
		{"tcp-request content set-var(txn.i,ifexists,bad) src", "unknown condition \"bad\""},
		{"tcp-request content unset-var(txn.i) extra", "'tcp-request content unset-var(txn.i)' only accepts 'if' or 'unless', in frontend 'fe' (got 'extra')"},
		{"tcp-request content unset-var", "invalid or incomplete action 'unset-var'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"},
		{"tcp-request content silent-drop extra", "'tcp-request content silent-drop' only accepts 'if' or 'unless', in frontend 'fe' (got 'extra')"},
		{"acl v1 var(txn.i) abc", "error detected while parsing ACL 'v1' : matching method must be specified first (using '-m') when using a sample fetch of this type ('var')."},
		{"acl v4 var() -m found", "error detected while parsing ACL 'v4' : invalid args in fetch method 'var' : Empty variable name cannot be accepted in ACL expression 'var()'."},
		{"acl v5 var(nosc) -m found", "error detected while parsing ACL 'v5' : invalid args in fetch method 'var' : invalid variable name 'nosc'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check' in ACL expression 'var(nosc)'."},
		{"acl v6 var(txn.x-y) -m found", "error detected while parsing ACL 'v6' : invalid args in fetch method 'var' : invalid syntax at char '-y' in ACL expression 'var(txn.x-y)'."},
		{"tcp-request content set-var(txn.ok) req.payload(0,3),lower", ""},
		{"tcp-request content unset-var(txn.ok) if TRUE", ""},
		{"tcp-request connection set-src src,ipmask(24) if TRUE", ""},
		{"tcp-request connection expect-proxy layer4 if { src 127.0.0.7 }", ""},
		{"acl v7 var(txn.i,def),lower -m str abc", ""},
		{"acl k1 int(x) -m found", "error detected while parsing ACL 'k1' : fetch method 'int' : failed to parse 'x' as type 'integer' at position 1 in ACL expression 'int(x)'."},
		{"acl k2 ipv4(x) -m found", "error detected while parsing ACL 'k2' : fetch method 'ipv4' : failed to parse 'x' as type 'IPv4 address' at position 1 in ACL expression 'ipv4(x)'."},
		{"acl k3 bin(zz) -m found", "error detected while parsing ACL 'k3' : invalid args in fetch method 'bin' : an hex digit is expected (found 'z') in ACL expression 'bin(zz)'."},
		{"acl k4 bool(x) -m found", "error detected while parsing ACL 'k4' : invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1' in ACL expression 'bool(x)'."},
		{"acl k5 int -m found", "error detected while parsing ACL 'k5' : fetch method 'int' : expected type 'integer' at position 1, but got nothing in ACL expression 'int'."},
		{"acl k6 ipv6(1.2.3.4) -m found", "error detected while parsing ACL 'k6' : fetch method 'ipv6' : failed to parse '1.2.3.4' as type 'IPv6 address' at position 1 in ACL expression 'ipv6(1.2.3.4)'."},
		{"acl k7 str() -m found", ""},
		{"tcp-request content set-dst-port int(80)", ""},
		{"tcp-request connection set-dst ipv4(10.0.0.1)", ""},
		{"tcp-request connection set-src-port int(1)", ""},
	}
	var b strings.Builder
	b.WriteString("defaults\n    mode tcp\nfrontend fe\n    bind 127.0.0.1:1\n")
	for _, tc := range tests {
		b.WriteString("    " + tc.line + "\n")
	}
	b.WriteString("backend be\n    use-server\n    use-server s1\n    force-persist\n    ignore-persist foo\n    server s1 127.0.0.1:2\n")
	_, err := Parse("t.cfg", b.String(), Options{})
	got := map[int]string{}
	if err != nil {
		for _, l := range strings.Split(err.Error(), "\n") {
			var n int
			var msg string
			if i := strings.Index(l, "] : "); i > 0 && strings.HasPrefix(l, "parsing [t.cfg:") {
				for _, c := range l[len("parsing [t.cfg:"):i] {
					n = n*10 + int(c-'0')
				}
				msg = l[i+4:]
			}
			got[n] = msg
		}
	}
	for i, tc := range tests {
		if g := got[5+i]; g != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.line, g, tc.want)
		}
	}
	back := len(tests) + 6
	for i, want := range []string{"'use-server' expects a server name.", "'use-server' requires either 'if' or 'unless' followed by a condition.",
		"'force-persist' requires either 'if' or 'unless' followed by a condition.", "'ignore-persist' requires either 'if' or 'unless' followed by a condition."} {
		if g := got[back+i]; g != want {
			t.Errorf("line %d: got %q, want %q", back+i, g, want)
		}
	}
}

// TestCInteger reads integers as C's strtol with base 0 does.
func TestCInteger(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int64
		rest string
	}{
		{"42", 42, ""}, {"0x2a", 42, ""}, {"0X2A", 42, ""}, {"052", 42, ""}, {"-1", -1, ""}, {"+7", 7, ""},
		{"0x1g", 1, "g"}, {"12x", 12, "x"}, {"08", 0, "8"}, {"0x", 0, "x"}, {"if", 0, "if"}, {"", 0, ""}, {" 9", 9, ""},
	} {
		n, rest := cInteger(tc.in)
		if n != tc.n || rest != tc.rest {
			t.Errorf("cInteger(%q) = %d, %q; want %d, %q", tc.in, n, rest, tc.n, tc.rest)
		}
	}
}
