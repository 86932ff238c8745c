package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/certcheck"
	"goproxy/internal/rawsys"
)

// TLS termination. crypto/tls needs a blocking net.Conn and a goroutine
// to drive it, which the raw event loop cannot give. So a session on an
// ssl bind runs its TLS outside the loop and hands the loop plaintext
// through a socket pair: the loop's end replaces the client descriptor in
// the session, and everything after the handshake (rules, backend and
// server choice, queues, connect, retries, timeouts, counters, logs,
// "show sess") is the plain session's. The client connection and the
// other end of the pair belong to two goroutines: one decrypts what the
// client sends into the pair, the other encrypts what the pair yields for
// the client. While idle, both wait for readability in Go's poller owning
// no buffer; a 16 KiB buffer is borrowed from a pool per read (reads of
// the client are cut at record boundaries, so crypto/tls never keeps
// undelivered bytes while its goroutine waits). A TLS session costs two
// goroutines and two more descriptors (the pair) than a plain one, and
// is never handed over by session-handoff (its TLS state lives in this
// process).

// stHandshake: the session waits for its TLS handshake (tls_session.go).
const stHandshake uint8 = stInspect + 1

// TLSInfo is what a terminated session's handshake established.
type TLSInfo struct {
	Version    uint16
	Cipher     uint16
	SNI        string
	ALPN       string
	Resumed    bool
	PeerCert   *x509.Certificate // the client's certificate, nil when none
	PeerChains int
	// peer is the client's chain as sent and verifier the bind's when it
	// ignores errors: verifyResult computes the fetches' view of the
	// verification from them, once.
	peer     []*x509.Certificate
	verifier *clientVerifier
	verified *certcheck.ClientResult
	// HandshakeMs is the time from accept to the end of the handshake,
	// which HAProxy's %Tw of a TLS session includes.
	HandshakeMs int64
}

// tlsConn is one terminated client connection. raw and pair are set
// before its goroutines start; info is written by the handshake goroutine
// before it posts tlsDone and read by the loop after.
type tlsConn struct {
	raw    *net.TCPConn
	pair   *net.UnixConn
	tc     *tls.Conn
	info   TLSInfo
	shook  atomic.Bool // the handshake completed
	ended  atomic.Bool // the session ended in the loop
	refs   atomic.Int32
	closer sync.Once
	// failed is OpenSSL's name of a failed handshake's error (ssl_fc_err),
	// written before the failure is posted to the loop.
	failed sslErr
	// The session it belongs to, to report a failure of its side.
	l  *loop
	s  *session
	id uint64
}

// startTLS replaces the session's client descriptor by the loop's end of
// a socket pair and starts the handshake goroutine; the session waits in
// stHandshake, bounded by timeout client as in HAProxy.
func (s *session) startTLS() {
	l := s.l
	s.dstAddr() // the pair has no such address
	raw := int(s.cfd)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		s.l.g.log.WithError(err).Warn("socketpair failed for a TLS session")
		s.finish(termResource)
		return
	}
	_ = rawsys.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, raw, nil)
	l.fds[raw] = fdEntry{}
	t := &tlsConn{l: l, s: s, id: s.id}
	rc, err1 := fdConn(raw)
	pc, err2 := fdConn(fds[1])
	s.cfd = int32(fds[0])
	s.flags &^= fCliOut
	if err1 != nil || err2 != nil || l.register(fds[0], s, nil, false) != nil {
		for _, c := range []net.Conn{rc, pc} {
			if c != nil {
				c.Close()
			}
		}
		s.finish(termResource)
		return
	}
	t.raw, t.pair = rc.(*net.TCPConn), pc.(*net.UnixConn)
	s.tls = t
	s.state = stHandshake
	s.stExp = 0
	if to := s.fe.timeoutClient; to > 0 {
		s.stExp = l.now + int64(to)
	}
	t.refs.Store(1)
	go t.serve(l, s, s.id, s.ln.tls.conf)
}

// fdConn wraps a descriptor in a net.Conn (which duplicates it) and
// closes the original.
func fdConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "")
	c, err := net.FileConn(f)
	f.Close()
	return c, err
}

