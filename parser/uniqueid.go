package parser

import "fmt"

// kwUniqueIDFormat parses unique-id-format; the string is compiled at
// check time (compileUniqueID), for every proxy, as HAProxy does.
func (p *parser) kwUniqueIDFormat(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("%s expects an argument.", w[0])
		return
	}
	if argAt(w, 2) != "" {
		p.alert("%s expects only one argument, don't forget to escape spaces!", w[0])
		return
	}
	px.uifText = &LogFormat{Pos: p.pos(), Text: w[1]}
}

// compileUniqueID compiles a proxy's unique-id-format as HAProxy 2.6's
// check_config_validity() does: an HTTP log format (fetches written
// URL-style, no '-' for an empty value), whose fetches of the client's
// bytes get a warning, and whose fetches must be valid where the request
// headers would be read (be_name needs the backend capability).
func (p *parser) compileUniqueID(px *Proxy) {
	lf := px.uifText
	if lf == nil {
		return
	}
	file, line := p.file, p.line
	p.file, p.line = lf.Pos.File, lf.Pos.Line
	p.lfCtx, p.lfProxy = lfUniqueID, px
	nodes, err := p.parseLogFormat(lf.Text, px.Mode == ModeHTTP)
	p.lfCtx, p.lfProxy = lfLog, nil
	p.file, p.line = file, line
	if err != nil {
		p.report(&Error{Pos: lf.Pos, Phase: PhaseCheck, Style: StyleCapital,
			Msg: fmt.Sprintf("failed to parse unique-id : %s.", err)})
		return
	}
	p.resolveFetchArgs(px, lf.Pos, "in unique-id-format string in", nodes)
	px.UniqueIDFormat = &LogFormat{Pos: lf.Pos, Text: lf.Text, Nodes: nodes}
}

// lfFetchUsable checks that a fetch may be used where the log format
// being compiled is: HAProxy's message, or "" when it may (a warning for
// the fetches of the client's bytes in a unique-id-format). rest is the
// format from the fetch on, as HAProxy prints it.
func (p *parser) lfFetchUsable(name string, _ []string, rest string) string {
	switch p.lfCtx {
	case lfLog:
		if src, ok := l6Fetches[name]; ok {
			return fmt.Sprintf("sample fetch <%s> may not be reliably used here because it needs '%s' which is not available here", rest, src)
		}
	case lfUniqueID:
		if name == "be_name" && p.lfProxy != nil && p.lfProxy.Cap&CapBackend == 0 {
			return fmt.Sprintf("sample fetch <%s> may not be reliably used here because it needs 'backend' which is not available here", rest)
		}
		if _, ok := l6Fetches[name]; ok {
			p.report(&Error{Pos: p.pos(), Sev: SevWarning, Phase: PhaseCheck, Style: StyleKeyword,
				Msg: fmt.Sprintf("L6 sample fetch <%s> ignored in HTTP log-format string.", rest)})
		}
	}
	return ""
}
