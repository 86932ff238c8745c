package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// tcpResponder serves every connection with handle until the test ends.
func tcpResponder(t *testing.T, handle func(c net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// answerLine reads one line and answers reply.
func answerLine(reply string) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
			_, _ = io.WriteString(c, reply)
		}
	}
}

// TestRuntimeProtocolAndAgentChecks runs the CMPP heartbeat check, a
// protocol check and an agent check in the real binary and reads their
// verdicts on the stats socket.
func TestRuntimeProtocolAndAgentChecks(t *testing.T) {
	cmppOK := tcpResponder(t, func(c net.Conn) {
		req := make([]byte, 12)
		if _, err := io.ReadFull(c, req); err == nil {
			// CMPP_ACTIVE_TEST_RESP: length 13, id 0x80000008, same sequence.
			_, _ = c.Write(append([]byte{0, 0, 0, 13, 0x80, 0, 0, 8}, append(req[8:12], 0)...))
		}
	})
	cmppSilent := tcpResponder(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	redisOK := tcpResponder(t, answerLine("+PONG\r\n"))
	redisBad := tcpResponder(t, answerLine("-ERR unknown\r\n"))
	agent := tcpResponder(t, func(c net.Conn) { _, _ = io.WriteString(c, "50%\n") })
	backend := newEcho(t)

	dir := t.TempDir()
	sock := sockPath(dir, "api.sock")
	cfg := fmt.Sprintf(`global
    maxconn 1000
    stats socket %s level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout check 300ms
frontend fe
    bind 127.0.0.1:%d
    default_backend be_cmpp
backend be_cmpp
    option tcp-check
    tcp-check send-binary 0000000c0000000800000001
    tcp-check expect binary 0000000d80000008
    server ok 127.0.0.1:%d check inter 100ms
    server silent 127.0.0.1:%d check inter 100ms
backend be_redis
    option redis-check
    server ok 127.0.0.1:%d check inter 100ms
    server bad 127.0.0.1:%d check inter 100ms
backend be_agent
    server a 127.0.0.1:%d check inter 100ms weight 10 agent-check agent-port %d agent-inter 100ms
`, sock, freePort(t), cmppOK, cmppSilent, redisOK, redisBad, backend.port(), agent)
	startReal(t, dir, "-db", "-f", writeFile(t, dir, "checks.cfg", cfg))
	rows := waitStat(t, sock, 5*time.Second, "protocol and agent checks", func(r map[string]statRow) bool {
		return r["be_cmpp/silent"]["status"] == "DOWN" && r["be_redis/bad"]["status"] == "DOWN" &&
			r["be_cmpp/ok"]["check_status"] == "L7OK" && r["be_redis/ok"]["check_status"] == "L7OK" &&
			r["be_agent/a"]["weight"] == "5"
	})
	for _, tc := range []struct{ key, col, want string }{
		{"be_cmpp/ok", "status", "UP"},
		{"be_cmpp/silent", "check_status", "L7TOUT"},
		{"be_redis/ok", "status", "UP"},
		{"be_redis/bad", "check_status", "L7STS"},
		// A weight-only agent reply changes no state: HAProxy 2.6 shows
		// CHECKED / "No status change" (checked on the real binary).
		{"be_agent/a", "agent_status", "CHECKED"},
		{"be_agent/a", "agent_desc", "No status change"},
		{"be_agent/a", "status", "UP"},
	} {
		if got := rows[tc.key][tc.col]; got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.key, tc.col, got, tc.want)
		}
	}
}
