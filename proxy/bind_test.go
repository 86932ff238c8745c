package proxy

import (
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"goproxy/parser"
)

func TestBindError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		cap  parser.Cap
		kind string
	}{{parser.CapFrontend | parser.CapBackend, "proxy"}, {parser.CapFrontend, "frontend"}} {
		p := listenProxy(deadPort(t))
		p.Cap = tc.cap
		p.DefaultBackend = ""
		p.Binds = append(p.Binds, &parser.Bind{Pos: parser.Pos{File: "x.cfg", Line: 9}, Addr: tcpAddr(port)})
		g, err := Build(config(p), Options{})
		if err != nil {
			t.Fatal(err)
		}
		fds := countFDs(t)
		err = g.Start()
		want := "Binding [x.cfg:9] for " + tc.kind + " li: cannot bind socket (Address already in use) for [127.0.0.1:" + strconv.Itoa(port) + "]"
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
		if n := countFDs(t); n != fds {
			t.Errorf("%d descriptors before a failed Start, %d after", fds, n)
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("%v does not unwrap to EADDRINUSE", err)
		}
	}
}

func TestStartAgainAfterBindError(t *testing.T) {
	srv := startServer(t, echo)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := listenProxy(srv.port())
	p.Binds[0].Addr = tcpAddr(busy.Addr().(*net.TCPAddr).Port)
	g, err := Build(config(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err == nil {
		t.Fatal("Start succeeded on a busy port")
	}
	busy.Close()
	if err := g.Start(); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	defer g.Close()
	roundTrip(t, dial(t, busy.Addr().String()), "bound at the second try")
}

func TestInheritedFD(t *testing.T) {
	srv := startServer(t, echo)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := listenProxy(srv.port())
	p.Binds[0].Addr = parser.Addr{Family: parser.FamilyFD, FD: 42, Text: "fd@42"}
	g, err := Build(config(p), Options{InheritedFDs: map[int]*os.File{42: f}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	roundTrip(t, dial(t, feAddr(t, g, "li")), "through an inherited socket")
	files := g.ListenerFiles()
	if len(files) != 1 {
		t.Fatalf("%d listener files, want 1", len(files))
	}
	files[0].Close()
}

func TestIPv6Binds(t *testing.T) {
	srv := startServer(t, echo)
	tests := []struct {
		name     string
		host     string
		v6only   bool
		v4v6     bool
		v4Served bool
	}{
		{"loopback", "::1", false, false, false},
		{"any v6only", "", true, false, false},
		{"any v4v6", "", false, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, port := startV6Bind(t, srv.port(), tc.host, tc.v6only, tc.v4v6, !tc.v4Served)
			roundTrip(t, dial(t, net.JoinHostPort("::1", strconv.Itoa(port))), "over v6")
			c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
			if (err == nil) != tc.v4Served {
				t.Fatalf("IPv4 connect: err=%v, want served=%v", err, tc.v4Served)
			}
			if err == nil {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				roundTrip(t, c, "over v4")
				c.Close()
			}
			for _, s := range g.Sessions() {
				if s.Source.Addr().Is4In6() {
					t.Errorf("source %v kept as a mapped address", s.Source)
				}
			}
		})
	}
}

// startV6Bind starts a graph whose listener binds [host]:0 with the given
// v6only/v4v6 options and returns it with the port the kernel chose: a port
// picked by probing 127.0.0.1:0 and closing it could meanwhile be taken
// by any IPv4 socket on that port (a wildcard dual-stack bind conflicts
// with all of them, the ephemeral ports of connections included), while a
// bind on port 0 cannot collide. With v4Refused, it also holds
// 127.0.0.1:port bound (not listening) until the test ends, so that an
// IPv4 connect to the port is refused for certain and not answered by some
// other listener; a port whose IPv4 twin is taken is dropped for another,
// a few times at most.
func startV6Bind(t *testing.T, srvPort int, host string, v6only, v4v6, v4Refused bool) (*Graph, int) {
	t.Helper()
	for try := 0; ; try++ {
		p := listenProxy(srvPort)
		p.Binds[0].Addr = parser.Addr{Family: parser.FamilyTCP6, Host: host, Port: 0}
		p.Binds[0].V6Only, p.Binds[0].V4V6 = v6only, v4v6
		g := startGraph(t, config(p))
		_, ps, err := net.SplitHostPort(feAddr(t, g, "li"))
		if err != nil {
			t.Fatal(err)
		}
		port, err := strconv.Atoi(ps)
		if err != nil {
			t.Fatal(err)
		}
		if !v4Refused {
			return g, port
		}
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
		if err == nil {
			t.Cleanup(func() { syscall.Close(fd) })
			return g, port
		}
		syscall.Close(fd)
		g.Close()
		if !errors.Is(err, syscall.EADDRINUSE) || try == 4 {
			t.Fatalf("holding 127.0.0.1:%d: %v", port, err)
		}
	}
}

func TestHandoffWhilePaused(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port())
	p.Binds[0].Addr = tcpAddr(deadPort(t))
	old := startGraph(t, config(p))
	addr := feAddr(t, old, "li")
	old.Pause()
	files := old.ListenerFiles()
	if len(files) != 1 {
		t.Fatalf("%d listener files, want 1", len(files))
	}
	defer files[0].Close()
	q := listenProxy(srv.port())
	q.Binds[0].Addr = parser.Addr{Family: parser.FamilyFD, FD: 3, Text: "fd@3"}
	g, err := Build(config(q), Options{InheritedFDs: map[int]*os.File{3: files[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	roundTrip(t, dial(t, addr), "served by the new graph")
	old.StopListening()
	roundTrip(t, dial(t, addr), "still served after the old one stopped")
}

func TestReloadBindsBesideTheOldGraph(t *testing.T) {
	srv := startServer(t, echo)
	port := deadPort(t)
	mk := func() *Graph {
		p := listenProxy(srv.port())
		p.Binds[0].Addr = tcpAddr(port)
		return startGraph(t, config(p))
	}
	old := mk()
	addr := feAddr(t, old, "li")
	long := dial(t, addr)
	roundTrip(t, long, "before the reload")
	fresh := mk() // SO_REUSEPORT: binds while the old one listens
	old.StopListening()
	for i := 0; i < 20; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "new connections reach the new graph")
		c.Close()
	}
	roundTrip(t, long, "the old session lives on")
	if st := fresh.Frontend("li").Stats(); st.ConnTot != 20 {
		t.Errorf("new graph accepted %d, want 20", st.ConnTot)
	}
	long.Close()
	select {
	case <-old.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("old graph not done after its last session")
	}
}
