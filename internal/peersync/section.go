package peersync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/stktable"
)

// HAProxy's timers, in ms.
const (
	resyncTimeout    = 5000
	reconnectTimeout = 5000
	heartbeatTimeout = 3000
	// ioTimeout bounds a handshake and each write (the peers frontend's
	// timeout client).
	ioTimeout = 5 * time.Second
	// maxTeachRetries bounds the new attempts to connect to the new
	// process at a soft stop, teachRetryDelay (ms) apart.
	maxTeachRetries = 10
	teachRetryDelay = 100
	// readTimeout cuts a silent session that the reconnect timer missed.
	readTimeout = 3 * reconnectTimeout * time.Millisecond
)

// Section flags (peers->flags), as "show peers" prints them.
const (
	fResyncLocal          = 0x00000001
	fResyncRemote         = 0x00000002
	fResyncAssign         = 0x00000004
	fResyncProcess        = 0x00000008
	fResyncLocalTimeout   = 0x00000010
	fResyncRemoteTimeout  = 0x00000020
	fResyncLocalAbort     = 0x00000040
	fResyncRemoteAbort    = 0x00000080
	fResyncLocalFinished  = 0x00000100
	fResyncRemoteFinished = 0x00000200
	fResyncLocalPartial   = 0x00000400
	fResyncRemotePartial  = 0x00000800
	fResyncLocalAssign    = 0x00001000
	fResyncRemoteAssign   = 0x00002000
	fResyncRequested      = 0x00004000
	fDoNotStop            = 0x00010000

	resyncStateMask  = fResyncLocal | fResyncRemote
	resyncFromLocal  = 0
	resyncFromRemote = fResyncLocal
	resyncFinished   = fResyncLocal | fResyncRemote
)

// Peer flags (peer->flags).
const (
	pTeachProcess  = 0x00000001
	pTeachFinished = 0x00000008
	pTeachComplete = 0x00000010
	pLearnAssign   = 0x00000100
	pLearnNotUp2   = 0x00000200
	pAlive         = 0x20000000
	pHeartbeat     = 0x40000000
	pDowngrade     = 0x80000000

	pTeachReset = ^uint32(pTeachProcess | pTeachFinished)
	pLearnReset = ^uint32(pLearnAssign | pLearnNotUp2)
)

// Shared table flags.
const (
	stTeachStage1 = 0x01
	stTeachStage2 = 0x02
)

// PeerConfig is one peer of the section.
type PeerConfig struct {
	Name  string
	Addr  netip.AddrPort
	Local bool
}

// Table is a table the section replicates, with the name it has on the
// wire (a peers section's table goes by its name without the section).
type Table struct {
	T      *stktable.Table
	NameID string
}

// Config describes a peers section.
type Config struct {
	Name  string
	Local string         // the local peer's name
	Bind  netip.AddrPort // where the local peer listens
	// Peers in declaration order; Tables in the order they register.
	Peers  []PeerConfig
	Tables []Table
	// Reload is set when older processes run (-sf): the new one waits
	// for the old one's lesson before it asks a remote peer.
	Reload bool
	// Listener, when set, is the local peer's socket, already bound.
	Listener net.Listener
}

// Section is a running peers section. Its state is guarded by mu; each
// session has a reader and a writer goroutine, the section one task.
type Section struct {
	cfg   Config
	start time.Time

	mu            sync.Mutex
	peers         []*peer // as "show peers" lists them: the last declared first
	local         *peer
	flags         uint32
	resyncTimeout uint32
	taskCalls     uint32
	lastChange    time.Time
	stopping      bool
	// teachRetries counts the new attempts to reach the new process at a
	// soft stop after a connect failed, the next one due at teachRetryAt.
	teachRetries int
	teachRetryAt uint32
	closed       bool
	ln           net.Listener

	wake    chan struct{}
	quit    chan struct{}
	stopped chan struct{} // closed when a soft stop has nothing left to teach
	stopSig bool          // a soft stop is pending for the task
	wg      sync.WaitGroup
	// incoming bounds the connections accepted at once: 3 per peer, as
	// HAProxy sizes the peers frontend's maxconn.
	incoming chan struct{}
}