// serve runs the handshake, reports it to the loop, then decrypts the
// client's bytes into the pair until either side ends.
func (t *tlsConn) serve(l *loop, s *session, id uint64, conf *tls.Config) {
	t.tc = tls.Server(&recordConn{TCPConn: t.raw}, conf)
	if err := t.tc.Handshake(); err != nil {
		reason := handshakeReason(err)
		t.failed = handshakeSSLErr(err)
		t.closeAll()
		l.post(func(l *loop) { s.tlsFailed(id, t, reason) })
		return
	}
	st := t.tc.ConnectionState()
	t.info = TLSInfo{Version: st.Version, Cipher: st.CipherSuite, SNI: st.ServerName,
		ALPN: st.NegotiatedProtocol, Resumed: st.DidResume, PeerChains: len(st.VerifiedChains)}
	if len(st.PeerCertificates) > 0 {
		t.info.PeerCert = st.PeerCertificates[0]
		t.info.peer, t.info.verifier = st.PeerCertificates, s.ln.tls.verifier
	}
	t.shook.Store(true)
	if !l.post(func(l *loop) { s.tlsDone(id, t) }) {
		t.closeAll()
		return
	}
	t.startPumps()
}

// startPumps starts the two copying goroutines in place of the one that
// ran the handshake: they begin with small stacks, where the handshake's
// deep calls grew its own.
func (t *tlsConn) startPumps() {
	t.refs.Add(1)
	go t.encrypt()
	go t.decrypt()
}

// handshakeReason maps a handshake error to HAProxy's connection error.
func handshakeReason(err error) connErr {
	var ve *tls.CertificateVerificationError
	var revoked *certcheck.Error
	switch {
	case errors.As(err, &revoked):
		if revoked.Depth > 0 {
			return cerrSSLCAFail
		}
		return cerrSSLCrtFail
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return cerrSSLEmpty
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return cerrSSLAbort
	case errors.As(err, &ve):
		var ua x509.UnknownAuthorityError
		if errors.As(ve.Err, &ua) && len(ve.UnverifiedCertificates) > 1 {
			return cerrSSLCAFail
		}
		return cerrSSLCrtFail
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return cerrSSLTimeout
	}
	return cerrSSLHandshk
}

// tlsBufPool lends the buffers of TLS reads: one record's plaintext.
var tlsBufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// waitReadable waits, owning no buffer, until c has bytes or an end to
// read; it returns the socket's error (a reset), or the deadline's.
func waitReadable(c syscall.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var one [1]byte
	var werr error
	err = rc.Read(func(fd uintptr) bool {
		_, _, e := unix.Recvfrom(int(fd), one[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		// A socket error (a reset) is reported once: the peek took it,
		// so it is returned here, or the next read would see an end.
		werr = e
		return true
	})
	if err != nil {
		return err
	}
	return werr
}

// decrypt copies the client's plaintext into the pair.
func (t *tlsConn) decrypt() {
	defer t.release()
	for {
		if err := waitReadable(t.raw); err != nil {
			t.pairAbort()
			return
		}
		bp := tlsBufPool.Get().(*[]byte)
		n, err := t.tc.Read(*bp)
		if n > 0 {
			if _, werr := t.pair.Write((*bp)[:n]); werr != nil {
				tlsBufPool.Put(bp)
				return
			}
		}
		tlsBufPool.Put(bp)
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			_ = t.pair.CloseWrite()
			return
		default:
			t.pairAbort()
			return
		}
	}
}

// pairAbort tells the loop that the TLS side failed (a reset, a broken
// record), unless the session already ended there. The loop marks that
// side failed first, then shuts the pair, so that it reads what was
// decrypted before the error, then the end, and ends the session as
// HAProxy does when that side fails (CD for the client, SD for a server).
func (t *tlsConn) pairAbort() {
	if t.ended.Load() {
		return
	}
	s, id := t.s, t.id
	if !t.l.post(func(l *loop) { s.tlsSideFailed(id, t) }) {
		t.shutPair()
	}
}

// shutPair shuts the goroutines' end of the pair both ways: the loop
// reads the end of input there, and its writes fail.
func (t *tlsConn) shutPair() {
	if rc, err := t.pair.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_RDWR) })
	}
}

// tlsSideFailed runs in the loop when the TLS connection t of session id
// failed.
func (s *session) tlsSideFailed(id uint64, t *tlsConn) {
	defer t.shutPair()
	if s.id != id || s.state != stData {
		return
	}
	switch t {
	case s.tls:
		s.fail(0)
	case s.stls:
		s.fail(1)
	default:
		return
	}
	s.arm()
}

// encrypt copies what the loop writes into the pair to the client; the
// loop's shutdown of the pair becomes close_notify and a FIN.
func (t *tlsConn) encrypt() {
	defer t.release()
	for {
		if err := waitReadable(t.pair); err != nil {
			return
		}
		bp := tlsBufPool.Get().(*[]byte)
		n, err := t.pair.Read(*bp)
		if n > 0 {
			if _, werr := t.tc.Write((*bp)[:n]); werr != nil {
				tlsBufPool.Put(bp)
				t.pairAbort()
				return
			}
		}
		tlsBufPool.Put(bp)
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = t.tc.CloseWrite()
				_ = t.raw.CloseWrite()
			}
			return
		}
	}
}

