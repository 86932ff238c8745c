package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A Go program cannot fork, so daemon mode re-executes the binary with the
// same arguments and daemonEnv set. The child starts a new session, has
// /dev/null as stdin/stdout/stderr, and writes its startup messages to an
// inherited pipe (fd 3), ending with a status line. The launcher copies the
// messages to its stderr and exits with the child's status: 0 as soon as
// the child listens, the child's exit code if it fails to start.
const (
	daemonEnv    = "GOPROXY_DAEMON_CHILD"
	statusFD     = 3
	statusMarker = "\x00goproxy-status "
)

// statusPipe is the daemon child's end of the status pipe.
type statusPipe struct {
	f    *os.File
	once sync.Once
}

// daemonChild returns the status pipe when this process is the daemon
// child, else nil. It clears the marker so that nothing this process starts
// inherits it.
func daemonChild() *statusPipe {
	if os.Getenv(daemonEnv) != "1" {
		return nil
	}
	os.Unsetenv(daemonEnv)
	return &statusPipe{f: os.NewFile(statusFD, "goproxy-status")}
}

// Write sends startup messages to the launcher.
func (p *statusPipe) Write(b []byte) (int, error) { return p.f.Write(b) }

// report ends the child's startup report, once: status 0 means listening.
// The pipe is closed afterwards.
func (p *statusPipe) report(status int) {
	if p == nil {
		return
	}
	p.once.Do(func() {
		fmt.Fprintf(p.f, "%s%d\n", statusMarker, status)
		p.f.Close()
	})
}

// daemonize starts the daemon child with argv and waits for its startup
// report, copying its messages to stderr. It returns the exit status of
// the launcher.
func daemonize(argv []string, stderr io.Writer) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return exitError, fmt.Errorf("cannot find the executable to start the daemon: %w", err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return exitError, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return exitError, fmt.Errorf("status pipe: %w", err)
	}
	defer r.Close()

	cmd := exec.Command(exe, argv...)
	cmd.Env = append(os.Environ(), daemonEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w} // becomes statusFD in the child
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return exitError, fmt.Errorf("cannot start the daemon: %w", err)
	}
	w.Close()

	status, ok := relayStatus(r, stderr)
	if ok {
		if status == 0 {
			// The child keeps running on its own.
			_ = cmd.Process.Release()
			return exitOK, nil
		}
		_ = cmd.Wait()
		return status, nil
	}
	// The pipe closed without a status: the child died while starting.
	werr := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		return exitError, fmt.Errorf("the daemon exited while starting: %v", ee.ProcessState)
	}
	return exitError, errors.New("the daemon closed its status pipe while starting")
}

// relayStatus copies the child's message lines to w until the status line
// or the end of the pipe; ok is false if no status line came.
func relayStatus(r io.Reader, w io.Writer) (status int, ok bool) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if rest, found := strings.CutPrefix(line, statusMarker); found {
			n, perr := strconv.Atoi(strings.TrimSpace(rest))
			if perr != nil {
				return exitError, true
			}
			return n, true
		}
		if line != "" {
			io.WriteString(w, line)
		}
		if err != nil {
			return 0, false
		}
	}
}

// writePidFile writes pid and a newline to path, replacing its content.
func writePidFile(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("cannot write pidfile %s: %w", path, err)
	}
	return nil
}
