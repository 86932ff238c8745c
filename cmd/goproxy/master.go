package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// Master-worker mode (-W, -Ws, "master-worker"), as HAProxy 2.6 runs it: a
// master process that serves no traffic starts a worker and watches it.
// Go cannot fork, so the master starts each worker by executing its own
// binary again with the same arguments, and reloads (SIGUSR2, or "reload"
// on the master CLI) by executing itself in place: same pid, same
// children, the state of its workers carried in masterStateEnv.
//
// Each worker gets a channel to the master, a unix stream socket pair
// (fd 3 in the worker): the master sends connections over it (SCM_RIGHTS)
// that the worker serves as CLI connections at level admin with expose-fd
// listeners, as HAProxy's sockpair@ CLI; the worker writes "READY" on it
// once it listens. A new worker is started with "-sf <pids of the current
// workers> -x sockpair@4", fd 4 being the current worker's channel: it
// takes the listening sockets from the current worker with the _getsocks
// exchange, then soft-stops it, as HAProxy's new workers do.
const (
	workerEnv       = "GOPROXY_MWORKER_CHILD"
	masterStateEnv  = "GOPROXY_MWORKER_STATE"
	workerChannelFD = 3
	oldChannelFD    = 4
	readyMessage    = "READY"
)

// mworker is one worker as the master knows it.
type mworker struct {
	pid     int
	fd      int // the master's end of the worker's channel
	reloads int // master reloads the worker has lived through
	start   time.Time
	version string
	leaving bool // an old worker: soft-stopped by a newer one
	ready   bool
	closed  bool // fd closed (the worker is gone)
}

// master is the master process. Its loop owns everything but mu-guarded
// workers, which the master CLI sessions read.
type master struct {
	argv   []string
	o      *options
	c      *console
	out    *outWriter
	status *statusPipe
	notify bool // -Ws: sd_notify

	start        time.Time
	reloads      int
	failed       int
	reloadFailed bool
	noExit       bool
	exitCode     int
	pidFile      string
	// parsedMWorker: HAPROXY_MWORKER was set when this master parsed.
	parsedMWorker bool

	mu       sync.Mutex
	workers  []*mworker  // oldest first
	programs []*mprogram // oldest first
	cli      []*mcliListener

	events chan any
	// reloadWait is set while a reload waits for the newest worker to
	// listen; it fires after reloadTimeout.
	reloadWait <-chan time.Time
}

type workerReady struct{ pid int }
type workerExit struct{ pid, status int }
type reloadRequest struct{}

