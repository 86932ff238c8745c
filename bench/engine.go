package main

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/rawsys"
)

// engine is the harness's end of the short-connection and persistent
// workloads: the clients and the backend servers behind the proxy, all in
// one epoll loop on the harness's one CPU, with non-blocking system calls
// that bypass the Go scheduler. With a goroutine per connection (package
// net) the harness spent more CPU per proxied connection than the proxy
// did, so on a two-CPU machine the harness, not the proxy, set the rate.
//
// One goroutine owns an engine; callbacks run on it.
type engine struct {
	epfd    int
	events  []unix.EpollEvent
	socks   []*esock // by descriptor
	start   time.Time
	scratch []byte // read buffer
	replies []byte // reply bytes for the backends
	lns     []*rawBackend
	stop    <-chan struct{} // closed: interrupt the run
	stopped bool

	clients      int // client sockets open
	later        []retry
	replyTimeout int64 // ns a client waits for a reply before it fails (0: none)
	err          error // what stopped the engine early (nil: nothing, or interrupted)

	// Client callbacks: the connection is established; a whole reply
	// arrived; the connection failed (it is closed after the callback).
	onConnected func(c *esock)
	onReply     func(c *esock)
	onFail      func(c *esock, err error)
	// onRetry dials client id again, when retryLater's delay has passed.
	onRetry func(id int)
}

// role says what a socket of the engine is.
type role uint8

const (
	roleListener role = iota
	roleBackend
	roleClient
)

// esock is one socket of the engine.
type esock struct {
	fd   int
	role role
	be   *rawBackend // listener and backend sockets
	got  int         // bytes of the current request (backend) or reply (client)

	// Clients.
	id        int   // the workload's number for the connection
	want      int   // reply size
	connected bool  // the connect completed
	inFlight  bool  // a request waits for its reply
	sentAt    int64 // engine time of the last request
	deadline  int64 // engine time after which the connection fails (0: none)
}

// retry is a client to dial again at engine time at.
type retry struct {
	id int
	at int64
}

// errTimeout reports a client whose deadline passed.
var errTimeout = errors.New("timed out")

// rawBackend is a backend server of the harness: a listening socket whose
// connections the engine answers, resp bytes for every req bytes read.
type rawBackend struct {
	fd        int
	addr      string
	req, resp int
	open      int // connections open, while an engine serves the listener
}

// listenBackend opens a backend listener on a free loopback port.
func listenBackend(req, resp int) (*rawBackend, error) {
	fd, err := rawsys.Socket(unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("backend socket: %w", err)
	}
	lo := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0)
	if err := rawsys.Bind(fd, lo); err != nil {
		rawsys.Close(fd)
		return nil, fmt.Errorf("backend bind: %w", err)
	}
	if err := unix.Listen(fd, 4096); err != nil {
		rawsys.Close(fd)
		return nil, fmt.Errorf("backend listen: %w", err)
	}
	ap, err := rawsys.Getsockname(fd)
	if err != nil {
		rawsys.Close(fd)
		return nil, fmt.Errorf("backend address: %w", err)
	}
	return &rawBackend{fd: fd, addr: ap.String(), req: req, resp: resp}, nil
}

func (be *rawBackend) close() {
	if be != nil && be.fd >= 0 {
		rawsys.Close(be.fd)
		be.fd = -1
	}
}

// newEngine returns an engine serving the given backends. Interrupted by
// stop, its runs end early.
func newEngine(stop <-chan struct{}, backends ...*rawBackend) (*engine, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	e := &engine{epfd: epfd, events: make([]unix.EpollEvent, 512), start: time.Now(),
		scratch: make([]byte, 64<<10), stop: stop, lns: backends}
	for _, be := range backends {
		if err := e.add(&esock{fd: be.fd, role: roleListener, be: be}, unix.EPOLLIN); err != nil {
			e.close()
			return nil, err
		}
		if n := be.resp * 64; n > len(e.replies) {
			e.replies = make([]byte, n)
			for i := range e.replies {
				e.replies[i] = 'r'
			}
		}
	}
	return e, nil
}

// now returns the engine's clock: nanoseconds since it started.
func (e *engine) now() int64 { return int64(time.Since(e.start)) }

func (e *engine) add(s *esock, events uint32) error {
	for s.fd >= len(e.socks) {
		e.socks = append(e.socks, make([]*esock, max(len(e.socks), 256))...)
	}
	ev := unix.EpollEvent{Events: events, Fd: int32(s.fd)}
	if err := rawsys.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	e.socks[s.fd] = s
	return nil
}

