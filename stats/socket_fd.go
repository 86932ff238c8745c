package stats

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// listenFD adopts the listening socket the parent handed down as
// descriptor n (stats socket fd@N, bind fd@N, as VTest and systemd pass
// them): a unix or a TCP stream socket, listening or bound (it is then made
// to listen). Descriptor n itself stays open and untouched: the listener
// works on a duplicate, so closing it leaves the parent's socket (and the
// path of a unix one) alone.
func listenFD(n int) (net.Listener, error) {
	fd, err := unix.FcntlInt(uintptr(n), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("dup", err)
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil || typ != unix.SOCK_STREAM {
		unix.Close(fd)
		return nil, fmt.Errorf("fd@%d is not a stream socket", n)
	}
	if acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || acc == 0 {
		if _, serr := unix.Getsockname(fd); serr != nil || unix.Listen(fd, unix.SOMAXCONN) != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("fd@%d is not a listening socket", n)
		}
	}
	f := os.NewFile(uintptr(fd), "fd@"+strconv.Itoa(n))
	defer f.Close()
	return net.FileListener(f)
}

// bindFD is bind for a stats socket fd@N. It is named, as HAProxy names it
// in show cli sockets, by what the socket is: unix@path, ipv4@ip:port or
// ipv6@[ip]:port.
func bindFD(sk parser.StatsSocket, level Level) (*cliListener, error) {
	ln, err := listenFD(sk.Addr.FD)
	if err != nil {
		return nil, bindError(sk, "cannot use inherited socket", err, "["+sk.Addr.String()+"]")
	}
	l := &cliListener{ln: ln, level: level}
	switch a := ln.Addr().(type) {
	case *net.UnixAddr:
		l.addr, l.name = a.Name, "unix@"+a.Name
	case *net.TCPAddr:
		l.addr = a.String()
		if a.IP.To4() != nil {
			l.name = "ipv4@" + l.addr
		} else {
			l.name = "ipv6@" + l.addr
		}
	default:
		l.addr, l.name = ln.Addr().String(), sk.Addr.String()
	}
	return l, nil
}
