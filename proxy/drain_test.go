package proxy

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestSoftStopServesBacklog: clients that the kernel accepted on a
// listener but that goproxy had not accepted yet (here held back by the
// global maxconn) are served when the soft stop closes the listener, not
// reset with it.
func TestSoftStopServesBacklog(t *testing.T) {
	srv := startServer(t, echo)
	cfg := config(listenProxy(srv.port()))
	cfg.Global.MaxConn = 1
	g := startGraph(t, cfg)
	addr := feAddr(t, g, "li")
	first := dial(t, addr)
	roundTrip(t, first, "first")
	const waiting = 5
	var conns []*net.TCPConn
	for i := 0; i < waiting; i++ {
		c := dial(t, addr)
		if _, err := c.Write([]byte("queued\n")); err != nil {
			t.Fatal(err)
		}
		c.CloseWrite()
		conns = append(conns, c)
	}
	expectNothing(t, conns[0], 200*time.Millisecond)
	g.StopListening()
	first.Close()
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		if string(got) != "queued\n" || err != nil {
			t.Errorf("client %d waiting in the backlog at soft stop got %q (%v), want its echo", i, got, err)
		}
		c.Close()
	}
	select {
	case <-g.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the graph did not end after its last session")
	}
}
