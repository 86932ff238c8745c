package parser

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// optionHTTPChk is "option httpchk [[<method>] <uri> [<version>]]": HTTP
// health checks, whatever the proxy's mode.
func (p *parser) optionHTTPChk(px *Proxy, w []string, mod kwMod, ignoredCap func(Cap) bool) {
	if mod != modNone {
		p.alertStyle(StyleLine, "negation/default is not supported for option '%s'.", w[1])
		return
	}
	if ignoredCap(inB) {
		return
	}
	if p.tooManyArgsOpt(w, 3) {
		return
	}
	var meth, uri, ver string
	switch args := w[2:]; len(args) {
	case 1:
		uri = args[0]
	case 2:
		meth, uri = args[0], args[1]
	case 3:
		meth, uri, ver = args[0], args[1], args[2]
	}
	hc := HTTPCheck{Method: meth, URI: uri, Version: ver, Disable404: px.HTTPCheck.Disable404, SendState: px.HTTPCheck.SendState}
	if v, rest, ok := strings.Cut(ver, "\r\n"); ok {
		p.report(&Error{Pos: p.pos(), Phase: PhaseParse, Sev: SevWarning, Style: StyleLine,
			Msg: "'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead."})
		hc.Version = v
		hc.Headers, hc.Body = splitHiddenHeaders(rest)
	}
	px.CheckKind = CheckHTTP
	px.HTTPCheck = hc
	if !px.ownHTTPCheck {
		// A proxy's own option httpchk replaces the rules of its defaults.
		px.HTTPChecks = nil
		px.httpCheckSteps = nil
		px.ownHTTPCheck = true
	}
	px.httpCheckSteps = addOptionHTTPChkStep(px.httpCheckSteps)
}

