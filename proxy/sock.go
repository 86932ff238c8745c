package proxy

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
	"goproxy/internal/uxsock"
	"goproxy/parser"
)

// hostIP returns the IP of a parsed address, or the family's any address.
func hostIP(a parser.Addr) (netip.Addr, error) {
	if a.Host == "" {
		if a.Family == parser.FamilyTCP6 {
			return netip.IPv6Unspecified(), nil
		}
		return netip.IPv4Unspecified(), nil
	}
	ip, err := netip.ParseAddr(a.Host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address %q is not an IP literal", a.Host)
	}
	return ip.WithZone(""), nil
}

// unixAddr returns the UNIX socket address of a bind or server address,
// and false for the other families.
func unixAddr(a parser.Addr) (uxsock.Addr, bool) {
	switch a.Family {
	case parser.FamilyUnix:
		return uxsock.Addr{Path: a.Path}, true
	case parser.FamilyAbns:
		return uxsock.Addr{Path: a.Path, Abstract: true}, true
	}
	return uxsock.Addr{}, false
}

// unixPerm is the mode and owner a UNIX bind gives its socket file.
func unixPerm(o parser.BindOptions) uxsock.Perm {
	p := uxsock.Perm{UID: -1, GID: -1}
	if o.ModeSet {
		p.Mode = o.Mode & 0o7777
	}
	if o.UIDSet {
		p.UID = o.UID
	}
	if o.GIDSet {
		p.GID = o.GID
	}
	return p
}

// bindText renders a bind address as HAProxy does in its messages:
// 127.0.0.1:80, [::1]:80 for IPv6 written as such, fd@3, a UNIX path or
// abns@name.
func bindText(a parser.Addr) string {
	if a.Family == parser.FamilyFD {
		return "fd@" + strconv.Itoa(a.FD)
	}
	if ua, ok := unixAddr(a); ok {
		return ua.String()
	}
	ip, err := hostIP(a)
	if err != nil {
		return a.Text
	}
	if ip.Is6() {
		return ip.String() + ":" + strconv.Itoa(a.Port)
	}
	return netip.AddrPortFrom(ip, uint16(a.Port)).String()
}

// listenSocket creates, configures, binds and listens a TCP socket for b.
func listenSocket(b *parser.Bind, backlog int) (int, error) {
	ip, err := hostIP(b.Addr)
	if err != nil {
		return -1, err
	}
	family := unix.AF_INET
	if ip.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return -1, os.NewSyscallError("setsockopt SO_REUSEADDR", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return -1, os.NewSyscallError("setsockopt SO_REUSEPORT", err)
	}
	if family == unix.AF_INET6 && (b.V6Only || b.V4V6) {
		v := 0
		if b.V6Only {
			v = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v); err != nil {
			return -1, os.NewSyscallError("setsockopt IPV6_V6ONLY", err)
		}
	}
	if b.Interface != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, b.Interface); err != nil {
			return -1, os.NewSyscallError("setsockopt SO_BINDTODEVICE", err)
		}
	}
	if b.Transparent {
		lvl, opt := unix.SOL_IP, unix.IP_TRANSPARENT
		if family == unix.AF_INET6 {
			lvl, opt = unix.SOL_IPV6, unix.IPV6_TRANSPARENT
		}
		if err := unix.SetsockoptInt(fd, lvl, opt, 1); err != nil {
			return -1, os.NewSyscallError("setsockopt transparent", err)
		}
	}
	if b.DeferAccept {
		// Best effort, as HAProxy: not fatal where unsupported.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1)
	}
	if err := rawsys.Bind(fd, netip.AddrPortFrom(ip, uint16(b.Addr.Port))); err != nil {
		return -1, err
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return -1, os.NewSyscallError("listen", err)
	}
	ok = true
	return fd, nil
}

// steerToNewest makes fd, which has just joined the SO_REUSEPORT group of
// its address, the socket that gets every new connection of the group.
// Without it the kernel spreads new connections over the older process's
// socket too, until that one closes, and whatever is still queued on a
// closing listener is reset: its drain (loop.drainListener) would race
// the connections still arriving. The group's sockets are numbered in the
// order they joined, so the newest is the last of the sockets listening
// on the same address. With only fd there, nothing is attached.
func steerToNewest(fd int, b *parser.Bind) error {
	ip, err := hostIP(b.Addr)
	if err != nil {
		return err
	}
	self := netip.AddrPortFrom(ip, uint16(b.Addr.Port))
	ls, err := rawsys.Listeners(b.Addr.Port)
	if err != nil {
		return err
	}
	n := 0
	for _, l := range ls {
		if l.Addr == self {
			n++
		}
	}
	if n < 2 {
		return nil
	}
	return rawsys.SteerReuseport(fd, uint32(n-1))
}

// adoptSocket takes an inherited listening socket (fd@N): it duplicates the
// descriptor so the caller keeps its *os.File, and makes it non-blocking.
// A socket that does not listen (paused by its previous owner) is made to
// listen with backlog.
func adoptSocket(f *os.File, n, backlog int) (int, error) {
	src := n
	if f != nil {
		src = int(f.Fd())
	}
	fd, err := unix.FcntlInt(uintptr(src), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("dup", err)
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil || typ != unix.SOCK_STREAM {
		unix.Close(fd)
		return -1, fmt.Errorf("fd@%d is not a stream socket", n)
	}
	acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil || acc == 0 {
		// A bound socket that stopped listening (its previous owner
		// paused) listens again, as HAProxy resumes a paused listener.
		if _, serr := unix.Getsockname(fd); serr != nil || unix.Listen(fd, backlog) != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("fd@%d is not a listening socket", n)
		}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	return fd, nil
}

// setListenerOpts sets on a listening socket the options its accepted
// sockets inherit: TCP_NODELAY, and SO_KEEPALIVE as keepalive says (also
// off, since an inherited fd@N socket may carry its previous owner's).
func setListenerOpts(fd int, keepalive bool) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	ka := 0
	if keepalive {
		ka = 1
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, ka); err != nil {
		return os.NewSyscallError("setsockopt SO_KEEPALIVE", err)
	}
	return nil
}

// setConnOpts sets TCP_NODELAY and, when keepalive is set, SO_KEEPALIVE on a
// proxied connection. Failures are harmless and ignored.
func setConnOpts(fd int, keepalive bool) {
	_ = rawsys.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if keepalive {
		_ = rawsys.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
	}
}
