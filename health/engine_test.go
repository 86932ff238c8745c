package health

import (
	"bufio"
	"context"
	"encoding/hex"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"goproxy/internal/fakesrv"
	"goproxy/internal/nettest"
	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// serve runs handler for every connection accepted on a loopback listener
// until the test ends, and returns the port.
func serve(t *testing.T, handler func(c net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(3 * time.Second))
				handler(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port that refuses connections: it is bound
// (so no other listener gets it) but not listening.
func closedPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testProxy(kind parser.CheckKind, rules ...*parser.TCPCheckRule) *parser.Proxy {
	return &parser.Proxy{Name: "be", Cap: parser.CapBackend, CheckKind: kind, TCPChecks: rules,
		Timeouts: parser.Timeouts{Connect: 300 * time.Millisecond, Check: 300 * time.Millisecond}}
}

func cmppRules(t *testing.T) []*parser.TCPCheckRule {
	return []*parser.TCPCheckRule{
		{Kind: "send-binary", Data: mustHex(t, "0000000c0000000800000001")},
		{Kind: "expect", Match: "binary", Pattern: "0000000d80000008", Data: mustHex(t, "0000000d80000008"), MinRecv: -1},
	}
}

func runOnce(t *testing.T, px *parser.Proxy, port int, params parser.ServerParams) outcome {
	t.Helper()
	rs, err := rulesetFor(px)
	if err != nil {
		t.Fatal(err)
	}
	if params.Inter == 0 {
		params.Inter = 2 * time.Second
	}
	spec, err := healthSpec(px, rs, parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port}, params)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := execute(t.Context(), spec)
	if !ok {
		t.Fatal("check aborted")
	}
	return o
}

func TestChecks(t *testing.T) {
	cmppOK := func(c net.Conn) {
		req := make([]byte, 12)
		if _, err := io.ReadFull(c, req); err != nil {
			return
		}
		c.Write(mustHex(t, "0000000d800000080000000100"))
		io.Copy(io.Discard, c)
	}
	wrongThenClose := func(c net.Conn) {
		io.ReadFull(c, make([]byte, 12))
		c.Write([]byte("HTTP/1.0 400 Bad request\r\n\r\n"))
	}
	readThenClose := func(c net.Conn) { io.ReadFull(c, make([]byte, 12)) }
	silent := func(c net.Conn) { io.Copy(io.Discard, c) }

	cases := []struct {
		name    string
		px      *parser.Proxy
		port    int
		params  parser.ServerParams
		status  srvstate.CheckStatus
		desc    string
		minTook time.Duration
		code    int
		twice   bool // passes count twice, as HAProxy's protocol expects
	}{
		{name: "plain check up", px: testProxy(parser.CheckL4), port: serve(t, silent), status: srvstate.CheckL4OK},
		{name: "plain check refused", px: testProxy(parser.CheckL4), port: closedPort(t), status: srvstate.CheckL4Con, desc: "Connection refused"},
		{name: "tcp-check no rules refused", px: testProxy(parser.CheckTCP), port: closedPort(t), status: srvstate.CheckL4Con,
			desc: "Connection refused at initial connection step of tcp-check"},
		{name: "tcp-check no rules timeout", px: testProxy(parser.CheckTCP), port: nettest.Blackhole(t), status: srvstate.CheckL4TOut,
			desc: " at initial connection step of tcp-check", minTook: 250 * time.Millisecond},
		{name: "cmpp ok", px: testProxy(parser.CheckTCP, cmppRules(t)...), port: serve(t, cmppOK), status: srvstate.CheckL7OK, desc: "(tcp-check)"},
		{name: "cmpp wrong bytes", px: testProxy(parser.CheckTCP, cmppRules(t)...), port: serve(t, wrongThenClose), status: srvstate.CheckL7Rsp,
			desc: "TCPCHK did not match content (binary) at step 2"},
		{name: "cmpp closes", px: testProxy(parser.CheckTCP, cmppRules(t)...), port: serve(t, readThenClose), status: srvstate.CheckL7Rsp,
			desc: "TCPCHK got an empty response at step 2"},
		{name: "cmpp never answers", px: testProxy(parser.CheckTCP, cmppRules(t)...), port: serve(t, silent), status: srvstate.CheckL7TOut,
			desc: " at step 2 of tcp-check (expect binary '')", minTook: 250 * time.Millisecond},
		{name: "expect string with comment", px: testProxy(parser.CheckTCP,
			&parser.TCPCheckRule{Kind: "comment", Comment: "banner"},
			&parser.TCPCheckRule{Kind: "expect", Match: "string", Pattern: "hello", MinRecv: -1}),
			port: serve(t, func(c net.Conn) { c.Write([]byte("bye\n")) }), status: srvstate.CheckL7Rsp,
			desc: "TCPCHK did not match content 'hello' at step 2 comment: banner"},
		{name: "negated regex", px: testProxy(parser.CheckTCP,
			&parser.TCPCheckRule{Kind: "expect", Negate: true, Match: "rstring", Pattern: "^ERR", Regex: regexp.MustCompile("^ERR"), MinRecv: -1}),
			port: serve(t, func(c net.Conn) { c.Write([]byte("ERR busy\n")) }), status: srvstate.CheckL7Rsp,
			desc: "TCPCHK matched unwanted content (regex) at step 1"},
		{name: "explicit connect port", px: testProxy(parser.CheckTCP,
			&parser.TCPCheckRule{Kind: "connect", Port: closedPort(t)}),
			port: serve(t, silent), status: srvstate.CheckL4Con, desc: "Connection refused at step 1 of tcp-check (connect port "},
		{name: "on-error text", px: testProxy(parser.CheckTCP,
			&parser.TCPCheckRule{Kind: "send", Data: []byte("PING\r\n")},
			&parser.TCPCheckRule{Kind: "expect", Match: "string", Pattern: "PONG", MinRecv: 4, OnError: "no pong", OnSuccess: "pong seen"}),
			port:   serve(t, func(c net.Conn) { bufio.NewReader(c).ReadString('\n'); c.Write([]byte("NOPE")); io.Copy(io.Discard, c) }),
			status: srvstate.CheckL7Rsp, desc: "no pong"},
		{name: "on-success text", px: testProxy(parser.CheckTCP,
			&parser.TCPCheckRule{Kind: "send", Data: []byte("PING\r\n")},
			&parser.TCPCheckRule{Kind: "expect", Match: "string", Pattern: "PONG", MinRecv: -1, OnSuccess: "pong seen"}),
			port: serve(t, func(c net.Conn) {
				bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("+PONG"))
				io.Copy(io.Discard, c)
			}),
			status: srvstate.CheckL7OK, desc: "pong seen"},
		{name: "check-send-proxy", px: testProxy(parser.CheckTCP,
			&parser.TCPCheckRule{Kind: "expect", Match: "string", Pattern: "ok", MinRecv: -1}),
			params: parser.ServerParams{CheckSendProxy: true},
			port: serve(t, func(c net.Conn) {
				line, _ := bufio.NewReader(c).ReadString('\n')
				if strings.HasPrefix(line, "PROXY TCP4 127.0.0.1 127.0.0.1 ") && strings.HasSuffix(line, "\r\n") {
					c.Write([]byte("ok"))
				}
			}),
			status: srvstate.CheckL7OK, desc: "(tcp-check)"},
		{name: "redis ok", px: testProxy(parser.CheckRedis), port: serve(t, func(c net.Conn) {
			io.ReadFull(c, make([]byte, 14))
			c.Write([]byte("+PONG\r\n"))
		}), status: srvstate.CheckL7OK, desc: "Redis server is ok"},
		{name: "redis error", px: testProxy(parser.CheckRedis), port: serve(t, func(c net.Conn) {
			io.ReadFull(c, make([]byte, 14))
			c.Write([]byte("-NOAUTH Authentication required.\r\n"))
		}), status: srvstate.CheckL7Sts, desc: "-NOAUTH Authentication required."},
		{name: "ssl hello", px: testProxy(parser.CheckSSLHello), port: serve(t, func(c net.Conn) {
			hdr := make([]byte, 5)
			io.ReadFull(c, hdr)
			c.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x02, 0x02, 0x00})
		}), status: srvstate.CheckL6OK},
		{name: "ssl hello not ssl", px: testProxy(parser.CheckSSLHello), port: serve(t, func(c net.Conn) {
			io.ReadFull(c, make([]byte, 5))
			c.Write([]byte("SSH-2.0-OpenSSH\r\n"))
		}), status: srvstate.CheckL6Rsp},
		{name: "smtp", px: testProxy(parser.CheckSMTP), port: serve(t, func(c net.Conn) {
			c.Write([]byte("220 mx ESMTP\r\n"))
			rd := bufio.NewReader(c)
			if line, _ := rd.ReadString('\n'); line == "HELO localhost\r\n" {
				c.Write([]byte("250 mx greets you\r\n"))
			}
			if line, _ := rd.ReadString('\n'); line == "QUIT\r\n" {
				c.Write([]byte("221 2.0.0 Bye\r\n"))
			}
		}), status: srvstate.CheckL7OK, desc: "2.0.0 Bye", code: 221},
		{name: "smtp closes before QUIT answer", px: testProxy(parser.CheckSMTP), port: serve(t, func(c net.Conn) {
			c.Write([]byte("220 mx ESMTP\r\n"))
			rd := bufio.NewReader(c)
			rd.ReadString('\n')
			c.Write([]byte("250 mx greets you\r\n"))
			rd.ReadString('\n')
		}), status: srvstate.CheckL7Sts, desc: "TCPCHK got an empty response at step 7"},
		{name: "pgsql sasl", px: &parser.Proxy{Name: "be", CheckKind: parser.CheckPgSQL, CheckArgs: parser.CheckArgs{User: "postgres"}}, port: serve(t, func(c net.Conn) {
			io.ReadFull(c, make([]byte, 23))
			c.Write(mustHex(t, "52000000170000000A534352414D2D5348412D3235360000"))
		}), status: srvstate.CheckL7OK, desc: "PostgreSQL server is ok"},
		{name: "pgsql", px: &parser.Proxy{Name: "be", CheckKind: parser.CheckPgSQL, CheckArgs: parser.CheckArgs{User: "hc"}}, port: serve(t, func(c net.Conn) {
			want := pgsqlStartup("hc")
			got := make([]byte, len(want))
			io.ReadFull(c, got)
			if string(got) == string(want) {
				c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 0})
			}
		}), status: srvstate.CheckL7OK, desc: "PostgreSQL server is ok"},
		{name: "mysql no user", px: testProxy(parser.CheckMySQL), port: serve(t, func(c net.Conn) {
			body := append([]byte{0x0a}, "8.0.36\x00rest"...)
			c.Write(append([]byte{byte(len(body)), 0, 0, 0}, body...))
		}), status: srvstate.CheckL7OK, desc: "", twice: true},
		{name: "mysql error", px: testProxy(parser.CheckMySQL), port: serve(t, func(c net.Conn) {
			body := append([]byte{0xff, 0x15, 0x04}, "#28000Access denied"...)
			c.Write(append([]byte{byte(len(body)), 0, 0, 0}, body...))
		}), status: srvstate.CheckL7Sts, desc: "#28000Access denied", code: 1045},
		{name: "ldap", px: testProxy(parser.CheckLDAP), port: serve(t, func(c net.Conn) {
			io.ReadFull(c, make([]byte, 14))
			c.Write(fakesrv.LDAPBindResponse(0))
		}), status: srvstate.CheckL7OK, desc: "", twice: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			o := runOnce(t, c.px, c.port, c.params)
			took := time.Since(start)
			if o.status != c.status || !strings.HasPrefix(o.desc, c.desc) || (c.desc == "" && o.desc != "") || o.code != c.code || o.twice != c.twice {
				t.Fatalf("got %d %q code %d, want %d %q code %d", o.status, o.desc, o.code, c.status, c.desc, c.code)
			}
			if took < c.minTook || took > c.minTook+time.Second {
				t.Fatalf("took %v, want about %v", took, c.minTook)
			}
		})
	}
}