// splitHiddenHeaders parses what follows the version in the deprecated
// form of option httpchk: "Name: value" lines, then an empty line and
// the body.
func splitHiddenHeaders(s string) ([]HTTPHeader, string) {
	var hdrs []HTTPHeader
	for s != "" {
		line, rest, found := strings.Cut(s, "\r\n")
		if !found {
			line, rest = s, ""
		}
		if line == "" {
			return hdrs, rest
		}
		name, value, _ := strings.Cut(line, ":")
		hdrs = append(hdrs, HTTPHeader{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
		s = rest
	}
	return hdrs, ""
}

func (p *parser) kwHTTPCheck(px *Proxy, w []string, _ kwMod) {
	kind := argAt(w, 1)
	where := fmt.Sprintf("'%s %s'", w[0], kind)
	var args []string
	if len(w) > 2 {
		args = w[2:]
	}
	rule := &HTTPCheckRule{Pos: p.pos(), Kind: kind, MinRecv: -1}
	var steps []checkStep
	if px.ownHTTPCheck {
		steps = px.httpCheckSteps
	}
	index := nextHTTPCheckIndex(steps)
	ok := false
	switch kind {
	case "disable-on-404", "send-state":
		if len(args) > 0 {
			p.alert("'%s' cannot handle unexpected argument '%s'.", w[0], args[0])
			return
		}
		if kind == "disable-on-404" {
			px.HTTPCheck.Disable404 = true
		} else {
			px.HTTPCheck.SendState = true
		}
		return
	case "comment":
		if argAt(args, 0) == "" {
			p.alert("%s : expects a string as argument.", where)
			return
		}
		rule.Comment = args[0]
		ok = true
	case "connect":
		if connectNotFirst(steps) {
			p.alert("%s : %s.", where, connectFirstMsg)
			return
		}
		ok = p.httpCheckConnect(rule, where, args)
	case "send":
		ok = p.httpCheckSend(rule, where, args)
	case "expect":
		ok = p.httpCheckExpect(rule, where, args)
	default:
		if strings.HasPrefix(kind, "set-var") || strings.HasPrefix(kind, "unset-var") {
			p.alert("'%s %s' is not supported by goproxy (variables are not implemented).", w[0], kind)
			return
		}
		p.alert("'%s' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '%s'", w[0], kind)
		return
	}
	if !ok {
		return
	}
	// Once option httpchk is on, HTTP rules alternate connect, send and
	// expect: HTTP checks do not keep connections alive, so a second
	// request needs its own connection.
	enabled := px.CheckKind == CheckHTTP
	if enabled {
		if msg := httpCheckOrderError(steps, kind, index); msg != "" {
			p.alert("%s : %s.", where, msg)
			return
		}
	}
	if !px.ownHTTPCheck {
		// A proxy's own rules replace those inherited from defaults, and
		// with them the request of an inherited option httpchk.
		px.HTTPChecks = nil
		h := &px.HTTPCheck
		h.Method, h.URI, h.Version, h.Headers, h.Body = "", "", "", nil, ""
		px.ownHTTPCheck = true
	}
	px.httpCheckSteps = addHTTPCheckStep(steps, kind, index, enabled)
	px.HTTPChecks = append(px.HTTPChecks, rule)
}

func (p *parser) httpCheckConnect(r *HTTPCheckRule, where string, args []string) bool {
	addrPort := 0
	defer func() {
		if r.Port == 0 {
			r.Port = addrPort
		}
	}()
	for i := 0; i < len(args); i++ {
		a := args[i]
		v := argAt(args, i+1)
		switch a {
		case "default":
			r.Default = true
		case "linger":
			r.Linger = true
		case "send-proxy":
			r.SendProxy = true
		case "ssl":
			r.SSL = true
		case "port":
			if v == "" {
				p.alert("%s : '%s' expects a port number or a sample expression as argument..", where, a)
				return false
			}
			n, good := strictInt(v)
			if !good || n < 1 || n > 65535 {
				p.alert("%s : '%s' expects a port number between 1 and 65535 (goproxy does not evaluate sample expressions here) but got '%s'.", where, a, v)
				return false
			}
			r.Port = n
			i++
		case "addr":
			if v == "" {
				p.alert("%s : '%s' expects an address as argument.", where, a)
				return false
			}
			host, port, ok := p.checkConnectAddr(where, a, v)
			if !ok {
				return false
			}
			r.Addr = host
			addrPort = port
			i++
		case "sni", "comment":
			if v == "" {
				p.alert("%s : '%s' expects a string as argument..", where, a)
				return false
			}
			if a == "sni" {
				r.SNI = v
			} else {
				r.Comment = v
			}
			i++
		case "alpn":
			if v == "" {
				p.alert("%s : '%s' : missing the comma-delimited ALPN protocol suite.", where, a)
				return false
			}
			r.ALPN = v
			i++
		case "proto":
			if v == "" {
				p.alert("%s : '%s' expects a MUX protocol as argument..", where, a)
				return false
			}
			if v != "h1" {
				p.alert("%s : '%s %s' is not supported by goproxy (HTTP checks speak HTTP/1 only).", where, a, v)
				return false
			}
			i++
		case "via-socks4":
			p.alert("%s : '%s' is not supported by goproxy.", where, a)
			return false
		default:
			p.alert("%s : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '%s' as argument..", where, a)
			return false
		}
	}
	return true
}

// noLogFormat rejects a log-format string goproxy cannot evaluate.
func (p *parser) noLogFormat(where, kw, v string) bool {
	if strings.Contains(v, "%[") || strings.Contains(v, "%{") {
		p.alert("%s : '%s' : log-format expressions are not supported by goproxy (got '%s'; use plain text).", where, kw, v)
		return false
	}
	return true
}

func (p *parser) httpCheckSend(r *HTTPCheckRule, where string, args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		v := argAt(args, i+1)
		switch a {
		case "meth", "uri", "ver", "body", "comment":
			if v == "" {
				p.alert("%s : '%s' expects a string as argument..", where, a)
				return false
			}
			switch a {
			case "meth":
				r.Method = v
			case "uri":
				r.URI = v
			case "ver":
				r.Version = v
			case "body":
				r.Body, r.HasBody = v, true
			default:
				r.Comment = v
			}
			i++
		case "hdr":
			if v == "" || argAt(args, i+2) == "" {
				p.alert("%s : '%s' expects <name> and <value> as arguments.", where, a)
				return false
			}
			val := args[i+2]
			if !p.noLogFormat(where, a, val) {
				return false
			}
			r.Headers = append(r.Headers, HTTPHeader{Name: v, Value: val})
			i += 2
		case "uri-lf", "body-lf":
			p.alert("%s : '%s' is not supported by goproxy (log-format strings are not implemented; use '%s').", where, a, strings.TrimSuffix(a, "-lf"))
			return false
		default:
			p.alert("%s : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '%s' as argument..", where, a)
			return false
		}
	}
	return true
}

var (
	okStatuses   = []string{"L4OK", "L6OK", "L7OK", "L7OKC"}
	errStatuses  = []string{"L4CON", "L6RSP", "L7RSP", "L7STS", "L7OKC"}
	toutStatuses = []string{"L4TOUT", "L6TOUT", "L7TOUT"}
)

func oneOf(v string, list []string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// validStatusList checks "200,201,300-310"; it returns the first bad
// character, or 0.
// statusRanges parses a valid list of status codes and ranges
// ("200,300-399") as HAProxy's http-check expect status does.
func statusRanges(s string) [][2]int {
	var out [][2]int
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		out = append(out, [2]int{a, b})
	}
	return out
}

func validStatusList(s string) byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != ',' && c != '-' {
			return c
		}
	}
	return 0
}