// New prepares a section; Start runs it.
func New(cfg Config) (*Section, error) {
	s := &Section{cfg: cfg, start: time.Now(), lastChange: time.Now(),
		wake: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{}),
		incoming: make(chan struct{}, 3*len(cfg.Peers))}
	for i := len(cfg.Peers) - 1; i >= 0; i-- {
		pc := cfg.Peers[i]
		p := &peer{PeerConfig: pc, lastChange: time.Now(), txDict: map[string]uint64{}, rxDict: map[uint64]string{}}
		for j, t := range cfg.Tables {
			st := &shared{t: t.T, nid: t.NameID, localID: uint64(j + 1)}
			p.tables = append([]*shared{st}, p.tables...)
		}
		if pc.Local {
			s.local = p
		}
		s.peers = append(s.peers, p)
	}
	if s.local == nil {
		return nil, fmt.Errorf("peers section %q has no local peer", cfg.Name)
	}
	for _, t := range cfg.Tables {
		t.T.Share(s.kick)
	}
	return s, nil
}

// now is the section's clock in ms, never 0 (0 is "never").
func (s *Section) now() uint32 { return uint32(time.Since(s.start)/time.Millisecond) + 1 }

// kick wakes the task and every session (a table changed).
func (s *Section) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start listens on the local peer's address and starts the task.
func (s *Section) Start() error {
	ln := s.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = listenReuse(s.cfg.Bind); err != nil {
			return fmt.Errorf("peers section '%s': cannot bind %s: %w", s.cfg.Name, s.cfg.Bind, err)
		}
	}
	s.ln = ln
	s.wg.Add(2)
	go s.acceptLoop(ln)
	go s.task()
	return nil
}

// listenReuse listens with SO_REUSEPORT, so that a new process binds
// beside the old one at a reload.
func listenReuse(ap netip.AddrPort) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if serr == nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", ap.String())
}

// acceptLoop accepts the peers that call until the listener closes.
func (s *Section) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		select {
		case s.incoming <- struct{}{}:
		default:
			c.Close() // over the limit
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.incoming }()
			s.serveIncoming(c)
		}()
	}
}

// SoftStop is the soft stop of a reload: the listener closes, the
// sessions end, and the local peer (the new process) is taught the
// tables. Stopped is closed once it was, or could not be.
func (s *Section) SoftStop() {
	s.mu.Lock()
	if s.stopping || s.closed {
		s.mu.Unlock()
		return
	}
	s.stopping = true
	s.stopSig = true
	ln := s.ln
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	s.kick()
}

// Stopped is closed when a soft stop is over.
func (s *Section) Stopped() <-chan struct{} { return s.stopped }

// Close ends everything and waits for the goroutines.
func (s *Section) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	ln := s.ln
	var sess []*session
	for _, p := range s.peers {
		if p.sess != nil {
			sess = append(sess, p.sess)
		}
	}
	s.mu.Unlock()
	close(s.quit)
	if ln != nil {
		ln.Close()
	}
	for _, x := range sess {
		x.conn.Close()
	}
	s.wg.Wait()
	s.stopDone()
}

func (s *Section) stopDone() {
	select {
	case <-s.stopped:
	default:
		close(s.stopped)
	}
}

// expired reports whether tick t (0: never) has passed.
func expired(t, now uint32) bool { return t != 0 && int32(now-t) >= 0 }

// first is the earlier of two ticks (0: never).
func first(a, b uint32) uint32 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	case int32(a-b) <= 0:
		return a
	}
	return b
}

// collisionDelay is HAProxy's random delay before reconnecting after a
// session was killed, so that both ends do not retry at once.
func collisionDelay(now uint32) uint32 { return now + 50 + uint32(rand.IntN(2000)) }

// task is process_peer_sync: reconnections, heartbeats, resync state.
func (s *Section) task() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// The task runs on events and at its next deadline, as
		// HAProxy's; a pass every 5 s at least is a safety net.
		next := s.process()
		d := 5 * time.Second
		if next != 0 {
			if w := time.Duration(int32(next-s.now())) * time.Millisecond; w < d {
				d = max(w, time.Millisecond)
			}
		}
		timer.Reset(d)
		select {
		case <-s.quit:
			return
		case <-s.wake:
			s.mu.Lock()
			for _, p := range s.peers {
				if p.sess != nil {
					p.sess.kick()
				}
			}
			s.mu.Unlock()
		case <-timer.C:
		}
	}
}

