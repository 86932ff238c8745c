package stats

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"time"
)

// session is one CLI connection. It is owned by the goroutine running serve.
type session struct {
	srv         *Server
	conn        net.Conn
	sockLevel   Level // level of the socket: decides what show stat reveals
	level       Level // current level, lowered by "operator" and "user"
	interactive bool
	timeout     time.Duration
	id          uint64
	start       time.Time
	out         bytes.Buffer
	quit        bool
}

// errLineTooLong is returned when a request line exceeds maxLine.
var errLineTooLong = errors.New("cli: request line too long")

// readLine reads one line ending in '\n' (returned without it and without a
// preceding '\r'), bounded by maxLine.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > maxLine+2 {
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
		if err := s.conn.SetReadDeadline(time.Now().Add(s.timeout)); err != nil {
			return
		}
		line, err := readLine(r)
		if err != nil {
			// EOF before a newline, idle timeout, line too long, closed
			// socket: HAProxy executes nothing and closes.
			return
		}
		s.runLine(line)
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
			_, _ = io.Copy(io.Discard, io.LimitReader(r, maxLine))
		}
	}
}

// drainTime bounds how long a finished session waits for the client to
// close its side.
const drainTime = 200 * time.Millisecond

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
	default:
		answer = s.answer(args)
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
	return c.run(s, args)
}
