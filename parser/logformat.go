package parser

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// LogFormat is a log-format (or log-format-sd) string compiled as HAProxy
// 2.6's parse_logformat_string() reads it: text, separators (spaces, merged
// when written), variables and sample fetches, each with its flags.
type LogFormat struct {
	Pos   Pos // the directive
	Text  string
	Nodes []LogNode
}

// LogNodeKind tells the nodes of a log format apart.
type LogNodeKind uint8

// Log format node kinds.
const (
	LogText  LogNodeKind = iota // Text is written as is
	LogSep                      // one space, unless one was just written
	LogVar                      // Text is the variable name ("ci", "Tt", ...)
	LogFetch                    // Text is the sample fetch name ("src", ...)
)

// LogFlags are a node's options: %{+Q}, %{+X}, %{+E}, %{-M}.
type LogFlags uint8

// Log format flags, as HAProxy's LOG_OPT_*.
const (
	LogMandatory LogFlags = 1 << iota // "-" for an empty value (on by default)
	LogQuote                          // Q: double-quote strings
	LogHex                            // X: hexadecimal addresses, ports, %Ts, %pid...
	LogEsc                            // E: escape '"', '\' and ']' (RFC 5424 SD)
	// LogHTTPEnc: a sample of unique-id-format, written as HAProxy's
	// LOG_OPT_HTTP nodes are (control characters as %XX, never quoted,
	// nothing when empty).
	LogHTTPEnc
)

// lfContext is where a log format is used: it decides the fetches it may
// use and the defaults of its nodes.
type lfContext uint8

const (
	lfLog         lfContext = iota // log-format, log-format-sd: at log time
	lfBackendName                  // use_backend <fmt>: while the session starts
	lfUniqueID                     // unique-id-format: LOG_OPT_HTTP, no '-' for empty values
	lfContentRule                  // set-var-fmt of a content rule: the client's bytes are there
)

// l6Fetches are the fetches of the client's bytes, with the sources
// HAProxy names when a log format cannot use them.
var l6Fetches = map[string]string{
	"req.len": "request buffer", "req_len": "request buffer",
	"req.payload": "request buffer", "req.payload_lv": "request buffer",
	"payload": "request buffer,response buffer", "payload_lv": "request buffer,response buffer",
	"req.ssl_sni": "request buffer", "req_ssl_sni": "request buffer",
	"req.ssl_hello_type": "request buffer", "req_ssl_hello_type": "request buffer",
	"req.ssl_ver": "request buffer", "req_ssl_ver": "request buffer",
	"req.ssl_alpn": "request buffer", "req.ssl_ec_ext": "request buffer",
}

// LogNode is one element of a compiled log format.
type LogNode struct {
	Kind  LogNodeKind
	Text  string
	Flags LogFlags
	// Args and Conv are the arguments and converters of a sample fetch
	// ("%[req.payload(0,4),hex]").
	Args []string    `json:",omitempty"`
	Conv []Converter `json:",omitempty"`
}

// TCPLogFormat is what "option tcplog" stands for.
const TCPLogFormat = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"

// logVars are HAProxy 2.6's log format variables; true marks those
// reserved for HTTP mode.
var logVars = map[string]bool{
	"o": false, "B": false, "CC": true, "CS": true, "H": false, "HM": true, "HP": true,
	"HPO": true, "HQ": true, "HU": true, "HV": true, "ID": false, "ST": false, "T": false,
	"Ta": true, "Tc": false, "Td": false, "Tl": false, "Th": false, "Ti": true, "Tq": true,
	"TR": true, "Tr": true, "Ts": false, "Tt": false, "Tu": false, "Tw": false, "U": false,
	"ac": false, "b": false, "bc": false, "bi": false, "bp": false, "bq": false, "ci": false,
	"cp": false, "f": false, "fc": false, "fi": false, "fp": false, "ft": false, "lc": false,
	"hr": false, "hrl": false, "hs": false, "hsl": false, "ms": false, "pid": false,
	"r": true, "rc": false, "rt": false, "s": false, "sc": false, "si": false, "sp": false,
	"sq": false, "sslc": false, "sslv": false, "t": false, "tr": true, "trg": true,
	"trl": true, "ts": false, "tsc": false,
}

// logFlagNames are the flags of %{...}.
var logFlagNames = map[string]LogFlags{"M": LogMandatory, "Q": LogQuote, "X": LogHex, "E": LogEsc}

func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// applyLogFlags applies "+Q,-M,..." to f; unknown names are ignored, as
// HAProxy does.
func applyLogFlags(f LogFlags, args string) LogFlags {
	for _, a := range strings.Split(args, ",") {
		if len(a) < 2 {
			continue
		}
		bit, ok := logFlagNames[a[1:]]
		if !ok {
			continue
		}
		switch a[0] {
		case '+':
			f |= bit
		case '-':
			f &^= bit
		}
	}
	return f
}

