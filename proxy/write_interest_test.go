package proxy

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// writeInterest returns, for every session of g, which sides have write
// interest (fCliOut, fSrvOut), as seen from the sessions' loops. The loops
// run fn at the same time, so the counts are taken under a lock.
func writeInterest(g *Graph) (sessions int, out [2]int) {
	var mu sync.Mutex
	g.onLoops(func(l *loop) {
		l.sessions(func(s *session) {
			mu.Lock()
			defer mu.Unlock()
			sessions++
			for side := range 2 {
				if s.has(fOut(side)) {
					out[side]++
				}
			}
		})
	})
	return sessions, out
}

// An established session whose sockets take every byte keeps no write
// interest (the ACKs and FIN acknowledgements of its sends do not wake the
// loop); one whose server stops reading takes it, and every byte still
// arrives once the server reads again.
func TestWriteInterestOnlyWhileBlocked(t *testing.T) {
	release := make(chan struct{})
	sums := make(chan [32]byte, 1)
	srv := startServer(t, func(c net.Conn) {
		var first [4]byte
		if _, err := io.ReadFull(c, first[:]); err != nil {
			return
		}
		if string(first[:]) == "ping" {
			_, _ = c.Write(first[:])
			echo(c)
			return
		}
		<-release // a server that reads nothing for a while
		h := sha256.New()
		h.Write(first[:])
		_, _ = io.Copy(h, c)
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		sums <- sum
	})
	g := startGraph(t, config(listenProxy(srv.port())))
	addr := feAddr(t, g, "li")

	c := dial(t, addr)
	for range 20 {
		roundTrip(t, c, "ping")
	}
	if n, out := writeInterest(g); n != 1 || out != [2]int{} {
		t.Fatalf("idle established session: %d sessions, write interest client/server %v, want 1 and none", n, out)
	}

	b := dial(t, addr)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	want := sha256.Sum256(data)
	wrote := make(chan error, 1)
	go func() {
		_, err := b.Write(data)
		if err == nil {
			err = b.CloseWrite()
		}
		wrote <- err
	}()
	waitFor(t, "the server side to wait for write space", func() bool {
		_, out := writeInterest(g)
		return out[1] == 1
	})
	close(release)
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("client write: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client's write never completed")
	}
	select {
	case got := <-sums:
		if got != want {
			t.Fatal("the server received other bytes than the client sent")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the end of the stream")
	}
	roundTrip(t, c, "ping")
	waitFor(t, "write interest to be dropped once the server caught up", func() bool {
		_, out := writeInterest(g)
		return out == [2]int{}
	})
}
