package cmpp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// Defaults of the Gateway timers, from the CMPP long-connection rules
// (C = 3 min idle before ACTIVE_TEST, T = 60 s for an answer, N = 3 tries).
const (
	DefaultActiveTestInterval = 3 * time.Minute
	DefaultResponseTimeout    = 60 * time.Second
	DefaultTextIdle           = 2 * time.Second
	activeTestTries           = 3
	maxTextLines              = 1000
	textLineMax               = 4096
)

// Gateway is a CMPP gateway (ISMG) simulator. It answers CONNECT (status 0,
// or 3 when Secret is set and the authenticator does not match), SUBMIT,
// ACTIVE_TEST and TERMINATE, sends its own ACTIVE_TEST after
// ActiveTestInterval of silence and drops the link after three unanswered
// ones. It tags replies with Name (see the package doc). Other requests get
// no answer; a malformed header closes the connection.
//
// Set the fields before the first Serve; the zero value (plus a Name) is
// ready to use.
type Gateway struct {
	Name               string
	Secret             string             // empty: any authenticator is accepted
	ActiveTestInterval time.Duration      // idle time before the gateway's ACTIVE_TEST
	ResponseTimeout    time.Duration      // deadline for the rest of a PDU, a write, an ACTIVE_TEST answer
	TextIdle           time.Duration      // text connections close after this long without a line
	Log                logrus.FieldLogger // nil: no logging

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	wg        sync.WaitGroup

	stats struct{ conns, connects, submits, activeTests, textLines atomic.Int64 }
}

// Stats counts what a Gateway has served since it was created.
type Stats struct {
	Conns       int64 // accepted connections
	Connects    int64 // CONNECT requests answered
	Submits     int64 // SUBMIT requests answered
	ActiveTests int64 // ACTIVE_TEST requests answered
	TextLines   int64 // text lines answered
}

// ErrGatewayClosed is returned by Serve after Close.
var ErrGatewayClosed = errors.New("cmpp: gateway closed")

// Stats returns a snapshot of the counters.
func (g *Gateway) Stats() Stats {
	return Stats{
		Conns:       g.stats.conns.Load(),
		Connects:    g.stats.connects.Load(),
		Submits:     g.stats.submits.Load(),
		ActiveTests: g.stats.activeTests.Load(),
		TextLines:   g.stats.textLines.Load(),
	}
}

// Serve accepts connections on ln and serves each in its own goroutine until
// Close. It takes ownership of ln and returns ErrGatewayClosed after Close,
// or the accept error that stopped it.
func (g *Gateway) Serve(ln net.Listener) error {
	if !g.track(ln) {
		ln.Close()
		return ErrGatewayClosed
	}
	defer g.untrack(ln)
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if g.isClosed() || errors.Is(err, net.ErrClosed) {
				return ErrGatewayClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				g.logf("accept: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			return fmt.Errorf("cmpp: gateway %s accept: %w", g.Name, err)
		}
		backoff = 5 * time.Millisecond
		if !g.trackConn(c) {
			c.Close()
			return ErrGatewayClosed
		}
		g.stats.conns.Add(1)
		go g.serveConn(c)
	}
}

// isTemporary reports accept errors worth retrying (EMFILE and the like).
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// Close stops every Serve loop, closes every connection and waits for their
// goroutines to end.
func (g *Gateway) Close() error {
	g.mu.Lock()
	g.closed = true
	for ln := range g.listeners {
		ln.Close()
	}
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
	return nil
}

func (g *Gateway) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

func (g *Gateway) track(ln net.Listener) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	if g.listeners == nil {
		g.listeners = make(map[net.Listener]struct{})
	}
	g.listeners[ln] = struct{}{}
	return true
}

func (g *Gateway) untrack(ln net.Listener) {
	g.mu.Lock()
	delete(g.listeners, ln)
	g.mu.Unlock()
	ln.Close()
}

func (g *Gateway) trackConn(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	if g.conns == nil {
		g.conns = make(map[net.Conn]struct{})
	}
	g.conns[c] = struct{}{}
	g.wg.Add(1)
	return true
}

func (g *Gateway) logf(format string, args ...any) {
	if g.Log != nil {
		g.Log.WithField("gateway", g.Name).Debugf(format, args...)
	}
}

func (g *Gateway) interval() time.Duration {
	if g.ActiveTestInterval > 0 {
		return g.ActiveTestInterval
	}
	return DefaultActiveTestInterval
}

