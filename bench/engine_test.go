package main

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestEngineShortConnections runs the short-connection cycle straight
// against an engine backend (no proxy): every exchange completes, nothing
// fails, and no socket is left open.
func TestEngineShortConnections(t *testing.T) {
	be, err := listenBackend(64, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer be.close()
	e, err := newEngine(nil, be)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	dst := netip.MustParseAddrPort(be.addr)
	src := netip.MustParseAddr("127.0.0.1")
	req := make([]byte, 64)
	const want = 200
	done, started := 0, 0
	var failures []error
	dial := func(id int) {
		if started == want {
			return
		}
		started++
		if err := e.dial(id, src, dst, len(req), 2*time.Second); err != nil {
			failures = append(failures, err)
		}
	}
	e.onConnected = func(c *esock) {
		if err := e.send(c, req); err != nil {
			e.fail(c, err)
		}
	}
	e.onReply = func(c *esock) {
		done++
		e.closeSock(c)
		dial(c.id)
	}
	e.onFail = func(c *esock, err error) { failures = append(failures, err) }
	for i := range 4 {
		dial(i)
	}
	e.runUntil(func(int64) bool { return done == want || len(failures) > 0 }, e.now()+int64(10*time.Second), nil)
	if done != want || len(failures) > 0 {
		t.Fatalf("%d of %d exchanges, failures %v", done, want, failures)
	}
	e.closeClients(2 * time.Second)
	if e.clients != 0 || be.open != 0 {
		t.Errorf("after the run: %d clients, %d backend connections open", e.clients, be.open)
	}
}

// TestEnginePaced opens persistent connections and paces one request per
// interval on each: the count of replies follows the schedule.
func TestEnginePaced(t *testing.T) {
	be, err := listenBackend(150, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer be.close()
	b := &bench{sources: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)},
		fe: map[string]string{"msg": be.addr}, msg: be}
	e, err := newEngine(nil, be)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	const n = 20
	conns, err := b.openPersistent(e, n)
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	e.onReply = func(c *esock) { replies++ }
	var failures []error
	e.onFail = func(c *esock, err error) { failures = append(failures, err) }
	sending := true
	tick := pacer(e, conns, 100*time.Millisecond, make([]byte, 150), &sending)
	if !e.runFor(time.Second, tick) {
		t.Fatal("interrupted")
	}
	sending = false
	e.runUntil(func(int64) bool { return inFlight(conns) == 0 }, e.now()+int64(2*time.Second), nil)
	// 10 turns a connection in one second, give or take the turn at
	// either end of the window; never more. A loaded machine delays the
	// ticks (the pacer does not catch up), so fewer only down to half.
	if replies < n*5 || replies > n*11 || len(failures) > 0 {
		t.Errorf("%d replies from %d connections in 1s at 10/s each (failures %v)", replies, n, failures)
	}
}
