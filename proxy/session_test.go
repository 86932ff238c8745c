package proxy

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

func TestEchoAndCounters(t *testing.T) {
	srv := startServer(t, echo)
	g := startGraph(t, config(listenProxy(srv.port())))
	addr := feAddr(t, g, "li")
	for i := 0; i < 3; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "hello")
		roundTrip(t, c, "world!")
		c.Close()
	}
	fe, be := g.Frontend("li"), g.Backend("li")
	s1 := be.Servers[0]
	waitFor(t, "sessions to end", func() bool { return fe.Stats().Scur == 0 && be.Stats().Scur == 0 })
	for name, st := range map[string]Stats{"frontend": fe.Stats(), "backend": be.Stats(), "server": s1.Stats()} {
		if st.Stot != 3 || st.Bin != 33 || st.Bout != 33 || st.Scur != 0 || st.Smax < 1 {
			t.Errorf("%s: stot=%d bin=%d bout=%d scur=%d smax=%d, want 3/33/33/0/>=1", name, st.Stot, st.Bin, st.Bout, st.Scur, st.Smax)
		}
	}
	if st := be.Stats(); st.Lbtot != 3 || st.Connect != 3 || st.LastSess < 0 || st.Rate != 3 {
		t.Errorf("backend lbtot=%d connect=%d lastsess=%d rate=%d", st.Lbtot, st.Connect, st.LastSess, st.Rate)
	}
	if st := fe.Stats(); st.ConnTot != 3 || st.Slim != 4000 {
		t.Errorf("frontend conn_tot=%d slim=%d", st.ConnTot, st.Slim)
	}
	if s1.Served() != 0 || g.CurrConns() != 0 {
		t.Errorf("served=%d curr=%d", s1.Served(), g.CurrConns())
	}
}

func TestHalfClose(t *testing.T) {
	// The server answers only once the client finished sending: the whole
	// input reversed, a digest of it, then it closes.
	srv := startServer(t, func(c net.Conn) {
		in, err := io.ReadAll(c)
		if err != nil {
			return
		}
		sum := sha256.Sum256(in)
		_, _ = c.Write(sum[:])
		_, _ = c.Write(in)
	})
	g := startGraph(t, config(listenProxy(srv.port())))
	c := dial(t, feAddr(t, g, "li"))
	msg := make([]byte, 300<<10)
	_, _ = rand.Read(msg)
	go func() {
		_, _ = c.Write(msg)
		_ = c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(msg)
	if len(got) != 32+len(msg) || !bytes.Equal(got[:32], sum[:]) || !bytes.Equal(got[32:], msg) {
		t.Fatalf("answer of %d bytes does not match", len(got))
	}
}

func TestBulkBothWays(t *testing.T) {
	srv := startServer(t, echo)
	g := startGraph(t, config(listenProxy(srv.port())))
	const size = 4 << 20
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		c := dial(t, feAddr(t, g, "li"))
		msg := make([]byte, size)
		_, _ = rand.Read(msg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			go func() {
				_, _ = c.Write(msg)
				_ = c.CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(got, msg) {
				t.Errorf("echoed %d bytes differ from the %d sent", len(got), len(msg))
			}
		}()
	}
	wg.Wait()
	be := g.Backend("li")
	waitFor(t, "sessions to end", func() bool { return be.Stats().Scur == 0 })
	if st := be.Stats(); st.Bin != 2*size || st.Bout != 2*size {
		t.Errorf("bin=%d bout=%d, want %d", st.Bin, st.Bout, 2*size)
	}
}

func TestNoServerClosesAtOnce(t *testing.T) {
	p := listenProxy(deadPort(t))
	p.Servers[0].Disabled = true
	g := startGraph(t, config(p))
	c := dial(t, feAddr(t, g, "li"))
	if d := expectClosed(t, c, 2*time.Second); d > 300*time.Millisecond {
		t.Errorf("closed after %v, want at once", d)
	}
	if st := g.Backend("li").Stats(); st.Econ != 1 {
		t.Errorf("backend econ=%d, want 1", st.Econ)
	}
}

func TestBackPressure(t *testing.T) {
	const size = 64 << 20
	srv := startServer(t, func(c net.Conn) {
		buf := make([]byte, 1<<20)
		for sent := 0; sent < size; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	g := startGraph(t, config(listenProxy(srv.port())))
	c := dial(t, feAddr(t, g, "li"))
	be := g.Backend("li")
	// The client does not read: the proxy must stop reading the server
	// once the kernel buffers and one pending buffer are full.
	var last int64 = -1
	waitFor(t, "the transfer to stall", func() bool {
		time.Sleep(100 * time.Millisecond)
		cur := be.Stats().Bout
		stalled := cur == last && cur > 0
		last = cur
		return stalled
	})
	if last >= size/2 {
		t.Fatalf("%d bytes read from the server while the client reads nothing", last)
	}
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != size {
		t.Fatalf("client got %d bytes (%v), want %d", n, err, size)
	}
}
