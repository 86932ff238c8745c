package health

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"goproxy/internal/certcheck"
	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// The HTTP check is HAProxy 2.6's "option httpchk" rule set
// (src/tcpcheck.c: proxy_parse_httpchk_opt, tcpcheck_eval_send for HTTP,
// tcpcheck_eval_expect_http): the same request bytes as its H1 multiplexer
// writes them, the same statuses and texts.

// StateTarget is implemented by targets that can describe their state, as
// "http-check send-state" and "http-check disable-on-404" need.
type StateTarget interface {
	// CheckStateHeader returns the value of the X-Haproxy-Server-State
	// header ("UP 2/3; address=...; port=...; name=be/srv; ...").
	CheckStateHeader() string
	// CheckServerDown reports whether the server is DOWN: a 404 answer
	// is a conditional pass only for a server that is not.
	CheckServerDown() bool
}

// httpRequest is the request of an http-check send rule.
type httpRequest struct {
	method, uri, version string
	headers              []parser.HTTPHeader
	body                 string
	sendState            bool
}

// mergeSend overlays a rule's request on the defaults of option httpchk,
// as tcpcheck_overwrite_send_http_rule.
func mergeSend(def httpRequest, l *parser.HTTPCheckRule) httpRequest {
	if l.Method != "" {
		def.method = l.Method
	}
	if l.URI != "" {
		def.uri = l.URI
	}
	if l.Version != "" {
		def.version = l.Version
	}
	if len(l.Headers) > 0 {
		def.headers = l.Headers
	}
	if l.HasBody {
		def.body = l.Body
	}
	return def
}