// dial starts a client connection from src to dst; the connection fails
// unless it is established and answered by deadline (0: none). Errors at
// once are returned, later ones go to onFail.
func (e *engine) dial(id int, src netip.Addr, dst netip.AddrPort, want int, timeout time.Duration) error {
	fd, err := rawsys.Socket(unix.AF_INET)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	// The port is chosen at connect time, as for an unbound socket: a port
	// chosen at bind time cannot be shared between destinations, and with
	// thousands of TIME_WAIT sockets that search is slow.
	_ = rawsys.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	_ = rawsys.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := rawsys.Bind(fd, netip.AddrPortFrom(src, 0)); err != nil {
		rawsys.Close(fd)
		return fmt.Errorf("bind %v: %w", src, err)
	}
	if err := rawsys.Connect(fd, dst); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		rawsys.Close(fd)
		return fmt.Errorf("connect %v: %w", dst, err)
	}
	c := &esock{fd: fd, role: roleClient, id: id, want: want}
	if timeout > 0 {
		c.deadline = e.now() + int64(timeout)
	}
	if err := e.add(c, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLET); err != nil {
		rawsys.Close(fd)
		return err
	}
	e.clients++
	return nil
}

// send writes a request on an established client connection.
func (e *engine) send(c *esock, req []byte) error {
	n, err := rawsys.Send(c.fd, req)
	if err == nil && n < len(req) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(req))
	}
	if err != nil {
		return err
	}
	c.inFlight, c.sentAt, c.got = true, e.now(), 0
	if e.replyTimeout > 0 {
		c.deadline = c.sentAt + e.replyTimeout
	}
	return nil
}

// closeSock closes a socket of the engine.
func (e *engine) closeSock(s *esock) {
	if s.fd < 0 {
		return
	}
	switch s.role {
	case roleClient:
		e.clients--
	case roleBackend:
		s.be.open--
	}
	e.socks[s.fd] = nil
	rawsys.Close(s.fd)
	s.fd = -1
}

// retryLater dials client id again after d, through onRetry.
func (e *engine) retryLater(id int, d time.Duration) {
	e.later = append(e.later, retry{id: id, at: e.now() + int64(d)})
}

// runFor runs the loop for d, calling tick (if not nil) before each wait.
// It reports false when the run was interrupted.
func (e *engine) runFor(d time.Duration, tick func(now int64) int64) bool {
	end := e.now() + int64(d)
	return e.runUntil(func(now int64) bool { return now >= end }, end, tick)
}

// runUntil runs the loop until done reports true or the engine time passes
// end. tick, when set, runs before each wait and returns the engine time
// it wants to run again (0: no wish). It reports false when interrupted.
func (e *engine) runUntil(done func(now int64) bool, end int64, tick func(now int64) int64) bool {
	nextSweep := int64(0)
	for {
		if e.interrupted() || e.err != nil {
			return false
		}
		now := e.now()
		if done(now) || now >= end {
			return true
		}
		e.runRetries(now)
		wake := end
		if tick != nil {
			if at := tick(now); at != 0 && at < wake {
				wake = at
			}
		}
		if now >= nextSweep {
			e.sweep(now)
			nextSweep = now + int64(20*time.Millisecond)
		}
		wake = min(wake, nextSweep)
		for _, r := range e.later {
			wake = min(wake, r.at)
		}
		n, err := rawsys.PollNow(e.epfd, e.events)
		if err == nil && n == 0 {
			ms := int((wake - now + int64(time.Millisecond) - 1) / int64(time.Millisecond))
			n, err = rawsys.EpollWait(e.epfd, e.events, min(max(ms, 0), 5))
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false
		}
		for i := 0; i < n; i++ {
			e.dispatch(&e.events[i])
		}
	}
}

// interrupted reports whether the run was told to stop.
func (e *engine) interrupted() bool {
	if e.stopped {
		return true
	}
	select {
	case <-e.stop:
		e.stopped = true
	default:
	}
	return e.stopped
}

// sweep fails the clients whose deadline passed.
func (e *engine) sweep(now int64) {
	for _, s := range e.socks {
		if s != nil && s.role == roleClient && s.deadline != 0 && now > s.deadline && (s.inFlight || !s.connected) {
			e.fail(s, errTimeout)
		}
	}
}

// runRetries dials again the clients whose retry time came.
func (e *engine) runRetries(now int64) {
	if len(e.later) == 0 {
		return
	}
	due := e.later
	e.later = nil
	for _, r := range due {
		if r.at <= now {
			e.onRetry(r.id)
		} else {
			e.later = append(e.later, r)
		}
	}
}

// stopReason is why a run returned early: the engine's error, or an
// interruption.
func (e *engine) stopReason() error {
	if e.err != nil {
		return e.err
	}
	return errInterrupted
}

