package rawsys

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Listening is one TCP socket in state LISTEN.
type Listening struct {
	Addr    netip.AddrPort // its local address (the unspecified one for a wildcard)
	Inode   uint32
	Queued  uint32 // connections in its accept queue
	Backlog uint32 // the accept queue's size, as listen() set it
}

// Listeners returns the TCP sockets (IPv4 and IPv6, any address) that
// listen on port in this network namespace.
//
// It asks the kernel through netlink sock_diag (what `ss -ltn sport = :N`
// does) instead of reading /proc/net/tcp: that file lists every socket of
// the namespace, which costs seconds per read on a machine with 100k
// sockets open, while a sock_diag dump asking only for state LISTEN and
// one source port walks the kernel's listening hash alone and returns only
// the matching sockets. It is exact, and unlike a probing connect it opens
// no session through a proxy (nor shifts its balancer), and unlike a
// probing bind it cannot steal the port.
func Listeners(port int) ([]Listening, error) {
	var out []Listening
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		in, err := listeners(family, port)
		if err != nil {
			return nil, err
		}
		out = append(out, in...)
	}
	return out, nil
}

// Layout of linux/inet_diag.h, which golang.org/x/sys/unix does not carry.
const (
	sizeofInetDiagSockID = 48 // sport, dport (be16); src, dst [4]be32; if; cookie [2]u32
	sizeofInetDiagReqV2  = 8 + sizeofInetDiagSockID
	sizeofInetDiagMsg    = 4 + sizeofInetDiagSockID + 5*4
	offInetDiagMsgInode  = sizeofInetDiagMsg - 4
	offInetDiagMsgRqueue = 4 + sizeofInetDiagSockID + 4 // after idiag_expires
	offInetDiagMsgWqueue = offInetDiagMsgRqueue + 4
	tcpListen            = 10 // TCP_LISTEN in the kernel's state numbering
)

func listeners(family uint8, port int) ([]Listening, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	// A bound on the wait for the kernel's answer, so that a broken
	// exchange fails the caller instead of hanging it.
	tv := unix.NsecToTimeval((2 * time.Second).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, err
	}

	req := make([]byte, unix.SizeofNlMsghdr+sizeofInetDiagReqV2)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence number
	r := req[unix.SizeofNlMsghdr:]
	r[0] = family
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 1<<tcpListen)
	binary.BigEndian.PutUint16(r[8:], uint16(port)) // id.idiag_sport
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag request: %w", err)
	}

	var found []Listening
	buf := make([]byte, 64<<10)
	// Each read holds several answers; the dump ends with NLMSG_DONE. The
	// bound on reads only guards against a kernel that never says done.
	for range 1 << 16 {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("sock_diag answer: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("sock_diag answer: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return found, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(ne.Uint32(m.Data)); e != 0 {
						return nil, fmt.Errorf("sock_diag: %w", unix.Errno(-e))
					}
				}
				return nil, fmt.Errorf("sock_diag: error message")
			case unix.SOCK_DIAG_BY_FAMILY:
				if len(m.Data) < sizeofInetDiagMsg {
					return nil, fmt.Errorf("sock_diag: short answer of %d bytes", len(m.Data))
				}
				// The kernel filters on the port already (the listening
				// hash walk compares id.idiag_sport); check it again so
				// that an older kernel that did not would not fool us.
				if int(binary.BigEndian.Uint16(m.Data[4:])) == port && m.Data[1] == tcpListen {
					found = append(found, Listening{
						Addr:    diagAddr(family, m.Data[4:]),
						Inode:   ne.Uint32(m.Data[offInetDiagMsgInode:]),
						Queued:  ne.Uint32(m.Data[offInetDiagMsgRqueue:]),
						Backlog: ne.Uint32(m.Data[offInetDiagMsgWqueue:]),
					})
				}
			}
		}
	}
	return nil, fmt.Errorf("sock_diag: no end of dump")
}

// diagAddr decodes the local address of an inet_diag_sockid.
func diagAddr(family uint8, id []byte) netip.AddrPort {
	port := binary.BigEndian.Uint16(id[0:])
	if family == unix.AF_INET {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(id[4:8])), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom16([16]byte(id[4:20])), port)
}

// SteerReuseport attaches to the SO_REUSEPORT group of the listening
// socket fd a program that gives every new connection to the group's
// socket at index (sockets are numbered in the order they joined; the
// kernel falls back to its hash when index is past the last one).
func SteerReuseport(fd int, index uint32) error {
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: index}}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, &fprog); err != nil {
		return fmt.Errorf("setsockopt SO_ATTACH_REUSEPORT_CBPF: %w", err)
	}
	return nil
}
