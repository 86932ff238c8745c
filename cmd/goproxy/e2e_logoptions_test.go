package main

import (
	"fmt"
	"regexp"
	"testing"
	"time"
)

// asapLogRe is a tcplog line of the client under test where Tt and the
// byte count may carry option logasap's '+'.
var asapLogRe = regexp.MustCompile(syslogHeader + `127\.0\.0\.2:\d+ \[[^\]]+\] fe be/(\S+) (-?\d+)/(-?\d+)/(\+?)\d+ (\+?)\d+ (\S\S) \d+/\d+/(\d+)/(\d+)/(\+?\d+) (\d+)/(\d+)\n$`)

// asapSummary is what the two programs must agree on: the syslog
// priority, server, whether Tw and Tc were reached, the '+' markers, the
// termination state, the backend and server counts, retries, queues.
func asapSummary(m []string) string {
	reached := func(s string) string {
		if s == "-1" {
			return "-1"
		}
		return "n"
	}
	return fmt.Sprintf("pri=%s server=%s Tw=%s Tc=%s plus=%q/%q state=%s bc/sc=%s/%s retries=%s queues=%s/%s",
		m[1], m[3], reached(m[4]), reached(m[5]), m[6], m[7], m[8], m[9], m[10], m[11], m[12], m[13])
}

// TestE2ELogOptions runs options logasap, log-separate-errors and
// dontlog-normal through haproxy and goproxy and requires the same lines.
func TestE2ELogOptions(t *testing.T) {
	t.Parallel()
	or := oracles(t)
	if _, ok := or["haproxy"]; !ok {
		t.Skip("haproxy is not on PATH")
	}
	type scenario struct {
		name  string
		setup func(t *testing.T) (e2eCfg, func(t *testing.T, addr string))
	}
	scenarios := []scenario{
		{"logasap logs at connect", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, holding)
			return e2eCfg{frontend: []string{"option logasap"}, servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				openName(t, "127.0.0.2", addr) // stays open while the line is awaited
			}
		}},
		{"logasap, connection refused", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			return e2eCfg{defaults: []string{"retries 0"}, frontend: []string{"option logasap"}, servers: []string{"server s1 " + loopAddr(t)}}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"log-separate-errors, connection refused", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			return e2eCfg{defaults: []string{"retries 0"}, frontend: []string{"option log-separate-errors"}, servers: []string{"server s1 " + loopAddr(t)}}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"log-separate-errors, normal", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1)
			return e2eCfg{frontend: []string{"option log-separate-errors"}, servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, _ := openName(t, "127.0.0.2", addr)
				if err := echoRoundTrip(c, "hello\n"); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
		}},
		{"dontlog-normal skips the normal session", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1)
			return e2eCfg{defaults: []string{"retries 0"}, frontend: []string{"option dontlog-normal"}, servers: append(srvLines(ss, []int{1}), "server dead "+loopAddr(t))}, func(t *testing.T, addr string) {
				// Round robin: the first session is served (not logged), the
				// second is refused (logged).
				c, _ := openName(t, "127.0.0.2", addr)
				if err := echoRoundTrip(c, "hello\n"); err != nil {
					t.Fatal(err)
				}
				c.Close()
				time.Sleep(200 * time.Millisecond)
				d, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, d, 5*time.Second)
				d.Close()
			}
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			sink := startSyslog(t)
			cfg, drive := sc.setup(t)
			cfg.global = append(cfg.global, "log "+sink.addr()+" local2", "maxconn 1000")
			cfg.defaults = append([]string{"log global", "option tcplog"}, cfg.defaults...)
			var got, lines [2]string
			for i, bin := range []string{or["haproxy"], goproxyBin} {
				addr, p := cfg.runWith(t, bin)
				drive(t, addr)
				m := sink.next(t, asapLogRe, 5*time.Second)
				got[i], lines[i] = asapSummary(m), m[0]
				p.stop()
				for len(sink.msgs) > 0 {
					<-sink.msgs
				}
			}
			if got[0] != got[1] {
				t.Errorf("tcplog differs:\nhaproxy %s\ngoproxy %s\nlines:\n%s%s", got[0], got[1], lines[0], lines[1])
			} else {
				t.Logf("both: %s", got[0])
			}
		})
	}
}