func (g *Gateway) respTimeout() time.Duration {
	if g.ResponseTimeout > 0 {
		return g.ResponseTimeout
	}
	return DefaultResponseTimeout
}

func (g *Gateway) textIdle() time.Duration {
	if g.TextIdle > 0 {
		return g.TextIdle
	}
	return DefaultTextIdle
}

// serveConn owns c until it returns.
func (g *Gateway) serveConn(c net.Conn) {
	defer func() {
		c.Close()
		g.mu.Lock()
		delete(g.conns, c)
		g.mu.Unlock()
		g.wg.Done()
	}()
	br := bufio.NewReaderSize(c, textLineMax)
	c.SetReadDeadline(time.Now().Add(g.interval()))
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	var end error
	if first[0] != 0 {
		end = g.serveText(c, br)
	} else {
		end = g.serveCMPP(c, br)
	}
	if end != nil && !errors.Is(end, io.EOF) && !errors.Is(end, net.ErrClosed) && !errors.Is(end, syscall.ECONNRESET) {
		g.logf("connection from %s: %v", c.RemoteAddr(), end)
	}
}

// serveText answers each line with "cmppgw NAME: LINE".
func (g *Gateway) serveText(c net.Conn, br *bufio.Reader) error {
	out := make([]byte, 0, 64+textLineMax)
	for range maxTextLines {
		c.SetReadDeadline(time.Now().Add(g.textIdle()))
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			out = append(out[:0], "cmppgw "...)
			out = append(out, g.Name...)
			out = append(out, ": "...)
			out = append(out, trimEOL(line)...)
			out = append(out, '\n')
			c.SetWriteDeadline(time.Now().Add(g.respTimeout()))
			if _, werr := c.Write(out); werr != nil {
				return werr
			}
			g.stats.textLines.Add(1)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
	return nil
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// serveCMPP runs the request/response loop of one CMPP connection.
func (g *Gateway) serveCMPP(c net.Conn, br *bufio.Reader) error {
	version := Version30
	var seq uint32 // sequence of the gateway's own requests
	missed := 0    // ACTIVE_TESTs sent without any answer since
	out := make([]byte, 0, 64)
	send := func(cmd CommandID, sq uint32, body []byte) error {
		out = AppendPDU(out[:0], cmd, sq, body)
		c.SetWriteDeadline(time.Now().Add(g.respTimeout()))
		_, err := c.Write(out)
		return err
	}
	for {
		wait := g.interval()
		if missed > 0 {
			wait = g.respTimeout()
		}
		c.SetReadDeadline(time.Now().Add(wait))
		if _, err := br.Peek(1); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
			if missed >= activeTestTries {
				return fmt.Errorf("no answer to %d ACTIVE_TEST", missed)
			}
			missed++
			seq++
			if err := send(CmdActiveTest, seq, nil); err != nil {
				return err
			}
			continue
		}
		c.SetReadDeadline(time.Now().Add(g.respTimeout()))
		p, err := ReadPDU(br)
		if err != nil {
			return err
		}
		missed = 0
		switch p.CommandID {
		case CmdConnect:
			resp := ConnectResp{Status: StatusOK, Gateway: g.Name, Version: Version30}
			req, err := ParseConnect(p.Body)
			switch {
			case err != nil:
				resp.Status = StatusBadStruct
			case req.Version > Version30:
				resp.Status = StatusVersionHigh
			case g.Secret != "" && !req.Verify(g.Secret):
				resp.Status = StatusAuthFailed
			}
			if err == nil && req.Version < Version30 {
				version = Version20
				resp.Version = Version20
			}
			g.stats.connects.Add(1)
			if err := send(CmdConnect.Resp(), p.SequenceID, resp.Marshal(version)); err != nil {
				return err
			}
		case CmdSubmit:
			var resp SubmitResp
			copy(resp.MsgID[:], g.Name)
			g.stats.submits.Add(1)
			if err := send(CmdSubmit.Resp(), p.SequenceID, resp.Marshal(version)); err != nil {
				return err
			}
		case CmdActiveTest:
			g.stats.activeTests.Add(1)
			if err := send(CmdActiveTest.Resp(), p.SequenceID, []byte{0}); err != nil {
				return err
			}
		case CmdTerminate:
			send(CmdTerminate.Resp(), p.SequenceID, nil)
			return nil
		default:
			// Responses (ACTIVE_TEST_RESP, DELIVER_RESP) and unsupported
			// requests: nothing to answer.
		}
	}
}
