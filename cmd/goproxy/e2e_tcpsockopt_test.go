package main

import (
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestTCPSockoptActionsCheckDifferential compares haproxy -c and goproxy
// -c on set-mark, set-tos, set-log-level and set-var-fmt, valid and not.
func TestTCPSockoptActionsCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	head := "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
		"frontend fe\n  bind 127.0.0.1:9\n  default_backend be\n"
	be := "backend be\n  server s1 127.0.0.1:1\n"
	for i, l := range []string{
		"tcp-request connection set-mark 0x2a", "tcp-request session set-mark 7 if TRUE", "tcp-request content set-mark -1",
		"tcp-request connection set-mark 99999999999", "tcp-request content set-mark", "tcp-request content set-mark 0x1g",
		"tcp-request content set-mark 010", "tcp-request content set-mark if TRUE", "tcp-request content set-mark 1 extra",
		"tcp-request connection set-tos 0x20", "tcp-request session set-tos 8", "tcp-request content set-tos 12x", "tcp-request content set-tos",
		"tcp-request content set-log-level err", "tcp-request content set-log-level silent if TRUE", "tcp-request content set-log-level",
		"tcp-request content set-log-level foo", "tcp-request connection set-log-level err", "tcp-request session set-log-level err",
		"tcp-request connection set-var-fmt(sess.a) \"%ci:%cp %f\"", "tcp-request connection set-var-fmt(sess.a) \"%[req.len]\"",
		"tcp-request session set-var-fmt(sess.a) %[req.payload(0,1)]", "tcp-request content set-var-fmt(txn.a) \"%[req.len] %T %B %ts\"",
		"tcp-request content set-var-fmt(txn.a) \"%[nope]\"", "tcp-request content set-var-fmt(txn.a) \"%[src\"",
		"tcp-request content set-var-fmt(txn.a) %zz", "tcp-request content set-var-fmt(txn.a)", "tcp-request content set-var-fmt(txn.a) \"\"",
		"tcp-request content set-var-fmt(txn.a) %ci extra", "tcp-request content set-var-fmt(nope) %ci",
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			compareCheck(t, haproxy, head+"  "+l+"\n"+be)
		})
	}
}

// canMark reports whether this process may set SO_MARK (CAP_NET_ADMIN).
func canMark() bool {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, 1) == nil
}

var ssPeer = regexp.MustCompile(`127\.0\.0\.1:\d+\s+(127\.0\.0\.\d+):\d+`)

// clientSockopts returns, by client address, the "tos:" and "fwmark:" ss
// shows of the sockets accepted on port, as "tos:0x20 fwmark:0x2a".
func clientSockopts(t *testing.T, port string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, args := range [][]string{{"--tos"}, {"-e"}} {
		cmd := append([]string{"-tnH"}, args...)
		cmd = append(cmd, "state", "established", "( sport = :"+port+" )")
		b, err := exec.Command("ss", cmd...).Output()
		if err != nil {
			t.Fatalf("ss %v: %v", cmd, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			m := ssPeer.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "tos:") || strings.HasPrefix(f, "fwmark:") {
					out[m[1]] = strings.TrimSpace(out[m[1]] + " " + f)
				}
			}
		}
	}
	return out
}

