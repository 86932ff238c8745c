package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"goproxy/internal/rawsys"
	"goproxy/parser"
)

// backendServer is an in-process TCP server for tests.
type backendServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// startServer runs handle for each connection on 127.0.0.1:0.
func startServer(t *testing.T, handle func(c net.Conn)) *backendServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &backendServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				handle(c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *backendServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *backendServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// echo copies the input back and half-closes at its end.
func echo(c net.Conn) {
	_, _ = io.Copy(c, c)
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, c)
}

// deadPort returns a loopback port where nothing listens.
func deadPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// tcpAddr is a parser address for 127.0.0.1:port.
func tcpAddr(port int) parser.Addr {
	return parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port, Text: "127.0.0.1"}
}

// listenProxy returns a listen section "li" bound on 127.0.0.1:0 with the
// given server ports and sane timeouts.
func listenProxy(ports ...int) *parser.Proxy {
	p := &parser.Proxy{
		Pos: parser.Pos{File: "test.cfg", Line: 1}, Kind: "listen", Name: "li",
		Cap: parser.CapFrontend | parser.CapBackend, ID: 2, Mode: parser.ModeTCP,
		Binds:   []*parser.Bind{{Pos: parser.Pos{File: "test.cfg", Line: 2}, Addr: tcpAddr(0)}},
		Balance: parser.Balance{Algo: "roundrobin"},
		Retries: 3,
		Timeouts: parser.Timeouts{Connect: time.Second, Client: 10 * time.Second,
			Server: 10 * time.Second},
	}
	p.Options.RedispatchInterval = -1
	for i, port := range ports {
		p.Servers = append(p.Servers, &parser.Server{
			Pos: parser.Pos{File: "test.cfg", Line: 3 + i}, Name: "s" + string(rune('1'+i)),
			Addr: tcpAddr(port), ServerParams: parser.ServerParams{Weight: 1, Rise: 2, Fall: 3},
		})
	}
	return p
}

// config wraps proxies into a configuration.
func config(ps ...*parser.Proxy) *parser.Config {
	return &parser.Config{Global: parser.Global{MaxConn: 4000}, Proxies: ps}
}

// startGraph builds and starts a graph, closed at the end of the test.
func startGraph(t *testing.T, cfg *parser.Config) *Graph {
	t.Helper()
	g, err := Build(cfg, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := g.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(g.Close)
	return g
}

// addr returns the address the frontend's first listener is bound to.
func feAddr(t *testing.T, g *Graph, fe string) string {
	t.Helper()
	f := g.Frontend(fe)
	if f == nil || len(f.Listeners) == 0 {
		t.Fatalf("no frontend %s", fe)
	}
	ap, err := rawsys.Getsockname(f.Listeners[0].fd)
	if err != nil {
		t.Fatal(err)
	}
	return ap.String()
}

// dial connects to addr with a deadline on every operation.
func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// roundTrip writes msg and reads len(msg) bytes back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(buf, []byte(msg)) {
		t.Fatalf("got %q, want %q", buf, msg)
	}
}

// expectClosed waits (bounded) for the proxy to close c and returns how
// long it took; any byte received fails the test.
func expectClosed(t *testing.T, c net.Conn, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(within))
	var b [1]byte
	n, err := c.Read(b[:])
	if n > 0 {
		t.Fatalf("unexpected byte %q", b[:n])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", within)
	}
	return time.Since(start)
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// countFDs counts this process's open descriptors.
func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

var _ = netip.AddrPort{}
