package main

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// tcplogRe takes apart an option tcplog line of the client under test
// (127.0.0.2; other sessions of a scenario come from elsewhere): server,
// Tw, Tc, Tt, bytes, termination state, ac/fc/bc/sc/rc, sq/bq.
var tcplogRe = regexp.MustCompile(syslogHeader + `127\.0\.0\.2:\d+ \[[^\]]+\] fe be/(\S+) (-?\d+)/(-?\d+)/(\d+) (\d+) (\S\S) (\d+)/(\d+)/(\d+)/(\d+)/(\+?\d+) (\d+)/(\d+)\n$`)

// logSummary is what two programs must agree on in a tcplog line: the
// timers only by whether they were reached (-1 or not).
func logSummary(m []string) string {
	reached := func(s string) string {
		if s == "-1" {
			return "-1"
		}
		return "n"
	}
	return fmt.Sprintf("server=%s Tw=%s Tc=%s bytes=%s state=%s retries=%s queues=%s/%s",
		m[3], reached(m[4]), reached(m[5]), m[7], m[8], m[13], m[14], m[15])
}

// TestE2ELogDifferential ends sessions in each of the ways the
// termination state tells apart, through haproxy and goproxy, and requires
// the same tcplog verdicts.
func TestE2ELogDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH")
	}
	type scenario struct {
		name  string
		setup func(t *testing.T) (e2eCfg, func(t *testing.T, addr string))
	}
	echoRound := func(t *testing.T, addr string) net.Conn {
		c, _ := openName(t, "127.0.0.2", addr)
		if err := echoRoundTrip(c, "hello\n"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	scenarios := []scenario{
		{"normal", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1)
			return e2eCfg{servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				echoRound(t, addr).Close()
			}
		}},
		{"1 MB stream with half-close", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, silent)
			return e2eCfg{servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				if err := streamExchange("127.0.0.2", addr, 1<<20); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"tunnel timeout", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, holding)
			return e2eCfg{defaults: []string{"timeout tunnel 200ms"}, servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, _ := openName(t, "127.0.0.2", addr)
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"client half-closes (client-fin set)", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, silent, holding)
			return e2eCfg{defaults: []string{"timeout client-fin 200ms"}, servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				c.Write([]byte("x"))
				c.CloseWrite()
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"server half-closes first (server-fin set)", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, func(s *nameServer) { s.finFirst = true })
			return e2eCfg{defaults: []string{"timeout server-fin 200ms"}, servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, _ := openName(t, "127.0.0.2", addr)
				expectClosed(t, c, 3*time.Second)
				time.Sleep(500 * time.Millisecond) // longer than server-fin
				c.Close()
			}
		}},
		{"client timeout", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, holding)
			return e2eCfg{defaults: []string{"timeout client 200ms"}, servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, _ := openName(t, "127.0.0.2", addr)
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"server timeout", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, holding, silent)
			return e2eCfg{defaults: []string{"timeout server 200ms"}, servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"queue timeout", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, holding)
			return e2eCfg{defaults: []string{"timeout queue 200ms"}, servers: srvLines(ss, []int{1}, "maxconn 1")}, func(t *testing.T, addr string) {
				first, _ := openName(t, "127.0.0.3", addr)
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, c, 3*time.Second)
				c.Close()
				// Ending the first session makes its own log line, after
				// the one under test.
				time.AfterFunc(300*time.Millisecond, func() { first.Close() })
			}
		}},
		{"client abort in queue (abortonclose)", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, holding)
			return e2eCfg{backend: []string{"option abortonclose"}, servers: srvLines(ss, []int{1}, "maxconn 1")}, func(t *testing.T, addr string) {
				first, _ := openName(t, "127.0.0.3", addr)
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond) // queued, not yet served
				c.Close()
				time.AfterFunc(300*time.Millisecond, func() { first.Close() })
			}
		}},
		{"request and half-close while queued", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1)
			return e2eCfg{servers: srvLines(ss, []int{1}, "maxconn 1")}, func(t *testing.T, addr string) {
				first, _ := openName(t, "127.0.0.3", addr)
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.Write([]byte("hello\n"))
				c.CloseWrite()
				time.Sleep(100 * time.Millisecond) // queued with its request
				first.Close()
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				got, err := io.ReadAll(c)
				if string(got) != "s1\nhello\n" {
					t.Errorf("queued half-closed client got %q (%v), want its answer", got, err)
				}
			}
		}},
		{"connection refused", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			return e2eCfg{defaults: []string{"retries 0"}, servers: []string{"server s1 " + loopAddr(t)}}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"client abort while retrying (abortonclose)", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			return e2eCfg{defaults: []string{"retries 3", "option abortonclose"}, servers: []string{"server s1 " + loopAddr(t)}}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond) // in the 1 s turn-around
				c.Close()
			}
		}},
		{"connect timeout", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			hole := blackhole(t)
			return e2eCfg{defaults: []string{"retries 0", "timeout connect 200ms"}, servers: []string{"server s1 " + hole}}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"redispatched", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1)
			return e2eCfg{defaults: []string{"retries 1", "option redispatch"}, servers: []string{"server dead " + loopAddr(t), "server s1 " + ss[0].addr()}}, func(t *testing.T, addr string) {
				echoRound(t, addr).Close()
			}
		}},
		{"no server", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1)
			return e2eCfg{servers: srvLines(ss, []int{1}, "disabled")}, func(t *testing.T, addr string) {
				c, err := dialFrom("127.0.0.2", addr)
				if err != nil {
					t.Fatal(err)
				}
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"server reset", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, resetter)
			return e2eCfg{servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, _ := openName(t, "127.0.0.2", addr)
				c.Write([]byte("x"))
				expectClosed(t, c, 3*time.Second)
				c.Close()
			}
		}},
		{"client reset", func(t *testing.T) (e2eCfg, func(*testing.T, string)) {
			ss := nameServers(t, 1, holding)
			return e2eCfg{servers: srvLines(ss, []int{1})}, func(t *testing.T, addr string) {
				c, _ := openName(t, "127.0.0.2", addr)
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			sink := startSyslog(t)
			cfg, drive := sc.setup(t)
			cfg.global = append(cfg.global, "log "+sink.addr()+" local2", "maxconn 1000")
			cfg.defaults = append([]string{"log global", "option tcplog"}, cfg.defaults...)
			var got [2]string
			var lines [2]string
			for i, bin := range []string{haproxy, goproxyBin} {
				addr, p := cfg.runWith(t, bin)
				drive(t, addr)
				m := sink.next(t, tcplogRe, 5*time.Second)
				got[i], lines[i] = logSummary(m), m[0]
				p.stop()
				// Drop what the first program may still have sent.
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
