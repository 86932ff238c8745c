package main

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"goproxy/internal/sockxfer"
)

// workerChannel is a worker's end of its channel to the master (fd 3),
// present when this process is a master-worker worker.
type workerChannel struct{ fd int }

// masterWorkerChild returns the channel when this process is a worker,
// else nil. It clears the marker so that nothing this process starts
// inherits it.
func masterWorkerChild() *workerChannel {
	if os.Getenv(workerEnv) != "1" {
		return nil
	}
	os.Unsetenv(workerEnv)
	unix.CloseOnExec(workerChannelFD)
	return &workerChannel{fd: workerChannelFD}
}

// cliServer is what the channel needs of a running runtime.
type cliServer interface {
	ServeCLI(c net.Conn)
}

// ready tells the master the worker listens.
func (w *workerChannel) ready() {
	if w == nil {
		return
	}
	_, _ = unix.Write(w.fd, []byte(readyMessage+"\n"))
}

// serve serves the connections the master sends as CLI connections of g.
// When the master is gone the worker stops, as HAProxy's do.
func (w *workerChannel) serve(g graph) {
	cs, _ := g.(cliServer)
	for {
		c, err := sockxfer.RecvConn(w.fd)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EBADF) {
				_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
				return
			}
			continue
		}
		if cs == nil {
			c.Close()
			continue
		}
		cs.ServeCLI(c)
	}
}

// ServeCLI serves c as a CLI connection of the process, at level admin
// with expose-fd listeners (the master's channel), until the process ends.
func (rt *procRuntime) ServeCLI(c net.Conn) { rt.chAPI.ServeConn(c) }
