package stats

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/parser"
)

// Defaults of the global stats keywords.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxConn = 10
)

// Server is the set of CLI sockets of one process.
type Server struct {
	src     Source
	log     logrus.FieldLogger
	timeout time.Duration
	sem     chan struct{} // stats maxconn slots
	socks   []parser.StatsSocket
	start   time.Time

	mu        sync.Mutex
	listeners []*cliListener
	conns     map[*session]struct{}
	closed    bool
	nextID    uint64
	wg        sync.WaitGroup

	cumConns atomic.Uint64
}

// cliListener is one bound stats socket.
type cliListener struct {
	ln    net.Listener
	level Level
	path  string // unix socket file we created, removed on Close
	addr  string
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
	for _, sk := range g.StatsSockets {
		if _, err := ParseLevel(sk.Level); err != nil {
			return nil, fmt.Errorf("stats socket %s: %w", sk.Addr.Text, err)
		}
		switch sk.Addr.Family {
		case parser.FamilyUnix, parser.FamilyTCP4, parser.FamilyTCP6:
		default:
			return nil, fmt.Errorf("stats socket %s: unsupported address family", sk.Addr.Text)
		}
	}
	return s, nil
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// Start binds every configured socket and starts accepting. On error the
// sockets already bound are closed and removed.
func (s *Server) Start() error {
	for _, sk := range s.socks {
		l, err := s.bind(sk)
		if err != nil {
			s.Close()
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			l.close()
			return errors.New("stats: server closed")
		}
		s.listeners = append(s.listeners, l)
		s.wg.Add(1)
		s.mu.Unlock()
		go s.acceptLoop(l)
	}
	return nil
}

func (s *Server) bind(sk parser.StatsSocket) (*cliListener, error) {
	level, _ := ParseLevel(sk.Level)
	switch sk.Addr.Family {
	case parser.FamilyUnix:
		ln, err := listenUnix(sk)
		if err != nil {
			return nil, fmt.Errorf("stats socket %s: %w", sk.Addr.Path, err)
		}
		return &cliListener{ln: ln, level: level, path: sk.Addr.Path, addr: sk.Addr.Path}, nil
	default:
		network := "tcp4"
		if sk.Addr.Family == parser.FamilyTCP6 {
			network = "tcp6"
		}
		addr := net.JoinHostPort(sk.Addr.Host, strconv.Itoa(sk.Addr.Port))
		ln, err := net.Listen(network, addr)
		if err != nil {
			return nil, fmt.Errorf("stats socket %s: %w", sk.Addr.Text, err)
		}
		return &cliListener{ln: ln, level: level, addr: ln.Addr().String()}, nil
	}
}

// listenUnix binds a unix socket at sk.Addr.Path. The socket is bound under a
// temporary name in the same directory, given its mode and owner, then
// renamed over the final path, so nobody can connect before the permissions
// apply. A live socket at the path (something answers a connect) is an
// error; a stale one is replaced.
func listenUnix(sk parser.StatsSocket) (net.Listener, error) {
	path := sk.Addr.Path
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, errors.New("another process is already listening on this socket")
		}
	}
	// Bind in a private directory (mode 0700) next to the final path, set
	// the mode and owner, then rename over the final path: nobody can
	// connect before the permissions apply.
	dir, err := os.MkdirTemp(filepath.Dir(path), ".cli")
	if err != nil {
		return nil, err
	}
	defer os.Remove(dir)
	tmp := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, error) {
		ln.Close()
		os.Remove(tmp)
		return nil, err
	}
	mode := os.FileMode(0o666)
	if sk.ModeSet {
		mode = os.FileMode(sk.Mode) & os.ModePerm
	}
	uid, gid := -1, -1
	if sk.User != "" || sk.UID != 0 {
		uid = sk.UID
	}
	if sk.Group != "" || sk.GID != 0 {
		gid = sk.GID
	}
	if uid != -1 || gid != -1 {
		if err := os.Lchown(tmp, uid, gid); err != nil {
			return fail(fmt.Errorf("cannot change ownership: %w", err))
		}
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(fmt.Errorf("cannot change mode: %w", err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return ln, nil
}

func (l *cliListener) close() {
	l.ln.Close()
	if l.path != "" {
		os.Remove(l.path)
	}
}

// acceptLoop accepts CLI connections while a stats maxconn slot is free.
func (s *Server) acceptLoop(l *cliListener) {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		s.sem <- struct{}{} // wait for a slot before accepting
		c, err := l.ln.Accept()
		if err != nil {
			<-s.sem
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
		s.cumConns.Add(1)
		sess := &session{
			srv:       s,
			conn:      c,
			sockLevel: l.level,
			level:     l.level,
			timeout:   s.timeout,
			start:     time.Now(),
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			<-s.sem
			return
		}
		s.nextID++
		sess.id = s.nextID
		s.conns[sess] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			sess.serve()
			s.mu.Lock()
			delete(s.conns, sess)
			s.mu.Unlock()
		}()
	}
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
