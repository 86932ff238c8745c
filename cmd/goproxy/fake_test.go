package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// The lifecycle tests run this test binary as goproxy (see TestMain) with
// a fake runtime: each frontend bind is a real listening socket (with
// SO_REUSEADDR and SO_REUSEPORT, as HAProxy's) whose sessions echo what
// they read. It honours the graph contract the real runtime must meet.

// fakeGraph is a graph whose sessions echo.
type fakeGraph struct {
	addrs []string

	mu       sync.Mutex
	lns      []net.Listener
	conns    map[net.Conn]struct{}
	stopping bool // no more listening: done once the last session ends
	paused   bool
	closed   bool
	done     chan struct{}
	wg       sync.WaitGroup // accept loops and sessions
}

func fakeBuild(cfg *parser.Config, _ buildOptions) (graph, error) {
	g := &fakeGraph{conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	for _, p := range cfg.Frontends() {
		for _, b := range p.Binds {
			g.addrs = append(g.addrs, net.JoinHostPort(b.Addr.Host, strconv.Itoa(b.Addr.Port)))
		}
	}
	return g, nil
}

// reuseListen listens with SO_REUSEADDR and SO_REUSEPORT, like HAProxy;
// GOPROXY_TEST_NOREUSEPORT=1 leaves SO_REUSEPORT out, so that a new
// process cannot bind next to this one.
func reuseListen(addr string) (net.Listener, error) {
	reusePort := os.Getenv("GOPROXY_TEST_NOREUSEPORT") != "1"
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr == nil && reusePort {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}

// listen binds every address; on error nothing stays bound. g.mu held.
func (g *fakeGraph) listenLocked() error {
	var lns []net.Listener
	for _, a := range g.addrs {
		ln, err := reuseListen(a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("Binding for proxy fe: cannot bind socket (%w) for [%s]", err, a)
		}
		lns = append(lns, ln)
	}
	g.lns = lns
	for _, ln := range lns {
		g.wg.Add(1)
		go g.accept(ln)
	}
	return nil
}

func (g *fakeGraph) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.listenLocked()
}

func (g *fakeGraph) accept(ln net.Listener) {
	defer g.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			c.Close()
			return
		}
		g.conns[c] = struct{}{}
		g.wg.Add(1)
		g.mu.Unlock()
		go g.echo(c)
	}
}

func (g *fakeGraph) echo(c net.Conn) {
	defer g.wg.Done()
	_, _ = io.Copy(c, c)
	c.Close()
	g.mu.Lock()
	delete(g.conns, c)
	g.maybeDoneLocked()
	g.mu.Unlock()
}

func (g *fakeGraph) closeListenersLocked() {
	for _, ln := range g.lns {
		ln.Close()
	}
	g.lns = nil
}

func (g *fakeGraph) maybeDoneLocked() {
	if g.stopping && len(g.conns) == 0 {
		select {
		case <-g.done:
		default:
			close(g.done)
		}
	}
}

func (g *fakeGraph) StopListening() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopping = true
	g.closeListenersLocked()
	g.maybeDoneLocked()
}

func (g *fakeGraph) Pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopping && !g.paused {
		g.paused = true
		g.closeListenersLocked()
	}
}

func (g *fakeGraph) Resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopping && g.paused {
		if err := g.listenLocked(); err == nil {
			g.paused = false
		}
	}
}

func (g *fakeGraph) Close() {
	g.mu.Lock()
	g.closed = true
	g.stopping = true
	g.closeListenersLocked()
	for c := range g.conns {
		c.Close()
	}
	g.maybeDoneLocked()
	g.mu.Unlock()
	g.wg.Wait()
}

func (g *fakeGraph) Done() <-chan struct{} { return g.done }

func (g *fakeGraph) ListenerFiles() []*os.File { return nil }

// fakeSeams make this process a goproxy with the fake runtime (and the
// real parser).
func fakeSeams() seams {
	s := productionSeams()
	s.build = fakeBuild
	return s
}

// applyTestNofile sets the open files limit a test asked for with
// GOPROXY_TEST_NOFILE, before the process acts as goproxy.
func applyTestNofile() {
	if n := os.Getenv("GOPROXY_TEST_NOFILE"); n != "" {
		v, _ := strconv.ParseUint(n, 10, 64)
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: v, Max: v})
	}
}
