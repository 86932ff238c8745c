package stats

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// BindError is a stats socket that could not be bound, worded as HAProxy's
// startup alert ("Binding [f.cfg:3] for frontend GLOBAL: cannot bind UNIX
// socket (No such file or directory) [/run/x.sock]"). It unwraps to the
// cause, so that errors.Is(err, syscall.EADDRINUSE) works.
type BindError struct {
	Msg string
	Err error
}

func (e *BindError) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *BindError) Unwrap() error { return e.Err }

func bindError(sk parser.StatsSocket, what string, err error, where string) error {
	reason := err.Error()
	var en syscall.Errno
	if errors.As(err, &en) {
		reason = strerror(en)
	}
	return &BindError{Msg: fmt.Sprintf("Binding [%s:%d] for frontend GLOBAL: %s (%s) %s", sk.File, sk.Line, what, reason, where), Err: err}
}

// reusePortConfig binds TCP stats sockets with SO_REUSEPORT, as HAProxy
// binds every listener: a new process started with -sf binds beside the
// old one, which keeps answering until it stops.
var reusePortConfig = net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}}