func TestAgentLine(t *testing.T) {
	cases := []struct {
		line string
		want agentReply
	}{
		{"up 75%", agentReply{health: "up", weight: "75%"}},
		{"DRAIN,50% # busy now", agentReply{admin: "DRAIN", weight: "50%", desc: "busy now"}},
		{"down maxconn:10 bogus", agentReply{health: "down", maxconn: "maxconn:10", errWord: "bogus"}},
		{"", agentReply{}},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			if got := parseAgentLine(c.line); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
	port := serve(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		if line == "hello\n" {
			c.Write([]byte("up 30%\r\n"))
		}
	})
	spec := agentSpec(testProxy(parser.CheckL4), parser.Addr{Host: "127.0.0.1", Port: 1},
		parser.ServerParams{AgentCheck: true, AgentPort: port, AgentSend: "hello\n"})
	o, ok := execute(context.Background(), spec)
	if !ok || o.agent == nil || o.agent.health != "up" || o.agent.weight != "30%" {
		t.Fatalf("agent outcome %+v %+v", o, o.agent)
	}
}

// TestAgentReplyTyped: the words of a reply become the values the server
// applies, and refused weight or maxconn words HAProxy's warnings.
func TestAgentReplyTyped(t *testing.T) {
	cases := []struct {
		line string
		want srvstate.AgentReply
	}{
		{"UP 75%", srvstate.AgentReply{Health: srvstate.AgentUp, HealthWord: "UP", Weight: 75, WeightRelative: true, HasWeight: true}},
		{"stopped drain", srvstate.AgentReply{Health: srvstate.AgentDown, HealthWord: "stopped", Admin: srvstate.AgentDrain}},
		{"fail Maint", srvstate.AgentReply{Health: srvstate.AgentDown, HealthWord: "fail", Admin: srvstate.AgentMaint}},
		{"ready 99999%", srvstate.AgentReply{Admin: srvstate.AgentReady, Weight: 25600, WeightRelative: true, HasWeight: true}},
		{"7x%", srvstate.AgentReply{WeightWarning: "Trailing garbage in weight string"}},
		{"300x%", srvstate.AgentReply{WeightWarning: "Absolute weight can only be between 0 and 256 inclusive.\n"}},
		{"maxconn:10 bogus # hi", srvstate.AgentReply{MaxConn: 10, HasMaxConn: true, ErrWord: "bogus", Desc: "hi"}},
		{"MAXCONN:x", srvstate.AgentReply{MaxConnWarning: "maxconn string empty or preceded by garbage"}},
		{"maxconn:", srvstate.AgentReply{MaxConnWarning: "Require <maxconn>.\n"}},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			if got := parseAgentLine(c.line).typed(); *got != c.want {
				t.Fatalf("got %+v, want %+v", *got, c.want)
			}
		})
	}
}