// ParseLogFormat compiles a log-format string for a proxy in TCP mode
// (http: in HTTP mode). The error is HAProxy's text, without its
// "failed to parse log-format : " prefix.
func ParseLogFormat(s string, http bool) ([]LogNode, error) {
	return (&parser{cfg: &Config{}}).parseLogFormat(s, http)
}

// parseLogFormat is ParseLogFormat with the parser's map files.
func (p *parser) parseLogFormat(s string, http bool) ([]LogNode, error) {
	var nodes []LogNode
	def := LogMandatory // the flags %o sets for the nodes after it
	if p.lfCtx == lfUniqueID {
		def = 0
	}
	text := func(t string) {
		if n := len(nodes); n > 0 && nodes[n-1].Kind == LogText {
			nodes[n-1].Text += t
			return
		}
		nodes = append(nodes, LogNode{Kind: LogText, Text: t})
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			if n := len(nodes); n == 0 || nodes[n-1].Kind != LogSep {
				nodes = append(nodes, LogNode{Kind: LogSep})
			}
			i++
			continue
		case c != '%':
			j := i
			for j < len(s) && s[j] != '%' && s[j] != ' ' {
				j++
			}
			text(s[i:j])
			i = j
			continue
		}
		// A '%'.
		i++
		if i >= len(s) {
			return nil, fmt.Errorf("truncated line after '%%'")
		}
		c = s[i]
		var args string
		hasArgs := false
		switch {
		case c == '%':
			text("%")
			i++
			continue
		case c >= '0' && c <= '9' || c == ' ' || c == '\t':
			return nil, fmt.Errorf("unexpected variable name near '%c' at position %d line : '%s'. Maybe you want to write a single '%%', use the syntax '%%%%'", c, i, s)
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("truncated line after '%s'", s[i+1:])
			}
			args, hasArgs = s[i+1:i+1+end], true
			i += end + 2
			if i >= len(s) || (s[i] != '[' && !isAlnum(s[i])) {
				return nil, fmt.Errorf("parse argument modifier without variable name near '%%{%s}'", args)
			}
		case c != '[' && !isAlpha(c):
			// HAProxy drops the '%' and reads on as text.
			continue
		}
		flags := def
		if hasArgs {
			flags = applyLogFlags(def, args)
		}
		if s[i] == '[' {
			n, next, err := p.parseLogFetch(s, i+1)
			if err != nil {
				return nil, err
			}
			n.Flags |= flags
			nodes = append(nodes, n)
			i = next
			continue
		}
		j := i + 1
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		name := s[i:j]
		i = j
		httpOnly, ok := logVars[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("no such format variable '%s'. If you wanted to emit the '%%' character verbatim, you need to use '%%%%'", name)
		case httpOnly && !http:
			return nil, fmt.Errorf("format variable '%s' is reserved for HTTP mode", name)
		case name == "o":
			def = flags
		default:
			nodes = append(nodes, LogNode{Kind: LogVar, Text: name, Flags: flags})
		}
	}
	return nodes, nil
}

// parseLogFetch reads the sample expression of "%[...]" starting at
// s[i], up to its closing bracket.
func (p *parser) parseLogFetch(s string, i int) (LogNode, int, error) {
	j := i
	for j < len(s) && (isAlnum(s[j]) || s[j] == '.' || s[j] == '_' || s[j] == '-') {
		j++
	}
	name := s[i:j]
	rest := s[i:]
	if _, evaluated := fetches[name]; !evaluated {
		if name != "" && knownFetch(name) {
			return LogNode{}, 0, fmt.Errorf("failed to parse sample expression <%s> : fetch method '%s' is not supported by goproxy", rest, name)
		}
		return LogNode{}, 0, fmt.Errorf("failed to parse sample expression <%s> : unknown fetch method '%s'", rest, name)
	}
	var args []string
	if j < len(s) && s[j] == '(' {
		end := strings.IndexByte(s[j:], ')')
		if end < 0 {
			return LogNode{}, 0, fmt.Errorf("failed to parse sample expression <%s> : missing closing ')' after arguments to fetch keyword '%s'", rest, name)
		}
		if inner := s[j+1 : j+end]; inner != "" {
			args = strings.Split(inner, ",")
		}
		if m := checkFetchArity(name, args); m != "" {
			if tooMany := fmt.Sprintf("fetch method '%s' : expected ')' before '%s)'", name, strings.Join(args, ",")); m == tooMany {
				// HAProxy quotes the rest of the log format, not the word.
				m = fmt.Sprintf("fetch method '%s' : expected ')' before '%s'", name, s[j+1:])
			}
			return LogNode{}, 0, fmt.Errorf("failed to parse sample expression <%s> : %s", rest, m)
		}
		j += end + 1
	}
	var conv []Converter
	if j < len(s) && s[j] == ',' {
		end, err := converterListEnd(s, j, rest)
		if err != nil {
			return LogNode{}, 0, err
		}
		var msg convError
		if conv, _, msg = p.parseConverters(s[j+1:end], fetches[name].out); msg != "" {
			return LogNode{}, 0, fmt.Errorf("failed to parse sample expression <%s> : %s", rest, msg)
		}
		j = end
	}
	if j >= len(s) {
		return LogNode{}, 0, fmt.Errorf("missing ']' after '%s'", s[i:j])
	}
	if msg := p.lfFetchUsable(name, args, rest); msg != "" {
		return LogNode{}, 0, errors.New(msg)
	}
	if s[j] != ']' {
		return LogNode{}, 0, fmt.Errorf("expected ']' after '%s', but found '%c'", s[i:j], s[j])
	}
	n := LogNode{Kind: LogFetch, Text: name, Args: args, Conv: conv}
	if p.lfCtx == lfUniqueID {
		n.Flags |= LogHTTPEnc
	}
	return n, j + 1, nil
}

