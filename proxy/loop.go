package proxy

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
)

// acceptBatch bounds the connections accepted per listener wake-up,
// unless tune.maxaccept sets it.
const acceptBatch = 64

// acceptBatchOf is a listener's batch for tune.maxaccept n: n when
// positive, unlimited for -1 (still bounded, by maxDrain), acceptBatch
// otherwise.
func acceptBatchOf(n int) int {
	switch {
	case n > 0:
		return n
	case n < 0:
		return maxDrain
	}
	return acceptBatch
}

// fdEntry is what a descriptor registered in a loop's epoll set belongs to.
// tag changes at every registration, so that a stale event for a reused
// descriptor number is recognised and dropped.
type fdEntry struct {
	s   *session
	ln  *Listener
	tag uint32
}

// loop is one event loop: an epoll set, the sessions it owns, its timers and
// its command queue. Everything but the command queue and the flags marked
// atomic is touched only by the loop's goroutine.
type loop struct {
	g       *Graph
	epfd    int
	evfd    int
	scratch []byte
	fds     []fdEntry
	tagSeq  uint32
	timers  timerHeap
	bufs    bufPool
	again   []*session
	againB  []*session
	// retired and freeSess are the session records to reuse (see
	// session_pool.go).
	retired, freeSess []*session
	// ci is what the rule being evaluated looks at (rules run in the
	// loop, one at a time; a field, so that it costs no allocation).
	ci   connInfo
	now  int64     // nanoseconds since g.base, at the last wake-up
	wall time.Time // wall clock at the last wake-up

	nsess     int         // sessions owned (including queued ones)
	listeners []*Listener // listeners this loop accepts on
	blocked   []*Listener // listeners taken out of epoll by a limit
	retryAt   int64       // when to retry blocked listeners after EMFILE
	stopping  bool        // soft stop: exit once nsess is 0
	exit      bool

	hasBlocked   atomic.Bool
	resumePosted atomic.Bool

	cmdMu sync.Mutex
	cmds  []func(*loop)
	dead  bool // guarded by cmdMu: the loop exited, commands are refused
	done  chan struct{}
}

// newLoop creates a loop's epoll set and wake-up descriptor.
func newLoop(g *Graph) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	l := &loop{g: g, epfd: epfd, evfd: evfd, scratch: make([]byte, max(scratchSize, g.bufSize)), done: make(chan struct{})}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return l, nil
}

// register adds fd to the epoll set for session s (edge-triggered; out:
// with write interest, see fCliOut) or listener ln (level-triggered,
// exclusive wake-ups).
func (l *loop) register(fd int, s *session, ln *Listener, out bool) error {
	for fd >= len(l.fds) {
		l.fds = append(l.fds, make([]fdEntry, max(len(l.fds), 64))...)
	}
	l.tagSeq++
	if l.tagSeq == 0 {
		l.tagSeq = 1
	}
	ev := unix.EpollEvent{Fd: int32(fd), Pad: int32(l.tagSeq)}
	if ln != nil {
		ev.Events = unix.EPOLLIN | unix.EPOLLEXCLUSIVE
	} else {
		ev.Events = sessionEvents(out)
	}
	if err := rawsys.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	l.fds[fd] = fdEntry{s: s, ln: ln, tag: l.tagSeq}
	return nil
}

// sessionEvents is the interest of a session's descriptor.
func sessionEvents(out bool) uint32 {
	ev := uint32(unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET)
	if out {
		ev |= unix.EPOLLOUT
	}
	return ev
}

