package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"goproxy/internal/cmpp"
)

// seedConfig returns testdata/seed.cfg with its ports and stats socket
// path moved: bind *:9999 becomes listen, the servers 9315..9317 become
// servers[0..2].
func seedConfig(t *testing.T, listen int, servers []string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/seed.cfg")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	repl := []string{
		"bind *:9999", fmt.Sprintf("bind *:%d", listen),
		"/var/run/haproxy.sock", filepath.Join(t.TempDir(), "haproxy.sock"),
	}
	for i, s := range servers {
		repl = append(repl, fmt.Sprintf("127.0.0.1:%d", 9315+i), s)
	}
	out := strings.NewReplacer(repl...).Replace(text)
	for _, old := range []string{":9999", ":9315", ":9316", ":9317", "/var/run/"} {
		if strings.Contains(out, old) {
			t.Fatalf("seed config still holds %q:\n%s", old, out)
		}
	}
	return out
}

// startGateways starts n CMPP gateway simulators named server1..n.
func startGateways(t *testing.T, n int) ([]*cmpp.Gateway, []string) {
	t.Helper()
	var gws []*cmpp.Gateway
	var addrs []string
	for i := 1; i <= n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gw := &cmpp.Gateway{Name: fmt.Sprintf("server%d", i), TextIdle: 5 * time.Second}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = gw.Serve(ln)
		}()
		t.Cleanup(func() {
			gw.Close()
			<-done
		})
		gws = append(gws, gw)
		addrs = append(addrs, ln.Addr().String())
	}
	return gws, addrs
}

// textGateway sends one text line from ip through addr and returns the
// name of the gateway that answered ("cmppgw NAME: LINE").
func textGateway(ip, addr string) (string, error) {
	c, err := dialFrom(ip, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("who\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading answer: %w (got %q)", err, line)
	}
	name, ok := strings.CutPrefix(line, "cmppgw ")
	name, _, ok2 := strings.Cut(name, ":")
	if !ok || !ok2 {
		return "", fmt.Errorf("unexpected answer %q", line)
	}
	return name, nil
}

func TestE2ESeed(t *testing.T) {
	_, gwAddrs := startGateways(t, 3)
	// The seed binds *:port: the port must be free on every address, and
	// stay so until goproxy binds it, while any socket of the machine bound
	// to some address with that port (a connection's ephemeral port
	// among them) makes the wildcard bind fail. A bind failure costs a new
	// pick, a few at most.
	var p *e2eProc
	var addr, text string
	for try := 0; p == nil; try++ {
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		addr = fmt.Sprintf("127.0.0.1:%d", port)
		text = seedConfig(t, port, gwAddrs)
		p, err = tryServing(t, goproxyBin, text, addr)
		if err != nil {
			if try < 4 && errors.Is(err, errExitedEarly) && strings.Contains(p.out.String(), "Address already in use") {
				p = nil
				continue
			}
			t.Fatal(err)
		}
	}

	t.Run("same source same server", func(t *testing.T) {
		first := ""
		for i := 0; i < 20; i++ {
			name, err := textGateway("127.0.0.77", addr)
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			if first == "" {
				first = name
			}
			if name != first {
				t.Fatalf("connection %d went to %s, the first went to %s", i, name, first)
			}
		}
	})

	t.Run("sources spread over all servers", func(t *testing.T) {
		seen := map[string]int{}
		for i := 0; i < 20; i++ {
			name, err := textGateway(srcIP(i), addr)
			if err != nil {
				t.Fatalf("source %s: %v", srcIP(i), err)
			}
			seen[name]++
		}
		for i := 1; i <= 3; i++ {
			if seen[fmt.Sprintf("server%d", i)] == 0 {
				t.Errorf("server%d got none of 20 sources: %v", i, seen)
			}
		}
	})

	t.Run("CMPP session stays on one gateway", func(t *testing.T) {
		for _, ip := range []string{"127.0.0.10", "127.0.0.11", "127.0.0.12"} {
			want, err := textGateway(ip, addr)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			c, err := cmpp.Dial(ctx, addr, ip)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Connect("901234", "", cmpp.Version30)
			if err != nil || resp.Status != 0 {
				t.Fatalf("CONNECT: %+v %v", resp, err)
			}
			if resp.Gateway != want {
				t.Errorf("%s: CONNECT answered by %s, the source maps to %s", ip, resp.Gateway, want)
			}
			for i := 0; i < 5; i++ {
				sr, err := c.Submit(cmpp.Submit{ServiceID: "svc", SrcID: "1065", DestID: "13800000000", Content: []byte("hello " + ip)})
				if err != nil {
					t.Fatalf("SUBMIT %d: %v", i, err)
				}
				if sr.Gateway() != resp.Gateway {
					t.Errorf("SUBMIT %d answered by %s, CONNECT by %s", i, sr.Gateway(), resp.Gateway)
				}
				if err := c.ActiveTest(); err != nil {
					t.Fatalf("ACTIVE_TEST %d: %v", i, err)
				}
			}
			if err := c.Terminate(); err != nil {
				t.Errorf("TERMINATE: %v", err)
			}
			c.Close()
		}
	})

	// Last: the reload must neither cut nor move a CMPP session.
	t.Run("CMPP session across a -sf reload", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		c, err := cmpp.Dial(ctx, addr, "127.0.0.20")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		resp, err := c.Connect("901234", "", cmpp.Version30)
		if err != nil {
			t.Fatal(err)
		}
		submit := func(when string) {
			t.Helper()
			sr, err := c.Submit(cmpp.Submit{ServiceID: "svc", SrcID: "1065", DestID: "13800000000", Content: []byte(when)})
			if err != nil {
				t.Fatalf("SUBMIT %s: %v", when, err)
			}
			if sr.Gateway() != resp.Gateway {
				t.Fatalf("SUBMIT %s answered by %s, CONNECT by %s", when, sr.Gateway(), resp.Gateway)
			}
			if err := c.ActiveTest(); err != nil {
				t.Fatalf("ACTIVE_TEST %s: %v", when, err)
			}
		}
		submit("before")
		cfg := writeFile(t, t.TempDir(), "seed-reloaded.cfg", text)
		nu := startBin(t, goproxyBin, cfg, "-sf", strconv.Itoa(p.pid()))
		waitFor(t, 5*time.Second, "the new process to take the listener", func() bool {
			l := listenerPIDs(t, addr, p.pid(), nu.pid())
			return l[nu.pid()] && !l[p.pid()]
		})
		for i := 0; i < 5; i++ {
			submit("after reload " + strconv.Itoa(i))
		}
		if !p.running() {
			t.Fatal("the old process left with a CMPP session established")
		}
		if name, err := textGateway("127.0.0.20", addr); err != nil || name != resp.Gateway {
			t.Errorf("a new connection from the same source through the new process: %q %v, want %s", name, err, resp.Gateway)
		}
		if err := c.Terminate(); err != nil {
			t.Errorf("TERMINATE: %v", err)
		}
		c.Close()
		if code := p.waitExit(t, 5*time.Second); code != 0 {
			t.Errorf("old process exit code %d", code)
		}
	})
}
