package stats

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"goproxy/internal/sockxfer"
)

// session is one CLI connection. It is owned by the goroutine running serve.
type session struct {
	srv         *Server
	conn        net.Conn
	sockLevel   Level // level of the socket: decides what show stat reveals
	exposeFD    bool  // the socket has expose-fd listeners
	level       Level // current level, lowered by "operator" and "user"
	interactive bool
	severity    severityMode // set severity-output, or the socket's option
	timeout     time.Duration
	id          uint64
	start       time.Time
	out         bytes.Buffer
	quit        bool
	payload     string // the payload of the command being run (payload.go)

	// Read by the accept loop to choose whom to evict.
	busy     atomic.Bool  // waiting for or holding a stats maxconn slot
	progress atomic.Int64 // unix ns of the accept or the last line answered
}

// lineTimeout bounds the time a request line may take to arrive once its
// first byte has: a client sending a byte now and then holds its
// connection for a second, not for the stats timeout. The stats timeout
// stays what it is in HAProxy: how long the CLI waits for a command.
const lineTimeout = time.Second

// errLineTooLong is returned when a request line exceeds maxLine bytes
// before its '\n' (a '\r' counts, as in HAProxy).
var errLineTooLong = errors.New("cli: request line too long")

// readLine reads one line ending in '\n' (returned without it and without a
// preceding '\r'), bounded by maxLine.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > maxLine+1 {
			return "", errLineTooLong
		}
		line = append(line, frag...)
		switch {
		case err == nil:
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return string(line), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return "", err
		}
	}
}

// serve runs the session until the client leaves, quits, times out, or the
// non-interactive exchange is over.
func (s *session) serve() {
	defer s.conn.Close()
	r := bufio.NewReaderSize(s.conn, 4096)
	for !s.quit {
		// Idle: wait up to the stats timeout for the next command to
		// begin, then up to lineTimeout for the rest of its line.
		if err := s.conn.SetReadDeadline(time.Now().Add(s.timeout)); err != nil {
			return
		}
		if _, err := r.Peek(1); err != nil {
			return
		}
		if err := s.conn.SetReadDeadline(time.Now().Add(lineTimeout)); err != nil {
			return
		}
		line, err := readLine(r)
		if errors.Is(err, errLineTooLong) {
			// HAProxy answers nothing to a line longer than its buffer
			// and closes: so does goproxy, but cleanly (below), so that
			// the client sees the end instead of a reset.
			break
		}
		if err != nil {
			// EOF before a newline, idle or line timeout, closed socket:
			// HAProxy executes nothing and closes.
			return
		}
		if cmd, ok := payloadCommand(line); ok {
			if err := s.conn.SetReadDeadline(time.Now().Add(payloadTimeout)); err != nil {
				return
			}
			if s.payload, err = readPayload(r); err != nil {
				return
			}
			line = cmd
		}
		s.runLine(line)
		s.payload = ""
		// Progress is recorded before the answer leaves: a client that
		// has read it sees its session ordered after any answered
		// earlier (eviction picks the oldest progress).
		s.progress.Store(time.Now().UnixNano())
		if !s.flush() {
			return
		}
		if !s.interactive && r.Buffered() == 0 {
			break
		}
	}
	// Shut the write side first so the client sees the end of the answer,
	// then read what it may still send for a moment: closing with unread
	// input would reset the connection and could lose the answer's tail.
	if c, ok := s.conn.(interface{ CloseWrite() error }); ok {
		if c.CloseWrite() == nil && s.conn.SetReadDeadline(time.Now().Add(drainTime)) == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(r, drainMax))
		}
	}
}

// drainTime bounds how long a finished session waits for the client to
// close its side.
const drainTime = 200 * time.Millisecond

// drainMax bounds what a finished session reads and discards: enough for
// the rest of a long line sent by socat, too little for a client that
// sends megabytes to cost much.
const drainMax = 64 << 10

// flush writes the pending output, bounded by the session timeout so a
// client that does not read cannot hold the goroutine forever.
func (s *session) flush() bool {
	if s.out.Len() == 0 {
		return true
	}
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return false
	}
	_, err := s.out.WriteTo(s.conn)
	s.out.Reset()
	return err == nil
}

// runLine executes every command of one request line, in order.
func (s *session) runLine(line string) {
	for _, args := range splitCommands(line) {
		if s.quit {
			return
		}
		s.exec(args)
		if s.out.Len() > 1<<20 && !s.flush() {
			s.quit = true
			return
		}
	}
}

// exec runs one command and appends its answer, the empty line, and the
// prompt in interactive mode.
func (s *session) exec(args []string) {
	var answer string
	switch {
	case len(args) >= 1 && args[0] == "quit":
		s.quit = true
		return
	case len(args) >= 1 && args[0] == "prompt":
		s.interactive = !s.interactive
	case len(args) >= 1 && args[0] == sockxfer.Command:
		s.sendListeners()
		return
	default:
		answer = s.withSeverity(args, s.answer(args))
	}
	s.out.WriteString(answer)
	s.out.WriteByte('\n')
	if s.interactive {
		s.out.WriteString("> ")
	}
}

func (s *session) answer(args []string) string {
	if len(args) == 0 {
		return usageMessage(nil, false)
	}
	c := findCommand(args)
	if c == nil {
		if isKnownKeyword(args) {
			return notSupported
		}
		return usageMessage(args, false)
	}
	if s.level < c.level {
		return permissionDenied
	}
	if !s.admit() {
		s.quit = true
		return ""
	}
	defer s.release()
	return c.run(s, args)
}

// admit takes a stats maxconn slot for one command, waiting while
// stats maxconn commands run. It reports false when the server is closing.
// Unknown commands, usage texts and refusals need no slot: they read
// nothing of the proxy.
func (s *session) admit() bool {
	s.busy.Store(true)
	select {
	case s.srv.sem <- struct{}{}:
		return true
	case <-s.srv.done:
		s.busy.Store(false)
		return false
	}
}

func (s *session) release() {
	<-s.srv.sem
	s.busy.Store(false)
}