// build renders the request as HAProxy's H1 multiplexer writes it:
// lower-case header names, Content-Length for a body, "Connection: close"
// unless a Connection header was given, and no Connection header that
// only repeats the version's default.
func (q httpRequest) build(state string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\n", q.method, q.uri, q.version)
	conn := "close"
	for _, h := range q.headers {
		name := strings.ToLower(h.Name)
		switch name {
		case "content-length", "transfer-encoding":
			continue
		case "connection":
			conn = strings.ToLower(h.Value)
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", name, h.Value)
	}
	if q.sendState {
		fmt.Fprintf(&b, "x-haproxy-server-state: %s\r\n", state)
	}
	if q.body != "" {
		fmt.Fprintf(&b, "content-length: %d\r\n", len(q.body))
	}
	http10 := q.version == "HTTP/1.0"
	if !(http10 && conn == "close") && !(!http10 && conn == "keep-alive") {
		fmt.Fprintf(&b, "connection: %s\r\n", conn)
	}
	b.WriteString("\r\n")
	b.WriteString(q.body)
	return b.Bytes()
}

func (q httpRequest) isHead() bool { return strings.EqualFold(q.method, "HEAD") }

// httpResponse is what an HTTP expect needs of a response.
type httpResponse struct {
	code     int
	status   string // the three digits
	reason   string
	headers  []parser.HTTPHeader
	body     []byte
	complete bool // the whole message was received
}

// parseHTTPResponse parses an HTTP/1 response from b. It returns nil and
// bad=false when more bytes are needed, bad=true when b is no HTTP
// response (HAProxy's strict H1 parser).
func parseHTTPResponse(b []byte, head bool) (resp *httpResponse, bad bool) {
	for {
		r, rest, bad := parseHTTPHead(b)
		if r == nil {
			return nil, bad
		}
		if r.code >= 100 && r.code < 200 && r.code != 101 {
			// Interim responses are skipped.
			b = rest
			continue
		}
		r.body, r.complete = httpBody(r, rest, head)
		return r, false
	}
}

func parseHTTPHead(b []byte) (*httpResponse, []byte, bool) {
	const proto = "HTTP/"
	n := min(len(b), len(proto))
	if !bytes.Equal(b[:n], []byte(proto)[:n]) {
		return nil, nil, true
	}
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return nil, nil, false
	}
	line := strings.TrimSuffix(string(b[:eol]), "\r")
	ver, rest, _ := strings.Cut(line, " ")
	if len(ver) != 8 || ver[6] != '.' || !isDigit(ver[5]) || !isDigit(ver[7]) {
		return nil, nil, true
	}
	code, reason, _ := strings.Cut(rest, " ")
	if len(code) != 3 || !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return nil, nil, true
	}
	r := &httpResponse{status: code, reason: reason}
	r.code, _ = strconv.Atoi(code)
	p := eol + 1
	for {
		e := bytes.IndexByte(b[p:], '\n')
		if e < 0 {
			return nil, nil, false
		}
		hl := strings.TrimSuffix(string(b[p:p+e]), "\r")
		p += e + 1
		if hl == "" {
			return r, b[p:], false
		}
		name, value, ok := strings.Cut(hl, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, nil, true
		}
		r.headers = append(r.headers, parser.HTTPHeader{Name: name, Value: strings.Trim(value, " \t")})
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// header returns the first value of a header, or "".
func (r *httpResponse) header(name string) (string, bool) {
	for _, h := range r.headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// httpBody returns the body received so far and whether it is complete.
func httpBody(r *httpResponse, rest []byte, head bool) ([]byte, bool) {
	if head || r.code == 204 || r.code == 304 {
		return nil, true
	}
	if te, ok := r.header("Transfer-Encoding"); ok && strings.Contains(strings.ToLower(te), "chunked") {
		return dechunk(rest)
	}
	if cl, ok := r.header("Content-Length"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		if err == nil && n >= 0 {
			if len(rest) >= n {
				return rest[:n], true
			}
			return rest, false
		}
	}
	return rest, false
}

// dechunk decodes as much of a chunked body as has arrived.
func dechunk(b []byte) ([]byte, bool) {
	var out []byte
	for {
		eol := bytes.IndexByte(b, '\n')
		if eol < 0 {
			return out, false
		}
		size := strings.TrimSpace(strings.TrimSuffix(string(b[:eol]), "\r"))
		size, _, _ = strings.Cut(size, ";")
		n, err := strconv.ParseInt(size, 16, 32)
		if err != nil || n < 0 {
			return out, true
		}
		b = b[eol+1:]
		if n == 0 {
			return out, true
		}
		if int64(len(b)) < n {
			return append(out, b...), false
		}
		out = append(out, b[:n]...)
		b = bytes.TrimPrefix(bytes.TrimPrefix(b[n:], []byte("\r")), []byte("\n"))
	}
}

// httpExpect is one compiled http-check expect rule.
type httpExpect struct {
	match            string // status, rstatus, string, rstring, hdr, fhdr
	codes            [][2]int
	re               *regexp.Regexp
	str              string
	name, nameMeth   string
	nameRe           *regexp.Regexp
	value, valueMeth string
	valueRe          *regexp.Regexp
	hasValue         bool
	disable404       bool
	head             bool // the request was HEAD: no body follows
}

// matchWith applies an hdr matching method (str, beg, end, sub, reg).
func matchWith(meth, pat string, re *regexp.Regexp, s string, fold bool) bool {
	if fold {
		s, pat = strings.ToLower(s), strings.ToLower(pat)
	}
	switch meth {
	case "beg":
		return strings.HasPrefix(s, pat)
	case "end":
		return strings.HasSuffix(s, pat)
	case "sub":
		return strings.Contains(s, pat)
	case "reg":
		return re.MatchString(s)
	}
	return s == pat
}

func (e *httpExpect) matchHeader(r *httpResponse) bool {
	for _, h := range r.headers {
		if !matchWith(e.nameMeth, e.name, e.nameRe, h.Name, e.nameMeth != "reg") {
			continue
		}
		if !e.hasValue {
			return true
		}
		values := []string{h.Value}
		if e.match == "hdr" {
			values = strings.Split(h.Value, ",")
		}
		for _, v := range values {
			if matchWith(e.valueMeth, e.value, e.valueRe, strings.Trim(v, " \t"), false) {
				return true
			}
		}
	}
	return false
}

// evalHTTPExpect is tcpcheck_eval_expect_http.
func evalHTTPExpect(r *run, rl *rule, lastRead bool) evalRet {
	e := rl.http
	resp, bad := parseHTTPResponse(r.buf, e.head)
	fail := func(st srvstate.CheckStatus, desc string) evalRet {
		if rl.errStatus != 0 {
			st = rl.errStatus
		}
		if rl.onError != "" {
			desc = ""
		}
		r.finish(st, r.onErrorMessage(rl, false, desc))
		return evalStop
	}
	if bad {
		return fail(srvstate.CheckL7Rsp, "")
	}
	if resp == nil {
		if lastRead {
			return fail(srvstate.CheckL7Rsp, "")
		}
		return evalWait
	}
	lastRead = lastRead || resp.complete
	r.code = resp.code
	if e.disable404 && resp.code == 404 && (r.spec.state == nil || !r.spec.state.CheckServerDown()) {
		r.finish(srvstate.CheckL7OKC, r.onSuccessMessage(rl, ""))
		return evalStop
	}
	var match bool
	switch e.match {
	case "status":
		for _, c := range e.codes {
			if resp.code >= c[0] && resp.code <= c[1] {
				match = true
				break
			}
		}
	case "rstatus":
		match = e.re.MatchString(resp.status)
	case "hdr", "fhdr":
		match = e.matchHeader(resp)
	case "string", "rstring":
		body := resp.body
		if len(body) == 0 {
			if !lastRead {
				return evalWait
			}
			return fail(srvstate.CheckL7Rsp, "HTTP content check could not find a response body")
		}
		if !lastRead && ((e.match == "string" && len(body) < len(e.str)) || (rl.minRecv > 0 && len(body) < rl.minRecv)) {
			return evalWait
		}
		if e.match == "string" {
			match = bytes.Contains(body, []byte(e.str))
		} else {
			match = e.re.Match(body)
		}
		if !match && !lastRead && rl.minRecv == -1 {
			return evalWait
		}
		if match == rl.inverse {
			desc := "HTTP content check did not match"
			if rl.inverse {
				desc = "HTTP check matched unwanted content"
			}
			return fail(srvstate.CheckL7Rsp, desc)
		}
		return evalContinue
	}
	if match == rl.inverse {
		return fail(srvstate.CheckL7Sts, resp.reason)
	}
	return evalContinue
}

// httpRules compiles the rule set of "option httpchk" and the backend's
// http-check lines.
func httpRules(px *parser.Proxy) (*ruleset, error) {
	hc := px.HTTPCheck
	def := httpRequest{method: "OPTIONS", uri: "/", version: "HTTP/1.0",
		headers: hc.Headers, body: hc.Body, sendState: hc.SendState}
	if hc.Method != "" {
		def.method = hc.Method
	}
	if hc.URI != "" {
		def.uri = hc.URI
	}
	if hc.Version != "" {
		def.version = hc.Version
	}
	rs := &ruleset{proto: protoHTTP}
	pendingComment := ""
	prev := "comment"
	merged := false
	var lastReq httpRequest
	haveSend := false
	for _, l := range px.HTTPChecks {
		if l.Kind == "send" {
			haveSend = true
		}
	}
	add := func(r *rule) { rs.rules = append(rs.rules, r) }
	sendRule := func(q httpRequest, comment string) *rule {
		lastReq = q
		return &rule{action: actSend, minRecv: -1, comment: comment, dataFn: func(r *run) []byte {
			state := ""
			if q.sendState && r.spec.state != nil {
				state = r.spec.state.CheckStateHeader()
			}
			return q.build(state)
		}}
	}
	for i, l := range px.HTTPChecks {
		if l.Kind != prev && prev != "comment" {
			pendingComment = ""
		}
		prev = l.Kind
		comment := l.Comment
		if comment == "" && l.Kind != "comment" {
			comment = pendingComment
		}
		switch l.Kind {
		case "comment":
			pendingComment = l.Comment
			continue
		case "connect":
			pendingComment = ""
			add(&rule{action: actConnect, index: i, comment: comment, minRecv: -1, port: l.Port, addr: l.Addr,
				sendProxy: l.SendProxy, linger: l.Linger, ssl: l.SSL, sni: l.SNI, alpn: l.ALPN, defaultConnect: l.Default})
			if !haveSend && !merged {
				add(sendRule(def, ""))
				merged = true
			}
		case "send":
			q := httpRequest{method: "OPTIONS", uri: "/", version: "HTTP/1.0", sendState: hc.SendState}
			if !merged {
				q = def
				merged = true
			}
			r := sendRule(mergeSend(q, l), comment)
			r.index = i
			add(r)
		case "expect":
			r, err := httpExpectRule(l, lastReq, hc.Disable404)
			if err != nil {
				return nil, err
			}
			r.index = i
			r.comment = comment
			add(r)
		default:
			return nil, fmt.Errorf("http-check %s is not supported", l.Kind)
		}
	}
	if !merged {
		rs.rules = append([]*rule{sendRule(def, "")}, rs.rules...)
	}
	// An implicit expect (2xx or 3xx) ends a rule set whose last send
	// has no expect after it.
	lastSend, lastExpect := -1, -1
	for i, r := range rs.rules {
		switch r.action {
		case actSend:
			lastSend = i
		case actExpect:
			lastExpect = i
		}
	}
	if lastExpect < lastSend {
		r, _ := httpExpectRule(&parser.HTTPCheckRule{Kind: "expect", Match: "status", Pattern: "200-399", StatusRanges: [][2]int{{200, 399}}, MinRecv: -1}, lastReq, hc.Disable404)
		r.index = len(px.HTTPChecks)
		add(r)
	}
	rs.finalize()
	return rs, nil
}

func httpExpectRule(l *parser.HTTPCheckRule, req httpRequest, disable404 bool) (*rule, error) {
	e := &httpExpect{match: l.Match, disable404: disable404, head: req.isHead()}
	switch l.Match {
	case "status":
		e.codes = l.StatusRanges
	case "rstatus", "rstring":
		e.re = l.Regex
	case "string":
		e.str = l.Pattern
	case "hdr", "fhdr":
		e.name, e.nameMeth = l.HdrName, l.HdrNameMeth
		e.value, e.valueMeth, e.hasValue = l.HdrValue, l.HdrValueMeth, l.HasHdrValue
		e.nameRe, e.valueRe = l.HdrNameRegex, l.HdrValueRegex
	default:
		return nil, fmt.Errorf("http-check expect %q is not supported", l.Match)
	}
	if (e.re == nil && (l.Match == "rstatus" || l.Match == "rstring")) ||
		(e.nameRe == nil && e.nameMeth == "reg") || (e.valueRe == nil && e.valueMeth == "reg") {
		return nil, fmt.Errorf("http-check expect %s: pattern not compiled by the parser", l.Match)
	}
	return &rule{action: actExpect, kind: expCustom, custom: evalHTTPExpect, http: e, inverse: l.Negate,
		minRecv: l.MinRecv, onSuccess: l.OnSuccess, onError: l.OnError,
		okStatus: srvstate.CheckStatusNamed(l.OKStatus), errStatus: srvstate.CheckStatusNamed(l.ErrorStatus),
		toutStatus: srvstate.CheckStatusNamed(l.ToutStatus)}, nil
}

// checkTLSConfig is the client TLS configuration of a server's checks
// (check-ssl, "http-check connect ssl"): verify none|required against
// ca-file and crl-file, the name of the SNI sent (else verifyhost), SNI
// from check-sni, ALPN from check-alpn.
func checkTLSConfig(p parser.ServerParams) (*tls.Config, error) {
	conf := &tls.Config{InsecureSkipVerify: true} // verification is ours, below
	if p.Verify == "none" {
		return conf, nil
	}
	var roots *x509.CertPool
	if p.CAFile != "" {
		pem, err := os.ReadFile(p.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca-file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca-file %s: no certificate found", p.CAFile)
		}
	}
	var rev *certcheck.Revocation
	if p.CRLFile != "" {
		var err error
		if rev, err = certcheck.LoadFile(p.CRLFile); err != nil {
			return nil, fmt.Errorf("crl-file %s: %w", p.CRLFile, err)
		}
		if roots == nil {
			roots = x509.NewCertPool()
		}
		rev.AddCAs(roots)
	}
	verifyHost := p.VerifyHost
	conf.VerifyConnection = func(cs tls.ConnectionState) error {
		name := cs.ServerName
		if name == "" {
			name = verifyHost
		}
		return certcheck.VerifyServer(cs.PeerCertificates, roots, name, rev, time.Now())
	}
	return conf, nil
}

// literalSNI returns the name of a "sni str(name)" server option, the only
// form checks can use without sample expressions.
func literalSNI(expr string) string {
	if strings.HasPrefix(expr, "str(") && strings.HasSuffix(expr, ")") {
		return expr[4 : len(expr)-1]
	}
	return ""
}
