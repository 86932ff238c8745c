package peersync

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"goproxy/internal/peers"
	"goproxy/internal/stktable"
)

// Status codes (peers.Status*), shorter here.
const (
	statusConnect   = peers.StatusConnect
	statusConnected = peers.StatusConnected
	statusSuccess   = peers.StatusSuccess
	statusTryAgain  = peers.StatusTryAgain
)

// Session states (appctx->st0), as "show peers" prints them.
const (
	stAccept      = 0
	stGetVersion  = 1
	stGetHost     = 2
	stGetPeer     = 3
	stSendSuccess = 4
	stConnect     = 5
	stGetStatus   = 6
	stWaitMsg     = 7
	stExit        = 8
	stErrProto    = 9
	stErrSize     = 10
	stEnd         = 11
)

// peer is one peer of the section and its session, if any. The
// section's mu guards everything.
type peer struct {
	PeerConfig
	flags                        uint32
	statuscode                   int
	reconnect, heartbeat         uint32
	confirm                      uint32
	lastHdshk                    uint32
	rxHbt, txHbt, noHbt, newConn uint32
	protoErr, coll               uint32
	sess                         *session
	tables                       []*shared // the last registered first
	remoteTable, lastLocalTable  *shared
	lastChange                   time.Time
	// The server keys' dictionary caches (HAProxy's dcache): what this
	// side numbered for the peer, what the peer numbered; flushed when
	// a session ends.
	txDict map[string]uint64
	txNext uint64
	rxDict map[uint64]string
}

// shared is a table as one peer session shares it (shared_table).
type shared struct {
	t       *stktable.Table
	nid     string
	localID uint64
	// remoteID, remoteData and def are the peer's definition of it.
	remoteID       uint64
	remoteData     uint64
	def            *peers.Define
	flags          uint32
	lastAcked      uint32
	lastPushed     uint32
	lastGet        uint32
	teachingOrigin uint32
	update         uint32
	// lesson is the full resync being sent (teach), up to lessonAt.
	lesson   []*stktable.Entry
	lessonAt int
}

// session is one TCP connection to a peer.
type session struct {
	p        *peer
	conn     net.Conn
	out      bool // we connected
	st0      int
	st1      int
	calls    uint32
	wakeCh   chan struct{}
	done     chan struct{}
	endOnce  sync.Once
	src, dst string
}

func newSession(p *peer, c net.Conn, out bool) *session {
	x := &session{p: p, conn: c, out: out, wakeCh: make(chan struct{}, 1), done: make(chan struct{})}
	if c != nil {
		x.src, x.dst = c.RemoteAddr().String(), c.LocalAddr().String()
		if out {
			x.src, x.dst = c.LocalAddr().String(), c.RemoteAddr().String()
		}
	}
	return x
}

// kick wakes the session's writer.
func (x *session) kick() {
	select {
	case x.wakeCh <- struct{}{}:
	default:
	}
}

// startSession connects to p (peer_session_create). Called with mu held.
func (s *Section) startSession(p *peer, now uint32) {
	p.newConn++
	p.reconnect = now + reconnectTimeout
	p.heartbeat = 0
	p.statuscode = statusConnect
	p.lastHdshk = now
	x := newSession(p, nil, true)
	x.st0 = stConnect
	p.sess = x
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runOutgoing(x)
	}()
}

// forceShutdown ends p's session now (peer_session_forceshutdown).
func (s *Section) forceShutdown(p *peer) {
	x := p.sess
	if x == nil {
		return
	}
	s.deinit(p)
	x.st0 = stEnd
	x.close()
}

// close closes the session's connection, once.
func (x *session) close() {
	x.endOnce.Do(func() {
		close(x.done)
		if x.conn != nil {
			x.conn.Close()
		}
	})
}

// deinit detaches p from its session (__peer_session_deinit). Called
// with mu held.
func (s *Section) deinit(p *peer) {
	p.remoteTable, p.lastLocalTable = nil, nil
	p.sess = nil
	p.txDict, p.rxDict, p.txNext = map[string]uint64{}, map[uint64]string{}, 0
	if p.flags&pLearnAssign != 0 {
		p.flags &^= pLearnAssign
		s.flags &^= fResyncAssign | fResyncProcess
		if p.Local {
			s.flags |= fResyncLocalAbort
		} else {
			s.flags |= fResyncRemoteAbort
		}
		s.resyncTimeout = s.now() + resyncTimeout
	}
	p.flags &= pTeachReset
	p.flags &= pLearnReset
	s.kick()
}

