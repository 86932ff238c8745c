package resolver

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStreamNSRedials sends queries to a TCP nameserver that answers one
// query per connection then closes: each answer comes back, framed, and
// the next query opens a new connection.
func TestStreamNSRedials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			var hdr [2]byte
			if _, err := io.ReadFull(c, hdr[:]); err == nil {
				msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
				if _, err := io.ReadFull(c, msg); err == nil {
					_, _ = c.Write(append(hdr[:], msg...)) // the query back as its answer
				}
			}
			c.Close()
		}
	}()
	ns := &nameserver{name: "ns1", addr: netip.MustParseAddrPort(ln.Addr().String()), stream: true}
	st := newStreamNS(ns, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan response, 4)
	done := make(chan struct{})
	go func() { st.run(ctx, in); close(done) }()
	for i, q := range []string{"first query", "second"} {
		deadline := time.After(3 * time.Second)
		for sent := false; !sent; {
			// The previous connection may still be seen open: a query
			// written to it is lost, as over UDP, and is sent again.
			if !st.send([]byte(q)) {
				t.Fatal("queue full")
			}
			select {
			case r := <-in:
				if string(r.buf) != q || r.ns != ns {
					t.Fatalf("answer %d: %q", i, r.buf)
				}
				sent = true
			case <-time.After(200 * time.Millisecond):
			case <-deadline:
				t.Fatalf("no answer to query %d", i)
			}
		}
	}
	cancel()
	<-done
	ln.Close()
	wg.Wait()
	if n := conns.Load(); n < 2 {
		t.Errorf("%d connections, want a new one for the second query", n)
	}
}
