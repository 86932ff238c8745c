package parser

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// proxyKeyword is one row of the proxy keyword table, like HAProxy's
// cfg_kw_list: where it is allowed and how it parses.
type proxyKeyword struct {
	caps  Cap // sections allowed (CapDefaults for defaults)
	parse func(p *parser, px *Proxy, w []string, mod kwMod)
}

const (
	inD   = CapDefaults
	inF   = CapFrontend
	inB   = CapBackend
	inAll = inD | inF | inB
)

var proxyKeywords map[string]proxyKeyword

func init() {
	proxyKeywords = map[string]proxyKeyword{
		"mode":                  {inAll, (*parser).kwMode},
		"bind":                  {inF, (*parser).kwBind},
		"default_backend":       {inD | inF, (*parser).kwDefaultBackend},
		"use_backend":           {inF, (*parser).kwUseBackend},
		"use-server":            {inB, (*parser).kwUseServer},
		"stick-table":           {inAll, (*parser).kwStickTable},
		"stick":                 {inB, (*parser).kwStick},
		"force-persist":         {inB, (*parser).kwPersistRule},
		"ignore-persist":        {inB, (*parser).kwPersistRule},
		"acl":                   {inAll, (*parser).kwACL},
		"tcp-request":           {inAll, (*parser).kwTCPRequest},
		"balance":               {inD | inB, (*parser).kwBalance},
		"hash-type":             {inD | inB, (*parser).kwHashType},
		"server":                {inB, (*parser).kwServer},
		"server-template":       {inB, (*parser).kwServerTemplate},
		"default-server":        {inD | inB, (*parser).kwDefaultServer},
		"option":                {inAll, (*parser).kwOption},
		"tcp-check":             {inD | inB, (*parser).kwTCPCheck},
		"http-check":            {inD | inB, (*parser).kwHTTPCheck},
		"retries":               {inD | inB, (*parser).kwRetries},
		"timeout":               {inAll, (*parser).kwTimeout},
		"log":                   {inAll, (*parser).kwLog},
		"log-format":            {inAll, (*parser).kwLogFormat},
		"error-log-format":      {inAll, (*parser).kwLogFormat},
		"bind-process":          {inAll, (*parser).kwBindProcess},
		"log-format-sd":         {inAll, (*parser).kwLogFormat},
		"log-tag":               {inAll, (*parser).kwLogTag},
		"unique-id-format":      {inAll, (*parser).kwUniqueIDFormat},
		"maxconn":               {inD | inF, (*parser).kwMaxConn},
		"fullconn":              {inD | inB, (*parser).kwFullConn},
		"stats":                 {inAll, (*parser).kwStats},
		"disabled":              {inAll, (*parser).kwDisabled},
		"http-request":          {inAll, (*parser).kwHTTPRule},
		"http-response":         {inAll, (*parser).kwHTTPRule},
		"http-after-response":   {inAll, (*parser).kwHTTPRule},
		"errorfile":             {inAll, (*parser).kwErrorfile},
		"cookie":                {inD | inB, (*parser).kwCookie},
		"http-reuse":            {inD | inB, (*parser).kwHTTPReuse},
		"compression":           {inAll, (*parser).kwCompression},
		"description":           {inAll, (*parser).kwDescription},
		"errorloc":              {inAll, (*parser).kwErrorloc},
		"errorloc302":           {inAll, (*parser).kwErrorloc},
		"errorloc303":           {inAll, (*parser).kwErrorloc},
		"monitor-uri":           {inD | inF, (*parser).kwMonitorURI},
		"max-keep-alive-queue":  {inAll, (*parser).kwMaxKeepAliveQueue},
		"retry-on":              {inAll, (*parser).kwRetryOn},
		"http-send-name-header": {inD | inB, (*parser).kwHTTPSendNameHeader},
		"unique-id-header":      {inAll, (*parser).kwUniqueIDHeader},
		"enabled":               {inAll, (*parser).kwDisabled},

		"load-server-state-from-file": {inD | inB, (*parser).kwLoadServerState},
		"server-state-file-name":      {inD | inB, (*parser).kwServerStateFileName},
	}
}

