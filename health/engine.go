package health

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"goproxy/internal/hatext"
	"goproxy/internal/srvstate"
)

// defaultBufSize is HAProxy's default tune.bufsize: a check reads at most
// this much, unless Options.BufSize says otherwise.
const defaultBufSize = 16384

// probeSpec is everything a check of one server needs, fixed at New.
type probeSpec struct {
	bufSize     int // tune.bufsize; 0: defaultBufSize
	rs          *ruleset
	network     string // "tcp" or "unix"
	host        string // server address host (or unix path)
	port        int    // server port (0 = none)
	checkAddr   string // "addr" / "agent-addr" override
	checkPort   int    // "port" / "agent-port" override
	sendProxy   bool   // default connects send a PROXY header
	proxyV2     bool
	inter       time.Duration // configured inter (bounds connect and whole check)
	tConnect    time.Duration
	tCheck      time.Duration
	agentString []byte
	smtpCmd     string
	pgUser      string
	mysqlUser   string
	mysqlPre41  bool
	// TLS of checks: check-ssl applies to default connects, "connect ssl"
	// to its own; tlsConf carries verify and ca-file.
	checkSSL  bool
	tlsConf   *tls.Config
	checkSNI  string
	checkALPN string
	state     StateTarget // nil when the target cannot describe itself
}

// outcome is the result of one check run.
type outcome struct {
	status srvstate.CheckStatus
	code   int
	desc   string
	done   bool
	// agent reply, when the agent expect ran
	agent *agentReply
	// twice: the check passed twice in one run (HAProxy's protocol expects
	// on the last rule), so health climbs by two; first is the protocol's
	// own result, reported before the generic one (log-health-checks
	// shows its text: the MySQL version, LDAP's "Success").
	twice bool
	first *outcome
}

// run is the state of one check in progress (HAProxy's struct check while
// CHK_ST_INPROGRESS).
type run struct {
	ctx      context.Context
	connMu   sync.Mutex // guards conn against the cancellation callback
	spec     *probeSpec
	conn     net.Conn
	buf      []byte
	eos      bool
	connErr  error
	deadline time.Time
	step     *rule
	code     int
	out      outcome
	tlsUsed  bool // the last connect set up TLS
}

// finish sets the check's result once; later calls are ignored, as
// set_server_check_status after the result is known.
func (r *run) finish(st srvstate.CheckStatus, desc string) {
	if r.out.done {
		return
	}
	r.out = outcome{status: st, code: r.code, desc: cString([]byte(desc)), done: true, agent: r.out.agent, twice: r.out.twice, first: r.out.first}
}

// execute runs the ruleset once. It returns false when ctx was cancelled
// before the check ended (the result is then meaningless).
func execute(ctx context.Context, spec *probeSpec) (outcome, bool) {
	r := &run{ctx: ctx, spec: spec}
	r.buf = make([]byte, 0, r.bufSize())
	stop := context.AfterFunc(ctx, func() {
		if c := r.connNow(); c != nil {
			_ = c.SetDeadline(time.Unix(1, 0))
		}
	})
	r.main()
	stop()
	r.closeConn()
	if ctx.Err() != nil {
		return outcome{}, false
	}
	return r.out, true
}

func (r *run) connNow() net.Conn {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	return r.conn
}

// setConn installs the current connection; a check cancelled meanwhile
// gets its I/O interrupted at once.
func (r *run) setConn(c net.Conn) {
	r.connMu.Lock()
	r.conn = c
	r.connMu.Unlock()
	if c != nil && r.ctx.Err() != nil {
		_ = c.SetDeadline(time.Unix(1, 0))
	}
}

func (r *run) closeConn() {
	if r.conn == nil {
		return
	}
	if tc, ok := rawConn(r.conn).(*net.TCPConn); ok && (r.step == nil || !r.connectRuleLinger()) {
		// HAProxy closes check connections with a reset unless "linger".
		_ = tc.SetLinger(0)
	}
	_ = r.conn.Close()
	r.setConn(nil)
}

