// Package nettest holds the network fixtures that tests of several packages
// share: a loopback port whose connects hang (Blackhole), the listeners of a
// port (ListenerInodes), abusive stats socket clients (cliabuse.go), free
// ports, and HAProxy 2.6 itself as the oracle of the differential tests
// (StartHAProxy, CLI; haproxy.go).
//
// It is imported by tests only, and imports the standard library,
// golang.org/x/sys and internal/rawsys.
package nettest

import (
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
)

// Blackhole returns the port of a loopback listener whose accept queue is
// full, so that a new connect gets no answer (the kernel drops its SYN)
// until it times out. Everything is closed when the test ends.
func Blackhole(t testing.TB) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*unix.SockaddrInet4).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Fill the queue until a connect hangs.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return port
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("could not fill the accept queue of a backlog-0 listener")
	return 0
}

// ListenerInodes returns the socket inodes of the TCP sockets (IPv4 and
// IPv6, any address) that listen on port in this network namespace (see
// rawsys.Listeners).
func ListenerInodes(port int) ([]uint32, error) {
	ls, err := rawsys.Listeners(port)
	if err != nil {
		return nil, err
	}
	inodes := make([]uint32, 0, len(ls))
	for _, l := range ls {
		inodes = append(inodes, l.Inode)
	}
	return inodes, nil
}