// end finishes a session from its own goroutines.
func (s *Section) end(x *session) {
	s.mu.Lock()
	if x.p.sess == x {
		s.deinit(x.p)
		// Only the current session's end makes the peer not alive (a
		// session killed by a collision ends after its successor began).
		x.p.flags &^= pAlive
	}
	x.st0 = stEnd
	s.mu.Unlock()
	x.close()
}

// runOutgoing dials the peer, says hello, reads the status and runs the
// session.
func (s *Section) runOutgoing(x *session) {
	d := net.Dialer{Timeout: ioTimeout}
	c, err := d.Dial("tcp", x.p.Addr.String())
	s.mu.Lock()
	if err != nil || x.p.sess != x || s.closed {
		s.mu.Unlock()
		if c != nil {
			c.Close()
		}
		s.end(x)
		return
	}
	x.conn = c
	x.src, x.dst = c.LocalAddr().String(), c.RemoteAddr().String()
	hello := peers.AppendHello(nil, x.p.Name, s.cfg.Local, pid)
	if x.p.flags&pDowngrade != 0 {
		hello = []byte(strings.Replace(string(hello), "2.1\n", "2.0\n", 1))
	}
	x.st0 = stGetStatus
	s.mu.Unlock()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(hello); err != nil {
		s.end(x)
		return
	}
	s.mu.Lock()
	if x.p.sess == x {
		x.p.statuscode = statusConnected
	}
	s.mu.Unlock()
	br := bufio.NewReaderSize(c, 4096)
	line, err := readLine(br)
	if err != nil {
		s.end(x)
		return
	}
	code, _ := strconv.Atoi(line)
	s.mu.Lock()
	if x.p.sess != x {
		s.mu.Unlock()
		x.close()
		return
	}
	x.p.statuscode = code
	x.p.lastHdshk = s.now()
	s.kick()
	if code != statusSuccess {
		if code == peers.StatusErrVers {
			x.p.flags |= pDowngrade
		}
		s.mu.Unlock()
		s.end(x)
		return
	}
	s.initConnected(x.p)
	x.st0 = stWaitMsg
	s.mu.Unlock()
	s.runSession(x, br)
}

// readLine reads one handshake line, without its end.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errors.New("peers: handshake line too long")
		}
		return "", err
	}
	return peers.TrimLine(string(line)), nil
}

// serveIncoming runs the handshake of a peer that called.
func (s *Section) serveIncoming(c net.Conn) {
	c.SetDeadline(time.Now().Add(ioTimeout))
	br := bufio.NewReaderSize(c, 4096)
	fail := func(code int) {
		c.Write(peers.AppendStatus(nil, code))
		c.Close()
	}
	l1, err := readLine(br)
	if err != nil {
		c.Close()
		return
	}
	st, minor := peers.CheckVersion(l1)
	if st != 0 {
		fail(st)
		return
	}
	l2, err := readLine(br)
	if err != nil {
		c.Close()
		return
	}
	if l2 != s.cfg.Local {
		fail(peers.StatusErrHost)
		return
	}
	l3, err := readLine(br)
	if err != nil {
		c.Close()
		return
	}
	name, ok := peers.ParsePeerLine(l3)
	if !ok {
		fail(peers.StatusErrProto)
		return
	}
	s.mu.Lock()
	var p *peer
	for _, o := range s.peers {
		if o.Name == name {
			p = o
		}
	}
	if p == nil || s.closed {
		s.mu.Unlock()
		fail(peers.StatusErrPeer)
		return
	}
	if p.sess != nil {
		if p.Local {
			s.mu.Unlock()
			fail(statusTryAgain)
			return
		}
		p.reconnect = collisionDelay(s.now())
		s.forceShutdown(p)
		p.heartbeat = 0
		p.coll++
	}
	if minor == peers.MinorVersion {
		p.flags &^= pDowngrade
	} else {
		p.flags |= pDowngrade
	}
	x := newSession(p, c, false)
	p.sess = x
	p.flags |= pAlive
	if _, err := c.Write(peers.AppendStatus(nil, statusSuccess)); err != nil {
		s.deinit(p)
		s.mu.Unlock()
		x.close()
		return
	}
	s.initAccepted(p)
	x.st0 = stWaitMsg
	s.mu.Unlock()
	s.runSession(x, br)
}