// rawConn returns the socket under a TLS connection.
func rawConn(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}

func (r *run) connectRuleLinger() bool {
	for _, rl := range r.spec.rs.rules {
		if rl.action == actConnect && rl.linger {
			return true
		}
	}
	return false
}

// main is tcpcheck_main: evaluate the rules in order, stop at the first
// failure, and rewind to the head of an expect series to read more.
func (r *run) main() {
	rules := r.spec.rs.rules
	mustRead := true
	lastRead := false
	for i := 0; i < len(rules); i++ {
		rl := rules[i]
		r.code = 0
		r.step = rl
		var ret evalRet
		switch rl.action {
		case actConnect:
			ret = r.evalConnect(rl)
			lastRead = false
			mustRead = true
		case actSend:
			ret = r.evalSend(rl)
			mustRead = true
		case actExpect:
			if mustRead {
				ret = r.recv(rl)
				if ret == evalStop {
					return
				}
				lastRead = r.eos || r.connErr != nil
				mustRead = false
			}
			ret = r.evalExpect(rl, lastRead)
			if ret == evalWait {
				i = rl.head - 1
				mustRead = true
				continue
			}
		}
		if ret == evalStop {
			return
		}
	}
	// Every rule passed.
	last := rules[len(rules)-1]
	if r.out.done {
		// A protocol expect (mysql, ldap) already reported success on
		// the last rule: HAProxy then reports the generic success too,
		// which counts a second pass and replaces the text.
		first := r.out
		r.out.done = false
		r.out.twice = true
		r.out.first = &first
	}
	switch last.action {
	case actExpect:
		st := last.okStatus
		if st == 0 {
			st = srvstate.CheckL7OK
		}
		r.finish(st, r.onSuccessMessage(last, ""))
	case actConnect:
		desc := "(tcp-check)"
		if last.implicit {
			desc = ""
		}
		st := srvstate.CheckL4OK
		if r.tlsUsed {
			st = srvstate.CheckL6OK
		}
		r.finish(st, desc)
	default:
		r.finish(srvstate.CheckL7OK, "(tcp-check)")
	}
}

// stepID is HAProxy's tcpcheck_get_step_id: 0 for the implicit connect.
func stepID(rl *rule) int {
	if rl == nil {
		return 1
	}
	if rl.index == 0 && rl.action == actConnect && rl.implicit {
		return 0
	}
	return rl.index + 1
}

// cString returns b up to its first NUL byte, as C's %s prints it.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// stepText is the part of last_chk that chk_report_conn_err adds for a
// "tcp-check" rule set: where the connection failed or timed out.
func (r *run) stepText() string {
	if r.spec.rs.proto != protoTCP {
		return ""
	}
	rl := r.step
	id := stepID(rl)
	if id == 0 {
		return " at initial connection step of tcp-check"
	}
	var b strings.Builder
	fmt.Fprintf(&b, " at step %d of tcp-check", id)
	if rl != nil {
		switch rl.action {
		case actConnect:
			if rl.port != 0 {
				fmt.Fprintf(&b, " (connect port %d)", rl.port)
			} else {
				b.WriteString(" (connect)")
			}
		case actExpect:
			switch rl.kind {
			case expString:
				fmt.Fprintf(&b, " (expect string '%s')", cString(rl.pattern))
			case expBinary:
				fmt.Fprintf(&b, " (expect binary '%s')", cString(rl.pattern))
			case expRString:
				b.WriteString(" (expect regex)")
			case expRBinary:
				b.WriteString(" (expect binary regex)")
			case expCustom:
				b.WriteString(" (expect custom function)")
			}
		case actSend:
			b.WriteString(" (send)")
		}
		if rl.comment != "" {
			fmt.Fprintf(&b, " comment: '%s'", rl.comment)
		}
	}
	return b.String()
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// connErrDesc builds chk_report_conn_err's text: strerror, then the step.
func (r *run) connErrDesc(err error) string {
	return hatext.Errno(err) + r.stepText()
}

// dest returns the network and address a connect rule dials.
func (r *run) dest(rl *rule) (network, address string) {
	sp := r.spec
	if sp.network == "unix" && rl.addr == "" && sp.checkAddr == "" {
		return "unix", sp.host
	}
	host := sp.host
	if rl.addr != "" {
		host, _ = splitHostPort(rl.addr)
	} else if sp.checkAddr != "" {
		host, _ = splitHostPort(sp.checkAddr)
	}
	port := rl.port
	if port == 0 && rl.addr != "" {
		_, port = splitHostPort(rl.addr)
	}
	if port == 0 {
		port = sp.checkPort
	}
	if port == 0 && sp.checkAddr != "" {
		_, port = splitHostPort(sp.checkAddr)
	}
	if port == 0 {
		port = sp.port
	}
	return "tcp", net.JoinHostPort(host, strconv.Itoa(port))
}

// splitHostPort splits "ip", "ip:port" or "[v6]:port".
func splitHostPort(s string) (string, int) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, _ := strconv.Atoi(p)
		return h, n
	}
	return strings.Trim(s, "[]"), 0
}

