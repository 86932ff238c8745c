package stats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"goproxy/internal/sockxfer"
	"goproxy/internal/uxsock"
	"goproxy/parser"
)

// Defaults of the global stats keywords.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxConn = 10
)

// sessionsPerSlot bounds the open CLI connections: stats maxconn commands
// run at once, and up to sessionsPerSlot times as many connections may
// wait between commands. A connection beyond that evicts the one that has
// made no progress for the longest time.
const sessionsPerSlot = 20

// Server is the set of CLI sockets of one process.
type Server struct {
	src     Source
	log     logrus.FieldLogger
	timeout time.Duration
	sem     chan struct{} // stats maxconn slots, one per command running
	done    chan struct{} // closed by Close: wakes commands waiting for a slot
	// maxSessions bounds the open connections (sessionsPerSlot × stats
	// maxconn).
	maxSessions int
	socks       []parser.StatsSocket
	start       time.Time

	mu        sync.Mutex
	listeners []*cliListener
	conns     map[*session]struct{}
	closed    bool
	nextID    uint64
	wg        sync.WaitGroup

	cumConns  atomic.Uint64
	evictions atomic.Uint64

	// Takeover lets Start replace a unix socket another process is still
	// listening on. Set it before Start when taking over from an old
	// process on reload (-sf/-st); otherwise a live socket is an error.
	Takeover bool
	// Listeners returns the listening sockets that "_getsocks" hands to a
	// new process ("-x") on a socket with expose-fd listeners; nil: none.
	Listeners func() []sockxfer.Socket
	// Maps are the map files the map commands show and change; nil: none.
	Maps Maps
	// Tables are the stick tables of the table commands.
	Tables Tables
	// Peers are the peers sections "show peers" lists; nil: none.
	Peers Peers
	// Resolvers is the runtime DNS resolution ("show resolvers", "set
	// server <b>/<s> fqdn"); nil: none.
	Resolvers Resolvers
}

// cliListener is one bound stats socket.
type cliListener struct {
	ln       net.Listener
	level    Level
	exposeFD bool
	severity severityMode // the socket's severity-output
	path     string       // unix socket file we created, removed on Close
	file     uxsock.ID    // the socket file as created, to remove only our own
	addr     string       // path or ip:port
	name     string       // as show cli sockets prints it: unix@path, ipv4@ip:port
}

