package main

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"goproxy/internal/nettest"
)

// blackhole returns the address of a listener whose accept queue is full,
// so that a new connect gets no answer (the kernel drops its SYN).
func blackhole(t *testing.T) string {
	return "127.0.0.1:" + strconv.Itoa(nettest.Blackhole(t))
}

// expectWaiting fails unless c receives nothing for 300 ms: the client
// waits in the listen backlog or the queue.
func expectWaiting(t *testing.T, c net.Conn, who string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(make([]byte, 8)); err == nil || !isTimeout(err) {
		t.Fatalf("%s read %d bytes, err %v; want it to wait", who, n, err)
	}
}

// checkDuration fails unless lo <= d <= hi.
func checkDuration(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d > hi {
		t.Errorf("%s after %v, want between %v and %v", what, d, lo, hi)
	}
}

func TestE2ETimeouts(t *testing.T) {
	t.Parallel()
	onOracles(t, testTimeouts)
}

func testTimeouts(t *testing.T, bin string) {
	t.Run("client", func(t *testing.T) {
		ss := nameServers(t, 1, holding)
		addr, _ := e2eCfg{defaults: []string{"timeout client 300ms"}, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		checkDuration(t, "idle client closed", expectClosed(t, c, 5*time.Second), 200*time.Millisecond, 3*time.Second)
		waitFor(t, 3*time.Second, "the server side to close", func() bool { return openTotal(ss) == 0 })
	})

	t.Run("server", func(t *testing.T) {
		rec := startRecorder(t)
		addr, _ := e2eCfg{defaults: []string{"timeout server 300ms"},
			servers: []string{"server s1 " + rec.addr()}}.runWith(t, bin)
		c, err := dialFrom("127.0.0.2", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("early\n")); err != nil {
			t.Fatal(err)
		}
		checkDuration(t, "idle server closed", expectClosed(t, c, 5*time.Second), 100*time.Millisecond, 3*time.Second)
		// The client got a FIN, but the server connection stays, and what
		// the client still sends reaches the server: HAProxy stops reading
		// the server only. The session ends when the client closes.
		if _, err := c.Write([]byte("late\n")); err != nil {
			t.Fatalf("write after the timeout: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
		select {
		case got := <-rec.done:
			t.Fatalf("server connection closed with the client's FIN (received %q)", got)
		default:
		}
		c.Close()
		select {
		case got := <-rec.done:
			if got != "early\nlate\n" {
				t.Errorf("the server received %q, want %q", got, "early\nlate\n")
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the server connection outlived the client")
		}
	})

	t.Run("tunnel", func(t *testing.T) {
		ss := nameServers(t, 1)
		addr, _ := e2eCfg{defaults: []string{"timeout tunnel 400ms"}, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		// Traffic every 150 ms keeps the tunnel open past its timeout.
		start := time.Now()
		buf := make([]byte, 2)
		for i := 0; i < 6; i++ {
			time.Sleep(150 * time.Millisecond)
			c.SetDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write([]byte("x\n")); err != nil {
				t.Fatalf("write %d, %v after start: %v", i, time.Since(start), err)
			}
			if _, err := c.Read(buf); err != nil {
				t.Fatalf("echo %d, %v after start: %v", i, time.Since(start), err)
			}
		}
		checkDuration(t, "idle tunnel closed", expectClosed(t, c, 5*time.Second), 300*time.Millisecond, 3*time.Second)
	})

	t.Run("connect", func(t *testing.T) {
		hole := blackhole(t)
		addr, _ := e2eCfg{defaults: []string{"timeout connect 300ms", "retries 0"}, servers: []string{"server s1 " + hole}}.runWith(t, bin)
		c, err := dialFrom("127.0.0.2", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		checkDuration(t, "unanswered connect given up", expectClosed(t, c, 5*time.Second), 250*time.Millisecond, 3*time.Second)
	})

	t.Run("queue", func(t *testing.T) {
		ss := nameServers(t, 1, holding)
		addr, _ := e2eCfg{defaults: []string{"timeout queue 300ms"}, servers: srvLines(ss, []int{1}, "maxconn 1")}.runWith(t, bin)
		openName(t, "127.0.0.2", addr)
		c, err := dialFrom("127.0.0.3", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		checkDuration(t, "queued client dropped", expectClosed(t, c, 5*time.Second), 250*time.Millisecond, 3*time.Second)
		if n := ss[0].accepted.Load(); n != 1 {
			t.Errorf("the server accepted %d connections, want 1 (the queued one must not reach it)", n)
		}
	})
}

func TestE2EMaxconn(t *testing.T) {
	onOracles(t, testMaxconn)
}

func testMaxconn(t *testing.T, bin string) {
	t.Run("frontend", func(t *testing.T) {
		ss := nameServers(t, 1, holding)
		addr, _ := e2eCfg{frontend: []string{"maxconn 1"}, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		first, _ := openName(t, "127.0.0.2", addr)
		second, err := dialFrom("127.0.0.3", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		// The second client waits in the listen backlog: no greeting yet.
		expectWaiting(t, second, "second client over frontend maxconn 1")
		if n := ss[0].accepted.Load(); n != 1 {
			t.Errorf("server accepted %d connections, want 1", n)
		}
		first.Close()
		if name, err := readName(second); err != nil || name != "s1" {
			t.Fatalf("second client after the first left: %q %v", name, err)
		}
	})

	t.Run("server queue", func(t *testing.T) {
		ss := nameServers(t, 1, holding)
		addr, _ := e2eCfg{defaults: []string{"timeout queue 5s"}, servers: srvLines(ss, []int{1}, "maxconn 1")}.runWith(t, bin)
		first, _ := openName(t, "127.0.0.2", addr)
		second, err := dialFrom("127.0.0.3", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		expectWaiting(t, second, "second client over server maxconn 1")
		first.Close()
		if name, err := readName(second); err != nil || name != "s1" {
			t.Fatalf("queued client after the first left: %q %v", name, err)
		}
		if max := ss[0].accepted.Load(); max != 2 {
			t.Errorf("server accepted %d connections, want 2", max)
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// recorder is a backend that accepts one connection, never writes, and
// reports everything it read once the connection ends.
type recorder struct {
	ln   net.Listener
	done chan string
}

func startRecorder(t *testing.T) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, done: make(chan string, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		b, _ := io.ReadAll(c)
		r.done <- string(b)
	}()
	return r
}

func (r *recorder) addr() string { return r.ln.Addr().String() }