// proxyCandidates lists keyword names for suggestions, in a stable order.
func proxyCandidates() []string {
	out := []string{"listen", "frontend", "backend", "defaults", "server", "default-server", "bind", "mode", "acl", "retries"}
	names := make([]string, 0, len(proxyKeywords))
	for k := range proxyKeywords {
		names = append(names, k)
	}
	sort.Strings(names)
	out = append(out, names...)
	return append(out, knownProxyKeywords...)
}

func (p *parser) proxyKeyword(w []string, mod kwMod) {
	px := p.cur
	if px == nil {
		return
	}
	kw := w[0]
	p.words = w
	defer func() { p.words = nil }()
	row, ok := proxyKeywords[kw]
	if !ok {
		if reason, known := notYetProxy[kw]; known {
			p.alert("'%s' is not supported by goproxy (%s).", kw, reason)
			return
		}
		msg := fmt.Sprintf("unknown keyword '%s' in '%s' section", kw, px.Kind)
		if s := bestMatch(kw, proxyCandidates()); s != "" {
			msg += fmt.Sprintf("; did you mean '%s' maybe ?", s)
		}
		p.alert("%s", msg)
		return
	}
	if px.Cap&CapDefaults != 0 {
		if row.caps&CapDefaults == 0 {
			p.alert("'%s' not allowed in 'defaults' section.", kw)
			return
		}
	} else if row.caps&px.Cap == 0 && (kw == "server" || kw == "server-template") {
		p.report(&Error{Pos: p.pos(), Style: StyleBare, Phase: PhaseParse,
			Msg: fmt.Sprintf("parsing [%s:%d] : '%s' not allowed because %s '%s' has no backend capability.", p.file, p.line, kw, typeName(px), px.Name)})
		return
	} else if row.caps&px.Cap == 0 {
		// HAProxy warns and ignores keywords of the other capability.
		hint := ""
		if kw == "maxconn" {
			hint = " Maybe you want 'fullconn' instead ?"
		}
		p.warn("'%s' ignored because %s '%s' has no %s capability.%s", kw, px.Kind, px.Name, otherCapName(row.caps), hint)
		if kw == "bind" || kw == "balance" || kw == "hash-type" || kw == "fullconn" || kw == "default-server" || kw == "retries" || kw == "tcp-check" || kw == "http-check" {
			return
		}
		if kw == "server" {
			p.report(&Error{Pos: p.pos(), Style: StyleBare, Phase: PhaseParse,
				Msg: fmt.Sprintf("parsing [%s:%d] : '%s' not allowed because %s '%s' has no backend capability.", p.file, p.line, kw, typeName(px), px.Name)})
			return
		}
	}
	row.parse(p, px, w, mod)
}

func otherCapName(c Cap) string {
	if c&CapFrontend != 0 {
		return "frontend"
	}
	return "backend"
}

func (p *parser) kwMode(px *Proxy, w []string, _ kwMod) {
	switch argAt(w, 1) {
	case "tcp":
		px.Mode = ModeTCP
		px.modePos = p.pos()
	case "http":
		// Accepted everywhere, as HAProxy: validate rejects the proxies
		// that end up in HTTP mode, other than the Prometheus exporter.
		px.Mode = ModeHTTP
		px.modePos = p.pos()
	case "health":
		p.alert("'mode health' is not supported by goproxy (removed in HAProxy 2.x).")
	default:
		p.alert("unknown proxy mode '%s'.", argAt(w, 1))
	}
}

func (p *parser) kwBind(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.", w[0])
		return
	}
	addrs, msg := p.addrCtx(useBind).parseList(w[1])
	if msg != "" {
		p.alert("'%s' : %s", w[0], msg)
		return
	}
	if p.binds+len(addrs) > maxListeners {
		p.alert("'%s' : too many listening addresses in the configuration (goproxy's limit is %d).", w[0], maxListeners)
		return
	}
	p.binds += len(addrs)
	for _, a := range addrs {
		if a.Family == FamilyFD {
			if m := checkFD(a.FD); m != "" {
				p.alert("'%s' : %s", w[0], m)
				return
			}
		}
	}
	opts := p.cfg.Global.UnixBind.unixBindDefaults()
	if !p.parseBindOptions(w[:2], w[2:], &opts, false) {
		return
	}
	for _, a := range addrs {
		px.Binds = append(px.Binds, &Bind{Pos: p.pos(), Addr: a, BindOptions: opts})
	}
}

