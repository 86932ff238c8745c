package main

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EAfterServerTimeout runs what may follow a server timeout through
// goproxy and haproxy (timeout server 500ms, timeout client 2s, a server
// that reads and never answers): the client goes idle, sends more and goes
// idle, resets, or the server resets. Each proxy must close the server
// side at the same moment, pass the client's bytes, and count the same
// aborts.
func TestE2EAfterServerTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 15 seconds per proxy")
	}
	t.Parallel()
	type result struct {
		serverEnd time.Duration // after the client's first byte
		received  string
		counters  string // cli_abrt/srv_abrt/eresp of the server
	}
	scenarios := []string{"idle", "late", "clientreset", "serverreset"}
	got := map[string]map[string]result{}
	for name, bin := range oracles(t) {
		got[name] = map[string]result{}
		for _, sc := range scenarios {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			sock := filepath.Join(t.TempDir(), "s.sock")
			addr, _ := e2eCfg{global: []string{"stats socket " + sock + " level admin"},
				defaults: []string{"timeout server 500ms", "timeout client 2s"},
				servers:  []string{"server s1 " + ln.Addr().String()}}.runWith(t, bin)
			type end struct {
				at  time.Time
				got string
			}
			ended := make(chan end, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					ended <- end{}
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if sc == "serverreset" {
					b := make([]byte, 1)
					_, _ = c.Read(b)
					time.Sleep(700 * time.Millisecond) // past the timeout
					c.(*net.TCPConn).SetLinger(0)
					ended <- end{time.Now(), string(b)}
					return
				}
				b, _ := io.ReadAll(c)
				ended <- end{time.Now(), string(b)}
			}()
			c, err := dialFrom("127.0.0.2", addr)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c.Write([]byte("a"))
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err != io.EOF && sc != "serverreset" {
				t.Fatalf("%s %s: the client read %v after the server timeout, want EOF", name, sc, err)
			}
			switch sc {
			case "late":
				time.Sleep(300 * time.Millisecond)
				c.Write([]byte("b"))
			case "clientreset":
				time.Sleep(300 * time.Millisecond)
				c.SetLinger(0)
				c.Close()
			}
			var e end
			select {
			case e = <-ended:
			case <-time.After(8 * time.Second):
				t.Fatalf("%s %s: the server connection never ended", name, sc)
			}
			c.Close()
			rows := waitStat(t, sock, 3*time.Second, "the session to end", func(r map[string]statRow) bool {
				return r["be/BACKEND"]["scur"] == "0"
			})
			s1 := rows["be/s1"]
			got[name][sc] = result{serverEnd: e.at.Sub(start).Round(100 * time.Millisecond), received: e.got,
				counters: strings.Join([]string{s1["cli_abrt"], s1["srv_abrt"], s1["eresp"]}, "/")}
		}
	}
	want := map[string]result{
		// timeout client from the client's last byte, not from its FIN
		"idle": {2 * time.Second, "a", "0/1/0"},
		"late": {2800 * time.Millisecond, "ab", "0/1/0"},
		// a client reset after the timeout ends it and counts;
		"clientreset": {800 * time.Millisecond, "a", "1/1/0"},
		// a server reset after the timeout does not count again
		"serverreset": {700 * time.Millisecond, "a", "0/1/0"},
	}
	for name, res := range got {
		for _, sc := range scenarios {
			g, w := res[sc], want[sc]
			d := g.serverEnd - w.serverEnd
			if d < -200*time.Millisecond || d > 300*time.Millisecond || g.received != w.received || g.counters != w.counters {
				t.Errorf("%s %s: server side ended after %v having read %q, counters %s; want ~%v, %q, %s",
					name, sc, g.serverEnd, g.received, g.counters, w.serverEnd, w.received, w.counters)
			}
		}
	}
}