// dispatch handles one epoll event.
func (e *engine) dispatch(ev *unix.EpollEvent) {
	fd := int(ev.Fd)
	if fd >= len(e.socks) || e.socks[fd] == nil {
		return
	}
	s := e.socks[fd]
	switch s.role {
	case roleListener:
		e.accept(s.be)
	case roleBackend:
		e.serve(s, ev.Events)
	case roleClient:
		e.client(s, ev.Events)
	}
}

// accept takes the pending connections of a backend listener.
func (e *engine) accept(be *rawBackend) {
	for range 64 {
		fd, _, err := rawsys.Accept(be.fd)
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.ECONNABORTED) {
				// EMFILE and the like: the listener would stay ready
				// and the loop spin; stop the run instead.
				e.err = fmt.Errorf("backend accept: %w", err)
			}
			return
		}
		_ = rawsys.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if e.add(&esock{fd: fd, role: roleBackend, be: be}, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLET) != nil {
			rawsys.Close(fd)
			continue
		}
		be.open++
	}
}

// serve reads what a backend connection received and answers every
// complete request; it closes the connection at end of stream.
func (e *engine) serve(s *esock, events uint32) {
	for range maxReads {
		n, err := rawsys.Recv(s.fd, e.scratch)
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) {
				e.closeSock(s)
			}
			return
		}
		if n == 0 {
			e.closeSock(s)
			return
		}
		s.got += n
		if k := s.got / s.be.req; k > 0 {
			s.got -= k * s.be.req
			for k > 0 {
				batch := min(k, len(e.replies)/s.be.resp)
				// Replies are small and the client reads them before
				// it sends again: a short write is a failure.
				if n, err := rawsys.Send(s.fd, e.replies[:batch*s.be.resp]); err != nil || n < batch*s.be.resp {
					e.closeSock(s)
					return
				}
				k -= batch
			}
		}
		// A short read emptied the socket: the next bytes bring a new
		// edge, unless the peer's FIN is already there.
		if n < len(e.scratch) && events&(unix.EPOLLRDHUP|unix.EPOLLHUP) == 0 {
			return
		}
	}
	e.closeSock(s) // a peer that never stops sending: not these workloads
}

// maxReads bounds the reads of one event (64 MiB with the 64 KiB buffer);
// a socket still not drained then is closed.
const maxReads = 1024

// client handles an event of a client connection.
func (e *engine) client(c *esock, events uint32) {
	if !c.connected {
		if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			soerr, _ := rawsys.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			e.fail(c, fmt.Errorf("connect: %w", unix.Errno(soerr)))
			return
		}
		if events&unix.EPOLLOUT == 0 {
			return
		}
		c.connected = true
		e.onConnected(c)
		if c.fd < 0 {
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0 {
		return
	}
	for range maxReads {
		if c.fd < 0 {
			return
		}
		n, err := rawsys.Recv(c.fd, e.scratch)
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) {
				e.fail(c, err)
			}
			return
		}
		if n == 0 {
			e.fail(c, errors.New("closed by the proxy"))
			return
		}
		c.got += n
		if c.inFlight && c.got >= c.want {
			if c.got > c.want {
				e.fail(c, fmt.Errorf("%d bytes for a %d-byte reply", c.got, c.want))
				return
			}
			c.inFlight = false
			e.onReply(c)
		}
		if n < len(e.scratch) && events&(unix.EPOLLRDHUP|unix.EPOLLHUP) == 0 {
			return
		}
	}
	e.fail(c, errors.New("the proxy never stops sending"))
}

// fail reports a client's failure and closes it.
func (e *engine) fail(c *esock, err error) {
	if c.fd < 0 {
		return
	}
	e.onFail(c, err)
	e.closeSock(c)
}

// closeClients closes the client connections, then gives the proxy up to
// linger to close the backend ends, and closes what is left.
func (e *engine) closeClients(linger time.Duration) {
	for _, s := range e.socks {
		if s != nil && s.role == roleClient {
			e.closeSock(s)
		}
	}
	e.later = nil
	end := e.now() + int64(linger)
	e.runUntil(func(int64) bool { return e.backendsOpen() == 0 }, end, nil)
}

// backendsOpen counts the backend connections open.
func (e *engine) backendsOpen() int {
	n := 0
	for _, be := range e.lns {
		n += be.open
	}
	return n
}

// close closes every socket but the listeners, and the epoll set.
func (e *engine) close() {
	for _, s := range e.socks {
		if s != nil && s.role != roleListener {
			e.closeSock(s)
		}
	}
	rawsys.Close(e.epfd)
}
