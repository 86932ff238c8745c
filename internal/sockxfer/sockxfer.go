// Package sockxfer speaks HAProxy's transfer of listening sockets between
// processes: the "_getsocks" command of a stats socket with "expose-fd
// listeners", which a new process started with "-x <socket>" sends to the
// old one to receive its listening sockets (SCM_RIGHTS) and use them
// instead of binding new ones, so that no listening socket is ever closed
// during a reload. The exchange is HAProxy 2.6's, byte for byte, so that a
// goproxy and an haproxy can take each other's sockets.
//
// The exchange, after the client's "_getsocks\n":
//
//	server: the number N of sockets, a native-endian int32
//	server: batches of at most 253 sockets, one message each: the sockets
//	        as SCM_RIGHTS, and for each one <len><namespace><len><interface>
//	        and four zero bytes (listener options before HAProxy 2.3)
//	client: after each message it reads, its count so far (int32), which
//	        the server waits for after every full batch
//
// It imports only the standard library and x/sys.
package sockxfer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Socket is one transferred listening socket.
type Socket struct {
	FD        int
	Namespace string // network namespace name, "" for the default one
	Interface string // interface the socket is bound to, "" for none
}

// maxSendFD is HAProxy's MAX_SEND_FD: the sockets of one message.
const maxSendFD = 253

// maxSockets bounds what Fetch accepts from the other process.
const maxSockets = 1 << 16

// Timeout bounds each step of an exchange (HAProxy: 1 s per receive).
const Timeout = time.Second

// Command is the request line the client sends.
const Command = "_getsocks"

// Serve sends socks over c, the connection on which the request was read,
// as HAProxy's _getsocks does. With no socket to send it sends nothing
// (HAProxy closes the connection, and its client fails).
func Serve(c *net.UnixConn, socks []Socket) error {
	if len(socks) == 0 {
		return nil
	}
	ne := binary.NativeEndian
	var count [4]byte
	ne.PutUint32(count[:], uint32(len(socks)))
	if err := c.SetDeadline(time.Now().Add(Timeout)); err != nil {
		return err
	}
	if _, err := c.Write(count[:]); err != nil {
		return fmt.Errorf("send the number of sockets: %w", err)
	}
	for start := 0; start < len(socks); start += maxSendFD {
		batch := socks[start:min(start+maxSendFD, len(socks))]
		var data []byte
		fds := make([]int, 0, len(batch))
		for _, s := range batch {
			if len(s.Namespace) > 255 || len(s.Interface) > 255 {
				return fmt.Errorf("socket %d: name too long", s.FD)
			}
			data = append(data, byte(len(s.Namespace)))
			data = append(data, s.Namespace...)
			data = append(data, byte(len(s.Interface)))
			data = append(data, s.Interface...)
			data = append(data, 0, 0, 0, 0)
			fds = append(fds, s.FD)
		}
		if err := c.SetDeadline(time.Now().Add(Timeout)); err != nil {
			return err
		}
		n, _, err := c.WriteMsgUnix(data, unix.UnixRights(fds...), nil)
		if err != nil || n != len(data) {
			return fmt.Errorf("transfer sockets: %w", errOr(err, "short write"))
		}
		if len(batch) == maxSendFD {
			var ack [4]byte
			if _, err := c.Read(ack[:]); err != nil {
				return fmt.Errorf("wait for the transfer's acknowledgement: %w", err)
			}
		}
	}
	return nil
}

// Fetch connects to the stats socket at path, asks for its listening
// sockets and returns them. The caller owns their descriptors; on error
// none is left open.
func Fetch(path string) ([]Socket, error) {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, &FetchError{Msg: fmt.Sprintf("Failed to connect to the old process socket '%s'", path), Err: err}
	}
	defer c.Close()
	return fetch(c)
}

// FetchSockpair asks for the listening sockets over fd, a connected unix
// socket to a process's CLI channel, as HAProxy's "-x sockpair@<fd>": a
// new socket pair is made, one end goes over fd (the other process serves
// it as a CLI connection) and the exchange runs on the other end. fd stays
// open and owned by the caller.
func FetchSockpair(fd int) ([]Socket, error) {
	c, err := SendConn(fd)
	if err != nil {
		return nil, &FetchError{Msg: fmt.Sprintf("Failed to connect to the old process socket 'sockpair@%d'", fd), Err: err}
	}
	defer c.Close()
	return fetch(c)
}

// SendConn makes a connected pair of unix stream sockets, sends one end
// over fd (SCM_RIGHTS, with one byte of data) and returns the other: a
// connection to whoever receives on fd. fd stays open.
func SendConn(fd int) (*net.UnixConn, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	// MSG_DONTWAIT: a peer that does not read cannot block the sender.
	err = unix.Sendmsg(fd, []byte{0}, unix.UnixRights(pair[1]), nil, unix.MSG_DONTWAIT)
	unix.Close(pair[1])
	if err != nil {
		unix.Close(pair[0])
		return nil, fmt.Errorf("send a connection: %w", err)
	}
	f := os.NewFile(uintptr(pair[0]), "sockpair")
	defer f.Close()
	fc, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := fc.(*net.UnixConn)
	if !ok {
		fc.Close()
		return nil, errors.New("socketpair: not a unix connection")
	}
	return uc, nil
}