// setWriteInterest changes the write interest of a registered session
// descriptor. Taking it reports at once a socket that is already
// writable again (epoll polls the socket on EPOLL_CTL_MOD), so no wake-up
// is lost between a send that would block and this call.
func (l *loop) setWriteInterest(fd int, out bool) error {
	if fd < 0 || fd >= len(l.fds) || l.fds[fd].s == nil {
		return nil
	}
	ev := unix.EpollEvent{Events: sessionEvents(out), Fd: int32(fd), Pad: int32(l.fds[fd].tag)}
	if err := rawsys.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// unregister forgets fd. Sessions close their descriptors right after,
// which removes them from the epoll set; listeners are removed explicitly
// since their descriptors may have duplicates.
func (l *loop) unregister(fd int) {
	if fd < len(l.fds) {
		if l.fds[fd].ln != nil {
			_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
		}
		l.fds[fd] = fdEntry{}
	}
}

// post queues a command for the loop and wakes it. It reports false when
// the loop has exited.
func (l *loop) post(fn func(*loop)) bool {
	l.cmdMu.Lock()
	if l.dead {
		l.cmdMu.Unlock()
		return false
	}
	l.cmds = append(l.cmds, fn)
	l.cmdMu.Unlock()
	var one = [8]byte{1}
	_, _ = unix.Write(l.evfd, one[:])
	return true
}

// again1 asks for the session to be pumped again after this round.
func (l *loop) again1(s *session) {
	if !s.has(fAgain) {
		s.flags |= fAgain
		l.again = append(l.again, s)
	}
}

// clock refreshes the loop's time.
func (l *loop) clock() {
	l.wall = time.Now()
	l.now = int64(l.wall.Sub(l.g.base))
}

// run is the loop's goroutine.
func (l *loop) run() {
	l.g.liveLoops.Add(1)
	defer l.g.liveLoops.Add(-1)
	defer l.shutdown()
	events := make([]unix.EpollEvent, 256)
	busy := false
	for !l.exit {
		n, err := l.wait(events, l.waitMs(), busy)
		busy = n > 0
		l.clock()
		if err != nil && !errors.Is(err, unix.EINTR) {
			l.g.log.WithError(err).Error("epoll_wait failed")
			return
		}
		for i := 0; i < n; i++ {
			l.dispatch(&events[i])
		}
		l.runAgain()
		l.runTimers()
		if l.retryAt != 0 && l.now >= l.retryAt {
			l.retryAt = 0
			l.resumeBlocked()
		}
		l.recycle()
		if l.stopping && l.nsess == 0 {
			l.exit = true
		}
	}
}

// rawWaitMs caps a raw sleep: a loop that finds nothing in that time goes
// back to the scheduler-aware sleep, so an idle proxy costs no wake-ups.
const rawWaitMs = 20

// wait collects the ready events, sleeping in epoll_wait until one comes or
// timeout (ms, -1: none) passes: one epoll_wait call while traffic flows.
//
// The scheduler-aware epoll_wait hands the loop's P back when the sleep
// outlasts a sysmon tick, which with one P per loop happens at nearly every
// sleep under traffic: sysmon then polls every 20µs, preempts the loop on
// its CPU, and the loop takes its P back through the slow path. While
// traffic flows (busy: the last wait returned events) and the process has a
// P to spare beyond its loops (goproxy sets GOMAXPROCS to LoopCount+1 before
// Start), the loop sleeps in a raw epoll_wait instead,
// holding its P, for at most rawWaitMs; other goroutines run on the spare P.
// An idle loop first collects what is ready without a system call that
// gives up its P (a raw zero-timeout poll), and sleeps scheduler-aware only
// when nothing is.
// The loop is not locked to its thread: sysmon still preempts it every
// 10ms (it never yields), and a locked goroutine would then need two
// thread hand-offs to run again, where an unlocked one simply resumes.
func (l *loop) wait(events []unix.EpollEvent, timeout int, busy bool) (int, error) {
	if busy && int(l.g.liveLoops.Load()) < runtime.GOMAXPROCS(0) {
		if timeout < 0 || timeout > rawWaitMs {
			timeout = rawWaitMs
		}
		return rawsys.EpollWait(l.epfd, events, timeout)
	}
	n, err := rawsys.PollNow(l.epfd, events)
	if err != nil || n > 0 || timeout == 0 {
		return n, err
	}
	return unix.EpollWait(l.epfd, events, timeout)
}

// waitMs returns epoll_wait's timeout: until the next timer, or -1.
func (l *loop) waitMs() int {
	if len(l.again) > 0 {
		return 0
	}
	next := int64(0)
	if s := l.timers.peek(); s != nil {
		next = s.when
	}
	if l.retryAt != 0 && (next == 0 || l.retryAt < next) {
		next = l.retryAt
	}
	if next == 0 {
		return -1
	}
	l.clock()
	d := next - l.now
	if d <= 0 {
		return 0
	}
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

// dispatch routes one epoll event.
func (l *loop) dispatch(ev *unix.EpollEvent) {
	fd := int(ev.Fd)
	if fd == l.evfd {
		l.runCommands()
		return
	}
	if fd >= len(l.fds) {
		return
	}
	e := l.fds[fd]
	if e.tag != uint32(ev.Pad) {
		return
	}
	switch {
	case e.ln != nil:
		l.accept(e.ln)
	case e.s != nil:
		side := 0
		if int32(fd) == e.s.sfd {
			side = 1
		}
		e.s.event(side, ev.Events)
	}
}

// runCommands runs the queued commands.
func (l *loop) runCommands() {
	var buf [8]byte
	_, _ = unix.Read(l.evfd, buf[:])
	l.cmdMu.Lock()
	cmds := l.cmds
	l.cmds = nil
	l.cmdMu.Unlock()
	for _, fn := range cmds {
		fn(l)
	}
}

// runAgain pumps the sessions that stopped early to let others run.
func (l *loop) runAgain() {
	if len(l.again) == 0 {
		return
	}
	list := l.again
	l.again = l.againB[:0]
	for i, s := range list {
		list[i] = nil
		s.flags &^= fAgain
		if s.state == stData {
			s.pump()
			s.arm()
		}
	}
	l.againB = list[:0]
}

// runTimers expires the sessions whose deadline passed.
func (l *loop) runTimers() {
	for {
		s := l.timers.peek()
		if s == nil || s.when > l.now {
			return
		}
		d := s.deadline()
		switch {
		case s.state == stClosed || d == 0:
			l.timers.remove(s)
		case d > l.now:
			l.timers.schedule(s, d)
		default:
			l.timers.remove(s)
			s.expire()
			s.arm()
		}
	}
}

// accept accepts pending connections on ln while the limits allow.
func (l *loop) accept(ln *Listener) {
	g, fe := l.g, ln.Frontend
	for i, n := 0, acceptBatchOf(g.cfg.Global.TuneMaxAccept); i < n; i++ {
		if ok, at := g.rate.take(l.now / int64(time.Millisecond)); !ok {
			l.block(ln)
			if at := at * int64(time.Millisecond); l.retryAt == 0 || at < l.retryAt {
				l.retryAt = at
			}
			return
		}
		if !g.takeConnSlot(fe, ln) {
			g.rate.cancel()
			l.block(ln)
			return
		}
		nfd, src, err := rawsys.Accept(ln.fd)
		if err != nil {
			g.rate.cancel()
			g.releaseConnSlot(fe, ln)
			switch {
			case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
				continue
			case errors.Is(err, unix.EAGAIN):
			case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE),
				errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
				g.log.WithError(err).Warn("accept failed, pausing the listener for 100ms")
				l.block(ln)
				l.retryAt = l.now + int64(100*time.Millisecond)
			default:
				g.log.WithError(err).Warn("accept failed")
			}
			return
		}
		l.newSession(ln, nfd, src)
	}
}

// maxDrain bounds the connections a closing listener's drain accepts: the
// kernel caps an accept queue at 65535 (somaxconn's upper bound).
const maxDrain = 1 << 16

// drainListener accepts the connections the kernel queued on ln, as
// sessions of this loop whatever the connection limits, until the queue
// is empty, then closes ln in the same step. Only a connection arriving
// between the last accept and the close can still be reset;
// net.ipv4.tcp_migrate_req=1 has the kernel move even those to another
// listener of the same port.
func (l *loop) drainListener(ln *Listener) {
	if ln.state.Swap(lnClosed) == lnClosed || ln.fd < 0 {
		return
	}
	g := l.g
	l.clock()
	for i := 0; i < maxDrain; i++ {
		g.forceConnSlot(ln.Frontend, ln)
		nfd, src, err := rawsys.Accept(ln.fd)
		if err != nil {
			g.releaseConnSlot(ln.Frontend, ln)
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
				continue
			}
			break
		}
		l.newSession(ln, nfd, src)
	}
	unix.Close(ln.fd)
	ln.fd = -1
}