// parseBindOptions parses the options after a bind or stats socket address.
func (p *parser) parseBindOptions(head, w []string, o *BindOptions, stats bool) bool {
	where := fmt.Sprintf("'%s %s' in section '%s'", head[0], head[1], p.sectionLabel())
	if stats {
		where = fmt.Sprintf("'%s %s'", head[0], head[1])
	}
	need := func(i int) (string, bool) {
		if i+1 >= len(w) || w[i+1] == "" {
			p.alert("%s : '%s' : missing value", where, w[i])
			return "", false
		}
		return w[i+1], true
	}
	for i := 0; i < len(w); i++ {
		if !stats {
			switch w[i] {
			case "mode", "uid", "gid", "user", "group":
				// Accepted on any bind, as HAProxy: they act on UNIX
				// sockets only.
				n, ok := p.bindUnixOption(where, w, i, o)
				if !ok {
					return false
				}
				i += n
				continue
			}
		}
		switch w[i] {
		case "name":
			v, ok := need(i)
			if !ok {
				return false
			}
			o.Name, i = v, i+1
		case "backlog":
			v, ok := need(i)
			if !ok {
				return false
			}
			o.Backlog, i = atol(v), i+1
		case "maxconn":
			v, ok := need(i)
			if !ok {
				return false
			}
			o.MaxConn, i = atol(v), i+1
		case "id":
			v, ok := need(i)
			if !ok {
				return false
			}
			o.ID, i = atol(v), i+1
			if o.ID <= 0 {
				p.alert("%s : '%s' : custom id has to be > 0", where, w[i-1])
				return false
			}
		case "v4v6":
			o.V4V6 = true
		case "v6only":
			o.V6Only = true
		case "accept-proxy":
			o.AcceptProxy = true
		case "transparent":
			o.Transparent = true
		case "defer-accept":
			o.DeferAccept = true
		case "tfo":
			p.alert("%s : 'tfo' is not supported by goproxy (TCP Fast Open is not implemented).", where)
			return false
		case "interface":
			v, ok := need(i)
			if !ok {
				return false
			}
			o.Interface, i = v, i+1
		case "mode":
			v, ok := need(i)
			mode, good := parseOctal(v)
			if !ok || !good {
				if ok {
					p.alert("%s : ''%s' : missing or invalid mode '%s' (octal integer expected)'", where, w[i], v)
				}
				return false
			}
			o.Mode, o.ModeSet, i = mode, true, i+1
		case "uid", "gid":
			v, ok := need(i)
			if !ok {
				return false
			}
			if w[i] == "uid" {
				o.UID, o.UIDSet = atol(v), true
			} else {
				o.GID, o.GIDSet = atol(v), true
			}
			i++
		case "user", "group":
			v, ok := need(i)
			if !ok {
				return false
			}
			if w[i] == "user" {
				o.User = v
			} else {
				o.Group = v
			}
			i++
		case "level":
			if !stats {
				p.alert("%s : 'level' is only supported on stats sockets.", where)
				return false
			}
			v := argAt(w, i+1)
			switch v {
			case "user", "operator", "admin":
			default:
				p.alert("%s : ''level' only supports 'user', 'operator', and 'admin' (got '%s')'", where, v)
				return false
			}
			o.Level, i = v, i+1
		case "expose-fd":
			if !stats {
				p.alert("%s : 'expose-fd' is only supported on stats sockets.", where)
				return false
			}
			if argAt(w, i+1) != "listeners" {
				p.alert("%s : ''expose-fd' only supports 'listeners' (got '%s')'", where, argAt(w, i+1))
				return false
			}
			o.ExposeFD, i = true, i+1
		case "severity-output":
			// HAProxy takes it on any bind; it acts on CLI sockets only.
			v := argAt(w, i+1)
			switch v {
			case "":
				p.alert("%s : ''%s' : missing severity format'", where, w[i])
				return false
			case "none", "number", "string":
			default:
				p.alert("%s : ''%s' only supports 'none', 'number', and 'string' (got '%s')'", where, w[i], v)
				return false
			}
			o.SeverityOutput, i = v, i+1
		case "ssl", "crt", "crt-list", "ca-file", "alpn", "npn", "ciphers", "ciphersuites",
			"verify", "ssl-min-ver", "ssl-max-ver", "curves", "ecdhe", "strict-sni", "no-sslv3",
			"no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "crl-file", "generate-certificates":
			if stats {
				p.alert("%s : '%s' is not supported by goproxy on stats sockets.", where, w[i])
				return false
			}
			if i = p.parseBindSSL(where, w, i, o, head[1]); i < 0 {
				return false
			}
		case "process":
			if !p.bindProcess(where, w[i], argAt(w, i+1)) {
				return false
			}
			i++
		case "thread", "nice", "ns", "namespace", "mss", "tcp-ut", "allow-0rtt",
			"quic-cc-algo", "proto", "accept-netscaler-cip", "gid-to":
			p.alert("%s : '%s' is not supported by goproxy.", where, w[i])
			return false
		default:
			if isBindSSLKeyword(w[i]) && !stats {
				if i = p.parseBindSSL(where, w, i, o, head[1]); i < 0 {
					return false
				}
				continue
			}
			p.alert("%s: unknown keyword '%s'.", where, w[i])
			return false
		}
	}
	return true
}

