// Package rawsys holds the system calls of an event loop on non-blocking
// sockets: recv, send, accept, connect, close, socket options, epoll.
// None of them waits, so they bypass the Go scheduler's syscall bookkeeping
// (entersyscall/exitsyscall, and the hand-off of the caller's P that sysmon
// starts when the kernel is slow to return, after which it polls every
// 20µs). Only EpollWait with a timeout sleeps, holding the caller's P: the
// caller decides when that is acceptable (see proxy's loop.wait).
//
// It imports only the standard library and x/sys.
package rawsys

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Recv receives from a non-blocking socket. recvfrom goes to the socket
// layer directly, where read passes through the file layer first (about
// 5% of a proxy's CPU per small message).
func Recv(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(ptr), uintptr(len(p)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Send sends on a non-blocking socket, with MSG_NOSIGNAL: a peer that
// reset the connection gives EPIPE, not a SIGPIPE for the process.
func Send(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(ptr), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// PollNow collects ready events without waiting.
func PollNow(epfd int, events []unix.EpollEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Accept accepts a connection on a non-blocking listener and returns its
// descriptor (non-blocking, close-on-exec) and peer address (zero for
// families other than IPv4 and IPv6). unix.Accept4 would also ask the
// listener for its protocol with one more system call per connection.
func Accept(fd int) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	alen := uint32(unix.SizeofSockaddrAny)
	nfd, _, e := syscall.RawSyscall6(syscall.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&alen)),
		uintptr(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0, 0)
	if e != 0 {
		return -1, netip.AddrPort{}, e
	}
	return int(nfd), addrPort(&rsa), nil
}

// addrPort decodes an IPv4 or IPv6 socket address.
func addrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&a.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// EpollWait is epoll_wait with a timeout (ms), holding the caller's P.
func EpollWait(epfd int, events []unix.EpollEvent, ms int) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(ms), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Socket creates a non-blocking, close-on-exec TCP socket.
func Socket(family int) (int, error) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family),
		uintptr(unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// sockaddr encodes an IPv4 or IPv6 address (IPv4-mapped addresses as
// IPv4) in rsa and returns its length.
func sockaddr(ap netip.AddrPort, rsa *unix.RawSockaddrAny) uintptr {
	ip, port := ap.Addr().Unmap(), ap.Port()
	if ip.Is4() {
		r := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		r.Family = unix.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		r.Addr = ip.As4()
		return unix.SizeofSockaddrInet4
	}
	r := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
	r.Family = unix.AF_INET6
	p := (*[2]byte)(unsafe.Pointer(&r.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	r.Addr = ip.As16()
	return unix.SizeofSockaddrInet6
}

// Connect starts a connection to an IPv4 or IPv6 address (IPv4-mapped
// addresses connect over IPv4).
func Connect(fd int, ap netip.AddrPort) error { return addrCall(syscall.SYS_CONNECT, fd, ap) }

// Bind binds a socket to a local IPv4 or IPv6 address.
func Bind(fd int, ap netip.AddrPort) error { return addrCall(syscall.SYS_BIND, fd, ap) }

// addrCall makes a system call that takes a socket and an address.
func addrCall(trap uintptr, fd int, ap netip.AddrPort) error {
	var rsa unix.RawSockaddrAny
	alen := sockaddr(ap, &rsa)
	_, _, e := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), alen)
	return errnoErr(e)
}

// errnoErr returns e as an error, nil for 0.
func errnoErr(e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// Close closes a descriptor.
func Close(fd int) {
	_, _, _ = syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}

// ShutdownWrite sends a FIN on a connected socket.
func ShutdownWrite(fd int) {
	_, _, _ = syscall.RawSyscall(syscall.SYS_SHUTDOWN, uintptr(fd), unix.SHUT_WR, 0)
}

// SetsockoptInt sets an integer socket option.
func SetsockoptInt(fd, level, opt, value int) error {
	v := int32(value)
	_, _, e := syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), 4, 0)
	return errnoErr(e)
}

// GetsockoptInt reads an integer socket option.
func GetsockoptInt(fd, level, opt int) (int, error) {
	var v int32
	l := uint32(4)
	_, _, e := syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

// EpollCtl adds, changes or removes a descriptor in an epoll set.
func EpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd),
		uintptr(unsafe.Pointer(ev)), 0, 0)
	return errnoErr(e)
}

// Getsockname returns a socket's local IPv4 or IPv6 address.
func Getsockname(fd int) (netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	alen := uint32(unix.SizeofSockaddrAny)
	_, _, e := syscall.RawSyscall(syscall.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&alen)))
	if e != 0 {
		return netip.AddrPort{}, e
	}
	return addrPort(&rsa), nil
}