// block takes ln out of the epoll set until a slot frees.
func (l *loop) block(ln *Listener) {
	for _, b := range l.blocked {
		if b == ln {
			return
		}
	}
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, ln.fd, nil)
	l.fds[ln.fd] = fdEntry{}
	l.blocked = append(l.blocked, ln)
	l.hasBlocked.Store(true)
	l.g.nblocked.Add(1)
	// A slot may have freed between the failed take and now: look again.
	// Slots that free up wake the loop, the rate limit's second does not:
	// when it refuses now, come back when it will allow a connection.
	if !l.g.slotsFree(ln.Frontend, ln) {
		return
	}
	if at := l.g.rate.retryAt(l.g.rateNow()); at == 0 {
		l.resumeBlocked()
	} else if at *= int64(time.Millisecond); l.retryAt == 0 || at < l.retryAt {
		l.retryAt = at
	}
}

// resumeBlocked puts the blocked listeners back in the epoll set.
func (l *loop) resumeBlocked() {
	l.resumePosted.Store(false)
	if len(l.blocked) == 0 {
		return
	}
	list := l.blocked
	l.blocked = nil
	l.hasBlocked.Store(false)
	l.g.nblocked.Add(int64(-len(list)))
	for _, ln := range list {
		if ln.state.Load() == lnReady && l.listening(ln) {
			_ = l.register(ln.fd, nil, ln, false)
		}
	}
}