func parseOctal(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	var v uint32
	for _, c := range []byte(s) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + uint32(c-'0')
		if v > 07777 {
			return 0, false
		}
	}
	return v, true
}

func (p *parser) kwDefaultBackend(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects a backend name.", w[0])
		return
	}
	if p.tooManyArgs(w, 1) {
		return
	}
	px.DefaultBackend = w[1]
	px.DefaultBackPos = p.pos()
}

func (p *parser) kwUseBackend(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects a backend name.", w[0])
		return
	}
	ub := &UseBackend{Pos: p.pos(), Backend: w[1]}
	if len(w) > 2 {
		if w[2] != "if" && w[2] != "unless" {
			p.alert("unexpected keyword '%s' after switching rule, only 'if' and 'unless' are allowed.", w[2])
			return
		}
		cond, ok := p.parseCondition(px, w[2:], "error detected while parsing switching rule")
		if !ok {
			return
		}
		ub.Cond = cond
		p.warnNeverMatch(px, cond, ctxUseBackend, "")
	}
	px.UseBackends = append(px.UseBackends, ub)
}

func (p *parser) kwBalance(px *Proxy, w []string, _ kwMod) {
	algo := argAt(w, 1)
	switch {
	case algo == "roundrobin", algo == "static-rr", algo == "leastconn", algo == "first", algo == "source":
		px.Balance = Balance{Algo: algo}
	case algo == "random" || strings.HasPrefix(algo, "random("):
		draws := 2
		if strings.HasPrefix(algo, "random(") {
			inner := strings.TrimPrefix(algo, "random(")
			n := 0
			i := 0
			for i < len(inner) && isDigit(inner[i]) {
				n = n*10 + int(inner[i]-'0')
				i++
			}
			if i >= len(inner) || inner[i] != ')' {
				c := byte(0)
				if i < len(inner) {
					c = inner[i]
				}
				p.alert("balance random : unexpected character '%c' after argument.", c)
				return
			}
			if n < 1 {
				p.alert("balance random : number of draws must be at least 1.")
				return
			}
			draws = n
		}
		px.Balance = Balance{Algo: "random", Draws: draws}
	case algo == "uri", algo == "url_param", strings.HasPrefix(algo, "hdr("), strings.HasPrefix(algo, "rdp-cookie"), algo == "hash":
		p.alert("'balance %s' is not supported by goproxy (HTTP mode only).", algo)
	default:
		p.alert("balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.")
	}
}

