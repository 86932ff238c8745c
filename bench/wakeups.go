package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Wake-ups of the proxy in a measuring window: context switches of all its
// threads, read from /proc, and its epoll waits (epoll_wait and
// epoll_pwait calls), counted by `perf stat` on the syscall tracepoints
// when perf can attach; both proxies are counted the same way.

// epollEvents are the tracepoints of the calls that wait for events.
var epollEvents = []string{"syscalls:sys_enter_epoll_wait", "syscalls:sys_enter_epoll_pwait"}

// ctxSwitchesOf sums voluntary and involuntary context switches over the
// threads of process pid that are alive now.
func ctxSwitchesOf(pid int) int64 {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum int64
	for _, e := range ents {
		data, err := os.ReadFile(dir + "/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		sum += parseCtxSwitches(data)
	}
	return sum
}

// parseCtxSwitches returns voluntary_ctxt_switches + nonvoluntary_ctxt_switches
// from the text of a /proc status file.
func parseCtxSwitches(data []byte) int64 {
	var sum int64
	for line := range bytes.Lines(data) {
		for _, p := range []string{"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"} {
			if rest, ok := bytes.CutPrefix(line, []byte(p)); ok {
				n, err := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
				if err == nil {
					sum += n
				}
			}
		}
	}
	return sum
}

// epollCounter is a `perf stat` attached to the proxy for one window.
type epollCounter struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

// perfUsable reports whether perf can count the epoll tracepoints here.
var perfUsable = sync.OnceValue(func() bool {
	path, err := exec.LookPath("perf")
	if err != nil {
		return false
	}
	out, err := exec.Command(path, "stat", "-x,", "-e", strings.Join(epollEvents, ","), "true").CombinedOutput()
	return err == nil && bytes.Contains(out, []byte(epollEvents[0]))
})

// startEpollCounter attaches perf to pid, or returns nil when it cannot.
func startEpollCounter(pid int) *epollCounter {
	if !perfUsable() {
		return nil
	}
	c := &epollCounter{}
	c.cmd = exec.Command("perf", "stat", "-x,", "-e", strings.Join(epollEvents, ","), "-p", strconv.Itoa(pid))
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		return nil
	}
	// perf attaches after it started; a window of a second or more
	// dwarfs the few milliseconds lost here.
	time.Sleep(50 * time.Millisecond)
	return c
}

// stop ends the count and returns the epoll waits seen, or -1.
func (c *epollCounter) stop() int64 {
	if c == nil {
		return -1
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
		return -1
	}
	return parsePerfCounts(c.stderr.Bytes())
}

// parsePerfCounts sums the counts of perf stat's CSV lines (-x,): the
// first field of each line that names an epoll tracepoint; -1 when a count
// is missing ("<not counted>", "<not supported>").
func parsePerfCounts(out []byte) int64 {
	var sum int64
	seen := 0
	for line := range bytes.Lines(out) {
		f := strings.Split(strings.TrimSpace(string(line)), ",")
		if len(f) < 3 || !strings.HasPrefix(f[2], "syscalls:sys_enter_epoll") {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return -1
		}
		sum += n
		seen++
	}
	if seen != len(epollEvents) {
		return -1
	}
	return sum
}