// listening reports whether ln is one of the loop's active listeners.
func (l *loop) listening(ln *Listener) bool {
	for _, x := range l.listeners {
		if x == ln {
			return true
		}
	}
	return false
}

// addListener starts accepting on ln.
func (l *loop) addListener(ln *Listener) {
	if l.listening(ln) {
		return
	}
	l.listeners = append(l.listeners, ln)
	if err := l.register(ln.fd, nil, ln, false); err != nil {
		l.g.log.WithError(err).Error("cannot watch listener " + ln.Addr)
	}
}

// dropListener stops accepting on ln.
func (l *loop) dropListener(ln *Listener) {
	for i, x := range l.listeners {
		if x == ln {
			l.listeners = append(l.listeners[:i], l.listeners[i+1:]...)
			break
		}
	}
	for i, x := range l.blocked {
		if x == ln {
			l.blocked = append(l.blocked[:i], l.blocked[i+1:]...)
			l.g.nblocked.Add(-1)
			break
		}
	}
	if ln.fd >= 0 && ln.fd < len(l.fds) && l.fds[ln.fd].ln == ln {
		l.unregister(ln.fd)
	}
}

// sessions calls fn for each session of the loop (each once).
func (l *loop) sessions(fn func(s *session)) {
	for fd := range l.fds {
		if s := l.fds[fd].s; s != nil && int32(fd) == s.cfd {
			fn(s)
		}
	}
	// Queued sessions are registered by their client descriptor too, so
	// the scan above sees every live session.
}

// closeAll ends every session now (hard stop).
func (l *loop) closeAll() {
	var list []*session
	l.sessions(func(s *session) { list = append(list, s) })
	for _, s := range list {
		s.finish(termKilled)
	}
}

// shutdown releases the loop's descriptors once it exits.
func (l *loop) shutdown() {
	l.cmdMu.Lock()
	l.dead = true
	cmds := l.cmds
	l.cmds = nil
	l.cmdMu.Unlock()
	l.clock()
	for _, fn := range cmds {
		fn(l)
	}
	l.closeAll()
	for _, ln := range append([]*Listener(nil), l.listeners...) {
		l.dropListener(ln)
	}
	unix.Close(l.evfd)
	unix.Close(l.epfd)
	close(l.done)
}