// TestTimeouts: the connect phase is bounded by inter, or by
// min(inter, timeout connect) when "timeout check" is set; once connected,
// "timeout check" (else what is left of inter) bounds the rest.
func TestTimeouts(t *testing.T) {
	silent := func(c net.Conn) { io.Copy(io.Discard, c) }
	ms := time.Millisecond
	cases := []struct {
		name           string
		connect, check time.Duration
		inter          time.Duration
		port           int
		rules          []*parser.TCPCheckRule
		status         srvstate.CheckStatus
		want           time.Duration
	}{
		{name: "connect bounded by inter without timeout check", connect: 100 * ms, inter: 400 * ms,
			port: nettest.Blackhole(t), status: srvstate.CheckL4TOut, want: 400 * ms},
		{name: "connect bounded by timeout connect with timeout check", connect: 150 * ms, check: time.Second, inter: 600 * ms,
			port: nettest.Blackhole(t), status: srvstate.CheckL4TOut, want: 150 * ms},
		{name: "read bounded by inter without timeout check", connect: 100 * ms, inter: 400 * ms,
			port: serve(t, silent), rules: cmppRules(t), status: srvstate.CheckL7TOut, want: 400 * ms},
		{name: "read bounded by timeout check", connect: 100 * ms, check: 150 * ms, inter: time.Second,
			port: serve(t, silent), rules: cmppRules(t), status: srvstate.CheckL7TOut, want: 150 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			px := testProxy(parser.CheckTCP, c.rules...)
			px.Timeouts = parser.Timeouts{Connect: c.connect, Check: c.check}
			start := time.Now()
			o := runOnce(t, px, c.port, parser.ServerParams{Inter: c.inter})
			took := time.Since(start)
			if o.status != c.status || took < c.want || took > c.want+250*ms {
				t.Fatalf("got status %d after %v, want %d after %v", o.status, took, c.status, c.want)
			}
		})
	}
}
