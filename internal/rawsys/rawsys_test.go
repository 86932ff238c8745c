package rawsys

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRawAccept accepts IPv4 and IPv6 clients and checks the peer address
// decoded from the raw socket address.
func TestRawAccept(t *testing.T) {
	for _, tc := range []struct{ name, lnAddr, src string }{
		{"ipv4", "127.0.0.1:0", "127.0.0.3"},
		{"ipv6", "[::1]:0", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", tc.lnAddr)
			if err != nil {
				t.Skipf("listen %s: %v", tc.lnAddr, err)
			}
			defer ln.Close()
			f, err := ln.(*net.TCPListener).File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fd := int(f.Fd())
			if err := unix.SetNonblock(fd, true); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Accept(fd); err != unix.EAGAIN {
				t.Fatalf("accept on an empty queue: %v, want EAGAIN", err)
			}
			d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.src)}}
			c, err := d.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var nfd int
			var got netip.AddrPort
			for i := 0; i < 200; i++ {
				if nfd, got, err = Accept(fd); err != unix.EAGAIN {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("Accept: %v", err)
			}
			defer unix.Close(nfd)
			want := netip.MustParseAddrPort(c.LocalAddr().String())
			if got != want {
				t.Errorf("peer = %v, want %v", got, want)
			}
			fl, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0)
			if err != nil || fl&unix.O_NONBLOCK == 0 {
				t.Errorf("accepted descriptor not non-blocking: flags %#x, %v", fl, err)
			}
		})
	}
}

// TestConnectFromSource binds a raw socket to a source address, connects
// it to a listener and checks both ends' view of the addresses.
func TestConnectFromSource(t *testing.T) {
	for _, tc := range []struct {
		name, lnAddr, src string
		family            int
	}{
		{"ipv4", "127.0.0.1:0", "127.0.0.5", unix.AF_INET},
		{"ipv6", "[::1]:0", "::1", unix.AF_INET6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", tc.lnAddr)
			if err != nil {
				t.Skipf("listen %s: %v", tc.lnAddr, err)
			}
			defer ln.Close()
			fd, err := Socket(tc.family)
			if err != nil {
				t.Fatal(err)
			}
			defer Close(fd)
			if err := SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				t.Fatal(err)
			}
			if v, err := GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR); err != nil || v != 1 {
				t.Fatalf("SO_REUSEADDR = %d, %v; want 1", v, err)
			}
			if err := Bind(fd, netip.AddrPortFrom(netip.MustParseAddr(tc.src), 0)); err != nil {
				t.Fatal(err)
			}
			dest := netip.MustParseAddrPort(ln.Addr().String())
			if err := Connect(fd, dest); err != nil && err != unix.EINPROGRESS {
				t.Fatalf("connect: %v", err)
			}
			ln.(*net.TCPListener).SetDeadline(time.Now().Add(2 * time.Second))
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			local, err := Getsockname(fd)
			if err != nil {
				t.Fatal(err)
			}
			if want := netip.MustParseAddrPort(c.RemoteAddr().String()); local != want {
				t.Errorf("local address %v, the listener saw %v", local, want)
			}
			if local.Addr().String() != tc.src {
				t.Errorf("source %v, want %s", local.Addr(), tc.src)
			}
		})
	}
}

// TestSendRecv moves bytes over a socket pair, reads EAGAIN from an empty
// socket, and gets EPIPE (not a signal) once the peer is gone.
func TestSendRecv(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fds[0])
	if n, err := Send(fds[0], []byte("hello")); n != 5 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	buf := make([]byte, 16)
	if n, err := Recv(fds[1], buf); n != 5 || err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Recv = %d %q, %v", n, buf[:n], err)
	}
	if _, err := Recv(fds[1], buf); err != unix.EAGAIN {
		t.Fatalf("Recv on an empty socket: %v, want EAGAIN", err)
	}
	Close(fds[1])
	if _, err := Send(fds[0], []byte("x")); err != unix.EPIPE {
		t.Fatalf("Send to a closed peer: %v, want EPIPE", err)
	}
	if n, err := Recv(fds[0], buf); n != 0 || err != nil {
		t.Fatalf("Recv after the peer closed = %d, %v; want end of stream", n, err)
	}
}