// evalConnect is tcpcheck_eval_connect: (re)connect, bounded by inter, or
// by min(inter, timeout connect) when "timeout check" is set; once
// connected, "timeout check" bounds the rest.
func (r *run) evalConnect(rl *rule) evalRet {
	r.closeConnKeep()
	r.buf = r.buf[:0]
	r.eos, r.connErr = false, nil
	sp := r.spec
	now := time.Now()
	r.deadline = now.Add(sp.inter)
	if sp.tCheck > 0 && sp.tConnect > 0 && now.Add(sp.tConnect).Before(r.deadline) {
		r.deadline = now.Add(sp.tConnect)
	}
	network, address := r.dest(rl)
	d := net.Dialer{Deadline: r.deadline}
	conn, err := d.DialContext(r.ctx, network, address)
	if err != nil {
		if r.ctx.Err() != nil {
			return evalStop
		}
		switch {
		case isTimeout(err):
			r.finish(srvstate.CheckL4TOut, r.stepText())
		case network == "unix":
			// A UNIX connect fails at once, before HAProxy waits for
			// layer 4 (uxst_connect_server): chk_report_conn_err then
			// says "Socket error".
			r.finish(srvstate.CheckSockErr, r.connErrDesc(err))
		default:
			r.finish(srvstate.CheckL4Con, r.connErrDesc(err))
		}
		return evalStop
	}
	r.setConn(conn)
	if rl.sendProxy || (rl.defaultConnect && sp.sendProxy) {
		if _, err := r.writeAll(proxyHeader(conn, sp.proxyV2)); err != nil {
			return r.ioError(err)
		}
	}
	if sp.tCheck > 0 {
		r.deadline = time.Now().Add(sp.tCheck)
	}
	r.tlsUsed = false
	if rl.ssl || (rl.defaultConnect && sp.checkSSL) {
		return r.handshake(rl, conn)
	}
	return evalContinue
}

// handshake sets up TLS on the check connection: a timeout is a layer 6
// timeout, any other failure "SSL handshake failure" (L6RSP).
func (r *run) handshake(rl *rule, conn net.Conn) evalRet {
	sp := r.spec
	conf := &tls.Config{InsecureSkipVerify: true}
	if sp.tlsConf != nil {
		conf = sp.tlsConf.Clone()
	}
	sni, alpn := rl.sni, rl.alpn
	if rl.defaultConnect {
		if sni == "" {
			sni = sp.checkSNI
		}
		if alpn == "" {
			alpn = sp.checkALPN
		}
	}
	conf.ServerName = sni
	if alpn != "" {
		conf.NextProtos = strings.Split(alpn, ",")
	}
	tc := tls.Client(conn, conf)
	_ = tc.SetDeadline(r.deadline)
	err := tc.HandshakeContext(r.ctx)
	if err != nil {
		if r.ctx.Err() != nil {
			return evalStop
		}
		if isTimeout(err) {
			r.finish(srvstate.CheckL6TOut, r.stepText())
		} else {
			// As HAProxy's chk_report_conn_err for a failed handshake, with
			// the step of a tcp-check connect; HAProxy's own regression
			// tests expect no errno there, even after a reset.
			r.finish(srvstate.CheckL6Rsp, "SSL handshake failure"+r.stepText())
		}
		return evalStop
	}
	_ = tc.SetDeadline(time.Time{})
	r.setConn(tc)
	r.tlsUsed = true
	return evalContinue
}