// process runs one pass of the task and returns when it wants to run
// again (0: on an event).
func (s *Section) process() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taskCalls++
	now := s.now()
	var next uint32
	if !s.stopping {
		if s.resyncTimeout == 0 {
			s.resyncTimeout = now + resyncTimeout
		}
		if s.flags&resyncStateMask == resyncFromLocal && (!s.cfg.Reload || expired(s.resyncTimeout, now)) &&
			s.flags&fResyncAssign == 0 {
			s.flags |= fResyncLocal | fResyncLocalTimeout
			s.resyncTimeout = now + resyncTimeout
		}
		for _, p := range s.peers {
			if p.Local {
				continue
			}
			next = first(next, s.processRemote(p, now))
		}
		if s.flags&resyncStateMask == resyncFromRemote && s.flags&fResyncAssign == 0 && expired(s.resyncTimeout, now) {
			s.flags |= fResyncRemote | fResyncRemoteTimeout
		}
		if s.flags&resyncStateMask != resyncFinished && !expired(s.resyncTimeout, now) {
			next = first(next, s.resyncTimeout)
		}
		return next
	}
	if s.stopSig {
		s.stopSig = false
		if s.flags&fDoNotStop == 0 {
			s.flags |= fDoNotStop
			for _, p := range s.peers {
				p.reconnect = collisionDelay(now)
				if p.sess != nil {
					s.forceShutdown(p)
				}
			}
		}
	}
	p := s.local
	switch {
	case p.flags&pTeachComplete != 0:
		if s.flags&fDoNotStop != 0 {
			s.flags &^= fDoNotStop
			s.stopDone()
		}
	case p.sess == nil:
		switch p.statuscode {
		case 0, statusSuccess, statusConnected, statusTryAgain:
			if s.flags&fDoNotStop != 0 {
				s.startSession(p, now)
			}
		case statusConnect:
			// The connect failed before any handshake. The listener this
			// process has just closed can still reset a connection the
			// kernel handed it (SO_REUSEPORT) while the new process
			// listens: try again a few times before giving the lesson up.
			if s.flags&fDoNotStop != 0 && s.teachRetries < maxTeachRetries {
				if s.teachRetryAt == 0 {
					s.teachRetryAt = now + teachRetryDelay
				}
				if !expired(s.teachRetryAt, now) {
					return s.teachRetryAt
				}
				s.teachRetries++
				s.teachRetryAt = 0
				s.startSession(p, now)
				return 0
			}
			if s.flags&fDoNotStop != 0 {
				s.flags &^= fDoNotStop
				s.stopDone()
			}
		default:
			if s.flags&fDoNotStop != 0 {
				s.flags &^= fDoNotStop
				s.stopDone()
			}
		}
	case p.statuscode == statusSuccess:
		for _, st := range p.tables {
			if st.lastPushed != st.t.LocalUpdate() {
				p.sess.kick()
				break
			}
		}
	}
	if s.flags&fDoNotStop == 0 {
		s.stopDone()
	}
	return 0
}

// processRemote is the task's work for one remote peer.
func (s *Section) processRemote(p *peer, now uint32) uint32 {
	if p.sess == nil {
		switch {
		case p.statuscode == 0 ||
			((p.statuscode == statusConnect || p.statuscode == statusSuccess || p.statuscode == statusConnected) &&
				expired(p.reconnect, now)):
			s.startSession(p, now)
			return p.reconnect
		case !expired(p.reconnect, now):
			return p.reconnect
		}
		return 0
	}
	if p.statuscode != statusSuccess {
		return p.reconnect
	}
	if s.flags&resyncStateMask == resyncFromRemote && s.flags&fResyncAssign == 0 && p.flags&pLearnNotUp2 == 0 {
		p.flags |= pLearnAssign
		s.flags |= fResyncAssign | fResyncRemoteAssign
		p.sess.kick()
		return 0
	}
	for _, st := range p.tables {
		if st.lastPushed != st.t.LocalUpdate() {
			p.flags &^= pHeartbeat
			p.heartbeat = now + heartbeatTimeout
			p.sess.kick()
			return first(p.reconnect, p.heartbeat)
		}
	}
	switch {
	case expired(p.reconnect, now):
		if p.flags&pAlive != 0 {
			p.flags &^= pAlive
			p.reconnect = now + reconnectTimeout
		} else {
			p.reconnect = collisionDelay(now)
			p.heartbeat = 0
			s.forceShutdown(p)
			p.noHbt++
		}
	case expired(p.heartbeat, now):
		p.heartbeat = now + heartbeatTimeout
		p.flags |= pHeartbeat
		p.sess.kick()
	}
	return first(p.reconnect, p.heartbeat)
}

// pid is what the hello line announces.
var pid = os.Getpid()
