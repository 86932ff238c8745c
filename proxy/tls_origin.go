package proxy

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/certcheck"
	"goproxy/internal/rawsys"
	"goproxy/internal/tlshello"
	"goproxy/parser"
)

// TLS to servers ("server ... ssl"). Once the TCP connection to the
// server is established, the loop hands it to a goroutine that runs the
// client handshake, as termination does (tls_session.go): the loop's end
// of a socket pair replaces the server descriptor, and the session stays
// in the connecting state (bounded by timeout connect, as HAProxy counts
// the handshake in the connect time) until the goroutine reports. A
// failed handshake is a failed connection: retries and redispatch apply.
// The PROXY header, if any, goes before the handshake, in clear.

// tlsOrigin is a server's TLS settings.
type tlsOrigin struct {
	conf *tls.Config
	sni  sniExpr
}

// sniExpr is the "sni" expression of a server line.
type sniExpr struct {
	kind  uint8 // sniNone, sniConst, sniFcSNI, sniReqSNI
	value string
}

const (
	sniNone uint8 = iota
	sniConst
	sniFcSNI  // ssl_fc_sni: the name the client sent to goproxy
	sniReqSNI // req.ssl_sni: the name in the client's ClientHello (not terminated)
)

// parseSNIExpr compiles a server's sni expression.
func parseSNIExpr(expr string) (sniExpr, error) {
	switch {
	case expr == "":
		return sniExpr{}, nil
	case strings.HasPrefix(expr, "str(") && strings.HasSuffix(expr, ")"):
		return sniExpr{kind: sniConst, value: expr[4 : len(expr)-1]}, nil
	case expr == "ssl_fc_sni":
		return sniExpr{kind: sniFcSNI}, nil
	case expr == "req.ssl_sni" || expr == "req_ssl_sni":
		return sniExpr{kind: sniReqSNI}, nil
	}
	return sniExpr{}, fmt.Errorf("sni expression '%s' is not supported by goproxy (str(<name>), ssl_fc_sni and req.ssl_sni are)", expr)
}

// setupServerTLS prepares srv's TLS settings when its line has "ssl".
func (g *Graph) setupServerTLS(srv *Server, ps *parser.Server) error {
	s := ps.SSL
	if s == nil || !s.Enabled {
		return nil
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("[%s:%d] : 'server %s/%s' : %s", ps.File, ps.Line, srv.Backend.Name, ps.Name, fmt.Sprintf(format, args...))
	}
	sni, err := parseSNIExpr(ps.SNI)
	if err != nil {
		return fail("%v", err)
	}
	conf := &tls.Config{
		MinVersion:             tls.VersionTLS12,
		NextProtos:             s.ALPN,
		CipherSuites:           s.CipherIDs,
		SessionTicketsDisabled: s.NoTickets,
	}
	if !s.NoTickets {
		conf.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	}
	if s.MinVer != 0 {
		conf.MinVersion = s.MinVer
	}
	if s.MaxVer != 0 {
		conf.MaxVersion = s.MaxVer
	}
	conf.MinVersion, conf.MaxVersion = versionRange(conf.MinVersion, conf.MaxVersion, s.NoVersions)
	if conf.MinVersion < tls.VersionTLS10 {
		conf.MinVersion = tls.VersionTLS10
	}
	if s.Crt != "" {
		c, err := parser.LoadCertFile(s.Crt, g.cfg.Global.SSL.Extra())
		if err != nil {
			return fail("%v", err)
		}
		conf.Certificates = []tls.Certificate{*c}
	}
	verify := ps.Verify
	if verify == "" {
		verify = g.cfg.Global.SSL.ServerVerify
	}
	if verify == "none" {
		conf.InsecureSkipVerify = true
	} else {
		pool, err := parser.LoadCAFile(ps.CAFile)
		if err != nil {
			return fail("unable to load the ca-file '%s': %v", ps.CAFile, err)
		}
		var rev *certcheck.Revocation
		if ps.CRLFile != "" {
			if rev, err = certcheck.LoadFile(ps.CRLFile); err != nil {
				return fail("unable to configure CRL file '%s': %v", ps.CRLFile, err)
			}
			rev.AddCAs(pool)
		}
		g.listServerCAFiles(ps.CAFile, ps.CRLFile)
		// As HAProxy: the chain is verified against ca-file (and the
		// crl-file's lists); the name is the SNI sent, else verifyhost,
		// else none is checked. So verification is ours.
		conf.InsecureSkipVerify = true
		verifyHost := ps.VerifyHost
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			name := cs.ServerName
			if name == "" {
				name = verifyHost
			}
			return certcheck.VerifyServer(cs.PeerCertificates, pool, name, rev, time.Now())
		}
	}
	srv.tls = &tlsOrigin{conf: conf, sni: sni}
	return nil
}

