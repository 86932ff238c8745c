package proxy

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// logQueueLen bounds the lines waiting for one target's writer: what a
// stalled target (a full pipe on stdout, say) can hold before lines are
// dropped. A power of two.
const logQueueLen = 1024

// logFlushTimeout bounds how long a closing target spends writing the lines
// still queued; what it could not write by then is dropped.
const logFlushTimeout = time.Second

// logPollMs is how long the writer of a stream target waits for room at a
// time before it looks whether it is asked to stop.
const logPollMs = 100

// logTarget is one destination of a sink: a bounded queue that any
// goroutine feeds without waiting or locking, and the writer goroutine that
// drains it and alone touches the descriptor.
type logTarget struct {
	cfg   parser.LogTarget
	q     lineRing
	drops *atomic.Uint64
	smp   atomic.Uint64 // lines offered, for "log ... sample"

	idle   atomic.Bool   // the writer sleeps until woken
	wake   chan struct{} // capacity 1
	closed atomic.Bool
	stop   chan struct{}
	done   chan struct{}

	// Touched only by the writer (and by openLogTarget before it starts).
	fd   int             // stdout, stderr: 1 or 2; -1 for a datagram target
	conn net.Conn        // UDP or unix datagram socket
	raw  syscall.RawConn // conn's descriptor, for sends that never wait
}

// openLogTarget opens t and starts its writer.
func openLogTarget(t parser.LogTarget, env logEnv) (*logTarget, error) {
	lt := &logTarget{cfg: t, fd: -1, drops: env.drops,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	lt.q.init(logQueueLen)
	switch {
	case t.Stream == "stdout":
		lt.fd = env.stdout
	case t.Stream == "stderr":
		lt.fd = env.stderr
	case t.Addr.Family == parser.FamilyUnix:
		// HAProxy keeps going when the log socket is missing; so do we,
		// retrying at each line.
		_ = lt.dial()
	default:
		if err := lt.dial(); err != nil {
			return nil, err
		}
	}
	go lt.run()
	return lt, nil
}

// dial opens the target's datagram socket and keeps its raw connection for
// sends that never wait.
func (t *logTarget) dial() error {
	var conn net.Conn
	var err error
	if t.cfg.Addr.Family == parser.FamilyUnix {
		conn, err = net.DialUnix("unixgram", nil, &net.UnixAddr{Name: t.cfg.Addr.Path, Net: "unixgram"})
	} else {
		addr := net.JoinHostPort(t.cfg.Addr.Host, strconv.Itoa(t.cfg.Addr.Port))
		conn, err = net.Dial("udp", addr)
		if err != nil {
			err = fmt.Errorf("log target %s: %w", addr, err)
		}
	}
	if err != nil {
		return err
	}
	raw, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		conn.Close()
		return fmt.Errorf("log target %s: %w", conn.RemoteAddr(), err)
	}
	t.conn, t.raw = conn, raw
	return nil
}

// send queues line for the writer, or drops it when the queue is full or
// the target closed. It never waits.
func (t *logTarget) send(line []byte) {
	if t.closed.Load() || !t.q.push(line) {
		t.drops.Add(1)
		return
	}
	if t.idle.Load() && t.idle.CompareAndSwap(true, false) {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// close asks the writer to flush and stop, and waits for it (a little
// longer than it may take). Lines left in the queue are counted as dropped.
func (t *logTarget) close() {
	if t.closed.Swap(true) {
		return
	}
	close(t.stop)
	select {
	case <-t.done:
	case <-time.After(logFlushTimeout + time.Second):
		return // stuck in a write that polling said would not block
	}
	for {
		if _, ok := t.q.pop(); !ok {
			break
		}
		t.drops.Add(1)
	}
}

// run is the writer goroutine: it writes queued lines in order and sleeps
// when there are none. When asked to stop it writes what is queued, for at
// most logFlushTimeout, then closes the socket.
func (t *logTarget) run() {
	defer close(t.done)
	defer func() {
		if t.conn != nil {
			t.conn.Close()
			t.conn, t.raw = nil, nil
		}
	}()
	for {
		line, ok := t.q.pop()
		if !ok {
			t.idle.Store(true)
			// A line queued before idle was set did not wake us: look again.
			if line, ok = t.q.pop(); !ok {
				select {
				case <-t.wake:
					continue
				case <-t.stop:
					t.flush()
					return
				}
			}
			t.idle.Store(false)
		}
		if !t.write(line, time.Time{}) {
			t.flush()
			return
		}
	}
}

// flush writes the queued lines until the queue is empty or the flush
// deadline passes, counting the rest as dropped.
func (t *logTarget) flush() {
	deadline := time.Now().Add(logFlushTimeout)
	for {
		line, ok := t.q.pop()
		if !ok {
			return
		}
		if !t.write(line, deadline) {
			t.drops.Add(1)
		}
	}
}

// write writes one line. A stream target waits for room (never past
// deadline, when set; and not once stop is closed without one); a datagram
// target never waits. It reports false when the line could not be written
// because of the deadline or stop, not for other errors, which lose the line
// as HAProxy loses it.
func (t *logTarget) write(line []byte, deadline time.Time) bool {
	if t.fd >= 0 {
		return t.writeStream(line, deadline)
	}
	t.sendDatagram(line)
	return true
}

// writeStream writes line on stdout or stderr. Waiting for room in poll,
// not in write, keeps the writer free to stop: the descriptor may be
// blocking, and it is shared with other processes, so its mode is left as
// it is.
func (t *logTarget) writeStream(line []byte, deadline time.Time) bool {
	for i := 0; len(line) > 0; i++ {
		wait := logPollMs
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return false
			}
			wait = min(wait, int(left/time.Millisecond)+1)
		} else if i > 0 && t.stopped() {
			return false
		}
		pfd := []unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, wait)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return true // not pollable: lose the line rather than block
		}
		if n == 0 {
			continue
		}
		if pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			return true // nobody reads: the line is lost
		}
		w, err := unix.Write(t.fd, line)
		switch {
		case w > 0:
			line = line[w:]
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
		default:
			return true
		}
	}
	return true
}