func (p *parser) httpCheckExpect(r *HTTPCheckRule, where string, args []string) bool {
	if len(args) == 0 {
		p.alert("%s : expects at least a matching pattern as arguments.", where)
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		v := argAt(args, i+1)
		if handled, ok := p.expectCommonArg(where, a, v, &r.MinRecv, &r.Comment, &r.OnSuccess, &r.OnError); handled {
			if !ok {
				return false
			}
			i++
			continue
		}
		switch a {
		case "ok-status", "error-status", "tout-status":
			if v == "" {
				p.alert("%s : '%s' expects a string as argument.", where, a)
				return false
			}
			switch {
			case a == "ok-status" && !oneOf(v, okStatuses):
				p.alert("%s : '%s' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got '%s')..", where, a, v)
				return false
			case a == "error-status" && !oneOf(v, errStatuses):
				p.alert("%s : '%s' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got '%s')..", where, a, v)
				return false
			case a == "tout-status" && !oneOf(v, toutStatuses):
				p.alert("%s : '%s' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got '%s')..", where, a, v)
				return false
			}
			switch a {
			case "ok-status":
				r.OKStatus = v
			case "error-status":
				r.ErrorStatus = v
			default:
				r.ToutStatus = v
			}
			i++
			continue
		case "status-code":
			if v == "" {
				p.alert("%s : '%s' expects an expression as argument.", where, a)
				return false
			}
			p.alert("%s : '%s' is not supported by goproxy (sample expressions are not implemented).", where, a)
			return false
		case "!":
			r.Negate = true
			continue
		}
		m := a
		if strings.HasPrefix(m, "!") {
			r.Negate = true
			m = m[1:]
		}
		switch m {
		case "status", "rstatus", "string", "rstring", "hdr", "fhdr":
		case "string-lf":
			p.alert("%s : '%s' is not supported by goproxy (log-format strings are not implemented).", where, m)
			return false
		default:
			p.alert("%s : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '%s' as argument..", where, a)
			return false
		}
		if r.Match != "" {
			p.alert("%s : only on pattern expected.", where)
			return false
		}
		r.Match = m
		if m == "hdr" || m == "fhdr" {
			n, ok := p.httpCheckExpectHdr(r, where, m, args[i+1:])
			if !ok {
				return false
			}
			i += n
			continue
		}
		if v == "" {
			p.alert("%s : '%s' expects a <pattern> as argument.", where, m)
			return false
		}
		r.Pattern = v
		i++
		switch m {
		case "status":
			if c := validStatusList(v); c != 0 {
				p.alert("%s : invalid character '%c' in the list of status codes.", where, c)
				return false
			}
			r.StatusRanges = statusRanges(v)
		case "rstatus", "rstring":
			re, err := regexp.Compile(v)
			if err != nil {
				p.alert("%s : regex '%s' is invalid (%s).", where, v, err)
				return false
			}
			r.Regex = re
		}
	}
	if r.Match == "" {
		p.alert("%s : expects at least a matching pattern as arguments.", where)
		return false
	}
	return true
}

