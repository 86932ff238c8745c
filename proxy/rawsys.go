package proxy

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The event loop only calls read, write and epoll_wait(0) on non-blocking
// descriptors: they never block, so they bypass the Go scheduler's syscall
// bookkeeping (entersyscall/exitsyscall and the hand-off of the loop's P
// that follows when the kernel is slow to return). The loop sleeps in a
// raw epoll_wait only under the conditions of loop.wait.

// rawRead reads from a non-blocking descriptor.
func rawRead(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawWrite writes to a non-blocking descriptor.
func rawWrite(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// pollNow collects ready events without waiting.
func pollNow(epfd int, events []unix.EpollEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// rawAccept accepts a connection on a non-blocking listener and returns its
// descriptor (non-blocking, close-on-exec) and peer address (zero for
// families other than IPv4 and IPv6). unix.Accept4 would also ask the
// listener for its protocol with one more system call per connection.
func rawAccept(fd int) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	alen := uint32(unix.SizeofSockaddrAny)
	nfd, _, e := syscall.RawSyscall6(syscall.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&alen)),
		uintptr(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0, 0)
	if e != 0 {
		return -1, netip.AddrPort{}, e
	}
	return int(nfd), rawAddrPort(&rsa), nil
}

// rawAddrPort decodes an IPv4 or IPv6 socket address.
func rawAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
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

// rawWait is epoll_wait with a timeout (ms), holding the caller's P.
func rawWait(epfd int, events []unix.EpollEvent, ms int) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(ms), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// The calls below are the loop's per-connection system calls on
// non-blocking sockets: none of them waits (close does not linger: the
// proxy never sets SO_LINGER with a timeout), so they too bypass the
// scheduler's syscall bookkeeping. A P seen "in a syscall" by sysmon would
// otherwise be retaken and handed off, and sysmon would fall back to
// polling every 20µs on the loop's CPU.

// rawSocket creates a non-blocking, close-on-exec TCP socket.
func rawSocket(family int) (int, error) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family),
		uintptr(unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// rawConnect starts a connection to an IPv4 or IPv6 address
// (IPv4-mapped addresses connect over IPv4).
func rawConnect(fd int, ap netip.AddrPort) error {
	var rsa unix.RawSockaddrAny
	var alen uintptr
	ip, port := ap.Addr().Unmap(), ap.Port()
	if ip.Is4() {
		r := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		r.Family = unix.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		r.Addr = ip.As4()
		alen = unix.SizeofSockaddrInet4
	} else {
		r := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		r.Family = unix.AF_INET6
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		r.Addr = ip.As16()
		alen = unix.SizeofSockaddrInet6
	}
	_, _, e := syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), alen)
	if e != 0 {
		return e
	}
	return nil
}

// rawClose closes a descriptor.
func rawClose(fd int) {
	_, _, _ = syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}

// rawShutdownWrite sends a FIN on a connected socket.
func rawShutdownWrite(fd int) {
	_, _, _ = syscall.RawSyscall(syscall.SYS_SHUTDOWN, uintptr(fd), unix.SHUT_WR, 0)
}

// rawSetsockoptInt sets an integer socket option.
func rawSetsockoptInt(fd, level, opt, value int) error {
	v := int32(value)
	_, _, e := syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), 4, 0)
	if e != 0 {
		return e
	}
	return nil
}

// rawGetsockoptInt reads an integer socket option.
func rawGetsockoptInt(fd, level, opt int) (int, error) {
	var v int32
	l := uint32(4)
	_, _, e := syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

// rawEpollCtl adds, changes or removes a descriptor in an epoll set.
func rawEpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd),
		uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// rawGetsockname returns a socket's local IPv4 or IPv6 address.
func rawGetsockname(fd int) (netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	alen := uint32(unix.SizeofSockaddrAny)
	_, _, e := syscall.RawSyscall(syscall.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&alen)))
	if e != 0 {
		return netip.AddrPort{}, e
	}
	return rawAddrPort(&rsa), nil
}
