package main

import (
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// syslogSink is a UDP listener collecting datagrams.
type syslogSink struct {
	conn *net.UDPConn
	msgs chan string
}

func startSyslog(t *testing.T) *syslogSink {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &syslogSink{conn: c, msgs: make(chan string, 256)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			select {
			case s.msgs <- string(buf[:n]):
			default:
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return s
}

func (s *syslogSink) addr() string { return s.conn.LocalAddr().String() }

// next returns the first datagram matching re within d, and the
// datagrams skipped before it.
func (s *syslogSink) next(t *testing.T, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	deadline := time.After(d)
	var skipped []string
	for {
		select {
		case m := <-s.msgs:
			if sm := re.FindStringSubmatch(m); sm != nil {
				return sm
			}
			skipped = append(skipped, m)
		case <-deadline:
			t.Fatalf("no datagram matching %s within %v; got %q", re, d, skipped)
			return nil
		}
	}
}

// syslogHeader is HAProxy's default RFC3164-like header, for local2 at
// level PRI-16, up to the PID.
const syslogHeader = `^<(\d+)>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d haproxy\[(\d+)\]: `

func TestE2ESyslog(t *testing.T) {
	onOracles(t, testTrafficLogs)

	for name, bin := range oracles(t) {
		t.Run(name+"/server DOWN event", func(t *testing.T) {
			sink := startSyslog(t)
			ss := nameServers(t, 1)
			servers := append(srvLines(ss, []int{1}), "server dead "+loopAddr(t)+" check inter 100ms fall 1 rise 1")
			e2eCfg{global: []string{"log " + sink.addr() + " local2", "maxconn 100"}, defaults: []string{"log global"}, servers: servers}.runWith(t, bin)
			re := regexp.MustCompile(syslogHeader + `Server be/dead is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.\n$`)
			m := sink.next(t, re, 5*time.Second)
			if m[1] != "145" {
				t.Errorf("DOWN event at priority %s, want 145 (local2.alert): %q", m[1], m[0])
			}
		})
	}
}

// testTrafficLogs checks the syslog datagrams of bin's traffic logs.
func testTrafficLogs(t *testing.T, bin string) {
	t.Run("connect line", func(t *testing.T) {
		sink := startSyslog(t)
		ss := nameServers(t, 1)
		addr, p := e2eCfg{global: []string{"log " + sink.addr() + " local2", "maxconn 100"}, defaults: []string{"log global"}, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.5", addr)
		cport := c.LocalAddr().(*net.TCPAddr).Port
		re := regexp.MustCompile(syslogHeader + `Connect from 127\.0\.0\.5:` + strconv.Itoa(cport) + ` to ` + regexp.QuoteMeta(addr) + ` \(fe/TCP\)\n$`)
		m := sink.next(t, re, 3*time.Second)
		if m[1] != "150" || m[2] != strconv.Itoa(p.pid()) {
			t.Errorf("priority %s pid %s, want 150 and %d", m[1], m[2], p.pid())
		}
	})

	t.Run("tcplog session end", func(t *testing.T) {
		sink := startSyslog(t)
		ss := nameServers(t, 1)
		addr, p := e2eCfg{global: []string{"log " + sink.addr() + " local2", "maxconn 100"}, defaults: []string{"log global", "option tcplog"}, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.6", addr)
		cport := c.LocalAddr().(*net.TCPAddr).Port
		c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(make([]byte, 6)); err != nil {
			t.Fatal(err)
		}
		c.Close()
		re := regexp.MustCompile(syslogHeader + `127\.0\.0\.6:` + strconv.Itoa(cport) +
			` \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe be/s1 (\d+)/(\d+)/(\d+) (\d+) (\S\S) (\d+)/(\d+)/(\d+)/(\d+)/(\d+) 0/0\n$`)
		m := sink.next(t, re, 3*time.Second)
		if m[1] != "150" || m[2] != strconv.Itoa(p.pid()) {
			t.Errorf("priority %s pid %s, want 150 and %d", m[1], m[2], p.pid())
		}
		// Greeting "s1\n" plus the 6 echoed bytes; normal termination; no retry.
		if m[6] != "9" || m[7] != "--" || m[12] != "0" {
			t.Errorf("bytes %s, termination %s, retries %s; want 9, --, 0 in %q", m[6], m[7], m[12], m[0])
		}
	})
}