// stopped reports whether the writer was asked to stop.
func (t *logTarget) stopped() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// sendDatagram sends line without waiting for the socket to become
// writable, and drops it if the socket buffer is full (as HAProxy does,
// counting it). A unix socket that went away is dialled again at the next
// line.
func (t *logTarget) sendDatagram(line []byte) {
	if t.conn == nil && (t.cfg.Addr.Family != parser.FamilyUnix || t.dial() != nil) {
		return
	}
	var werr error
	_ = t.raw.Write(func(fd uintptr) bool {
		_, werr = unix.Write(int(fd), line)
		return true // done, whatever happened: never wait
	})
	switch {
	case werr == nil:
	case errors.Is(werr, unix.EAGAIN), errors.Is(werr, unix.ENOBUFS):
		t.drops.Add(1)
	case t.cfg.Addr.Family == parser.FamilyUnix &&
		(errors.Is(werr, unix.ECONNREFUSED) || errors.Is(werr, unix.ENOTCONN)):
		t.conn.Close()
		t.conn, t.raw = nil, nil
	}
}

// lineRing is a bounded multi-producer, single-consumer queue of lines
// without locks (D. Vyukov's bounded queue): each slot carries a sequence
// number telling producers and the consumer whose turn it is.
type lineRing struct {
	mask  uint64
	slots []ringSlot
	tail  atomic.Uint64 // next position to fill
	head  atomic.Uint64 // next position to take (the consumer's)
}

type ringSlot struct {
	seq  atomic.Uint64
	line []byte
}

// init gives the ring n slots; n must be a power of two.
func (r *lineRing) init(n int) {
	r.mask, r.slots = uint64(n-1), make([]ringSlot, n)
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
}

// push adds line; it reports false when the ring is full. Each failed
// compare-and-swap means another producer took the position, so the loop
// always makes progress.
func (r *lineRing) push(line []byte) bool {
	for {
		pos := r.tail.Load()
		sl := &r.slots[pos&r.mask]
		switch d := int64(sl.seq.Load() - pos); {
		case d == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				sl.line = line
				sl.seq.Store(pos + 1)
				return true
			}
		case d < 0:
			return false // the consumer has not freed this slot yet: full
		}
	}
}

// pop takes the oldest line. Only the consumer calls it.
func (r *lineRing) pop() ([]byte, bool) {
	pos := r.head.Load()
	sl := &r.slots[pos&r.mask]
	if sl.seq.Load() != pos+1 {
		return nil, false
	}
	line := sl.line
	sl.line = nil
	r.head.Store(pos + 1)
	sl.seq.Store(pos + r.mask + 1)
	return line, true
}

// sampled reports whether the target takes the next line under its
// "sample <ranges>:<size>" (always without one): of each size lines, those
// whose number, from 1, is in a range, as HAProxy's __send_log().
func (t *logTarget) sampled() bool {
	if t.cfg.SampleSize <= 0 {
		return true
	}
	n := int((t.smp.Add(1)-1)%uint64(t.cfg.SampleSize)) + 1
	for _, r := range t.cfg.Sample {
		if n >= r.Low && n <= r.High {
			return true
		}
	}
	return false
}
