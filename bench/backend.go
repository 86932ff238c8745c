package main

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// backend is the bulk workloads' server: it reads and discards, counting
// bytes, in the harness process. Every connection gets a deadline at accept
// (connDeadline), so nothing waits forever. (The other workloads' servers
// are rawBackends, served by their run's engine.)
type backend struct {
	connDeadline time.Duration

	ln    net.Listener
	bytes atomic.Int64 // bytes received
	cur   atomic.Int64 // connections open now

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// startSink listens on a free loopback port and serves until close.
func startSink(connDeadline time.Duration) (*backend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &backend{connDeadline: connDeadline, ln: ln, conns: make(map[net.Conn]struct{})}
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
	buf := make([]byte, 256<<10)
	for {
		n, err := c.Read(buf)
		b.bytes.Add(int64(n))
		if err != nil {
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
