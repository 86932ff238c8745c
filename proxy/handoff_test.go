package proxy

import (
	"bufio"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestHandoffFailureKeepsSessions: a new process that receives a batch and
// goes away without answering leaves the sessions with the old process,
// which serves them on as if nothing happened.
func TestHandoffFailureKeepsSessions(t *testing.T) {
	srv := startServer(t, echo)
	g := startGraph(t, config(listenProxy(srv.port())))
	if err := g.ServeHandoffs(); err != nil {
		t.Fatal(err)
	}
	addr := feAddr(t, g, "li")
	var clients []net.Conn
	for i := 0; i < 5; i++ {
		c := dial(t, addr)
		roundTrip(t, c, "before")
		clients = append(clients, c)
	}
	hc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: HandoffAddr(os.Getpid()), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Write([]byte(handoffRequest)); err != nil {
		t.Fatal(err)
	}
	recs, fds, err := readHandoffBatch(hc)
	if err != nil || len(recs) != 5 {
		t.Fatalf("batch: %d records, err %v", len(recs), err)
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	hc.Close() // no answer: the handoff fails
	time.Sleep(200 * time.Millisecond)
	for i, c := range clients {
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Write([]byte("after\n")); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		got, err := bufio.NewReader(c).ReadString('\n')
		if got != "after\n" || err != nil {
			t.Errorf("client %d after the failed handoff got %q (%v)", i, got, err)
		}
	}
	if n := g.Backend("li").Stats().Scur; n != 5 {
		t.Errorf("backend scur %d after the failed handoff, want 5", n)
	}
}