func (r *run) closeConnKeep() {
	if r.conn != nil {
		if tc, ok := rawConn(r.conn).(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = r.conn.Close()
		r.setConn(nil)
	}
}

func (r *run) writeAll(b []byte) (int, error) {
	if err := r.conn.SetWriteDeadline(r.deadline); err != nil {
		return 0, err
	}
	return r.conn.Write(b)
}

// ioError reports an error on an established connection: a timeout is a
// layer 7 timeout (or the expect's tout-status), anything else a socket
// error, as chk_report_conn_err.
func (r *run) ioError(err error) evalRet {
	if r.ctx.Err() != nil {
		return evalStop
	}
	if isTimeout(err) {
		st := srvstate.CheckL7TOut
		if r.step != nil && r.step.action == actExpect && r.step.toutStatus != 0 {
			st = r.step.toutStatus
		}
		r.finish(st, r.stepText())
		return evalStop
	}
	r.finish(srvstate.CheckSockErr, r.connErrDesc(err))
	return evalStop
}

// evalSend is tcpcheck_eval_send: a new send drops what was received.
func (r *run) evalSend(rl *rule) evalRet {
	r.buf = r.buf[:0]
	data := rl.data
	if rl.dataFn != nil {
		data = rl.dataFn(r)
	}
	if len(data) == 0 {
		return evalContinue
	}
	if len(data) >= r.bufSize() {
		r.finish(srvstate.CheckL7Rsp, fmt.Sprintf("tcp-check send : string too large (%d) for buffer size (%d) at step %d",
			len(data), r.bufSize(), stepID(rl)))
		return evalStop
	}
	if _, err := r.writeAll(data); err != nil {
		return r.ioError(err)
	}
	return evalContinue
}

// recv is tcpcheck_eval_recv: read what comes (waiting up to the check's
// deadline), remember end of stream and errors.
func (r *run) recv(rl *rule) evalRet {
	read := 0
	if !r.eos && r.connErr == nil && len(r.buf) < r.bufSize() {
		if err := r.conn.SetReadDeadline(r.deadline); err != nil {
			return r.ioError(err)
		}
		n, err := r.conn.Read(r.buf[len(r.buf):r.bufSize()])
		r.buf = r.buf[:len(r.buf)+n]
		read = n
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			r.eos = true
		case isTimeout(err) && n == 0:
			return r.ioError(err)
		case isTimeout(err):
		default:
			r.connErr = err
		}
	}
	if len(r.buf) == 0 && r.connErr != nil {
		return r.ioError(r.connErr)
	}
	if read == 0 && len(r.buf) == 0 && r.spec.rs.proto != protoHTTP {
		desc := fmt.Sprintf("TCPCHK got an empty response at step %d", stepID(rl))
		if rl.comment != "" {
			desc += fmt.Sprintf(" comment: '%s'", rl.comment)
		}
		st := rl.errStatus
		if st == 0 {
			st = srvstate.CheckL7Rsp
		}
		r.finish(st, desc)
		return evalStop
	}
	return evalContinue
}

// hexDump renders bytes as HAProxy's dump_binary (upper-case hex).
func hexDump(b []byte) []byte {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&15]
	}
	return out
}