// runMaster runs the master. cfg is the configuration already loaded by
// the process started from the shell, nil after a reload (the master
// loads it again).
func runMaster(argv []string, o *options, c *console, out *outWriter, cfg *parser.Config, status *statusPipe) int {
	m := &master{argv: argv, o: o, c: c, out: out, status: status, notify: o.systemd, start: time.Now(), exitCode: -1, events: make(chan any, 16)}
	// As HAProxy: the variables are set once the configuration is parsed,
	// so the first parse does not see them, a reloaded master's does; the
	// worker parses as its master did.
	m.parsedMWorker = os.Getenv("HAPROXY_MWORKER") != ""
	setMWorkerEnv(o)
	signal.Ignore(syscall.SIGPIPE, syscall.SIGHUP)
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	reexec := false
	if st := os.Getenv(masterStateEnv); st != "" {
		os.Unsetenv(masterStateEnv)
		if err := m.restore(st); err != nil {
			c.alert("[haproxy.main()] cannot restore the master's state: %v", err)
			return exitError
		}
		m.restoreLevels()
		reexec = true
	}
	m.sdNotify("RELOADING=1")
	if cfg == nil {
		var err error
		cfg, err = o.loadConfig(o.files, loadOptionsFor(o))
		if !reportLoad(c, cfg, err) {
			cfg = nil
		}
	}
	if cfg == nil {
		if !reexec {
			return exitError
		}
		// As HAProxy: the old workers go on, the master waits.
		m.failed++
		m.reloadFailed = true
		c.warning("Loading failure!")
		c.noticeAgain()
		m.sdNotify("READY=1\nMAINPID=" + strconv.Itoa(os.Getpid()))
		if len(m.workers) == 0 {
			// Nothing left to wait for.
			c.warning("All workers exited. Exiting... (%d)", exitError)
			m.closeCLI(true)
			return exitError
		}
	} else {
		m.reloadFailed = false
		m.noExit = cfg.Global.NoExitOnFailure
		m.pidFile = o.pidFile
		if m.pidFile == "" {
			m.pidFile = cfg.Global.PidFile
		}
		if !reexec {
			for _, spec := range o.masterCLI {
				l, err := listenMasterCLI(spec)
				if err != nil {
					c.alert("%v", err)
					m.closeCLI(true)
					return exitError
				}
				m.cli = append(m.cli, l)
			}
		}
		if m.pidFile != "" {
			if err := writePidFile(m.pidFile, os.Getpid()); err != nil {
				c.alert("[haproxy.main()] %v", err)
				m.closeCLI(true)
				return exitError
			}
		}
		if reexec {
			m.leavePrograms()
		}
		m.startPrograms(cfg, reexec)
		if err := m.spawn(); err != nil {
			c.alert("[haproxy.main()] %v", err)
			if len(m.workers) == 0 {
				m.closeCLI(true)
				return exitError
			}
		}
	}
	for _, l := range m.cli {
		go m.acceptCLI(l)
	}
	if m.status == nil {
		m.out.release(os.Stderr, false)
	}
	for {
		select {
		case <-m.reloadWait:
			// The new worker never said it listens: reload all the same.
			m.reloadWait = nil
			m.reload()
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR2:
				m.requestedReload()
			default:
				c.warning("Exiting Master process...")
				m.sdNotify("STOPPING=1")
				m.signalAll(s.(syscall.Signal))
			}
		case ev := <-m.events:
			switch ev := ev.(type) {
			case reloadRequest:
				m.requestedReload()
			case workerReady:
				m.ready(ev.pid)
				m.pendingReload()
			case workerExit:
				code, done := m.reap(ev)
				if done {
					m.status.report(code)
					m.closeCLI(true)
					return code
				}
				m.pendingReload()
			}
		}
	}
}

// spawn starts a new worker; the workers before it become old ones.
func (m *master) spawn() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the executable to start a worker: %w", err)
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("worker channel: %w", err)
	}
	theirs := os.NewFile(uintptr(pair[1]), "worker-channel")
	defer theirs.Close()

	var args []string
	var pids []string
	files := []*os.File{theirs}
	m.mu.Lock()
	var cur *mworker
	for _, w := range m.workers {
		if !w.leaving && !w.closed {
			pids = append(pids, strconv.Itoa(w.pid))
			cur = w
		}
	}
	var old *os.File
	if cur != nil {
		// A dup: the os.File closes it, never the master's own descriptor.
		if dup, err := unix.FcntlInt(uintptr(cur.fd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
			old = os.NewFile(uintptr(dup), "old-worker-channel")
		}
	}
	m.mu.Unlock()
	if len(pids) > 0 {
		args = append(append(args, "-sf"), pids...)
	}
	if old != nil {
		defer old.Close()
		files = append(files, old)
		args = append(args, "-x", "sockpair@"+strconv.Itoa(oldChannelFD))
	}
	args = append(args, m.argv...)
	cmd := exec.Command(exe, args...)
	cmd.Env = workerEnviron(m.parsedMWorker)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = files
	if err := cmd.Start(); err != nil {
		unix.Close(pair[0])
		return fmt.Errorf("cannot start a worker: %w", err)
	}
	w := &mworker{pid: cmd.Process.Pid, fd: pair[0], start: time.Now(), version: version}
	m.mu.Lock()
	for _, o := range m.workers {
		o.leaving = true
	}
	m.workers = append(m.workers, w)
	m.mu.Unlock()
	m.c.notice("New worker (%d) forked", w.pid)
	go m.watchChannel(w)
	go func() {
		_ = cmd.Wait()
		m.events <- workerExit{pid: w.pid, status: exitStatus(cmd.ProcessState)}
	}()
	return nil
}

