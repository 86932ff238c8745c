package proxy

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"goproxy/internal/hatext"
	"goproxy/internal/peersync"
	"goproxy/internal/stktable"
	"goproxy/internal/uxsock"
	"goproxy/parser"
)

// Graph is the runtime of one configuration: frontends with their
// listeners, backends with their servers, and the event loops serving them.
// Its topology never changes after Build.
type Graph struct {
	certs *CertStore // certificates of the ssl binds, nil without any (tls_certs.go)
	rate  connRate   // global maxconnrate
	// maps are the map files of the converters, by id (maps.go).
	maps     []*MapRef
	mapBy    *compileEnv
	tables   []*stktable.Table   // the proxies' stick tables (stick.go)
	peers    []*peersync.Section // the peers sections (peers.go)
	procVars procVars            // set-var(proc.*)
	cfg      *parser.Config
	log      logrus.FieldLogger
	opts     Options
	// transferred are the sockets of Options.Transferred no bind took yet,
	// adopted those taken (closed once started, see closeTransferred).
	transferred []TransferredSocket
	adopted     []int
	exported    atomic.Bool // ExportListeners ran: soft stop does not drain
	// handoffMu serialises handoff requests; handoffSeq spreads adopted
	// sessions over the loops; handedOff counts sessions handed over,
	// takenOver those adopted from the previous process.
	handoffMu  sync.Mutex
	handoffSeq atomic.Uint64
	handedOff  atomic.Int64
	takenOver  atomic.Int64
	frontends  []*Frontend
	backends   []*Backend
	base       time.Time // origin of the loops' clocks
	// bufSize is tune.bufsize, inspectLimit the client bytes content
	// inspection waits for at most (tune.bufsize less tune.maxrewrite).
	bufSize, inspectLimit int

	maxConn  atomic.Int64 // global maxconn, 0 = unlimited
	cur      atomic.Int64 // CurrConns
	cumConns atomic.Int64 // CumConns
	connRate freqCtr      // ConnRate
	connMax  atomic.Int64 // MaxConnRate
	sessRate freqCtr      // SessRate
	sessMax  atomic.Int64 // MaxSessRate
	sessID   atomic.Uint64
	nblocked atomic.Int64 // listeners blocked by a limit, over all loops
	closing  atomic.Bool
	hooks    Hooks
	watcher  ServerWatcher // told of servers added and deleted at run time (dynserver.go)
	sinks    []*LogSink
	logDrops atomic.Uint64 // lines dropped by the sinks (DroppedLogs)

	liveLoops atomic.Int32 // event loops running (see loop.wait)

	mu       sync.Mutex // lifecycle
	loops    []*loop
	started  bool
	stopped  bool // StopListening or Close ran
	done     chan struct{}
	doneOnce sync.Once
}

// Frontends returns the frontends in configuration order.
func (g *Graph) Frontends() []*Frontend { return g.frontends }

// Backends returns the backends in configuration order.
func (g *Graph) Backends() []*Backend { return g.backends }

