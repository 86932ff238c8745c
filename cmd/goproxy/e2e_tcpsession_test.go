package main

import (
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTCPSessionCheckDifferential compares haproxy -c and goproxy -c on
// tcp-request session rules: the actions of the stage, those it refuses
// (the content-only ones, capture, expect-proxy), the fetches of the
// client's bytes, backends, and HAProxy's warnings on misplaced rules.
func TestTCPSessionCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	head := "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
	fe := "frontend fe\n  bind 127.0.0.1:9\n  default_backend be\n  stick-table type ip size 10 store gpc0,gpc1,gpt0\n"
	be := "backend be\n  server s1 127.0.0.1:1\n"
	lines := []string{
		"tcp-request session accept",
		"tcp-request session reject if { src 10.0.0.1 }",
		"tcp-request session track-sc0 src",
		"tcp-request session track-sc2 src table be2",
		"tcp-request session sc-inc-gpc0(0)",
		"tcp-request session sc-inc-gpc1(1) if TRUE",
		"tcp-request session sc-set-gpt0(0) 3",
		"tcp-request session sc-set-gpt0(0) src_port",
		"tcp-request session set-var(sess.a) src",
		"tcp-request session set-var(txn.a) src",
		"tcp-request session unset-var(sess.a)",
		"tcp-request session set-src src,ipmask(24)",
		"tcp-request session set-dst ipv4(10.0.0.1)",
		"tcp-request session set-src-port int(1)",
		"tcp-request session set-dst-port int(2)",
		"tcp-request session silent-drop if { src 10.0.0.2 }",
		"tcp-request session set-log-level silent",
		"tcp-request session set-nice 1",
		"tcp-request session use-service prometheus-exporter",
		"tcp-request session set-var(sess.c) req.len",
		"tcp-request session track-sc1 req.payload(0,1)",
		"tcp-request session sc-set-gpt0(0) req.len",
		"tcp-request session capture src len 4",
		"tcp-request session expect-proxy layer4",
		"tcp-request session expect-proxy layer5",
		"tcp-request session bogus",
		"tcp-request session",
		"tcp-request session reject if { req.len gt 0 }",
		"tcp-request session accept extra",
		"tcp-request session track-sc3 src",
	}
	for i, l := range lines {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			compareCheck(t, haproxy, head+fe+"  "+l+"\n"+be+"backend be2\n  stick-table type ip size 10\n")
		})
	}
	for i, text := range []string{
		// Misplaced rules, warned of; a rule of the defaults section is not
		// the proxy's own.
		fe + "  tcp-request content accept\n  tcp-request session accept\n  tcp-request connection accept\n" + be,
		fe + "  tcp-request session accept\n  tcp-request connection accept\n  tcp-request session reject\n" + be,
		fe + "  use_backend be if TRUE\n  tcp-request session accept\n" + be,
		"defaults d\n  mode tcp\n  tcp-request content accept\n" + strings.Replace(fe, "frontend fe", "frontend fe from d", 1) + "  tcp-request session accept\n" + be,
		// Only frontends have session rules, and so their defaults.
		fe + be + "  tcp-request session accept\n",
		"defaults d\n  mode tcp\n  tcp-request session accept\n" + be,
		"defaults\n  tcp-request session accept\n" + fe + be,
		"listen li\n  bind 127.0.0.1:8\n  tcp-request session reject if { src 10.0.0.3 }\n  server s1 127.0.0.1:1\n",
	} {
		t.Run(fmt.Sprint("cfg", i), func(t *testing.T) {
			t.Parallel()
			compareCheck(t, haproxy, head+text)
		})
	}
}

// tcpSessionCfg evaluates tcp-request session rules after the PROXY
// header a connection rule asks 127.0.0.7 for: 10.9.9.9 (a source only a
// header can give) and 127.0.0.3 are refused, 127.0.0.4 silently dropped;
// the others are tracked, count in gpc0 and gpt0, and a sess variable set
// for 127.0.0.5 lets it pass a content rule (a txn variable set at the
// session stage does not exist, as in HAProxy).
func tcpSessionCfg(dir, logAddr string, ss []*nameServer) (e2eCfg, string) {
	return stickCfg(dir, e2eCfg{
		defaults: []string{"log " + logAddr + " local2", "option tcplog"},
		frontend: []string{
			"stick-table type ip size 100 expire 30s store conn_cnt,sess_cnt,gpc0,gpt0",
			"tcp-request connection expect-proxy layer4 if { src 127.0.0.7 }",
			"tcp-request session reject if { src 10.9.9.9 }",
			"tcp-request session reject if { src 127.0.0.3 }",
			"tcp-request session silent-drop if { src 127.0.0.4 }",
			"tcp-request session track-sc0 src",
			"tcp-request session sc-inc-gpc0(0)",
			"tcp-request session sc-set-gpt0(0) 7",
			"tcp-request session set-var(sess.ok) int(1) if { src 127.0.0.5 }",
			"tcp-request session set-var(txn.t) int(1)",
			"tcp-request content reject if { src 127.0.0.5 } !{ var(sess.ok) -m int 1 }",
			"tcp-request content reject if { var(txn.t) -m found }",
		},
		servers: srvLines(ss, []int{1}),
	})
}