// TestE2ESockoptActions sets the TOS and the mark of client sockets at the
// three tcp-request stages, through goproxy and haproxy, and reads them
// back from the accepted sockets (ss, over sock_diag): they must be the
// rules' values, and the same on both. The marks are checked only where
// this process may set one (CAP_NET_ADMIN).
func TestE2ESockoptActions(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("SKIP: ss is not on PATH")
	}
	mark := canMark()
	if !mark {
		t.Log("SKIP: the set-mark half: SO_MARK needs CAP_NET_ADMIN")
	}
	frontend := []string{
		"tcp-request connection set-tos 0x20 if { src 127.0.0.2 }",
		"tcp-request session set-tos 0x48 if { src 127.0.0.3 }",
		"tcp-request content set-tos 0xb8 if { src 127.0.0.4 }",
	}
	want := map[string]string{"127.0.0.2": "tos:0x20", "127.0.0.3": "tos:0x48", "127.0.0.4": "tos:0xb8", "127.0.0.5": "tos:0"}
	if mark {
		frontend = append(frontend,
			"tcp-request connection set-mark 0x2a if { src 127.0.0.2 }",
			"tcp-request session set-mark 7 if { src 127.0.0.3 }",
			"tcp-request content set-mark 0x10000 if { src 127.0.0.4 }")
		want = map[string]string{"127.0.0.2": "tos:0x20 fwmark:0x2a", "127.0.0.3": "tos:0x48 fwmark:0x7",
			"127.0.0.4": "tos:0xb8 fwmark:0x10000", "127.0.0.5": "tos:0"}
	}
	got := map[string]map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1, holding)
		addr, _ := e2eCfg{frontend: frontend, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"} {
			c, name := openName(t, ip, addr)
			if name != "s1" {
				t.Fatalf("%s: greeting %q", ip, name)
			}
			defer c.Close()
		}
		opts := clientSockopts(t, addr[strings.LastIndexByte(addr, ':')+1:])
		if !reflect.DeepEqual(opts, want) {
			t.Errorf("client sockets: %v, want %v", opts, want)
		}
		got[t.Name()] = opts
	})
	if len(got) == 2 && !reflect.DeepEqual(got["TestE2ESockoptActions/goproxy"], got["TestE2ESockoptActions/haproxy"]) {
		t.Errorf("goproxy and haproxy differ: %v", got)
	}
}

// TestE2ELogLevelAndVarFmt runs set-log-level and set-var-fmt through
// goproxy and haproxy: the log line of a session takes the level a content
// rule gave it (err instead of info), "silent" drops it, and variables formatted at the connection
// and content stages (%ci, %f, %[req.payload]) are logged by the log
// format; both write the same datagrams, times masked.
func TestE2ELogLevelAndVarFmt(t *testing.T) {
	lines := map[string][]string{}
	line := regexp.MustCompile(`^<(\d+)>.*haproxy\[\d+\]: (127\.0\.0\.\d+ .*)`)
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		addr, _ := e2eCfg{
			defaults: []string{"log " + sink.addr() + " local2"},
			frontend: []string{
				"log-format \"%ci %[var(sess.f)] %[var(txn.g)]\"",
				"tcp-request inspect-delay 2s",
				"tcp-request connection set-var-fmt(sess.f) \"%ci/%f:%fp\"",
				"tcp-request content set-var-fmt(txn.g) \"<%[req.payload(0,3)]>\" if { req.len ge 3 }",
				"tcp-request content set-log-level err if { src 127.0.0.3 }",
				"tcp-request content set-log-level silent if { src 127.0.0.4 }",
			},
			servers: srvLines(ss, []int{1}),
		}.runWith(t, bin)
		port := addr[strings.LastIndexByte(addr, ':')+1:]
		for _, ip := range []string{"127.0.0.4", "127.0.0.2", "127.0.0.3"} {
			c, err := dialFrom(ip, addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(c, "abcdef\n")
			if name, err := readName(c); err != nil || name != "s1" {
				t.Fatalf("%s: %q %v", ip, name, err)
			}
			c.Close()
		}
		var got []string
		for range 2 {
			m := sink.next(t, line, 3*time.Second)
			got = append(got, m[1]+" "+m[2])
		}
		sort.Strings(got) // the sessions may end in any order
		select {
		case msg := <-sink.msgs:
			t.Errorf("one more datagram: %q", msg)
		case <-time.After(300 * time.Millisecond):
		}
		want := []string{"147 127.0.0.3 127.0.0.3/fe:" + port + " <abc>", "150 127.0.0.2 127.0.0.2/fe:" + port + " <abc>"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("datagrams %q, want %q", got, want)
		}
		for i := range got {
			got[i] = strings.ReplaceAll(got[i], ":"+port, ":PORT")
		}
		lines[t.Name()] = got
	})
	if len(lines) == 2 && !reflect.DeepEqual(lines["TestE2ELogLevelAndVarFmt/goproxy"], lines["TestE2ELogLevelAndVarFmt/haproxy"]) {
		t.Errorf("goproxy and haproxy differ: %q", lines)
	}
}
