package cmpp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"
)

// DefaultClientTimeout bounds each request/response exchange of a Client.
const DefaultClientTimeout = 5 * time.Second

// maxSkipped bounds the PDUs a Client reads while waiting for one response.
const maxSkipped = 64

// Client is a minimal CMPP client (an SP) for tests and the demo. It sends
// one request at a time and answers the gateway's own ACTIVE_TEST while it
// waits. A Client is not safe for concurrent use.
type Client struct {
	Timeout time.Duration // per exchange; zero means DefaultClientTimeout

	conn net.Conn
	br   *bufio.Reader
	seq  uint32
	buf  []byte
}

// Dial connects to addr, from laddr when it is not empty (an IP, or
// IP:port), and returns a Client owning the connection.
func Dial(ctx context.Context, addr, laddr string) (*Client, error) {
	d := net.Dialer{Timeout: DefaultClientTimeout}
	if laddr != "" {
		host, port, err := net.SplitHostPort(laddr)
		if err != nil {
			host, port = laddr, "0"
		}
		la, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, fmt.Errorf("cmpp: local address %q: %w", laddr, err)
		}
		d.LocalAddr = la
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cmpp: dial %s: %w", addr, err)
	}
	return NewClient(c), nil
}

// NewClient returns a Client that owns c.
func NewClient(c net.Conn) *Client {
	return &Client{conn: c, br: bufio.NewReaderSize(c, MaxPDULen)}
}

// Conn returns the client's connection.
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultClientTimeout
}

// RoundTrip sends a request and returns its response (same Sequence_Id,
// response id). Gateway ACTIVE_TESTs that arrive meanwhile are answered;
// other PDUs are skipped.
func (c *Client) RoundTrip(cmd CommandID, body []byte) (PDU, error) {
	c.seq++
	seq := c.seq
	deadline := time.Now().Add(c.timeout())
	c.conn.SetDeadline(deadline)
	if err := c.write(cmd, seq, body); err != nil {
		return PDU{}, fmt.Errorf("cmpp: sending %s: %w", cmd, err)
	}
	for range maxSkipped {
		p, err := ReadPDU(c.br)
		if err != nil {
			return PDU{}, fmt.Errorf("cmpp: waiting for %s: %w", cmd.Resp(), err)
		}
		switch {
		case p.CommandID == cmd.Resp() && p.SequenceID == seq:
			return p, nil
		case p.CommandID == CmdActiveTest:
			if err := c.write(CmdActiveTest.Resp(), p.SequenceID, []byte{0}); err != nil {
				return PDU{}, fmt.Errorf("cmpp: answering ACTIVE_TEST: %w", err)
			}
		}
	}
	return PDU{}, fmt.Errorf("cmpp: no %s among %d pdus", cmd.Resp(), maxSkipped)
}

func (c *Client) write(cmd CommandID, seq uint32, body []byte) error {
	c.buf = AppendPDU(c.buf[:0], cmd, seq, body)
	_, err := c.conn.Write(c.buf)
	return err
}

// Connect logs in as sourceAddr with secret and protocol version.
func (c *Client) Connect(sourceAddr, secret string, version byte) (ConnectResp, error) {
	req := NewConnect(sourceAddr, secret, version, time.Now())
	p, err := c.RoundTrip(CmdConnect, req.Marshal())
	if err != nil {
		return ConnectResp{}, err
	}
	return ParseConnectResp(p.Body)
}

// Submit sends one CMPP 3.0 SUBMIT.
func (c *Client) Submit(s Submit) (SubmitResp, error) {
	p, err := c.RoundTrip(CmdSubmit, s.Marshal())
	if err != nil {
		return SubmitResp{}, err
	}
	return ParseSubmitResp(p.Body)
}

// ActiveTest sends ACTIVE_TEST and checks the 13-byte answer.
func (c *Client) ActiveTest() error {
	p, err := c.RoundTrip(CmdActiveTest, nil)
	if err != nil {
		return err
	}
	if p.TotalLength != HeaderLen+activeTestRespBody {
		return fmt.Errorf("cmpp: ACTIVE_TEST_RESP is %d bytes, want 13", p.TotalLength)
	}
	return nil
}

// Terminate sends TERMINATE and waits for TERMINATE_RESP.
func (c *Client) Terminate() error {
	_, err := c.RoundTrip(CmdTerminate, nil)
	return err
}