// Frontend returns the frontend named name, or nil.
func (g *Graph) Frontend(name string) *Frontend {
	for _, f := range g.frontends {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Backend returns the backend named name, or nil.
func (g *Graph) Backend(name string) *Backend {
	for _, b := range g.backends {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// Start binds every listener and starts the event loops. On error,
// everything it opened is closed again and the error text is HAProxy's.
func (g *Graph) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started || g.stopped {
		return errors.New("graph already started")
	}
	g.base = time.Now()
	if err := g.openLogSinks(); err != nil {
		return err
	}
	var bound []*Listener
	fail := func(err error) error {
		g.closeLogSinks()
		for _, ln := range bound {
			unix.Close(ln.fd)
			ln.fd = -1
			ln.state.Store(lnIdle)
		}
		for _, l := range g.loops {
			unix.Close(l.evfd)
			unix.Close(l.epfd)
		}
		g.loops = nil
		return err
	}
	for _, f := range g.frontends {
		if f.Config.Disabled {
			f.stopped.Store(true)
			continue
		}
		for _, ln := range f.Listeners {
			if err := g.bind(ln); err != nil {
				return fail(err)
			}
			bound = append(bound, ln)
		}
	}
	n := g.LoopCount()
	for i := 0; i < n; i++ {
		l, err := newLoop(g)
		if err != nil {
			return fail(fmt.Errorf("starting event loop: %w", err))
		}
		g.loops = append(g.loops, l)
	}
	for _, l := range g.loops {
		l.clock()
		for _, ln := range bound {
			l.addListener(ln)
		}
	}
	for i, s := range g.peers {
		if err := s.Start(); err != nil {
			for _, o := range g.peers[:i] {
				o.Close()
			}
			return fail(err)
		}
	}
	for _, l := range g.loops {
		go l.run()
	}
	g.started = true
	g.closeTransferred()
	if g.expiringTables() {
		go g.expireTables() // ends with the graph (g.done)
	}
	go func() {
		for _, l := range g.loops {
			<-l.done
		}
		// A soft stop waits for the peers to teach the new process.
		for _, s := range g.peers {
			<-s.Stopped()
		}
		for _, s := range g.peers {
			s.Close()
		}
		g.closeLogSinks()
		g.closeDone()
	}()
	return nil
}

// LoopCount is the number of event loops Start runs: nbthread when set,
// else one per usable CPU (Options.CPUs).
func (g *Graph) LoopCount() int {
	if n := g.cfg.Global.NbThread; n > 0 {
		return min(n, maxLoops)
	}
	return min(g.opts.CPUs, maxLoops)
}

// CPUs is the number of CPUs the process may use (Options.CPUs).
func (g *Graph) CPUs() int { return g.opts.CPUs }

// maxLoops bounds the number of event loops.
const maxLoops = 64

// bind opens ln's socket.
func (g *Graph) bind(ln *Listener) error {
	b := ln.Bind
	var fd int
	var err error
	if ua, ok := unixAddr(b.Addr); ok {
		return g.bindUnix(ln, ua)
	}
	if b.Addr.Family == parser.FamilyFD {
		fd, err = adoptSocket(g.opts.InheritedFDs[b.Addr.FD], b.Addr.FD, ln.backlog)
	} else if t := g.transferredFor(b); t >= 0 {
		fd, err = adoptSocket(nil, t, ln.backlog)
	} else {
		fd, err = listenSocket(b, ln.backlog)
		if err == nil && g.opts.Takeover {
			if serr := steerToNewest(fd, b); serr != nil {
				g.log.WithError(serr).Debug("new connections of " + ln.Addr + " are shared with the older process")
			}
		}
	}
	if err != nil {
		return &BindError{
			Msg: fmt.Sprintf("Binding [%s:%d] for %s %s: cannot bind socket (%s) for [%s]",
				b.File, b.Line, ln.Frontend.kind(), ln.Frontend.Name, hatext.Strerror(err), ln.Addr),
			Err: err,
		}
	}
	ln.fd = fd
	// Accepted sockets inherit TCP_NODELAY and SO_KEEPALIVE from the
	// listening socket on Linux: set once here, they cost no system call
	// per connection. Where the listener refuses, each connection gets them.
	ln.optsInherited = setListenerOpts(fd, ln.Frontend.keepalive) == nil
	ln.state.Store(lnReady)
	return nil
}

// bindUnix opens the UNIX socket of ln: the one an older process handed
// over (-x), or a new one that replaces the socket file in one step
// (uxsock.Listen), which is how a reload with -sf takes the path over.
func (g *Graph) bindUnix(ln *Listener, ua uxsock.Addr) error {
	b := ln.Bind
	fd := -1
	var err error
	if t := g.transferredFor(b); t >= 0 {
		fd, err = adoptSocket(nil, t, ln.backlog)
	} else {
		fd, _, err = uxsock.Listen(ua, unixPerm(b.BindOptions), ln.backlog)
	}
	if err != nil {
		msg := err.Error()
		if _, ok := err.(*uxsock.Error); !ok {
			msg = fmt.Sprintf("cannot bind UNIX socket (%s) [%s]", hatext.Strerror(err), ua)
		}
		return &BindError{
			Msg: fmt.Sprintf("Binding [%s:%d] for %s %s: %s", b.File, b.Line, ln.Frontend.kind(), ln.Frontend.Name, msg),
			Err: err,
		}
	}
	ln.fd = fd
	ln.optsInherited = true // no TCP options on a UNIX socket
	ln.state.Store(lnReady)
	return nil
}

// kind is the word HAProxy's bind messages name the proxy with.
func (f *Frontend) kind() string {
	if f.Config.Cap&(parser.CapFrontend|parser.CapBackend) == parser.CapFrontend {
		return "frontend"
	}
	return "proxy"
}

// BindError is a listener that could not be bound. Its text is HAProxy's
// ("Binding [f.cfg:12] for proxy li: cannot bind socket (Address already in
// use) for [127.0.0.1:80]"); it unwraps to the system error, so that
// errors.Is(err, syscall.EADDRINUSE) works.
type BindError struct {
	Msg string
	Err error
}

func (e *BindError) Error() string { return e.Msg }

// Unwrap returns the system error.
func (e *BindError) Unwrap() error { return e.Err }

// onLoops runs fn in every running loop and waits for all of them.
func (g *Graph) onLoops(fn func(l *loop)) {
	g.mu.Lock()
	loops := g.loops
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		if !l.post(func(l *loop) { fn(l); wg.Done() }) {
			wg.Done()
		}
	}
	wg.Wait()
}

// onFirstLoop runs fn on the first loop and waits for it; it does nothing
// when no loop runs.
func (g *Graph) onFirstLoop(fn func(l *loop)) {
	g.mu.Lock()
	loops := g.loops
	g.mu.Unlock()
	if len(loops) == 0 {
		return
	}
	done := make(chan struct{})
	if loops[0].post(func(l *loop) { fn(l); close(done) }) {
		<-done
	}
}

// listeners returns every listener of every frontend.
func (g *Graph) listeners() []*Listener {
	var out []*Listener
	for _, f := range g.frontends {
		out = append(out, f.Listeners...)
	}
	return out
}

// StopListening is the soft stop (SIGUSR1): it closes the listeners, logs
// HAProxy's "Proxy NAME stopped" line for each proxy, and lets established
// sessions run to their end. Done is closed when the last one ends.
func (g *Graph) StopListening() {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return
	}
	g.stopped = true
	started := g.started
	g.mu.Unlock()
	g.onLoops(func(l *loop) {
		for _, ln := range append([]*Listener(nil), l.listeners...) {
			l.dropListener(ln)
		}
	})
	// No loop watches the listeners now. One loop accepts what the kernel
	// has queued on each and closes it in the same step, so the accept
	// queue is empty when the socket goes: closing a listener resets the
	// connections still queued on it, and with SO_REUSEPORT about half
	// of those arriving during a reload are queued on the old process.
	if !g.exported.Load() {
		g.onFirstLoop(func(l *loop) {
			for _, ln := range g.listeners() {
				l.drainListener(ln)
			}
		})
	}
	g.closeListeners()
	for _, s := range g.peers {
		s.SoftStop()
	}
	// Only now may a loop without sessions exit: the drain above needs
	// its loop, and gives it sessions.
	g.onLoops(func(l *loop) { l.stopping = true })
	for _, f := range g.frontends {
		if f.stopped.Swap(true) {
			continue // disabled, or stopped alone before (shutdown frontend)
		}
		be := int64(0)
		if f.Config.Cap&parser.CapBackend != 0 {
			if b := g.Backend(f.Name); b != nil {
				be = b.ctr.tot.Load()
			}
		}
		g.logStopped(f.Name, f.ctr.connTot.Load(), be, f.logs)
	}
	for _, b := range g.backends {
		if b.Config.Cap&parser.CapFrontend == 0 {
			g.logStopped(b.Name, 0, b.ctr.tot.Load(), b.logs)
		}
	}
	if !started {
		g.closeDone()
	}
}

// logStopped logs HAProxy's soft-stop line for a proxy, to the process log
// and to the proxy's own log targets.
func (g *Graph) logStopped(name string, fe, be int64, sink *LogSink) {
	line := ProxyStoppedLine(name, fe, be)
	g.log.Warn(line)
	sink.Log(LogWarning, line)
}

// closeListeners closes every listening socket.
func (g *Graph) closeListeners() {
	for _, ln := range g.listeners() {
		if ln.state.Swap(lnClosed) != lnClosed && ln.fd >= 0 {
			unix.Close(ln.fd)
			ln.fd = -1
		}
	}
}

// Close is the hard stop: every session and listener is closed now. It
// returns once the loops have exited.
func (g *Graph) Close() {
	g.mu.Lock()
	g.stopped = true
	started := g.started
	loops := g.loops
	g.mu.Unlock()
	g.closing.Store(true)
	g.onLoops(func(l *loop) {
		for _, ln := range append([]*Listener(nil), l.listeners...) {
			l.dropListener(ln)
		}
		l.closeAll()
		l.exit = true
	})
	for _, l := range loops {
		<-l.done
	}
	g.closeListeners()
	for _, s := range g.peers {
		s.Close()
	}
	if !started {
		g.closeDone()
	}
}

func (g *Graph) closeDone() { g.doneOnce.Do(func() { close(g.done) }) }

// Done is closed once the listeners are closed and no session remains.
func (g *Graph) Done() <-chan struct{} { return g.done }

// Pause stops accepting (SIGTTOU): listeners leave the loops and their
// sockets stop listening, so that another process bound to the same port
// gets the new connections. Resume undoes it.
func (g *Graph) Pause() { g.pauseListeners(g.listeners()) }

// Resume starts accepting again after Pause (SIGTTIN).
func (g *Graph) Resume() { g.resumeListeners(g.listeners()) }

// pauseListeners pauses the listening ones among lns and reports how many.
func (g *Graph) pauseListeners(lns []*Listener) int {
	var paused []*Listener
	for _, ln := range lns {
		if ln.state.CompareAndSwap(lnReady, lnPaused) {
			paused = append(paused, ln)
		}
	}
	g.onLoops(func(l *loop) {
		for _, ln := range paused {
			l.dropListener(ln)
		}
	})
	for _, ln := range paused {
		_ = unix.Shutdown(ln.fd, unix.SHUT_RD)
		ln.Frontend.paused.Store(true)
	}
	return len(paused)
}

// resumeListeners resumes the paused ones among lns and reports how many.
func (g *Graph) resumeListeners(lns []*Listener) int {
	var resumed []*Listener
	for _, ln := range lns {
		if ln.state.Load() != lnPaused {
			continue
		}
		if err := unix.Listen(ln.fd, ln.backlog); err != nil {
			g.log.WithError(err).Errorf("cannot resume listening on %s", ln.Addr)
			continue
		}
		ln.state.Store(lnReady)
		ln.Frontend.paused.Store(false)
		resumed = append(resumed, ln)
	}
	g.onLoops(func(l *loop) {
		for _, ln := range resumed {
			l.addListener(ln)
		}
	})
	return len(resumed)
}

// ListenerFiles returns duplicates of the listening sockets, in frontend and
// bind order, for a handoff to another process. The caller owns them.
func (g *Graph) ListenerFiles() []*os.File {
	var out []*os.File
	for _, ln := range g.listeners() {
		st := ln.state.Load()
		if (st != lnReady && st != lnPaused) || ln.fd < 0 {
			continue
		}
		fd, err := unix.FcntlInt(uintptr(ln.fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			continue
		}
		out = append(out, os.NewFile(uintptr(fd), "listener "+ln.Frontend.Name+" "+ln.Addr))
	}
	return out
}

// takeConnSlot takes a connection slot from the global, frontend and
// listener limits, all or none.
func (g *Graph) takeConnSlot(f *Frontend, ln *Listener) bool {
	if !takeSlot(&g.cur, g.maxConn.Load()) {
		return false
	}
	if !takeSlot(&f.ctr.cur, f.maxConn.Load()) {
		g.cur.Add(-1)
		return false
	}
	if !takeSlot(&ln.ctr.cur, ln.maxConn) {
		f.ctr.cur.Add(-1)
		g.cur.Add(-1)
		return false
	}
	return true
}

// forceConnSlot takes the slots of takeConnSlot past their limits: for
// the connections a closing listener still has queued, which would be
// reset otherwise.
func (g *Graph) forceConnSlot(f *Frontend, ln *Listener) {
	g.cur.Add(1)
	f.ctr.cur.Add(1)
	ln.ctr.cur.Add(1)
}

func takeSlot(c *atomic.Int64, limit int64) bool {
	if c.Add(1) > limit && limit > 0 {
		c.Add(-1)
		return false
	}
	return true
}

// releaseConnSlot gives back what takeConnSlot took and wakes blocked
// listeners.
func (g *Graph) releaseConnSlot(f *Frontend, ln *Listener) {
	ln.ctr.cur.Add(-1)
	f.ctr.cur.Add(-1)
	g.cur.Add(-1)
	g.wakeListeners()
}

// releaseSession ends a session that newSession counted: the live counts
// and the connection slot.
func (g *Graph) releaseSession(f *Frontend, ln *Listener) {
	f.ctr.live.Add(-1)
	if ln.stats {
		ln.ctr.live.Add(-1)
	}
	g.releaseConnSlot(f, ln)
}

// canAccept reports whether a connection on ln would get a slot now.
func (g *Graph) canAccept(f *Frontend, ln *Listener) bool {
	return g.slotsFree(f, ln) && g.rate.retryAt(g.rateNow()) == 0
}

// slotsFree reports whether the global, frontend and listener limits leave
// a slot for a connection on ln.
func (g *Graph) slotsFree(f *Frontend, ln *Listener) bool {
	under := func(c *atomic.Int64, limit int64) bool { return limit <= 0 || c.Load() < limit }
	return under(&g.cur, g.maxConn.Load()) && under(&f.ctr.cur, f.maxConn.Load()) && under(&ln.ctr.cur, ln.maxConn)
}

// wakeListeners asks the loops with blocked listeners to retry them.
func (g *Graph) wakeListeners() {
	if g.nblocked.Load() == 0 {
		return
	}
	g.mu.Lock()
	loops := g.loops
	g.mu.Unlock()
	for _, l := range loops {
		if l.hasBlocked.Load() && l.resumePosted.CompareAndSwap(false, true) {
			l.post((*loop).resumeBlocked)
		}
	}
}

// MaxConn returns the global maxconn (0 = unlimited).
func (g *Graph) MaxConn() int64 { return g.maxConn.Load() }

// SetMaxConn changes the global maxconn (set maxconn global).
func (g *Graph) SetMaxConn(n int64) {
	g.maxConn.Store(n)
	g.wakeListeners()
}

// CurrConns returns the number of client connections being served.
func (g *Graph) CurrConns() int64 { return g.cur.Load() }

// CumConns returns the number of client connections accepted so far.
func (g *Graph) CumConns() int64 { return g.cumConns.Load() }

// Info is the process-wide part of "show info".
type Info struct {
	MaxConn, CurrConns, CumConns int64
	ConnRate, MaxConnRate        int64
	SessRate, MaxSessRate        int64
	Listeners                    int // bound listeners
	Stopping                     bool
	// Jobs counts what keeps the process alive: sessions and listeners.
	Jobs int64
	// TotalBytesOut is the sum of the bytes sent to clients (frontends).
	TotalBytesOut int64
	// DroppedLogs counts the log lines dropped because a target could not
	// take them in time (its queue was full, or its socket buffer).
	DroppedLogs uint64
	// ActivePeers are the peer sessions, ConnectedPeers those past the
	// handshake.
	ActivePeers, ConnectedPeers int
}

// Info returns the process-wide counters.
func (g *Graph) Info() Info {
	now := time.Now()
	in := Info{
		MaxConn: g.maxConn.Load(), CurrConns: g.cur.Load(), CumConns: g.cumConns.Load(),
		ConnRate: g.connRate.read(now), MaxConnRate: g.connMax.Load(),
		SessRate: g.sessRate.read(now), MaxSessRate: g.sessMax.Load(),
		DroppedLogs: g.logDrops.Load(),
	}
	in.ActivePeers, in.ConnectedPeers = g.PeersCounts()
	for _, f := range g.frontends {
		in.TotalBytesOut += f.ctr.bout.Load()
		for _, ln := range f.Listeners {
			if st := ln.state.Load(); st == lnReady || st == lnPaused {
				in.Listeners++
			}
		}
	}
	g.mu.Lock()
	in.Stopping = g.stopped
	g.mu.Unlock()
	in.Jobs = in.CurrConns + int64(in.Listeners)
	return in
}
