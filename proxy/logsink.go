package proxy

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

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
// global section), in HAProxy's formats. It is safe for concurrent use, and
// a send never waits and takes no lock: each target has a bounded queue and
// a writer goroutine that owns the target's descriptor. A line that finds
// its target's queue full, or a datagram the socket cannot take at once, is
// dropped and counted (HAProxy's DroppedLogs).
type LogSink struct {
	targets  []*logTarget
	tag      string
	hostname string // empty unless log-send-hostname
	pid      int
	now      func() time.Time
	drops    *atomic.Uint64 // shared by the sinks of a graph
}

// NewLogSink opens the targets: the proxy's own, plus the global ones when
// logGlobal is set. A sink with no target accepts and drops everything.
// Close stops the targets' writers.
func NewLogSink(g *parser.Global, own []parser.LogTarget, logGlobal bool) (*LogSink, error) {
	return newLogSink(g, own, logGlobal, "", logEnv{drops: new(atomic.Uint64), stdout: 1, stderr: 2})
}

// logEnv is what the sinks of one graph share: the drop counter and the
// descriptors of "log stdout" and "log stderr".
type logEnv struct {
	drops          *atomic.Uint64
	stdout, stderr int
}

// newLogSink is NewLogSink in env, with the proxy's log-tag (empty: the
// global one).
func newLogSink(g *parser.Global, own []parser.LogTarget, logGlobal bool, tag string, env logEnv) (*LogSink, error) {
	s := &LogSink{tag: tag, pid: os.Getpid(), now: time.Now, drops: env.drops}
	if s.tag == "" {
		s.tag = g.LogTag
	}
	if s.tag == "" {
		s.tag = "haproxy"
	}
	switch g.LogSendHostname {
	case "":
	case "hostname":
		s.hostname = hostname()
	default:
		s.hostname = g.LogSendHostname
	}
	var all []parser.LogTarget
	all = append(all, own...)
	if logGlobal {
		all = append(all, g.Logs...)
	}
	for _, t := range all {
		lt, err := openLogTarget(t, env)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.targets = append(s.targets, lt)
	}
	return s, nil
}

// Dropped returns how many lines were dropped: by this sink, or by every
// sink of the graph for the graph's sinks.
func (s *LogSink) Dropped() uint64 {
	if s == nil {
		return 0
	}
	return s.drops.Load()
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
func (s *LogSink) Log(level int, msg string) { s.LogSD(level, msg, "") }

// LogSD is Log with the structured data of log-format-sd, which only the
// rfc5424 targets print (empty: "- ").
func (s *LogSink) LogSD(level int, msg, sd string) {
	if s == nil || len(s.targets) == 0 {
		return
	}
	now := s.now()
	for _, t := range s.targets {
		if level > t.cfg.Level || !t.sampled() {
			continue
		}
		lvl := level
		if lvl < t.cfg.MinLevel {
			lvl = t.cfg.MinLevel
		}
		line := s.format(t.cfg, lvl, now, msg, sd)
		t.send(line)
	}
}

// format renders one line for a target in its format.
func (s *LogSink) format(t parser.LogTarget, level int, now time.Time, msg, sd string) []byte {
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
			host = "-" // HAProxy's NILVALUE without log-send-hostname
		}
		if sd == "" {
			sd = "- "
		}
		fmt.Fprintf(&b, "<%d>1 %s %s %s %d - %s%s", pri, now.Format("2006-01-02T15:04:05.000000-07:00"), host, s.tag, s.pid, sd, msg)
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

// Close stops the targets' writers: each writes what its queue holds (for
// at most logFlushTimeout) and closes its socket. Lines sent after Close
// are dropped.
func (s *LogSink) Close() {
	if s == nil {
		return
	}
	for _, t := range s.targets {
		t.close()
	}
}
