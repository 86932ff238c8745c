package main

import (
	"crypto/tls"
	"regexp"
	"testing"
	"time"
)

// TestE2EConnErrFetchesLikeHAProxy: fc_err, fc_err_str, ssl_fc_err and
// ssl_fc_err_str (the fields of HAProxy's httpslog format) in a TCP
// log-format, on a plain and on an ssl bind, logged as haproxy logs them.
func TestE2EConnErrFetchesLikeHAProxy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	srv, _ := ca.issue(t, dir, "srv.pem", certOpts{cn: "srv.test", dns: []string{"srv.test"}})
	re := regexp.MustCompile(syslogHeader + `(E=.*)\n$`)
	lines := map[string][2]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		var got [2]string
		for i, bind := range []string{"", "ssl crt " + srv} {
			sink := startSyslog(t)
			c := e2eCfg{
				global:   []string{"log " + sink.addr() + " local2"},
				defaults: []string{"log global", `log-format "E=%[fc_err] S=%[fc_err_str] T=%[ssl_fc_err] H=%[ssl_fc_err,hex] U=%[ssl_fc_err_str]"`},
				servers:  srvLines(ss, []int{1}),
			}
			addr, _ := startTLSProxy(t, bin, c, bind)
			if bind == "" {
				if _, err := ask("127.0.0.2", addr); err != nil {
					t.Fatal(err)
				}
			} else if _, _, err := tlsGreeting(addr, &tls.Config{ServerName: "srv.test", RootCAs: ca.pool}); err != nil {
				t.Fatal(err)
			}
			got[i] = sink.next(t, re, 3*time.Second)[3]
		}
		lines[t.Name()] = got
	})
	g := lines["TestE2EConnErrFetchesLikeHAProxy/goproxy"]
	if want := "E=0 S=Success T=- H=- U=-"; g[0] != want {
		t.Errorf("plain bind: %q, want %q", g[0], want)
	}
	if want := "E=0 S=Success T=0 H=0000000000000000 U=-"; g[1] != want {
		t.Errorf("ssl bind: %q, want %q", g[1], want)
	}
	if h, ok := lines["TestE2EConnErrFetchesLikeHAProxy/haproxy"]; ok && h != g {
		t.Errorf("goproxy logged %q, haproxy %q", g, h)
	}
}