// release drops a goroutine's hold; the last one closes both connections.
func (t *tlsConn) release() {
	if t.refs.Add(-1) == 0 {
		t.closeAll()
	}
}

// closeAll closes the client connection and the goroutines' end of the
// pair.
func (t *tlsConn) closeAll() {
	t.closer.Do(func() {
		t.raw.Close()
		t.pair.Close()
	})
}

// sessionEnded runs in the loop when the session finished (its end of
// the pair is closed): a handshake in progress is cut; otherwise what the
// loop wrote still reaches the client, within linger, and reading the
// client stops.
func (t *tlsConn) sessionEnded(linger time.Duration) {
	t.ended.Store(true)
	if !t.shook.Load() {
		t.raw.Close() // the handshake goroutine fails and closes the rest
		return
	}
	if linger <= 0 {
		linger = 10 * time.Second
	}
	now := time.Now()
	_ = t.raw.SetReadDeadline(now)
	_ = t.raw.SetWriteDeadline(now.Add(linger))
}

// tlsDone runs in the loop when the handshake of session id completed.
func (s *session) tlsDone(id uint64, t *tlsConn) {
	if s.id != id || s.tls != t || s.state != stHandshake {
		return // the session ended meanwhile; its goroutines end with it
	}
	s.state = stNew
	s.stExp = 0
	// As HAProxy, a TLS connection counts as a session (stot) once its
	// handshake completed (start); one that fails is a connection only.
	t.info.HandshakeMs = elapsedMs(s.l.now - s.tAccept)
	ci := &s.l.ci
	*ci = connInfo{src: s.src, s: s, final: true}
	if s.fe.needDst {
		ci.dst = s.dstAddr()
	}
	s.start(ci)
	s.arm()
}

// tlsFailed runs in the loop when the handshake of session id failed.
func (s *session) tlsFailed(id uint64, t *tlsConn, reason connErr) {
	if s.id != id || s.tls != t || s.state != stHandshake {
		return
	}
	s.handshakeFailed(reason)
}

// handshakeFailed ends a session whose handshake failed with its
// connection error.
func (s *session) handshakeFailed(reason connErr) {
	term := termCliAbortReq
	if reason == cerrSSLTimeout {
		term = termCliTimeoutReq
	}
	s.connFailedEarly(reason, term)
}

// handshakeExpired runs when timeout client passed during the handshake.
func (s *session) handshakeExpired() {
	s.handshakeFailed(cerrSSLTimeout)
}

// handshakeMs is the TLS handshake's share of %Tw (0 for plain TCP).
func (s *session) handshakeMs() int64 {
	if s.tls == nil || !s.tls.shook.Load() {
		return 0
	}
	return s.tls.info.HandshakeMs
}

// tlsEnded runs in finish: the TLS goroutines learn the session ended.
func (s *session) tlsEnded() {
	if s.tls != nil {
		s.tls.sessionEnded(s.fe.timeoutClient)
		s.tls = nil
	}
}

// recordConn reads the client at TLS record boundaries: a record header,
// then at most the rest of that record. crypto/tls then never holds bytes
// of a next record while the reading goroutine waits for readability.
type recordConn struct {
	*net.TCPConn
	hdr  [5]byte
	hn   int // header bytes read of the current record
	left int // body bytes left of the current record
}

func (r *recordConn) Read(p []byte) (int, error) {
	if r.left == 0 {
		want := len(r.hdr) - r.hn
		if len(p) > want {
			p = p[:want]
		}
		n, err := r.TCPConn.Read(p)
		copy(r.hdr[r.hn:], p[:n])
		r.hn += n
		if r.hn == len(r.hdr) {
			r.hn = 0
			r.left = int(r.hdr[3])<<8 | int(r.hdr[4])
		}
		return n, err
	}
	if len(p) > r.left {
		p = p[:r.left]
	}
	n, err := r.TCPConn.Read(p)
	r.left -= n
	return n, err
}

// verifyResult is the client certificate's verification as the fetches
// see it; the zero result without errors to ignore.
func (t *TLSInfo) verifyResult() certcheck.ClientResult {
	if t.verifier == nil || len(t.peer) == 0 {
		return certcheck.ClientResult{}
	}
	if t.verified == nil {
		r := t.verifier.result(t.peer)
		t.verified = &r
	}
	return *t.verified
}