// initCursors resets a peer's table cursors at a new session.
func (s *Section) initCursors(p *peer) {
	for _, st := range p.tables {
		st.lastGet, st.lastAcked = 0, 0
		lu := st.t.LocalUpdate()
		if int32(lu-st.update) < 0 {
			st.update = lu + 1<<31
		}
		st.teachingOrigin, st.lastPushed = st.update, st.update
		st.flags = 0
		st.lesson = nil
	}
	p.confirm = 0
	p.flags &= pTeachReset
	p.flags &= pLearnReset
}

// initAccepted is init_accepted_peer.
func (s *Section) initAccepted(p *peer) {
	now := s.now()
	p.heartbeat = now + heartbeatTimeout
	p.statuscode = statusSuccess
	p.lastHdshk = now
	s.kick()
	s.initCursors(p)
	if p.Local {
		if s.flags&resyncStateMask == resyncFromLocal && s.flags&fResyncAssign == 0 {
			p.flags |= pLearnAssign
			s.flags |= fResyncAssign | fResyncProcess | fResyncLocalAssign
		}
	} else if s.flags&resyncStateMask == resyncFromRemote && s.flags&fResyncAssign == 0 {
		p.flags |= pLearnAssign
		s.flags |= fResyncAssign | fResyncRemoteAssign
	}
}

// initConnected is init_connected_peer.
func (s *Section) initConnected(p *peer) {
	p.heartbeat = s.now() + heartbeatTimeout
	s.initCursors(p)
	if p.Local {
		p.flags |= pTeachProcess
	} else if s.flags&resyncStateMask == resyncFromRemote && s.flags&fResyncAssign == 0 {
		p.flags |= pLearnAssign
		s.flags |= fResyncAssign | fResyncRemoteAssign
	}
}

// runSession runs an established session: a writer goroutine and the
// reader here, until either fails or the session is shut down.
func (s *Section) runSession(x *session, br *bufio.Reader) {
	x.conn.SetDeadline(time.Time{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.writer(x)
	}()
	x.kick()
	buf := make([]byte, 0, peers.MaxBody)
	for {
		x.conn.SetReadDeadline(time.Now().Add(readTimeout))
		m, err := peers.ReadMsg(br, buf)
		if err != nil {
			if errors.Is(err, peers.ErrTooLarge) {
				s.sendError(x, peers.ErrSizeLimit, stErrSize)
			}
			s.end(x)
			return
		}
		s.mu.Lock()
		if x.p.sess != x {
			s.mu.Unlock()
			x.close()
			return
		}
		ok := s.treat(x, m)
		if ok {
			x.p.flags |= pAlive
		}
		s.mu.Unlock()
		if !ok {
			s.sendError(x, peers.ErrProtocol, stErrProto)
			s.end(x)
			return
		}
		x.kick()
	}
}

// sendError sends an error message before the session ends.
func (s *Section) sendError(x *session, code byte, st int) {
	s.mu.Lock()
	if st == stErrProto {
		x.p.protoErr++
	}
	x.st0 = st
	s.mu.Unlock()
	x.conn.SetWriteDeadline(time.Now().Add(time.Second))
	x.conn.Write([]byte{peers.ClassError, code})
}

// writer sends what the session has to send each time it is woken.
func (s *Section) writer(x *session) {
	for {
		select {
		case <-x.done:
			return
		case <-x.wakeCh:
		}
		for {
			s.mu.Lock()
			if x.p.sess != x {
				s.mu.Unlock()
				x.close()
				return
			}
			x.calls++
			b, more := s.prepare(x)
			s.mu.Unlock()
			if len(b) > 0 {
				x.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
				if _, err := x.conn.Write(b); err != nil {
					s.end(x)
					return
				}
			}
			if !more {
				break
			}
		}
	}
}