// httpCheckExpectHdr parses "name [-m meth] <name> [value [-m meth]
// <value>]" and returns how many words it took.
func (p *parser) httpCheckExpectHdr(r *HTTPCheckRule, where, m string, args []string) (int, bool) {
	i := 0
	part := func(kw string) (pat, meth string, ok bool) {
		meth = "str"
		if argAt(args, i) == "-m" {
			meth = argAt(args, i+1)
			switch meth {
			case "str", "beg", "end", "sub", "reg":
			default:
				p.alert("%s : '%s' : '-m' parameter only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '%s').", where, m, meth)
				return "", "", false
			}
			i += 2
		}
		pat = argAt(args, i)
		if pat == "" {
			if kw == "name" {
				p.alert("%s : '%s' expects at the name keyword as first argument followed by a pattern.", where, m)
			} else {
				p.alert("%s : '%s' expect a pattern with the value keyword.", where, m)
			}
			return "", "", false
		}
		if meth == "reg" {
			if _, err := regexp.Compile(pat); err != nil {
				p.alert("%s : regex '%s' is invalid (%s).", where, pat, err)
				return "", "", false
			}
		}
		i++
		return pat, meth, true
	}
	switch argAt(args, 0) {
	case "name":
	case "name-lf":
		p.alert("%s : 'name-lf' is not supported by goproxy (log-format strings are not implemented).", where)
		return 0, false
	default:
		p.alert("%s : '%s' expects at the name keyword as first argument followed by a pattern.", where, m)
		return 0, false
	}
	i = 1
	name, meth, ok := part("name")
	if !ok {
		return 0, false
	}
	r.HdrName, r.HdrNameMeth = name, meth
	if meth == "reg" {
		// Validated by part: the flag keeps it valid.
		r.HdrNameRegex = regexp.MustCompile("(?i)" + name)
	}
	switch argAt(args, i) {
	case "value":
		i++
		val, vmeth, ok := part("value")
		if !ok {
			return 0, false
		}
		r.HdrValue, r.HdrValueMeth, r.HasHdrValue = val, vmeth, true
		if vmeth == "reg" {
			r.HdrValueRegex = regexp.MustCompile(val) // validated by part
		}
	case "value-lf":
		p.alert("%s : 'value-lf' is not supported by goproxy (log-format strings are not implemented).", where)
		return 0, false
	}
	return i, true
}

// checkHTTPChecks is the part of HAProxy's check_config_validity about
// HTTP checks and the TLS of checks.
func (p *parser) checkHTTPChecks(px *Proxy) {
	if px.Cap&CapBackend == 0 {
		return
	}
	if len(px.HTTPChecks) > 0 && px.CheckKind != CheckHTTP {
		p.checkWarn("%s '%s' uses http-check rules without 'option httpchk', so the rules are ignored.", typeName(px), px.Name)
	}
	connectSSL := false
	for _, r := range px.HTTPChecks {
		connectSSL = connectSSL || (r.Kind == "connect" && r.SSL)
	}
	for _, r := range px.TCPChecks {
		connectSSL = connectSSL || (r.Kind == "connect" && r.SSL)
	}
	for _, s := range px.Servers {
		if (s.CheckSSL || connectSSL) && s.Verify != "none" && s.CAFile == "" {
			p.report(&Error{Pos: s.Pos, Server: px.Name + "/" + s.Name, Style: StyleServer, Phase: PhaseCheck,
				Msg: "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."})
		}
	}
}
