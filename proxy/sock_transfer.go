package proxy

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
	"goproxy/internal/uxsock"
	"goproxy/parser"
)

// TransferredSocket is a listening socket received from an older process
// ("-x", HAProxy's _getsocks): a bind whose address and options it matches
// uses it instead of binding, so the listening socket is never closed
// during the reload and no connection queued on it can be lost.
type TransferredSocket struct {
	FD        int
	Namespace string
	Interface string
}

// transferredFor returns a transferred socket compatible with b, as
// HAProxy's sock_find_compatible_fd decides (same address, interface,
// namespace, v6only state and transparent mode, a stream socket), or -1.
// The socket is taken off the list; the caller duplicates it.
func (g *Graph) transferredFor(b *parser.Bind) int {
	if ua, ok := unixAddr(b.Addr); ok {
		return g.transferredUnix(ua)
	}
	ip, err := hostIP(b.Addr)
	if err != nil {
		return -1
	}
	want := netip.AddrPortFrom(ip, uint16(b.Addr.Port))
	for i, t := range g.transferred {
		if t.Namespace != "" || t.Interface != b.Interface {
			continue
		}
		if typ, err := unix.GetsockoptInt(t.FD, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
			continue
		}
		ap, err := rawsys.Getsockname(t.FD)
		if err != nil || ap != want {
			continue
		}
		if foreign(t.FD, ip.Is6()) != b.Transparent {
			continue
		}
		if ip.Is6() && v6only(t.FD) != wantV6Only(b) {
			continue
		}
		g.transferred = append(g.transferred[:i], g.transferred[i+1:]...)
		g.adopted = append(g.adopted, t.FD)
		return t.FD
	}
	return -1
}

// transferredUnix returns a transferred UNIX stream socket bound at ua
// (uxsock.Same: the older process bound it at a temporary name), or -1.
func (g *Graph) transferredUnix(ua uxsock.Addr) int {
	for i, t := range g.transferred {
		if t.Namespace != "" {
			continue
		}
		if typ, err := unix.GetsockoptInt(t.FD, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
			continue
		}
		got, ok := uxsock.Bound(t.FD)
		if !ok || !uxsock.Same(got, ua) {
			continue
		}
		g.transferred = append(g.transferred[:i], g.transferred[i+1:]...)
		g.adopted = append(g.adopted, t.FD)
		return t.FD
	}
	return -1
}

// closeTransferred closes the transferred sockets: those the binds took
// were duplicated, and those left over belong to binds the new
// configuration no longer has (HAProxy's sock_drop_unused_old_sockets).
func (g *Graph) closeTransferred() {
	for _, t := range g.transferred {
		unix.Close(t.FD)
	}
	for _, fd := range g.adopted {
		unix.Close(fd)
	}
	g.transferred, g.adopted = nil, nil
}

// foreign reports whether a socket is in transparent mode.
func foreign(fd int, v6 bool) bool {
	lvl, opt := unix.SOL_IP, unix.IP_TRANSPARENT
	if v6 {
		lvl, opt = unix.SOL_IPV6, unix.IPV6_TRANSPARENT
	}
	v, err := unix.GetsockoptInt(fd, lvl, opt)
	return err == nil && v != 0
}

// v6only reports a socket's IPV6_V6ONLY.
func v6only(fd int) bool {
	v, err := unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
	return err == nil && v != 0
}

// wantV6Only is the IPV6_V6ONLY state listenSocket gives b's socket.
func wantV6Only(b *parser.Bind) bool {
	switch {
	case b.V6Only:
		return true
	case b.V4V6:
		return false
	}
	return bindV6OnlyDefault()
}

// bindV6OnlyDefault is the kernel's default IPV6_V6ONLY
// (net.ipv6.bindv6only).
func bindV6OnlyDefault() bool {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return v6only(fd)
}

// ExportedListener is a listening socket as "_getsocks" hands it over.
type ExportedListener struct {
	FD        int
	Interface string
}

// ExportListeners returns the graph's listening sockets for a new process
// that takes them over ("-x"), and remembers that they were handed over:
// the soft stop then closes them without accepting what they hold, since
// the socket lives on in the new process.
func (g *Graph) ExportListeners() []ExportedListener {
	g.exported.Store(true)
	var out []ExportedListener
	for _, ln := range g.listeners() {
		if ln.state.Load() != lnReady || ln.fd < 0 {
			continue
		}
		out = append(out, ExportedListener{FD: ln.fd, Interface: ln.Bind.Interface})
	}
	return out
}