// TestE2ETCPSession runs tcpSessionCfg on goproxy and haproxy: the same
// clients pass or are refused, the stats count the refused sessions in
// dses and the dropped one in dreq (neither in stot), the table holds the
// same entries, and the one refused after its PROXY header logs
// HAProxy's connection error line while the others log nothing.
func TestE2ETCPSession(t *testing.T) {
	type result struct {
		Outcomes       map[string]string
		Stot, Dses     string
		Dreq, LnDses   string
		Table, ConnErr string
	}
	cases := []struct{ name, from, header string }{
		{"plain", "127.0.0.2", ""},
		{"plain again", "127.0.0.2", ""},
		{"rejected", "127.0.0.3", ""},
		{"dropped", "127.0.0.4", ""},
		{"sess var", "127.0.0.5", ""},
		{"header rejected", "127.0.0.7", "PROXY TCP4 10.9.9.9 10.0.0.1 1234 80\r\n"},
		{"header accepted", "127.0.0.7", "PROXY TCP4 10.9.9.8 10.0.0.1 1234 80\r\n"},
	}
	want := map[string]string{"plain": "s1", "plain again": "s1", "rejected": "closed", "dropped": "closed",
		"sess var": "s1", "header rejected": "closed", "header accepted": "s1"}
	connErr := regexp.MustCompile(`haproxy\[\d+\]: (10\.9\.9\.9:1234 \[[^]]+\] fe/\S+: .*)`)
	results := map[string]result{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		c, sock := tcpSessionCfg(t.TempDir(), sink.addr(), ss)
		c.frontend = append(c.frontend, "option socket-stats")
		addr, _ := c.runWith(t, bin)
		waitSocket(t, sock)
		r := result{Outcomes: map[string]string{}}
		for _, tc := range cases {
			r.Outcomes[tc.name] = sessionOutcome(t, tc.from, addr, tc.header)
			if r.Outcomes[tc.name] != want[tc.name] {
				t.Errorf("%s: %s, want %s", tc.name, r.Outcomes[tc.name], want[tc.name])
			}
		}
		m := sink.next(t, connErr, 3*time.Second)
		r.ConnErr = regexp.MustCompile(`\[[^]]+\]`).ReplaceAllString(m[1], "[DATE]")
		if r.ConnErr != "10.9.9.9:1234 [DATE] fe/sock-1: Success" {
			t.Errorf("connection error line: %q", m[1])
		}
		var st map[string]statRow
		waitFor(t, 3*time.Second, "sessions ended", func() bool {
			st = showStat(t, sock)
			return st["fe/FRONTEND"]["scur"] == "0"
		})
		r.Stot, r.Dses, r.Dreq = st["fe/FRONTEND"]["stot"], st["fe/FRONTEND"]["dses"], st["fe/FRONTEND"]["dreq"]
		r.LnDses = st["fe/sock-1"]["dses"]
		if r.Stot != "4" || r.Dses != "2" || r.Dreq != "1" || r.LnDses != "2" {
			t.Errorf("fe: stot %s dses %s dreq %s, listener dses %s; want 4 2 1 2", r.Stot, r.Dses, r.Dreq, r.LnDses)
		}
		r.Table = maskTable(cli(t, sock, "show table fe"))
		for _, e := range []string{"key=127.0.0.2 use=0 exp=... gpt0=7 gpc0=2 conn_cnt=2 sess_cnt=2", "key=10.9.9.8 ", "key=127.0.0.5 "} {
			if !strings.Contains(r.Table, e) {
				t.Errorf("show table fe lacks %q:\n%s", e, r.Table)
			}
		}
		// No other log line than the tcplog lines of the accepted sessions.
		deadline := time.After(300 * time.Millisecond)
	drain:
		for {
			select {
			case msg := <-sink.msgs:
				if strings.Contains(msg, "127.0.0.3:") || strings.Contains(msg, "127.0.0.4:") {
					t.Errorf("a refused session was logged: %q", msg)
				}
			case <-deadline:
				break drain
			}
		}
		results[t.Name()] = r
	})
	if len(results) == 2 {
		var rs []result
		for _, v := range results {
			rs = append(rs, v)
		}
		if !reflect.DeepEqual(rs[0], rs[1]) {
			t.Errorf("goproxy and haproxy differ:\n%+v\n%+v", rs[0], rs[1])
		}
	}
}

// sessionOutcome connects from ip, sends header, and returns the greeting
// of the server that answers, or "closed" when the connection ends first.
func sessionOutcome(t *testing.T, ip, addr, header string) string {
	t.Helper()
	c, err := dialFrom(ip, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if header != "" {
		if _, err := c.Write([]byte(header)); err != nil {
			return "closed"
		}
	}
	name, err := readName(c)
	if err != nil {
		return "closed"
	}
	return name
}