// NewServer checks the stats socket configuration of g. It binds nothing:
// Start does.
func NewServer(g parser.Global, src Source, log logrus.FieldLogger) (*Server, error) {
	if src == nil {
		return nil, errors.New("stats: nil source")
	}
	if log == nil {
		l := logrus.New()
		l.Out = nilWriter{}
		log = l
	}
	s := &Server{
		src:     src,
		log:     log.WithField("component", "stats"),
		timeout: g.StatsTimeout,
		socks:   g.StatsSockets,
		conns:   make(map[*session]struct{}),
		done:    make(chan struct{}),
		start:   time.Now(),
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	maxconn := g.StatsMaxConn
	if maxconn <= 0 {
		maxconn = DefaultMaxConn
	}
	s.sem = make(chan struct{}, maxconn)
	s.maxSessions = sessionsPerSlot * maxconn
	for _, sk := range g.StatsSockets {
		if _, err := ParseLevel(sk.Level); err != nil {
			return nil, fmt.Errorf("stats socket %s: %w", sk.Addr.Text, err)
		}
		switch sk.Addr.Family {
		case parser.FamilyUnix, parser.FamilyTCP4, parser.FamilyTCP6, parser.FamilyFD:
		default:
			return nil, fmt.Errorf("stats socket %s: unsupported address family", sk.Addr.Text)
		}
	}
	return s, nil
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// Start binds every configured socket and starts accepting. On error the
// sockets it bound are closed and removed, and Start may be called again
// (a reload waiting for the old process to let go of an address).
func (s *Server) Start() error {
	var bound []*cliListener
	for _, sk := range s.socks {
		l, err := s.bind(sk)
		if err == nil {
			l.exposeFD = sk.ExposeFD
			l.severity, _ = parseSeverityMode(sk.SeverityOutput)
		}
		if err != nil {
			for _, b := range bound {
				b.close()
			}
			return err
		}
		bound = append(bound, l)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		for _, b := range bound {
			b.close()
		}
		return errors.New("stats: server closed")
	}
	for _, l := range bound {
		s.listeners = append(s.listeners, l)
		s.wg.Add(1)
		s.log.WithFields(logrus.Fields{"socket": l.name, "level": l.level.String()}).Debug("stats socket listening")
		go s.acceptLoop(l)
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) bind(sk parser.StatsSocket) (*cliListener, error) {
	level, _ := ParseLevel(sk.Level)
	switch sk.Addr.Family {
	case parser.FamilyFD:
		return bindFD(sk, level)
	case parser.FamilyUnix:
		ln, fi, err := listenUnix(sk, s.Takeover)
		if err != nil {
			what := "cannot bind UNIX socket"
			var ue *uxsock.Error
			if errors.As(err, &ue) {
				what, err = ue.What, ue.Err
			}
			return nil, bindError(sk, what, err, "["+sk.Addr.Path+"]")
		}
		return &cliListener{ln: ln, level: level, path: sk.Addr.Path, file: fi, addr: sk.Addr.Path,
			name: "unix@" + sk.Addr.Path}, nil
	default:
		network := "tcp4"
		if sk.Addr.Family == parser.FamilyTCP6 {
			network = "tcp6"
		}
		addr := net.JoinHostPort(sk.Addr.Host, strconv.Itoa(sk.Addr.Port))
		ln, err := reusePortConfig.Listen(context.Background(), network, addr)
		if err != nil {
			return nil, bindError(sk, "cannot bind socket", err, "for ["+addr+"]")
		}
		prefix := "ipv4@"
		if network == "tcp6" {
			prefix = "ipv6@"
		}
		a := ln.Addr().String()
		return &cliListener{ln: ln, level: level, addr: a, name: prefix + a}, nil
	}
}

// listenUnix binds a unix socket at sk.Addr.Path as every UNIX listener is
// bound (uxsock.Listen: a temporary name, its mode and owner, then a rename
// over the path). A stale socket file is replaced; a live one (something
// answers a connect) is an error unless takeover is set.
func listenUnix(sk parser.StatsSocket, takeover bool) (net.Listener, uxsock.ID, error) {
	path := sk.Addr.Path
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, uxsock.ID{}, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			holder := peerPID(c)
			c.Close()
			if !takeover {
				if holder > 0 {
					return nil, uxsock.ID{}, fmt.Errorf("another process (pid %d) is already listening on this socket: to replace it, start with -sf %d, and give the first start -p <pidfile> or a 'pidfile' so that reloads find its pid", holder, holder)
				}
				return nil, uxsock.ID{}, errors.New("another process is already listening on this socket")
			}
		}
	}
	uid, gid, err := socketOwner(sk.BindOptions)
	if err != nil {
		return nil, uxsock.ID{}, err
	}
	perm := uxsock.Perm{UID: uid, GID: gid}
	// Without `mode` the socket keeps what bind(2) gave it (0777 & ~umask),
	// as with HAProxy.
	if sk.ModeSet {
		perm.Mode = sk.Mode & 0o7777
	}
	fd, id, err := uxsock.Listen(uxsock.Addr{Path: path}, perm, unix.SOMAXCONN)
	if err != nil {
		return nil, id, err
	}
	f := os.NewFile(uintptr(fd), path)
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, id, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	return ln, id, nil
}

// close stops the listener and removes its socket file unless another
// process has replaced it since (reload).
func (l *cliListener) close() {
	l.ln.Close()
	if l.path == "" {
		return
	}
	if uxsock.Owns(l.path, l.file) {
		os.Remove(l.path)
	}
}

// acceptLoop accepts CLI connections. Accepting takes no stats maxconn
// slot: a session takes one only while it runs a command (see
// session.admit), so clients that connect and send nothing, or send
// slowly, cannot keep an operator out. When maxSessions connections are
// open, a new one evicts the session idle or stuck in a line the longest.
func (s *Server) acceptLoop(l *cliListener) {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.WithError(err).Warn("stats socket accept failed")
			time.Sleep(backoff)
			if backoff < time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 5 * time.Millisecond
		if !s.serveConn(c, l.level, l.exposeFD, l.severity) {
			return
		}
	}
}

