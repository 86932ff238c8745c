package proxy

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// Syslog levels, as HAProxy numbers them.
const (
	LogEmerg = iota
	LogAlert
	LogCrit
	LogErr
	LogWarning
	LogNotice
	LogInfo
	LogDebug
)

// defaultLogLen is HAProxy's default maximum syslog line length.
const defaultLogLen = 1024

// LogSink sends log lines to the syslog targets of one proxy (or of the
// global section), in HAProxy's formats. It is safe for concurrent use; a
// send never blocks traffic: datagrams that cannot be written at once are
// dropped, as HAProxy drops them.
type LogSink struct {
	targets  []*logTarget
	tag      string
	hostname string // empty unless log-send-hostname
	pid      int
	now      func() time.Time
}

type logTarget struct {
	cfg  parser.LogTarget
	mu   sync.Mutex // serialises writes to w (stdout/stderr)
	conn net.Conn   // UDP or unix datagram socket
	raw  syscall.RawConn
	w    io.Writer // stdout or stderr
}

// NewLogSink opens the targets: the proxy's own, plus the global ones when
// logGlobal is set. A sink with no target accepts and drops everything.
func NewLogSink(g *parser.Global, own []parser.LogTarget, logGlobal bool) (*LogSink, error) {
	s := &LogSink{tag: g.LogTag, pid: os.Getpid(), now: time.Now}
	if s.tag == "" {
		s.tag = "haproxy"
	}
	switch g.LogSendHostname {
	case "":
	case "hostname":
		s.hostname, _ = os.Hostname()
	default:
		s.hostname = g.LogSendHostname
	}
	var all []parser.LogTarget
	all = append(all, own...)
	if logGlobal {
		all = append(all, g.Logs...)
	}
	for _, t := range all {
		lt, err := openLogTarget(t)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.targets = append(s.targets, lt)
	}
	return s, nil
}

func openLogTarget(t parser.LogTarget) (*logTarget, error) {
	lt := &logTarget{cfg: t}
	switch {
	case t.Stream == "stdout":
		lt.w = os.Stdout
	case t.Stream == "stderr":
		lt.w = os.Stderr
	case t.Addr.Family == parser.FamilyUnix:
		// HAProxy keeps going when the log socket is missing; so do we,
		// retrying at each line.
		_ = lt.dial()
	default:
		if err := lt.dial(); err != nil {
			return nil, err
		}
	}
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

// Enabled reports whether any target would take a line at level.
func (s *LogSink) Enabled(level int) bool {
	if s == nil {
		return false
	}
	for _, t := range s.targets {
		if level <= t.cfg.Level {
			return true
		}
	}
	return false
}

// Log sends msg at level to every target whose level filter lets it pass.
func (s *LogSink) Log(level int, msg string) {
	if s == nil || len(s.targets) == 0 {
		return
	}
	now := s.now()
	for _, t := range s.targets {
		if level > t.cfg.Level {
			continue
		}
		lvl := level
		if lvl < t.cfg.MinLevel {
			lvl = t.cfg.MinLevel
		}
		line := s.format(t.cfg, lvl, now, msg)
		t.send(line)
	}
}

// format renders one line for a target in its format.
func (s *LogSink) format(t parser.LogTarget, level int, now time.Time, msg string) []byte {
	pri := t.Facility*8 + level
	var b strings.Builder
	switch t.Format {
	case "raw":
		b.WriteString(msg)
	case "short":
		fmt.Fprintf(&b, "<%d>%s", level, msg)
	case "rfc5424":
		host := s.hostname
		if host == "" {
			host, _ = os.Hostname()
		}
		fmt.Fprintf(&b, "<%d>1 %s %s %s %d - - %s", pri, now.Format("2006-01-02T15:04:05.000000-07:00"), host, s.tag, s.pid, msg)
	default: // rfc3164
		fmt.Fprintf(&b, "<%d>%s ", pri, now.Format("Jan _2 15:04:05"))
		if s.hostname != "" {
			b.WriteString(s.hostname)
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s[%d]: %s", s.tag, s.pid, msg)
	}
	max := t.Len
	if max <= 0 {
		max = defaultLogLen
	}
	out := b.String()
	if len(out) > max-1 {
		out = out[:max-1]
	}
	return []byte(out + "\n")
}

func (t *logTarget) send(line []byte) {
	if t.w != nil {
		t.mu.Lock()
		_, _ = t.w.Write(line)
		t.mu.Unlock()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil && (t.cfg.Addr.Family != parser.FamilyUnix || t.dial() != nil) {
		return
	}
	// A log line must never hold traffic: send without waiting for the
	// socket to become writable, and drop the datagram if its buffer is
	// full (as HAProxy does).
	_ = t.raw.Write(func(fd uintptr) bool {
		_, _ = unix.Write(int(fd), line)
		return true // done, whatever happened: never wait
	})
}

// Close closes the targets' sockets.
func (s *LogSink) Close() {
	if s == nil {
		return
	}
	for _, t := range s.targets {
		t.mu.Lock()
		if t.conn != nil {
			t.conn.Close()
			t.conn, t.raw = nil, nil
		}
		t.mu.Unlock()
	}
}