func (p *parser) kwHashType(px *Proxy, w []string, _ kwMod) {
	var h HashType
	switch argAt(w, 1) {
	case "consistent":
		h.Consistent = true
	case "map-based":
	case "avalanche":
		h.Avalanche = true
	default:
		p.alert("'%s' only supports 'consistent' and 'map-based'.", w[0])
		return
	}
	fn := argAt(w, 2)
	switch fn {
	case "":
		// "hash-type consistent" alone implies sdbm with avalanche.
		h.Function = "sdbm"
		if h.Consistent {
			h.Avalanche = true
		}
	case "sdbm", "djb2", "crc32", "wt6":
		h.Function = fn
		switch argAt(w, 3) {
		case "":
		case "avalanche":
			h.Avalanche = true
		default:
			p.alert("%s: unsupported hash modifier '%s'.", w[0], w[3])
			return
		}
	default:
		p.alert("'%s' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.", w[0])
		return
	}
	px.HashType = h
}

func (p *parser) kwRetries(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects an integer argument (dispatch counts for one).", w[0])
		return
	}
	if p.tooManyArgs(w, 1) {
		return
	}
	px.Retries = atol(w[1])
}

var timeoutNames = map[string]func(t *Timeouts) *time.Duration{
	"connect":    func(t *Timeouts) *time.Duration { return &t.Connect },
	"client":     func(t *Timeouts) *time.Duration { return &t.Client },
	"server":     func(t *Timeouts) *time.Duration { return &t.Server },
	"queue":      func(t *Timeouts) *time.Duration { return &t.Queue },
	"check":      func(t *Timeouts) *time.Duration { return &t.Check },
	"tunnel":     func(t *Timeouts) *time.Duration { return &t.Tunnel },
	"client-fin": func(t *Timeouts) *time.Duration { return &t.ClientFin },
	"server-fin": func(t *Timeouts) *time.Duration { return &t.ServerFin },
	// Legacy spellings HAProxy still accepts.
	"contimeout": func(t *Timeouts) *time.Duration { return &t.Connect },
	"clitimeout": func(t *Timeouts) *time.Duration { return &t.Client },
	"srvtimeout": func(t *Timeouts) *time.Duration { return &t.Server },
}

// timeoutCaps says which proxies a timeout applies to.
var timeoutCaps = map[string]Cap{
	"client": inF, "client-fin": inF,
	"server": inB, "server-fin": inB, "connect": inB, "queue": inB, "check": inB, "tunnel": inB,
}

func (p *parser) kwTimeout(px *Proxy, w []string, _ kwMod) {
	name := argAt(w, 1)
	field, ok := timeoutNames[name]
	if httpTimeouts[name] {
		var ignored time.Duration
		field, ok = func(*Timeouts) *time.Duration { return &ignored }, true
	}
	if !ok || name == "contimeout" || name == "clitimeout" || name == "srvtimeout" {
		p.alert("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '%s')", name)
		return
	}
	full := "timeout " + name
	v := argAt(w, 2)
	if v == "" {
		p.alert("'%s' expects an integer value (in milliseconds)", full)
		return
	}
	d, trailing, err := ParseTime(v)
	if err != nil {
		te := err.(*timeError)
		switch te.kind {
		case "char":
			p.alert("unexpected character '%c' in '%s'", te.char, full)
		case "overflow":
			p.alert("timer overflow in argument '%s' to '%s' (maximum value is 2147483647 ms or ~24.8 days)", v, full)
		case "underflow":
			p.alert("timer underflow in argument '%s' to '%s' (minimum non-null value is 1 ms)", v, full)
		}
		return
	}
	if trailing != "" {
		p.report(&Error{Sev: SevWarning, Phase: PhaseParse, Msg: fmt.Sprintf("unexpected character '%c' after the timer value '%s', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.", trailing[0], v)})
	}
	if p.tooManyArgs(w[1:], 1) {
		return
	}
	if caps, ok := timeoutCaps[name]; ok && px.Cap&CapDefaults == 0 && px.Cap&caps == 0 {
		p.warn("'%s' will be ignored because %s '%s' has no %s capability", full, px.Kind, px.Name, otherCapName(timeoutCaps[name]))
		return
	}
	*field(&px.Timeouts) = d
}

