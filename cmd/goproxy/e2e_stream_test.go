package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// streamExchange sends size random bytes from ip through addr to an echo
// backend, half-closes, and checks that exactly the same bytes come back
// followed by the close.
func streamExchange(ip, addr string, size int) error {
	c, err := dialFrom(ip, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return streamOn(c, size)
}

// streamOn sends size random bytes on an established connection to an
// echo backend, half-closes, and checks that exactly the same bytes come
// back followed by the close.
func streamOn(c *net.TCPConn, size int) error {
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	data := make([]byte, size)
	_, _ = rand.Read(data)
	werr := make(chan error, 1)
	go func() {
		// Uneven chunks, so that writes do not line up with any buffer.
		rest := data
		for n := 1; len(rest) > 0; n = (n*3 + 7) % 65536 {
			k := min(n+1, len(rest))
			if _, err := c.Write(rest[:k]); err != nil {
				werr <- err
				return
			}
			rest = rest[k:]
		}
		werr <- c.CloseWrite()
	}()
	got, rerr := io.ReadAll(c)
	if err := <-werr; err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("reading after %d bytes: %w", len(got), rerr)
	}
	if !bytes.Equal(got, data) {
		i := 0
		for i < len(got) && i < len(data) && got[i] == data[i] {
			i++
		}
		return fmt.Errorf("got %d bytes back for %d sent, first difference at %d", len(got), len(data), i)
	}
	return nil
}

func TestE2EHalfClose(t *testing.T) {
	onOracles(t, testHalfClose)
}

func testHalfClose(t *testing.T, bin string) {
	ss := nameServers(t, 1, silent)
	addr, _ := e2eCfg{servers: srvLines(ss, []int{1})}.runWith(t, bin)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := streamExchange(srcIP(i), addr, 1<<20); err != nil {
				errs <- fmt.Errorf("stream %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, 3*time.Second, "the server sides to close", func() bool { return openTotal(ss) == 0 })
}

func TestE2EServerHalfClose(t *testing.T) {
	onOracles(t, testServerHalfClose)
}

// testServerHalfClose: the server says its line and half-closes first; the
// client still sends 256 kB, all of which must reach the server.
func testServerHalfClose(t *testing.T, bin string) {
	ss := nameServers(t, 1, func(s *nameServer) { s.finFirst = true })
	addr, _ := e2eCfg{servers: srvLines(ss, []int{1})}.runWith(t, bin)
	c, name := openName(t, "127.0.0.2", addr)
	if name != "s1" {
		t.Fatalf("greeting %q", name)
	}
	expectClosed(t, c, 3*time.Second) // the server's FIN, forwarded
	const size = 256 << 10
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatalf("writing after the server's half-close: %v", err)
	}
	c.(*net.TCPConn).CloseWrite()
	select {
	case n := <-ss[0].received:
		if n != size {
			t.Errorf("server received %d bytes after its half-close, want %d", n, size)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the client's end")
	}
}

// resetter is a backend that greets, then answers the first byte it reads
// with a reset.
func resetter(s *nameServer) { s.reset = true }

func TestE2EResets(t *testing.T) {
	onOracles(t, testResets)
}

func testResets(t *testing.T, bin string) {
	t.Run("from client", func(t *testing.T) {
		ss := nameServers(t, 1, holding)
		addr, _ := e2eCfg{servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		waitFor(t, 3*time.Second, "the server side to close after a client reset", func() bool { return openTotal(ss) == 0 })
	})

	t.Run("from server", func(t *testing.T) {
		ss := nameServers(t, 1, resetter)
		addr, _ := e2eCfg{servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		expectClosed(t, c, 3*time.Second)
		if n := ss[0].accepted.Load(); n != 1 {
			t.Errorf("server accepted %d connections, want 1", n)
		}
	})
}

func TestE2ENoLeak(t *testing.T) {
	ss := nameServers(t, 2)
	addr, p := e2eCfg{servers: srvLines(ss, []int{1, 1})}.run(t)
	pid := p.pid()
	fds0 := fdCount(t, pid)
	const cycles, workers = 2000, 40
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cycles; i += workers {
				c, err := dialFrom(srcIP(i), addr)
				if err == nil {
					if i%2 == 0 {
						// Half read the greeting, half close at once.
						_, err = readName(c)
					}
					c.Close()
				}
				if err != nil && !errors.Is(err, io.EOF) {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if len(failures) > 0 {
		t.Fatalf("%d of %d cycles failed, first: %v", len(failures), cycles, failures[0])
	}
	waitFor(t, 5*time.Second, "goproxy's fds back to the start count", func() bool { return fdCount(t, pid) <= fds0 })
	waitFor(t, 5*time.Second, "the backends' connections to close", func() bool { return openTotal(ss) == 0 })
	rss := procStatus(t, pid, "VmRSS")
	threads := procStatus(t, pid, "Threads")
	t.Logf("%d cycles in %v; fds %d -> %d; RSS %d kB; %d threads", cycles, took, fds0, fdCount(t, pid), rss, threads)
	if rss > 150*1024 {
		t.Errorf("RSS %d kB after %d short sessions", rss, cycles)
	}
	if threads > 64 {
		t.Errorf("%d threads after %d short sessions", threads, cycles)
	}
	if took > 20*time.Second {
		t.Errorf("%d connect/close cycles took %v", cycles, took)
	}
}

// TestE2EIdleSessionMemory holds 1,000 idle sessions (as CMPP links
// between heartbeats) and bounds goproxy's memory per session.
func TestE2EIdleSessionMemory(t *testing.T) {
	ss := nameServers(t, 2, holding)
	addr, p := e2eCfg{servers: srvLines(ss, []int{1, 1})}.run(t)
	pid := p.pid()
	// One session first, so that start-up allocations are not counted.
	openName(t, "127.0.0.2", addr)
	rss0 := procStatus(t, pid, "VmRSS")
	const n = 1000
	for i := 0; i < n; i++ {
		c, err := dialFrom(srcIP(i), addr)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
	}
	waitFor(t, 10*time.Second, "every session to reach a server", func() bool { return openTotal(ss) == n+1 })
	rss := procStatus(t, pid, "VmRSS")
	per := float64(rss-rss0) * 1024 / n
	t.Logf("RSS %d kB -> %d kB with %d idle sessions: %.0f bytes per session; %d fds", rss0, rss, n, per, fdCount(t, pid))
	if per > 8<<10 { // two goroutine stacks per session would cost more
		t.Errorf("%.0f bytes of RSS per idle session, want at most 8 KiB", per)
	}
}
