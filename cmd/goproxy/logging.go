package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Message levels, padded as HAProxy pads them: "[ALERT]    ".
const (
	tagAlert   = "ALERT"
	tagWarning = "WARNING"
	tagNotice  = "NOTICE"
	tagDiag    = "DIAG"
	tagDebug   = "DEBUG"
)

// prefix returns "[LEVEL]" padded to 10 characters, then " (pid) : ".
func prefix(tag string, pid int) string {
	return fmt.Sprintf("%-10s (%d) : ", "["+tag+"]", pid)
}

// console writes HAProxy-style startup and runtime messages on stderr. The
// first alert or warning of a starting process is preceded by the two
// notices naming the version and the executable, as HAProxy does. Quiet
// mode drops everything unless verbose is also set.
type console struct {
	mu       sync.Mutex
	w        io.Writer
	pid      int
	quiet    bool
	starting bool // print the version notices before the first alert/warning
	noticed  bool
	warnings int
}

func newConsole(w io.Writer, quiet bool) *console {
	return &console{w: w, pid: os.Getpid(), quiet: quiet, starting: true}
}

// print writes one message; continuation lines of msg are written as they
// are (the message carries its own "   | " or caret layout).
func (c *console) print(tag, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tag == tagWarning {
		c.warnings++
	}
	if c.quiet {
		return
	}
	if tag == tagAlert || tag == tagWarning {
		c.versionNoticesLocked()
	}
	fmt.Fprintf(c.w, "%s%s\n", prefix(tag, c.pid), msg)
}

// versionNoticesLocked prints the version and executable notices once,
// while the process is starting. c.mu must be held.
func (c *console) versionNoticesLocked() {
	if !c.starting || c.noticed || c.quiet {
		return
	}
	c.noticed = true
	fmt.Fprintf(c.w, "%shaproxy version is %s\n", prefix(tagNotice, c.pid), version)
	if exe, err := os.Executable(); err == nil {
		fmt.Fprintf(c.w, "%spath to executable is %s\n", prefix(tagNotice, c.pid), exe)
	}
}

func (c *console) alert(format string, a ...any)   { c.print(tagAlert, fmt.Sprintf(format, a...)) }
func (c *console) warning(format string, a ...any) { c.print(tagWarning, fmt.Sprintf(format, a...)) }
func (c *console) notice(format string, a ...any)  { c.print(tagNotice, fmt.Sprintf(format, a...)) }

// warned reports how many warnings were printed (or suppressed by -q).
func (c *console) warned() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.warnings
}

// noticeAgain makes the version notices precede the next alert or
// warning again, as they do in a new HAProxy master process (a master
// that failed to reload executes itself once more, in wait mode).
func (c *console) noticeAgain() {
	c.mu.Lock()
	c.noticed = false
	c.mu.Unlock()
}

// doneStarting stops the version notices from being printed later on.
func (c *console) doneStarting() {
	c.mu.Lock()
	c.starting = false
	c.mu.Unlock()
}

// logFormatter renders logrus entries as HAProxy's stderr lines:
// "[WARNING]  (pid) : message key=value ...". Levels map as HAProxy's:
// error and above are alerts, warn is a warning, info a notice, debug and
// trace are debug lines.
type logFormatter struct {
	pid int
}

func levelTag(l logrus.Level) string {
	switch l {
	case logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel:
		return tagAlert
	case logrus.WarnLevel:
		return tagWarning
	case logrus.InfoLevel:
		return tagNotice
	default:
		return tagDebug
	}
}

// Format implements logrus.Formatter.
func (f *logFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(prefix(levelTag(e.Level), f.pid))
	b.WriteString(strings.TrimSuffix(e.Message, "\n"))
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, e.Data[k])
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// consoleHook sends the first alert or warning through the console so that
// the version notices come first, exactly once, whoever logs first.
type consoleHook struct{ c *console }

func (h consoleHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h consoleHook) Fire(e *logrus.Entry) error {
	if e.Level <= logrus.WarnLevel {
		h.c.mu.Lock()
		h.c.versionNoticesLocked()
		h.c.mu.Unlock()
	}
	return nil
}

// newLogger returns the process logger: HAProxy-style lines on the
// console's writer, nothing in quiet mode, debug lines with -d.
func newLogger(c *console, debug bool) *logrus.Logger {
	l := logrus.New()
	l.SetFormatter(&logFormatter{pid: c.pid})
	l.SetOutput(c.w)
	l.SetLevel(logrus.InfoLevel)
	if debug {
		l.SetLevel(logrus.DebugLevel)
	}
	if c.quiet {
		l.SetOutput(io.Discard)
	}
	l.AddHook(consoleHook{c})
	return l
}

// outWriter is where the console and the logger write. It can hold the
// messages back while the process does not know yet whether it will print
// them (a daemon launcher leaves that to its child) and be redirected (a
// daemon child writes to its status pipe until it is ready).
type outWriter struct {
	mu      sync.Mutex
	w       io.Writer // nil while holding back
	buf     bytes.Buffer
	q       chan []byte // non-nil while writes are queued (see queue)
	dropped int         // messages dropped because q was full
}

// outQueueLen bounds the messages waiting while writes are queued.
const outQueueLen = 256

func newOutWriter(w io.Writer) *outWriter { return &outWriter{w: w} }

// Write implements io.Writer.
func (o *outWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.q != nil {
		select {
		case o.q <- append([]byte(nil), p...):
		default:
			o.dropped++
		}
		return len(p), nil
	}
	if o.w == nil {
		return o.buf.Write(p)
	}
	return o.w.Write(p)
}

// queue makes later writes return at once: they wait in a bounded queue
// that a goroutine writes out, and are dropped when it is full. Once the
// process serves, an event loop that logs (an accept error, a socket that
// cannot be created) must never wait for a stderr nobody reads. The
// returned flush goes back to direct writes and waits at most d for the
// queued messages to be written.
func (o *outWriter) queue() (flush func(d time.Duration)) {
	q := make(chan []byte, outQueueLen)
	done := make(chan struct{})
	o.mu.Lock()
	o.q = q
	o.mu.Unlock()
	go func() {
		defer close(done)
		for b := range q {
			o.mu.Lock()
			w := o.w
			if w == nil {
				o.buf.Write(b)
			}
			o.mu.Unlock()
			if w != nil {
				_, _ = w.Write(b)
			}
		}
	}()
	return func(d time.Duration) {
		o.mu.Lock()
		if o.q == q {
			o.q = nil
			close(q)
		}
		o.mu.Unlock()
		select {
		case <-done:
		case <-time.After(d):
		}
	}
}

// hold makes later writes wait in memory.
func (o *outWriter) hold() {
	o.mu.Lock()
	o.w = nil
	o.mu.Unlock()
}

// release writes what was held to w (unless drop) and sends later writes there.
func (o *outWriter) release(w io.Writer, drop bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !drop && o.buf.Len() > 0 {
		_, _ = w.Write(o.buf.Bytes())
	}
	o.buf.Reset()
	o.w = w
}