func (p *parser) kwLog(px *Proxy, w []string, mod kwMod) {
	if mod == modNo {
		px.Logs = nil
		px.LogGlobal = false
		return
	}
	if argAt(w, 1) == "global" {
		if len(w) > 2 {
			p.alert("log : unknown log facility '%s'", w[2])
			return
		}
		px.LogGlobal = true
		return
	}
	if len(w) < 3 {
		p.alert("log : expects <address> and <facility> or global as arguments")
		return
	}
	t, ok := p.parseLogTarget(w, true)
	if ok {
		px.Logs = append(px.Logs, t)
	}
}

func (p *parser) kwMaxConn(px *Proxy, w []string, _ kwMod) { p.intArg(w, &px.MaxConn) }

func (p *parser) kwFullConn(px *Proxy, w []string, _ kwMod) { p.intArg(w, &px.FullConn) }

// intArg parses the single integer argument of a keyword into dst, with
// HAProxy's messages (atol: "abc" is 0).
func (p *parser) intArg(w []string, dst *int) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects an integer argument.", w[0])
		return
	}
	if p.tooManyArgs(w, 1) {
		return
	}
	*dst = atol(w[1])
}

func (p *parser) kwDisabled(px *Proxy, w []string, _ kwMod) {
	if p.tooManyArgs(w, 0) {
		return
	}
	px.Disabled = w[0] == "disabled"
}

// kwHTTPRequest accepts the one HTTP rule goproxy serves: HAProxy's
// built-in Prometheus exporter, optionally limited to one path:
//
//	http-request use-service prometheus-exporter [if { path /metrics }]
//
// and, in an HTTP frontend serving the statistics page, allow, deny and
// auth rules (see parseHTTPRule). A TCP proxy ignores them with HAProxy's
// warning.
func (p *parser) kwHTTPRequest(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) != "use-service" || argAt(w, 2) != "prometheus-exporter" {
		if !px.hasHTTPRules {
			px.hasHTTPRules, px.HTTPRulesPos = true, p.pos()
		}
		if px.Mode != ModeHTTP {
			// Ignored (validateProxy warns); its fetches are HTTP ones.
			px.httpRulesSkipped = true
			return
		}
		if r, ok := p.parseHTTPRule(px, w, w[0]); ok {
			px.HTTPRules = append(px.HTTPRules, r)
		}
		return
	}
	path := ""
	switch {
	case len(w) == 3:
	case len(w) == 8 && w[3] == "if" && w[4] == "{" && w[5] == "path" && w[7] == "}":
		path = w[6]
	default:
		p.alert("'%s %s %s' : goproxy only supports no condition or 'if { path <path> }' here.", w[0], w[1], w[2])
		return
	}
	if px.PromExporter {
		p.alert("'%s %s %s' : only one prometheus-exporter rule per frontend is supported by goproxy.", w[0], w[1], w[2])
		return
	}
	px.PromExporter = true
	px.PromPath = path
	px.PromRule = len(px.HTTPRules)
	px.PromPos = p.pos()
}

func (p *parser) kwDescription(px *Proxy, w []string, _ kwMod) {
	if px.Cap&CapDefaults != 0 {
		p.alertStyle(StyleLine, "'%s' not allowed in 'defaults' section.", w[0])
		return
	}
	if argAt(w, 1) == "" {
		p.alertStyle(StyleLine, "'%s' expects a string argument.", w[0])
		return
	}
	px.Description = strings.Join(w[1:], " ")
}

// kwCookie is HTTP cookie persistence: a TCP backend ignores it with
// HAProxy's warning (validateHTTPInTCP).
func (p *parser) kwCookie(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects <cookie_name> as argument.", w[0])
		return
	}
	px.cookie = true
}
