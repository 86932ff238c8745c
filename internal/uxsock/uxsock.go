// Package uxsock binds listening UNIX stream sockets the way HAProxy does
// (src/sock_unix.c), for the frontends' binds and the stats socket alike:
//
//	fd, id, err := uxsock.Listen(uxsock.Addr{Path: "/run/app.sock"}, uxsock.Perm{Mode: 0o660, UID: -1, GID: 1000}, 1024)
//
// A path socket is bound at "<path>.<pid>.tmp", given its owner and mode,
// made to listen, then renamed over <path>; the socket found at <path>
// before is kept as "<path>.<pid>.bak" until the rename succeeded and put
// back if it failed. A running process's socket is so replaced in one
// step: a client connecting meanwhile reaches the old socket or the new
// one, which listens already, and is never refused. An abstract socket
// (abns@) has no file: its name fills sun_path, padded with NUL bytes, as
// HAProxy binds and connects it.
//
// It imports only the standard library, x/sys and internal/hatext.
package uxsock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"goproxy/internal/hatext"
)

// Addr is a UNIX socket address: a file system path, or an abstract name.
type Addr struct {
	Path     string
	Abstract bool
}

// sunPath is the size of sockaddr_un's sun_path on Linux.
const sunPath = 108

// Sockaddr returns a's socket address. An abstract name takes the whole
// sun_path after its leading NUL byte (HAProxy's length is always
// sizeof(struct sockaddr_un)), so that goproxy and HAProxy reach each
// other's abstract sockets.
func (a Addr) Sockaddr() *unix.SockaddrUnix {
	if !a.Abstract {
		return &unix.SockaddrUnix{Name: a.Path}
	}
	name := a.Path
	if len(name) > sunPath-1 {
		name = name[:sunPath-1]
	}
	return &unix.SockaddrUnix{Name: "@" + name + strings.Repeat("\x00", sunPath-1-len(name))}
}

// raw encodes a as HAProxy passes it to bind(2) and connect(2): the whole
// struct sockaddr_un (a path ends at its NUL byte, an abstract name is
// padded with NUL bytes).
func (a Addr) raw() (unix.RawSockaddrUnix, error) {
	var r unix.RawSockaddrUnix
	r.Family = unix.AF_UNIX
	off := 0
	if a.Abstract {
		off = 1
	}
	if len(a.Path) > sunPath-1 {
		return r, unix.ENAMETOOLONG
	}
	for i := 0; i < len(a.Path); i++ {
		r.Path[off+i] = int8(a.Path[i])
	}
	return r, nil
}

// Bind binds the UNIX socket fd to a.
func Bind(fd int, a Addr) error { return addrCall(syscall.SYS_BIND, fd, a) }

// Connect starts connecting the UNIX socket fd to a. On a non-blocking
// socket, EAGAIN means the listener's queue is full.
func Connect(fd int, a Addr) error { return addrCall(syscall.SYS_CONNECT, fd, a) }

func addrCall(trap uintptr, fd int, a Addr) error {
	r, err := a.raw()
	if err != nil {
		return err
	}
	_, _, e := syscall.Syscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&r)), unsafe.Sizeof(r))
	if e != 0 {
		return e
	}
	return nil
}

// Name returns the address as Go's net package writes a unix address:
// the path, or '@' and the padded abstract name.
func (a Addr) Name() string { return a.Sockaddr().Name }

// String renders a as HAProxy names it in messages: the path, or
// "abns@name".
func (a Addr) String() string {
	if a.Abstract {
		return "abns@" + a.Path
	}
	return a.Path
}

// Perm is the owner and mode a path socket is given; UID and GID -1 keep
// the process's, Mode 0 keeps what bind(2) gave (0777 less the umask).
type Perm struct {
	Mode     uint32
	UID, GID int
}

// Error is a socket that could not be bound, in HAProxy's words
// ("cannot bind UNIX socket (Permission denied) [/run/x.sock]"). It
// unwraps to the system error.
type Error struct {
	What string // "cannot bind UNIX socket", ...
	Addr Addr
	Err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%s) [%s]", e.What, hatext.Strerror(e.Err), e.Addr.String())
}

// Unwrap returns the system error.
func (e *Error) Unwrap() error { return e.Err }

// ID identifies the socket file Listen created (its device and inode), so
// that its owner can tell whether the path still names its socket.
type ID struct{ Dev, Ino uint64 }