// serverName evaluates the server's sni expression for s.
func (s *session) serverName(e sniExpr) string {
	switch e.kind {
	case sniConst:
		return e.value
	case sniFcSNI:
		if s.tls != nil && s.tls.shook.Load() {
			return s.tls.info.SNI
		}
	case sniReqSNI:
		if s.tls != nil {
			return "" // the client's bytes are plaintext after termination
		}
		buf := s.l.scratch[:s.l.g.inspectLimit]
		n, _, err := unix.Recvfrom(int(s.cfd), buf, unix.MSG_PEEK|unix.MSG_DONTWAIT)
		if err != nil || n <= 0 {
			return ""
		}
		if h, st := tlshello.Parse(buf[:n]); st == tlshello.OK && h.SNI != nil {
			return string(h.SNI)
		}
	}
	return ""
}

// startServerTLS replaces the connected server descriptor by the loop's
// end of a socket pair and starts the client handshake goroutine.
func (s *session) startServerTLS() {
	l := s.l
	raw := int(s.sfd)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		s.connFailed(false)
		return
	}
	_ = rawsys.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, raw, nil)
	l.fds[raw] = fdEntry{}
	rc, err1 := fdConn(raw)
	pc, err2 := fdConn(fds[1])
	s.sfd = int32(fds[0])
	s.flags &^= fSrvOut
	if err1 != nil || err2 != nil || l.register(fds[0], s, nil, false) != nil {
		for _, c := range []net.Conn{rc, pc} {
			if c != nil {
				c.Close()
			}
		}
		s.connFailed(false)
		return
	}
	t := &tlsConn{raw: rc.(*net.TCPConn), pair: pc.(*net.UnixConn), l: l, s: s, id: s.id}
	s.stls = t
	conf := s.srv.tls.conf
	if name := s.serverName(s.srv.tls.sni); name != "" {
		conf = conf.Clone()
		conf.ServerName = name
	}
	var header []byte
	if s.srv.Config.SendProxyV2 {
		header = s.appendProxyV2SSL(appendProxyV2(nil, s.src, s.dstAddr()))
	} else if s.srv.Config.SendProxy {
		header = appendProxyV1(nil, s.src, s.dstAddr())
	}
	t.refs.Store(1)
	go t.originate(l, s, s.id, conf, header)
}

// originate writes the PROXY header, runs the client handshake, reports
// it, then carries the bytes both ways as serve does.
func (t *tlsConn) originate(l *loop, s *session, id uint64, conf *tls.Config, header []byte) {
	if len(header) > 0 {
		if _, err := t.raw.Write(header); err != nil {
			t.closeAll()
			l.post(func(l *loop) { s.serverTLSFailed(id, t) })
			return
		}
	}
	t.tc = tls.Client(&recordConn{TCPConn: t.raw}, conf)
	if err := t.tc.Handshake(); err != nil {
		t.closeAll()
		l.post(func(l *loop) { s.serverTLSFailed(id, t) })
		return
	}
	st := t.tc.ConnectionState()
	t.info = TLSInfo{Version: st.Version, Cipher: st.CipherSuite, SNI: st.ServerName, ALPN: st.NegotiatedProtocol, Resumed: st.DidResume}
	t.shook.Store(true)
	if !l.post(func(l *loop) { s.serverTLSDone(id, t) }) {
		t.closeAll()
		return
	}
	t.startPumps()
}

// serverTLSDone runs in the loop once the server handshake completed.
func (s *session) serverTLSDone(id uint64, t *tlsConn) {
	if s.id != id || s.stls != t || s.state != stConnecting {
		return
	}
	s.connected()
	s.arm()
}

// serverTLSFailed runs in the loop when the server handshake failed: a
// failed connection attempt.
func (s *session) serverTLSFailed(id uint64, t *tlsConn) {
	if s.id != id || s.stls != t || s.state != stConnecting {
		return
	}
	s.connFailed(false)
	s.arm()
}

// serverTLSEnded runs when the server connection is closed.
func (s *session) serverTLSEnded() {
	if s.stls != nil {
		s.stls.sessionEnded(s.be.timeoutServer)
		s.stls = nil
	}
}
