package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpOnlyRelay is a nameserver reachable over TCP only: it reads the
// framed queries of each connection and asks dnsmasq each one on a new
// TCP connection (dnsmasq serves a TCP connection from a child process
// that never sees a changed hosts file), counting the connections and
// queries it got.
type tcpOnlyRelay struct {
	ln      net.Listener
	conns   atomic.Int64
	queries atomic.Int64
}

func startTCPOnlyRelay(t *testing.T, to string) *tcpOnlyRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpOnlyRelay{ln: ln}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				for {
					q, err := readDNSFrame(c)
					if err != nil {
						return
					}
					r.queries.Add(1)
					a, err := askDNSOverTCP(to, q)
					if err != nil {
						return
					}
					if _, err := c.Write(a); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return r
}

// readDNSFrame reads one length-prefixed DNS message, prefix included.
func readDNSFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, 2+int(binary.BigEndian.Uint16(hdr[:])))
	copy(msg, hdr[:])
	_, err := io.ReadFull(r, msg[2:])
	return msg, err
}

// askDNSOverTCP sends one framed query to addr on a connection of its
// own and returns the framed answer.
func askDNSOverTCP(addr string, q []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	return readDNSFrame(c)
}

// TestE2EResolversOverTCP resolves a server-template through a tcp@
// nameserver that only TCP reaches, on goproxy and haproxy: the servers
// take the records, follow a change, and the queries came over one
// connection kept open.
func TestE2EResolversOverTCP(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		b1 := startNameServer(t, "b1", "127.0.0.31:0")
		port := b1.ln.Addr().(*net.TCPAddr).Port
		listenSame(t, "b2", "127.0.0.32", port)
		d := startDNSMasq(t, "127.0.0.31 web.test\n", "")
		relay := startTCPOnlyRelay(t, d.addr())
		dir := t.TempDir()
		sock := filepath.Join(dir, "s.sock")
		listen := loopAddr(t)
		startServing(t, bin, resolversCfg(dir, listen, "tcp@"+relay.ln.Addr().String(),
			fmt.Sprintf("server-template w 2 web.test:%d resolvers dns resolve-prefer ipv4 init-addr none", port)), listen)
		waitState(t, sock, "a server resolved over TCP", func(r map[string]serverState) bool {
			return addrs(r, "w1", "w2") == "- 127.0.0.31"
		})
		names := counts(askN(t, listen, "127.0.0.2", 3))
		if names["b1"] != 3 {
			t.Errorf("traffic over the resolved server: %v", names)
		}
		d.setHosts("127.0.0.31 web.test\n127.0.0.32 web.test\n")
		waitState(t, sock, "the new record over TCP", func(r map[string]serverState) bool {
			return addrs(r, "w1", "w2") == "127.0.0.31 127.0.0.32"
		})
		if relay.conns.Load() == 0 || relay.queries.Load() < 2 {
			t.Errorf("the TCP nameserver got %d connections, %d queries", relay.conns.Load(), relay.queries.Load())
		}
		out := cli(t, sock, "show resolvers dns")
		if !strings.Contains(out, " ns1:") || !strings.Contains(out, "valid:") {
			t.Errorf("show resolvers: %q", out)
		}
		t.Logf("%s: %d connections, %d queries to the TCP nameserver", filepath.Base(bin), relay.conns.Load(), relay.queries.Load())
	})
}
