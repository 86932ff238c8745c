package proxy

import (
	"io"
	"runtime"
	"testing"
	"time"
)

// TestSteadyTrafficAllocations holds the data path to its design: moving
// bytes on established sessions allocates nothing per message (buffers are
// pooled, events and timers are reused), so the garbage collector has no
// work that grows with traffic.
func TestSteadyTrafficAllocations(t *testing.T) {
	be := startServer(t, echo)
	g := startGraph(t, config(listenProxy(be.port())))
	addr := feAddr(t, g, "li")
	const conns, msgs = 20, 300
	var cs []io.ReadWriter
	for i := 0; i < conns; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "warm-up")
		cs = append(cs, c)
	}
	req := make([]byte, 150)
	resp := make([]byte, 150)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	deadline := time.Now().Add(30 * time.Second)
	for m := 0; m < msgs && time.Now().Before(deadline); m++ {
		for _, c := range cs {
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range cs {
			if _, err := io.ReadFull(c, resp); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.ReadMemStats(&after)
	perMsg := float64(after.Mallocs-before.Mallocs) / float64(conns*msgs)
	t.Logf("%.2f allocations per proxied message (both directions, test client included)", perMsg)
	// The test's own client (net.Conn reads and writes through the Go
	// poller) allocates nothing per call either; leave a small margin for
	// runtime background work.
	if perMsg > 0.5 {
		t.Errorf("%.2f allocations per message; the data path must not allocate per read", perMsg)
	}
}