// RecvConn waits on fd for a connection sent by SendConn and returns it.
// It returns io.EOF once the other end of fd is closed.
func RecvConn(fd int) (*net.UnixConn, error) {
	buf := make([]byte, 16)
	oob := make([]byte, unix.CmsgSpace(4*maxSendFD))
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		fds, _ := Rights(oob[:oobn])
		if len(fds) == 0 {
			if n == 0 {
				return nil, io.EOF
			}
			continue
		}
		for _, extra := range fds[1:] {
			unix.Close(extra)
		}
		f := os.NewFile(uintptr(fds[0]), "sockpair")
		fc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			continue
		}
		if uc, ok := fc.(*net.UnixConn); ok {
			return uc, nil
		}
		fc.Close()
	}
}

func fetch(c *net.UnixConn) ([]Socket, error) {
	if err := c.SetDeadline(time.Now().Add(Timeout)); err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte(Command + "\n")); err != nil {
		return nil, &FetchError{Msg: "Failed to get the number of sockets to be transferred !", Err: err}
	}
	var count [4]byte
	if err := readFull(c, count[:]); err != nil {
		return nil, &FetchError{Msg: "Failed to get the number of sockets to be transferred !", Err: err}
	}
	ne := binary.NativeEndian
	want := int(int32(ne.Uint32(count[:])))
	if want == 0 {
		return nil, nil
	}
	if want < 0 || want > maxSockets {
		return nil, &FetchError{Msg: fmt.Sprintf("Got an invalid number of sockets (%d)", want)}
	}
	var fds []int
	fail := func(msg string, err error) ([]Socket, error) {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, &FetchError{Msg: msg, Err: err}
	}
	var data []byte
	buf := make([]byte, maxSendFD*(1+255+1+255+4))
	oob := make([]byte, unix.CmsgSpace(4*maxSendFD))
	for reads := 0; len(fds) < want; reads++ {
		if reads > want+maxSockets/maxSendFD {
			return fail("Inconsistency while transferring sockets", nil)
		}
		if err := c.SetDeadline(time.Now().Add(Timeout)); err != nil {
			return fail("Unexpected error while transferring sockets", err)
		}
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if n == 0 && err == nil {
			err = errors.New("connection closed")
		}
		got, perr := Rights(oob[:oobn])
		fds = append(fds, got...)
		if err != nil {
			return fail(fmt.Sprintf("We didn't get the expected number of sockets (expecting %d got %d)", want, len(fds)), err)
		}
		if perr != nil {
			return fail("Inconsistency while transferring sockets", perr)
		}
		if len(fds) > want {
			return fail("Got to many sockets !", nil)
		}
		data = append(data, buf[:n]...)
		var ack [4]byte
		ne.PutUint32(ack[:], uint32(len(fds)))
		if _, err := c.Write(ack[:]); err != nil && len(fds) < want {
			return fail("Unexpected error while transferring sockets", err)
		}
	}
	socks := make([]Socket, 0, len(fds))
	for _, fd := range fds {
		var s Socket
		var ok bool
		s.FD = fd
		if s.Namespace, data, ok = name(data); !ok {
			return fail("Inconsistency while transferring sockets", nil)
		}
		if s.Interface, data, ok = name(data); !ok || len(data) < 4 {
			return fail("Inconsistency while transferring sockets", nil)
		}
		data = data[4:]
		socks = append(socks, s)
	}
	return socks, nil
}

// FetchError is a failed Fetch; Msg is HAProxy's warning for that step.
type FetchError struct {
	Msg string
	Err error
}

func (e *FetchError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *FetchError) Unwrap() error { return e.Err }

// name takes a <len><bytes> field off data.
func name(data []byte) (string, []byte, bool) {
	if len(data) < 1 || len(data) < 1+int(data[0]) {
		return "", data, false
	}
	n := int(data[0])
	return string(data[1 : 1+n]), data[1+n:], true
}

// Rights returns the descriptors of the SCM_RIGHTS messages in oob (the
// control data of a read); on error none is left open.
func Rights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return nil, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// readFull reads exactly len(b) bytes, dropping any descriptor that came
// with them (the count carries none).
func readFull(c *net.UnixConn, b []byte) error {
	oob := make([]byte, unix.CmsgSpace(4*maxSendFD))
	for off := 0; off < len(b); {
		n, oobn, _, _, err := c.ReadMsgUnix(b[off:], oob)
		if fds, _ := Rights(oob[:oobn]); len(fds) > 0 {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
		off += n
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("connection closed")
		}
	}
	return nil
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}