// workerEnviron is the master's environment for a worker: the worker
// marker set, no sd_notify socket (only the master talks to the service
// manager), no daemon or master markers, and the master-worker variables
// only if the master parsed with them.
func workerEnviron(parsedMWorker bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", daemonEnv, masterStateEnv, workerEnv:
			continue
		case "HAPROXY_MWORKER", "HAPROXY_MASTER_CLI":
			if !parsedMWorker {
				continue
			}
		}
		env = append(env, kv)
	}
	return append(env, workerEnv+"=1")
}

// setMWorkerEnv sets HAProxy's master-worker variables: HAPROXY_MWORKER,
// and HAPROXY_MASTER_CLI, the -S addresses (last first, "unix@<path>",
// "ipv4@<addr>"), as HAProxy 2.6 does.
func setMWorkerEnv(o *options) {
	os.Setenv("HAPROXY_MWORKER", "1")
	if len(o.masterCLI) == 0 {
		return
	}
	var addrs []string
	for i := len(o.masterCLI) - 1; i >= 0; i-- {
		addrs = append(addrs, masterCLIAddr(o.masterCLI[i]))
	}
	os.Setenv("HAPROXY_MASTER_CLI", strings.Join(addrs, ";"))
}

// masterCLIAddr is the address of a -S argument as HAProxy names it.
func masterCLIAddr(spec string) string {
	addr, _, _ := strings.Cut(spec, ",")
	switch {
	case strings.HasPrefix(addr, "unix@"), strings.HasPrefix(addr, "ipv4@"), strings.HasPrefix(addr, "ipv6@"):
		return addr
	case strings.Contains(addr, "/") || !strings.Contains(addr, ":"):
		return "unix@" + addr
	case strings.HasPrefix(addr, "["), strings.Count(addr, ":") > 1:
		return "ipv6@" + addr
	}
	return "ipv4@" + addr
}

// exitStatus is a child's status as HAProxy reports it: the exit code, or
// 128 + the signal that killed it.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return exitError
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// watchChannel reads the worker's messages on its channel until it closes.
func (m *master) watchChannel(w *mworker) {
	r := bufio.NewReader(io.LimitReader(fdReader(w.fd), 1<<20))
	for i := 0; i < 1024; i++ {
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) == readyMessage {
			m.events <- workerReady{pid: w.pid}
		}
		if err != nil {
			break
		}
	}
	m.mu.Lock()
	if !w.closed {
		w.closed = true
		unix.Close(w.fd)
	}
	m.mu.Unlock()
}

// fdReader reads a blocking descriptor.
type fdReader int

