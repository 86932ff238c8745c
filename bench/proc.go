package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// proxyProc is one proxy process the harness started; the harness stops it
// by its PID only.
type proxyProc struct {
	name string
	cmd  *exec.Cmd
	log  string // its stdout and stderr
	done chan struct{}
	err  error // set before done closes
}

// startProxy runs `bin -db -f cfg`, pinned to cpu (when cpu >= 0, through
// taskset when it exists, else by setting the affinity of its threads once
// it runs), and waits until every address in ready accepts a connection.
func startProxy(name, bin, cfg, dir string, cpu int, ready []string) (*proxyProc, error) {
	args := []string{bin, "-db", "-f", cfg}
	ts, tsErr := exec.LookPath("taskset")
	if cpu >= 0 && tsErr == nil {
		args = append([]string{ts, "-c", strconv.Itoa(cpu)}, args...)
	}
	logPath := filepath.Join(dir, name+".log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// The kernel kills the proxy if the harness dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proxyProc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ready, 10*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not start: %w%s", name, err, p.logTail())
	}
	if cpu >= 0 && tsErr != nil {
		if err := pinProcess(p.pid(), cpu); err != nil {
			p.stop()
			return nil, fmt.Errorf("pinning %s: %w", name, err)
		}
	}
	return p, nil
}

func (p *proxyProc) pid() int { return p.cmd.Process.Pid }

func (p *proxyProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proxyProc) waitReady(addrs []string, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for _, a := range addrs {
		for {
			if p.exited() {
				return fmt.Errorf("exited: %v", p.err)
			}
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(end) {
				return fmt.Errorf("%s: %w", a, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// stop sends SIGTERM, then SIGKILL after 5 s, and waits for the exit.
func (p *proxyProc) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(5 * time.Second):
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// logTail returns the end of the proxy's output, for error messages.
func (p *proxyProc) logTail() string {
	data, err := os.ReadFile(p.log)
	if err != nil || len(data) == 0 {
		return ""
	}
	if len(data) > 1500 {
		data = data[len(data)-1500:]
	}
	return "\n--- " + p.log + ":\n" + string(bytes.TrimSpace(data))
}

// pinProcess sets the CPU affinity of every thread of pid (0: this
// process). Threads created afterwards inherit it from their creator. The
// walk runs twice to catch threads born during the first.
func pinProcess(pid, cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	dir := "/proc/self/task"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid) + "/task"
	}
	for range 2 {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("thread %d: %w", tid, err)
			}
		}
	}
	return nil
}

// usableCPUs returns the CPUs this process may run on.
func usableCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for i := range 1024 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}

// freePort returns a loopback address that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