// kwLogFormat parses log-format, log-format-sd and error-log-format; the
// string is compiled at check time, for each frontend using it
// (compileLogFormats), and error-log-format in backends too.
func (p *parser) kwLogFormat(px *Proxy, w []string, _ kwMod) {
	kw := w[0]
	if argAt(w, 1) == "" {
		p.alert("%s expects an argument.", kw)
		return
	}
	if argAt(w, 2) != "" {
		p.alert("%s expects only one argument, don't forget to escape spaces!", kw)
		return
	}
	lf := &LogFormat{Pos: p.pos(), Text: w[1]}
	switch kw {
	case "log-format-sd":
		px.lfsdText = lf
	case "error-log-format":
		if px.Cap&CapDefaults != 0 && px.elfText != nil {
			p.report(&Error{Pos: p.pos(), Sev: SevWarning, Phase: PhaseParse, Style: StyleLine,
				Msg: "'error-log-format' overrides previous 'error-log-format' in 'defaults' section."})
		}
		px.elfText = lf
	default:
		if px.Cap&CapDefaults != 0 && px.logFmt != "" {
			p.report(&Error{Pos: p.pos(), Sev: SevWarning, Phase: PhaseParse, Style: StyleLine,
				Msg: fmt.Sprintf("'log-format' overrides previous '%s' in 'defaults' section.", px.logFmt)})
		}
		px.lfText = lf
		px.logFmt, px.logFmtPos = "log-format", p.pos()
	}
	if px.Cap&CapFrontend == 0 && px.Cap&CapDefaults == 0 {
		p.warn("backend '%s' : '%s' directive is ignored in backends.", px.Name, kw)
		return
	}
	if kw == "log-format" {
		// A log format logs at session end, as option tcplog does.
		px.Options.TCPLog = true
	}
}

func (p *parser) kwLogTag(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects a tag for use in syslog.", w[0])
		return
	}
	px.LogTag = w[1]
}

// compileLogFormats compiles a frontend's log-format and log-format-sd,
// with HAProxy's check-time messages.
func (p *parser) compileLogFormats(px *Proxy) {
	if px.Cap&CapFrontend == 0 {
		return
	}
	p.compileDynamicBackends(px)
	px.LogFormat = p.compileLogFormat(px, px.lfText, "log-format", "log-format", false)
	px.LogFormatSD = p.compileLogFormat(px, px.lfsdText, "log-format-sd", "log-format-sd", true)
}

// compileErrorLogFormat compiles a proxy's error-log-format. As in
// HAProxy, a backend's is compiled (and its errors reported) although
// only a frontend uses it.
func (p *parser) compileErrorLogFormat(px *Proxy) {
	// Its fetches' arguments are named as a log-format's (ARGC_LOG).
	px.ErrorLogFormat = p.compileLogFormat(px, px.elfText, "error-log-format", "log-format", false)
}

// compileLogFormat compiles one log format string of px (nil: none) for
// the directive kw, whose fetch arguments HAProxy names as argCtx's; sd
// for log-format-sd.
func (p *parser) compileLogFormat(px *Proxy, lf *LogFormat, kw, argCtx string, sd bool) *LogFormat {
	if lf == nil {
		return nil
	}
	file, line := p.file, p.line
	defer func() { p.file, p.line = file, line }()
	p.file, p.line = lf.Pos.File, lf.Pos.Line // for the map files' users
	nodes, err := p.parseLogFormat(lf.Text, px.Mode == ModeHTTP)
	if err != nil {
		// HAProxy names the line of the log format (log-format, option
		// tcplog...) for log-format-sd too, "(null):0" when there is none.
		pos := lf.Pos
		if sd {
			pos = px.logFmtPos
		}
		msg := fmt.Sprintf("failed to parse %s : %s.", kw, err)
		if pos.File == "" {
			msg = "Parsing [(null):0]: " + msg
		}
		p.report(&Error{Pos: pos, Phase: PhaseCheck, Style: StyleCapital, Msg: msg})
		return nil
	}
	p.resolveFetchArgs(px, lf.Pos, "in "+argCtx+" string in", nodes)
	if sd {
		// HAProxy ends the structured data with a separator.
		nodes = append(nodes, LogNode{Kind: LogSep})
	}
	return &LogFormat{Pos: lf.Pos, Text: lf.Text, Nodes: nodes}
}