func (r fdReader) Read(b []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// ready: the worker listens. The first time for the newest worker the
// master reports the load as HAProxy does.
func (m *master) ready(pid int) {
	m.mu.Lock()
	var w *mworker
	for _, x := range m.workers {
		if x.pid == pid {
			w = x
		}
	}
	first := w != nil && !w.ready && !w.leaving
	if w != nil {
		w.ready = true
	}
	m.mu.Unlock()
	if !first {
		return
	}
	m.c.notice("Loading success.")
	m.stopOldPrograms()
	m.sdNotify("READY=1\nMAINPID=" + strconv.Itoa(os.Getpid()))
	if m.status != nil {
		m.out.release(os.Stderr, false)
		m.status.report(exitOK)
		m.status = nil
	}
}

// reap handles a worker's exit as HAProxy's mworker_catch_sigchld: it
// reports whether the master is done, with its exit code.
func (m *master) reap(ev workerExit) (int, bool) {
	if m.reapProgram(ev) {
		return m.allExited()
	}
	m.mu.Lock()
	var w *mworker
	rest := m.workers[:0]
	for _, x := range m.workers {
		if x.pid == ev.pid {
			w = x
			continue
		}
		rest = append(rest, x)
	}
	m.workers = rest
	m.mu.Unlock()
	if w == nil {
		return 0, false
	}
	st := ev.status
	if !w.leaving {
		if st < 128 {
			m.c.warning("Current worker (%d) exited with code %d (%s)", w.pid, st, "Exit")
		} else {
			m.c.alert("Current worker (%d) exited with code %d (%s)", w.pid, st, signalText(st-128))
		}
		m.currentExited(st)
	} else {
		what := "Exit"
		if st >= 128 {
			what = signalText(st - 128)
		}
		m.c.warning("Former worker (%d) exited with code %d (%s)", w.pid, st, what)
	}
	return m.allExited()
}

// currentExited applies HAProxy's exit-on-failure to a current worker or
// program that exited with status st.
func (m *master) currentExited(st int) {
	if st != 0 && st != 130 && st != 143 && !m.noExit {
		m.c.alert("exit-on-failure: killing every processes with SIGTERM")
		m.signalAll(syscall.SIGTERM)
	}
	if m.exitCode < 0 && st != 0 && st != 143 {
		m.exitCode = st
	}
}

// allExited reports whether no worker and no program is left, and then
// the master's exit code.
func (m *master) allExited() (int, bool) {
	m.mu.Lock()
	left := len(m.workers) + len(m.programs)
	m.mu.Unlock()
	if left > 0 {
		return 0, false
	}
	code := exitOK
	if m.exitCode > 0 {
		code = m.exitCode
	}
	// As HAProxy, the pidfile stays.
	m.c.warning("All workers exited. Exiting... (%d)", code)
	return code, true
}

// signalText is strsignal(3): "Terminated", "Killed".
func signalText(sig int) string {
	s := syscall.Signal(sig).String()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// signalAll sends sig to every worker.
func (m *master) signalAll(sig syscall.Signal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		if err := syscall.Kill(w.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			m.c.warning("Failed to send signal %d to worker %d: %v.", int(sig), w.pid, err)
		}
	}
	for _, p := range m.programs {
		if err := syscall.Kill(p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			m.c.warning("Failed to send signal %d to program %d: %v.", int(sig), p.pid, err)
		}
	}
}

// reloadTimeout bounds how long a reload waits for the newest worker to
// listen.
const reloadTimeout = 10 * time.Second

// requestedReload reloads now, or once the newest worker listens: a new
// worker takes its listening sockets from the current one, which must
// have them (a reload storm at start must not make it fail).
func (m *master) requestedReload() {
	if m.reloadWait != nil {
		return // already waiting
	}
	if m.newestStarting() {
		m.reloadWait = time.After(reloadTimeout)
		return
	}
	m.reload()
}

// pendingReload runs a reload that waited for the newest worker, once it
// listens or has gone.
func (m *master) pendingReload() {
	if m.reloadWait != nil && !m.newestStarting() {
		m.reloadWait = nil
		m.reload()
	}
}

// newestStarting reports whether the newest worker is alive and not yet
// listening.
func (m *master) newestStarting() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.workers) == 0 {
		return false
	}
	w := m.workers[len(m.workers)-1]
	return !w.leaving && !w.ready && !w.closed
}

// reload executes the master again with the same arguments, keeping its
// pid, its workers' channels and its CLI sockets.
func (m *master) reload() {
	m.c.notice("Reloading HAProxy")
	m.sdNotify("RELOADING=1")
	exe, err := os.Executable()
	if err != nil {
		m.c.alert("Cannot reload: %v", err)
		return
	}
	m.mu.Lock()
	st := m.state()
	var keep []int
	for _, w := range m.workers {
		if !w.closed {
			keep = append(keep, w.fd)
		}
	}
	m.mu.Unlock()
	for _, fd := range keep {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	}
	env := append(os.Environ(), masterStateEnv+"="+st)
	// The signals the master handles stay blocked across the exec (the
	// mask is inherited): one sent before the next master asks for it
	// waits for it instead of killing the process.
	runtime.LockOSThread()
	var set, old unix.Sigset_t
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT} {
		set.Val[(sig-1)/64] |= 1 << ((uint(sig) - 1) % 64)
	}
	_ = unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old)
	err = syscall.Exec(exe, append([]string{os.Args[0]}, reexecArgs(m.argv)...), env)
	_ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	runtime.UnlockOSThread()
	// Still here: the exec failed. The descriptors go back to close-on-exec.
	for _, fd := range keep {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
	}
	m.mu.Lock()
	m.failed++
	m.reloadFailed = true
	m.mu.Unlock()
	m.c.alert("Cannot reload: %v", err)
	m.sdNotify("READY=1\nMAINPID=" + strconv.Itoa(os.Getpid()))
}

