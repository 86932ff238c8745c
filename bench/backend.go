package main

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// backendKind says what a backend server does with a connection.
type backendKind int

const (
	sinkBackend  backendKind = iota // reads and discards, counting bytes
	replyBackend                    // reads reqSize bytes, writes respSize bytes, again
)

// backend is a server the proxies forward to, run in the harness process.
// Every connection gets a deadline at accept (connDeadline), so nothing
// waits forever.
type backend struct {
	kind              backendKind
	reqSize, respSize int
	connDeadline      time.Duration

	ln    net.Listener
	bytes atomic.Int64 // bytes received (sink)
	cur   atomic.Int64 // connections open now
	total atomic.Int64 // connections accepted

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// startBackend listens on a free loopback port and serves until close.
func startBackend(kind backendKind, req, resp int, connDeadline time.Duration) (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &backend{kind: kind, reqSize: req, respSize: resp, connDeadline: connDeadline,
		ln: ln, conns: make(map[net.Conn]struct{})}
	b.wg.Add(1)
	go b.acceptLoop()
	return b, nil
}

func (b *backend) addr() string { return b.ln.Addr().String() }

func (b *backend) acceptLoop() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like
			continue
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			c.Close()
			return
		}
		b.conns[c] = struct{}{}
		b.wg.Add(1)
		b.mu.Unlock()
		b.total.Add(1)
		b.cur.Add(1)
		go b.serve(c)
	}
}

func (b *backend) serve(c net.Conn) {
	defer func() {
		c.Close()
		b.cur.Add(-1)
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		b.wg.Done()
	}()
	c.SetDeadline(time.Now().Add(b.connDeadline))
	if b.kind == sinkBackend {
		buf := make([]byte, 256<<10)
		for {
			n, err := c.Read(buf)
			b.bytes.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
	req := make([]byte, b.reqSize)
	resp := make([]byte, b.respSize)
	for i := range resp {
		resp[i] = 'r'
	}
	for {
		if _, err := io.ReadFull(c, req); err != nil {
			return
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// waitConns waits until exactly n connections are open, up to timeout.
func (b *backend) waitConns(n int64, timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if b.cur.Load() == n {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return b.cur.Load() == n
}

// close stops the backend and closes its connections.
func (b *backend) close() {
	b.mu.Lock()
	b.closed = true
	b.ln.Close()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}