// Listen binds and listens a non-blocking, close-on-exec UNIX stream
// socket at a (see the package comment) and returns its descriptor and,
// for a path, the identity of its file.
func Listen(a Addr, perm Perm, backlog int) (int, ID, error) {
	fail := func(what string, err error) (int, ID, error) {
		return -1, ID{}, &Error{What: what, Addr: a, Err: err}
	}
	if a.Abstract {
		fd, err := socket()
		if err != nil {
			return fail("cannot create receiving socket", err)
		}
		if err := Bind(fd, a); err != nil {
			unix.Close(fd)
			return fail("cannot bind UNIX socket", err)
		}
		if err := unix.Listen(fd, backlog); err != nil {
			unix.Close(fd)
			return fail("cannot listen to socket", err)
		}
		return fd, ID{}, nil
	}
	pid := strconv.Itoa(os.Getpid())
	tmp, back := a.Path+"."+pid+".tmp", a.Path+"."+pid+".bak"
	if len(tmp) >= sunPath {
		return fail("name too long for UNIX socket (limit usually 97)", unix.ENAMETOOLONG)
	}
	for _, p := range []string{tmp, back} {
		if err := unix.Unlink(p); err != nil && !errors.Is(err, unix.ENOENT) {
			return fail("error when trying to unlink previous UNIX socket", err)
		}
	}
	if err := unix.Link(a.Path, back); err != nil && !errors.Is(err, unix.ENOENT) {
		return fail("error when trying to preserve previous UNIX socket", err)
	}
	fd, err := socket()
	if err != nil {
		unix.Unlink(back)
		return fail("cannot create receiving socket", err)
	}
	undo := func(what string, err error) (int, ID, error) {
		unix.Unlink(tmp)
		unix.Close(fd)
		unix.Unlink(back)
		return fail(what, err)
	}
	if err := Bind(fd, Addr{Path: tmp}); err != nil {
		unix.Close(fd)
		unix.Unlink(back)
		return fail("cannot bind UNIX socket", err)
	}
	if perm.UID != -1 || perm.GID != -1 {
		if err := unix.Lchown(tmp, perm.UID, perm.GID); err != nil {
			return undo("cannot change UNIX socket ownership", err)
		}
	}
	if perm.Mode != 0 {
		if err := unix.Chmod(tmp, perm.Mode); err != nil {
			return undo("cannot change UNIX socket ownership", err)
		}
	}
	// Listen before the rename: from the rename on, clients reach this
	// socket, and one that does not listen yet would refuse them.
	if err := unix.Listen(fd, backlog); err != nil {
		return undo("cannot listen to socket", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(tmp, &st); err != nil {
		return undo("cannot bind UNIX socket", err)
	}
	if err := unix.Rename(tmp, a.Path); err != nil {
		// Put the previous socket back where it was.
		if rerr := unix.Rename(back, a.Path); errors.Is(rerr, unix.ENOENT) {
			unix.Unlink(a.Path)
		}
		return undo("cannot switch final and temporary UNIX sockets", err)
	}
	unix.Unlink(back)
	return fd, ID{Dev: st.Dev, Ino: st.Ino}, nil
}

func socket() (int, error) {
	return unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

// Owns reports whether path still names the socket file id (nobody has
// replaced it since Listen).
func Owns(path string, id ID) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil && st.Dev == id.Dev && st.Ino == id.Ino
}

// Bound returns the address a UNIX socket is bound to (getsockname), and
// false for another family.
func Bound(fd int) (Addr, bool) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return Addr{}, false
	}
	su, ok := sa.(*unix.SockaddrUnix)
	if !ok {
		return Addr{}, false
	}
	if strings.HasPrefix(su.Name, "@") {
		return Addr{Path: strings.TrimRight(su.Name[1:], "\x00"), Abstract: true}, true
	}
	return Addr{Path: su.Name}, true
}

// Same reports whether a socket bound at got is the socket of want, as
// HAProxy's sock_unix_addrcmp decides when it takes over an older
// process's socket: the same abstract name, or the same path give or
// take the ".<pid>.tmp" name it was bound at before its rename.
func Same(got, want Addr) bool {
	if got.Abstract != want.Abstract {
		return false
	}
	if got.Abstract {
		return got.Path == want.Path
	}
	return stripTmp(got.Path) == stripTmp(want.Path)
}

// stripTmp removes a ".<digits>.tmp" suffix.
func stripTmp(p string) string {
	s, ok := strings.CutSuffix(p, ".tmp")
	if !ok {
		return p
	}
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || i == 0 || s[i-1] != '.' {
		return p
	}
	return s[:i-1]
}