// evalExpect is tcpcheck_eval_expect.
func (r *run) evalExpect(rl *rule, lastRead bool) evalRet {
	lastRead = lastRead || len(r.buf) >= r.bufSize()
	if rl.kind == expCustom {
		return rl.custom(r, rl, lastRead)
	}
	if !lastRead {
		if (rl.kind == expString || rl.kind == expBinary) && len(r.buf) < len(rl.pattern) {
			return evalWait
		}
		if rl.minRecv > 0 && len(r.buf) < rl.minRecv {
			return evalWait
		}
	}
	var match bool
	switch rl.kind {
	case expString, expBinary:
		match = bytes.Contains(r.buf, rl.pattern)
	case expRString:
		match = rl.re.Match(r.buf[:min(len(r.buf), r.bufSize()-1)])
	case expRBinary:
		match = rl.re.Match(hexDump(r.buf))
	}
	if !match && !lastRead && rl.minRecv == -1 {
		return evalWait
	}
	if match != rl.inverse {
		return evalContinue
	}
	st := rl.errStatus
	if st == 0 {
		st = srvstate.CheckL7Rsp
	}
	r.setStatusCode(rl)
	r.finish(st, r.onErrorMessage(rl, match, ""))
	return evalStop
}

func (r *run) setStatusCode(rl *rule) {
	if rl.statusCode != nil {
		if c, ok := rl.statusCode(r.buf); ok {
			r.code = c
		}
	}
}

// onErrorMessage is tcpcheck_expect_onerror_message.
func (r *run) onErrorMessage(rl *rule, match bool, info string) string {
	var b strings.Builder
	switch {
	case info != "":
		b.WriteString(info)
	case rl.onErrorFn != nil:
		b.WriteString(rl.onErrorFn(r.buf))
	case rl.onError != "":
		b.WriteString(rl.onError)
	case r.spec.rs.proto != protoTCP:
	default:
		if match {
			b.WriteString("TCPCHK matched unwanted content")
		} else {
			b.WriteString("TCPCHK did not match content")
		}
		switch rl.kind {
		case expString:
			fmt.Fprintf(&b, " '%s' at step %d", cString(rl.pattern), stepID(rl))
		case expBinary:
			fmt.Fprintf(&b, " (binary) at step %d", stepID(rl))
		case expRString:
			fmt.Fprintf(&b, " (regex) at step %d", stepID(rl))
		case expRBinary:
			fmt.Fprintf(&b, " (binary regex) at step %d", stepID(rl))
		case expCustom:
			fmt.Fprintf(&b, " (custom function) at step %d", stepID(rl))
		}
	}
	if rl.comment != "" {
		b.WriteString(" comment: ")
		b.WriteString(rl.comment)
	}
	return b.String()
}

// onSuccessMessage is tcpcheck_expect_onsuccess_message.
func (r *run) onSuccessMessage(rl *rule, info string) string {
	r.setStatusCode(rl)
	msg := info
	switch {
	case rl.onSuccessFn != nil:
		msg += rl.onSuccessFn(r.buf)
	case rl.onSuccess != "":
		msg += rl.onSuccess
	case r.spec.rs.proto == protoTCP:
		msg += "(tcp-check)"
	}
	return msg
}

// proxyHeader is the PROXY protocol header a check sends: v1 with the
// check connection's own addresses, v2 as a LOCAL command.
func proxyHeader(c net.Conn, v2 bool) []byte {
	if v2 {
		h := []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
		return h
	}
	src, ok1 := c.LocalAddr().(*net.TCPAddr)
	dst, ok2 := c.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return []byte("PROXY UNKNOWN\r\n")
	}
	if s4, d4 := src.IP.To4(), dst.IP.To4(); s4 != nil && d4 != nil {
		return fmt.Appendf(nil, "PROXY TCP4 %s %s %d %d\r\n", s4, d4, src.Port, dst.Port)
	}
	return fmt.Appendf(nil, "PROXY TCP6 %s %s %d %d\r\n", to16(src.IP), to16(dst.IP), src.Port, dst.Port)
}

func to16(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return "::ffff:" + v4.String()
	}
	return ip.String()
}

// bufSize is the most a check reads of a reply: tune.bufsize.
func (r *run) bufSize() int {
	if r.spec.bufSize > 0 {
		return r.spec.bufSize
	}
	return defaultBufSize
}
