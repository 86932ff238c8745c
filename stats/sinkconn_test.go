package stats

import (
	"io"
	"net"
	"time"
)

// sinkConn is the connection of a session that tests run without a
// client: what the session flushes (it does so in the middle of a request
// line once more than 1 MiB waits) goes to w, or nowhere if w is nil, and
// is counted in n. Reads get EOF; deadlines and Close do nothing.
type sinkConn struct {
	w io.Writer
	n int
}

func (c *sinkConn) Write(b []byte) (int, error) {
	c.n += len(b)
	if c.w == nil {
		return len(b), nil
	}
	return c.w.Write(b)
}

func (c *sinkConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c *sinkConn) Close() error                     { return nil }
func (c *sinkConn) LocalAddr() net.Addr              { return sinkAddr{} }
func (c *sinkConn) RemoteAddr() net.Addr             { return sinkAddr{} }
func (c *sinkConn) SetDeadline(time.Time) error      { return nil }
func (c *sinkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *sinkConn) SetWriteDeadline(time.Time) error { return nil }

type sinkAddr struct{}

func (sinkAddr) Network() string { return "sink" }
func (sinkAddr) String() string  { return "sink" }

// testSession returns a session of srv at level whose flushed output goes
// to w (nowhere if nil), with its connection to count it.
func testSession(srv *Server, level Level, w io.Writer) (*session, *sinkConn) {
	c := &sinkConn{w: w}
	return &session{srv: srv, conn: c, sockLevel: level, level: level, timeout: time.Second, start: time.Now()}, c
}