// reexecArgs is argv without -sf/-st and their pids and without -x and
// its socket, as HAProxy's master drops them when it executes itself: they
// were for the first worker, the master passes its own to the next ones.
func reexecArgs(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			return append(out, argv[i:]...)
		case a == "-sf" || a == "-st":
			for i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
				i++
			}
		case a == "-x":
			i++
		default:
			out = append(out, a)
		}
	}
	return out
}

// state serialises what the next master needs: its counters, its CLI
// sockets, its workers. m.mu is held.
//
//	m=<reloads>,<failed>,<start ns>,<reload failed 0|1>;c=<fd>,<fd>;w=<pid>,<fd>,<reloads>,<start ns>,<leaving 0|1>,<version>;...;p=<program entry>;...
func (m *master) state() string {
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	parts := []string{fmt.Sprintf("m=%d,%d,%d,%d", m.reloads+1, m.failed, m.start.UnixNano(), b2i(m.reloadFailed))}
	var fds []string
	for _, l := range m.cli {
		if fd, err := l.inheritable(); err == nil {
			fds = append(fds, strconv.Itoa(fd))
		}
	}
	parts = append(parts, "c="+strings.Join(fds, ","))
	for _, w := range m.workers {
		if w.closed {
			continue
		}
		parts = append(parts, fmt.Sprintf("w=%d,%d,%d,%d,%d,%s", w.pid, w.fd, w.reloads+1, w.start.UnixNano(), b2i(w.leaving), w.version))
	}
	parts = append(parts, m.programState()...)
	return strings.Join(parts, ";")
}

// restore reads the state left by the previous master.
func (m *master) restore(st string) error {
	for _, part := range strings.Split(st, ";") {
		k, v, _ := strings.Cut(part, "=")
		f := strings.Split(v, ",")
		switch k {
		case "m":
			if len(f) != 4 {
				return fmt.Errorf("bad master entry %q", part)
			}
			m.reloads, _ = strconv.Atoi(f[0])
			m.failed, _ = strconv.Atoi(f[1])
			ns, _ := strconv.ParseInt(f[2], 10, 64)
			m.start = time.Unix(0, ns)
			m.reloadFailed = f[3] == "1"
		case "c":
			for _, s := range f {
				if s == "" {
					continue
				}
				fd, err := strconv.Atoi(s)
				if err != nil {
					return fmt.Errorf("bad CLI entry %q", part)
				}
				l, err := inheritedMasterCLI(fd)
				if err != nil {
					return err
				}
				m.cli = append(m.cli, l)
			}
		case "p":
			if err := m.restoreProgram(part, f); err != nil {
				return err
			}
		case "w":
			if len(f) != 6 {
				return fmt.Errorf("bad worker entry %q", part)
			}
			w := &mworker{version: f[5], ready: true, leaving: f[4] == "1"}
			w.pid, _ = strconv.Atoi(f[0])
			w.fd, _ = strconv.Atoi(f[1])
			w.reloads, _ = strconv.Atoi(f[2])
			ns, _ := strconv.ParseInt(f[3], 10, 64)
			w.start = time.Unix(0, ns)
			_, _ = unix.FcntlInt(uintptr(w.fd), unix.F_SETFD, unix.FD_CLOEXEC)
			m.workers = append(m.workers, w)
			p, err := os.FindProcess(w.pid)
			if err != nil {
				return err
			}
			go m.watchChannel(w)
			go func() {
				ps, err := p.Wait()
				st := exitError
				if err == nil {
					st = exitStatus(ps)
				}
				m.events <- workerExit{pid: w.pid, status: st}
			}()
		}
	}
	return nil
}

// sdNotify sends state to the service manager with -Ws.
func (m *master) sdNotify(state string) {
	if !m.notify {
		return
	}
	if err := sdNotify(state); err != nil {
		m.c.warning("Failed to notify the service manager: %v.", err)
	}
}

// requestReload asks the master loop for a reload (master CLI "reload").
func (m *master) requestReload() {
	select {
	case m.events <- reloadRequest{}:
	default:
	}
}