// ServeConn serves c, an already connected CLI client, as a connection
// accepted on a socket at level admin with expose-fd listeners: the
// master process's channel to its worker (HAProxy's sockpair@ CLI). The
// server owns c from now on; after Close it is closed at once.
func (s *Server) ServeConn(c net.Conn) {
	s.serveConn(c, LevelAdmin, true, severityNone)
}

// serveConn starts a session on c; it reports false once the server is
// closed (c is closed then).
func (s *Server) serveConn(c net.Conn, level Level, exposeFD bool, severity severityMode) bool {
	s.cumConns.Add(1)
	now := time.Now()
	sess := &session{
		srv:       s,
		conn:      c,
		sockLevel: level,
		exposeFD:  exposeFD,
		severity:  severity,
		level:     level,
		timeout:   s.timeout,
		start:     now,
	}
	sess.progress.Store(now.UnixNano())
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return false
	}
	if len(s.conns) >= s.maxSessions && !s.evictLocked() {
		// Every session is running a command: the newcomer is the
		// one to go.
		s.mu.Unlock()
		c.Close()
		return true
	}
	s.nextID++
	sess.id = s.nextID
	s.conns[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		sess.serve()
		s.mu.Lock()
		delete(s.conns, sess)
		s.mu.Unlock()
	}()
	return true
}

// evictLocked closes the session that has made no progress (a line read
// and answered) for the longest time, among those not running a command,
// and forgets it at once so the next eviction picks another. It reports
// whether it found one. s.mu is held.
func (s *Server) evictLocked() bool {
	var victim *session
	var oldest int64
	for sess := range s.conns {
		if sess.busy.Load() {
			continue
		}
		if p := sess.progress.Load(); victim == nil || p < oldest {
			victim, oldest = sess, p
		}
	}
	if victim == nil {
		return false
	}
	delete(s.conns, victim)
	victim.conn.Close()
	s.evictions.Add(1)
	return true
}

// Addrs returns the addresses the server listens on (unix paths or ip:port),
// in configuration order.
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.addr
	}
	return out
}

// Close stops listening, closes every CLI session, waits for their
// goroutines and removes the socket files it created.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return
	}
	s.closed = true
	close(s.done)
	ls := s.listeners
	for sess := range s.conns {
		sess.conn.Close()
	}
	s.mu.Unlock()
	for _, l := range ls {
		l.close()
	}
	s.wg.Wait()
}

// activeConns is the number of open CLI sessions.
func (s *Server) activeConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) version() string {
	v := s.src.Info().Version
	if v == "" {
		return defaultVersion
	}
	return v
}

// socketOwner returns the uid and gid a socket file must get (-1 = keep),
// resolving user and group names.
func socketOwner(o parser.BindOptions) (int, int, error) {
	uid, gid := -1, -1
	switch {
	case o.User != "":
		u, err := user.Lookup(o.User)
		if err != nil {
			return 0, 0, fmt.Errorf("unknown user %q: %w", o.User, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
	case o.UIDSet:
		uid = o.UID
	}
	switch {
	case o.Group != "":
		g, err := user.LookupGroup(o.Group)
		if err != nil {
			return 0, 0, fmt.Errorf("unknown group %q: %w", o.Group, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	case o.GIDSet:
		gid = o.GID
	}
	return uid, gid, nil
}

// peerPID returns the pid of the process listening at the other end of a
// unix connection (SO_PEERCRED), 0 when unknown.
func peerPID(c net.Conn) int {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0
	}
	pid := 0
	_ = raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return pid
}