// parseLogSample parses the "<ranges>:<size>" of "log ... sample" into t,
// with HAProxy's messages (empty when the definition is valid).
func parseLogSample(t *LogTarget, def string) string {
	rgs, size, ok := strings.Cut(def, ":")
	if !ok {
		return "Missing sample size"
	}
	var ranges []LogRange
	for rest := rgs; rest != ""; {
		cur, next, _ := strings.Cut(rest, ",")
		lo, hi, isRange := strings.Cut(cur, "-")
		low, err1 := strconv.Atoi(lo)
		high := low
		var err2 error
		if isRange {
			high, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || low <= 0 || (isRange && high <= low) {
			return fmt.Sprintf("wrong sample range '%s'", rest)
		}
		for _, r := range ranges {
			if (low >= r.Low && low <= r.High) || (high >= r.Low && high <= r.High) {
				return "ranges are overlapping"
			}
		}
		ranges = append(ranges, LogRange{low, high})
		rest = next
	}
	sz, err := strconv.Atoi(size)
	if err != nil || sz <= 0 {
		return fmt.Sprintf("wrong sample size '%s' for sample range '%s'", size, rgs)
	}
	maxHigh := 0
	for _, r := range ranges {
		maxHigh = max(maxHigh, r.High)
	}
	if sz < maxHigh {
		return fmt.Sprintf("sample size %d should be greater or equal to %d the maximum of the high ranges limits", sz, maxHigh)
	}
	t.Sample, t.SampleSize = ranges, sz
	return ""
}

// compileDynamicBackends compiles the names of the use_backend rules that
// hold a log format ("use_backend pool_%[req.payload(12,6),map(f)]"), at
// check time as HAProxy does.
func (p *parser) compileDynamicBackends(px *Proxy) {
	for _, ub := range px.UseBackends {
		if !strings.Contains(ub.Backend, "%") {
			continue
		}
		p.file, p.line = ub.File, ub.Line
		p.lfCtx, p.lfProxy = lfBackendName, px // a name is built while the session starts
		nodes, err := p.parseLogFormat(ub.Backend, px.Mode == ModeHTTP)
		p.lfCtx, p.lfProxy = lfLog, nil
		if err == nil {
			for _, n := range nodes {
				if n.Kind == LogVar {
					err = fmt.Errorf("format variable '%s' is not supported by goproxy in a backend name (text and %%[...] are)", n.Text)
					break
				}
			}
		}
		if err != nil {
			p.report(&Error{Pos: ub.Pos, Phase: PhaseCheck, Style: StyleCapital,
				Msg: fmt.Sprintf("failed to parse use_backend rule '%s' : %s.", ub.Backend, err)})
			continue
		}
		p.resolveFetchArgs(px, ub.Pos, "in use_backend expression in", nodes)
		ub.Dynamic = nodes
	}
}

// converterListEnd finds where the converters of a %[fetch,conv...] end,
// scanning from the ',' at j as HAProxy's sample parser does: names of
// letters, digits and '_', each with its (...) arguments. It reports
// HAProxy's errors for an empty name and for arguments given to a
// converter that takes none.
func converterListEnd(s string, j int, rest string) (int, error) {
	k := j
	for k < len(s) && s[k] == ',' {
		n := k + 1
		for n < len(s) && (isAlnum(s[n]) || s[n] == '_') {
			n++
		}
		c := s[k+1 : n]
		if c == "" {
			if n == len(s) {
				return n, nil // "missing ']'", as HAProxy
			}
			return 0, fmt.Errorf("failed to parse sample expression <%s> : unknown converter ''", rest)
		}
		if n < len(s) && s[n] == '(' {
			if def, ok := convDefs[c]; ok && len(def.args) == 0 {
				return 0, fmt.Errorf("failed to parse sample expression <%s> : invalid arg 1 in converter '%s' : expected ')' before '%s'", rest, c, s[n+1:])
			}
			closing := strings.IndexByte(s[n:], ')')
			if closing < 0 {
				return len(s), nil
			}
			n += closing + 1
		}
		k = n
	}
	return k, nil
}
