package rawsys

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// reuseListener listens on 127.0.0.1:port (0: any) with SO_REUSEPORT and
// the given backlog, and returns its descriptor and address.
func reuseListener(t *testing.T, port uint16, backlog int) (int, netip.AddrPort) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		t.Fatal(err)
	}
	if err := Bind(fd, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		t.Fatal(err)
	}
	ap, err := Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, ap
}

func TestListenersReportAddressAndQueue(t *testing.T) {
	_, ap := reuseListener(t, 0, 37)
	for i := 0; i < 2; i++ {
		c, err := net.DialTimeout("tcp", ap.String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	ls, err := Listeners(int(ap.Port()))
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 || ls[0].Addr != ap || ls[0].Backlog != 37 || ls[0].Queued != 2 {
		t.Fatalf("Listeners(%d) = %+v, want one at %v with backlog 37 and 2 queued", ap.Port(), ls, ap)
	}
}

// TestSteerReuseport: once the second socket of a SO_REUSEPORT group is
// steered to, every new connection lands on it.
func TestSteerReuseport(t *testing.T) {
	_, ap := reuseListener(t, 0, 64)
	newer, _ := reuseListener(t, ap.Port(), 64)
	if err := SteerReuseport(newer, 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		c, err := net.DialTimeout("tcp", ap.String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	ls, err := Listeners(int(ap.Port()))
	if err != nil {
		t.Fatal(err)
	}
	queued := map[uint32]uint32{}
	var total uint32
	for _, l := range ls {
		total += l.Queued
		queued[l.Queued]++
	}
	if len(ls) != 2 || total != 20 || queued[20] != 1 {
		t.Fatalf("queues %+v, want all 20 connections on one socket", ls)
	}
	n, _, err := Accept(newer)
	if err != nil {
		t.Fatalf("the steered-to socket has nothing to accept: %v", err)
	}
	Close(n)
}
