package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// logFetchExprs are the fetches goproxy evaluates, each with arguments it
// accepts, as written in a log format.
var logFetchExprs = []string{
	"src", "dst", "src_port", "dst_port", "always_true", "always_false",
	"req.len", "req_len", "req.payload(0,2)", "req.payload_lv(0,1)", "payload(0,2)", "payload_lv(0,1)",
	"req.ssl_sni", "req_ssl_sni", "req.ssl_hello_type", "req_ssl_hello_type", "req.ssl_ver", "req_ssl_ver",
	"req.ssl_alpn", "req.ssl_ec_ext", "req.ssl_sni,lower",
	"fe_name", "be_name", "fe_id", "so_id", "fe_conn", "fe_conn(fe0)", "fe_conn(be)", "fe_conn(nope)",
	"nbsrv", "nbsrv(be)", "nbsrv(fe0)", "be_conn", "be_conn(be)", "connslots", "connslots(nope)", "queue", "queue(be)",
	"srv_is_up(be/s1)", "srv_is_up(nope/s1)", "srv_is_up(be/s9)",
	"var(sess.x)", "var(txn.x)", "fc_pp_authority", "fc_pp_unique_id", "unique-id", "capture.req.hdr(0)",
	"int(1)", "str(a)", "bool(1)", "bin(41)", "ipv4(1.2.3.4)", "ipv6(::1)", "src,ipmask(24),hex",
	"ssl_fc", "ssl_fc_has_sni", "ssl_fc_is_resumed", "ssl_fc_sni", "ssl_fc_protocol", "ssl_fc_cipher",
	"ssl_fc_alpn", "ssl_c_used", "ssl_c_verify", "ssl_c_s_dn", "ssl_c_i_dn", "ssl_c_serial",
}

// TestLogFetchCheckDifferential compares haproxy -c and goproxy -c on every
// fetch goproxy evaluates, in log-format, log-format-sd and
// unique-id-format, in frontends and listen sections: the request-buffer
// fetches refused at log time, the warnings of a unique-id-format, the
// proxy and server arguments resolved with HAProxy's messages (several
// in one alert).
func TestLogFetchCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	head := "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
		"frontend fe0\n  bind 127.0.0.1:9\n  default_backend be\nbackend be\n  server s1 127.0.0.1:1\n"
	for _, kw := range []string{"log-format", "log-format-sd", "unique-id-format"} {
		for _, sec := range []string{"frontend", "listen"} {
			t.Run(kw+"/"+sec, func(t *testing.T) {
				var b strings.Builder
				b.WriteString(head)
				for i, e := range logFetchExprs {
					fmt.Fprintf(&b, "%s p%d\n  bind 127.0.0.1:%d\n  log 127.0.0.1:514 local0\n", sec, i, 10000+i)
					b.WriteString("  tcp-request content capture src len 10\n")
					fmt.Fprintf(&b, "  %s \"x %%[%s] y\"\n", kw, e)
					if sec == "frontend" {
						b.WriteString("  default_backend be\n")
					} else {
						b.WriteString("  server s1 127.0.0.1:1\n")
					}
				}
				compareCheck(t, haproxy, b.String())
			})
		}
	}
	// The other keywords of the item, and several errors in one proxy.
	fe := "frontend fe\n  bind 127.0.0.1:9\n  log 127.0.0.1:514 local0\n"
	for _, text := range []string{
		fe + "  log-format \"%[nbsrv]%[queue(nope)]\"\n  unique-id-format %[fe_conn(x)]\n  default_backend be\n",
		fe + "  use_backend %[nbsrv]\n  use_backend be%[be_conn(nope)]\n  default_backend be\n",
		fe + "  unique-id-header X-ID\n  unique-id-format %ci\n  log-format %ID\n  default_backend be\n",
		fe + "  unique-id-header\n  default_backend be\n",
		"backend b2\n  unique-id-format %[fe_conn]:%[nbsrv]\n  server s1 127.0.0.1:1\n",
		fe + "  unique-id-format %[be_name]\n  default_backend be\n",
		"listen li\n  bind 127.0.0.1:9\n  unique-id-format %[be_name]:%[nbsrv]\n  server s1 127.0.0.1:1\n",
		fe + "  unique-id-format %[req.len]:%[req.payload(0,2)]:%ci\n  default_backend be\n",
		fe + "  unique-id-format %HM\n  default_backend be\n",
		fe + "  unique-id-format\n  default_backend be\n",
		fe + "  unique-id-format a b\n  default_backend be\n",
		fe + "  unique-id-format %[nope]\n  default_backend be\n",
		"defaults\n  unique-id-format %[src,lower\n" + fe + "  default_backend be\n",
	} {
		compareCheck(t, haproxy, head+text)
	}
	for _, text := range []string{
		fe + "  error-log-format \"%ci %[fc_err] %[ssl_fc_err_str]\"\n  default_backend be\n",
		fe + "  error-log-format \"%[nbsrv(nope)] %[queue]\"\n  default_backend be\n",
		"backend b2\n  error-log-format %[be_conn(x)]\n  server s1 127.0.0.1:1\n",
	} {
		compareCheck(t, haproxy, head+text)
	}
}

// compareCheck runs haproxy -c and goproxy -c on text and compares their
// outputs once pids and versions are masked.
func compareCheck(t *testing.T, haproxy, text string) {
	t.Helper()
	dir := t.TempDir()
	f := writeFile(t, dir, "c.cfg", text)
	var outs [2]string
	for i, bin := range []string{haproxy, goproxyBin} {
		out, _ := exec.Command(bin, "-c", "-f", f).CombinedOutput()
		outs[i] = mask(strings.ReplaceAll(string(out), dir+"/", ""))
	}
	if outs[0] != outs[1] {
		t.Errorf("config:\n%s\nhaproxy:\n%s\ngoproxy:\n%s", text, outs[0], outs[1])
	}
}
