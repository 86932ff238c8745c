package parser

import (
	"fmt"
	"strings"
	"time"
)

// kwMod is a keyword modifier: "no" or "default" before the keyword.
type kwMod int

const (
	modNone kwMod = iota
	modNo
	modDefault
)

// sectionKeywords are the words that open a section.
var sectionKeywords = []string{"global", "defaults", "frontend", "backend", "listen",
	"peers", "resolvers", "userlist", "mailers", "program", "http-errors", "ring",
	"log-forward", "cache", "crt-store", "traces", "acme"}

// unsupportedSections are HAProxy sections goproxy does not implement.
var unsupportedSections = map[string]string{
	"mailers":     "email alerts are not implemented",
	"http-errors": "HTTP mode only",
	"ring":        "ring buffers are not implemented",
	"log-forward": "syslog forwarding is not implemented",
	"cache":       "HTTP mode only",
	"crt-store":   "TLS is not implemented",
	"traces":      "not implemented",
	"acme":        "TLS is not implemented",
}

// statement handles one non-directive line.
func (p *parser) statement(words []string) {
	mod := modNone
	switch words[0] {
	case "no":
		mod = modNo
		words = words[1:]
	case "default":
		mod = modDefault
		words = words[1:]
	}
	if mod != modNone {
		if len(words) == 0 {
			words = []string{""}
		}
		switch words[0] {
		case "option", "log", "busy-polling", "set-dumpable", "strict-limits",
			"insecure-fork-wanted", "numa-cpu-mapping":
		default:
			p.alertStyle(StyleLine, "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.")
			if words[0] == "" {
				return
			}
		}
	}
	if p.isSectionKeyword(words[0]) {
		p.endSection()
		p.beginSection(words)
		return
	}
	switch p.sect {
	case secNone:
		p.alertStyle(StyleLine, "unknown keyword '%s' out of section.", words[0])
	case secUnsupported:
		// The section header was rejected already.
	case secGlobal:
		p.globalKeyword(words, mod)
	case secProxy:
		p.proxyKeyword(words, mod)
	case secUserlist:
		p.userlistKeyword(words)
	case secProgram:
		p.programKeyword(words, mod)
	case secResolvers:
		p.resolversKeyword(words)
	case secPeers:
		p.peersKeyword(words, mod)
	}
}

func (p *parser) isSectionKeyword(w string) bool {
	for _, s := range sectionKeywords {
		if s == w {
			return true
		}
	}
	return false
}

// endSection closes the current section.
func (p *parser) endSection() {
	p.cur = nil
	p.curUserlist = nil
	p.curProgram = nil
	p.curResolvers = nil
	p.peers.cur = nil
}

// beginSection opens a section from its header line.
func (p *parser) beginSection(words []string) {
	name := words[0]
	p.secTag = name
	if len(words) > 1 && words[1] != "" {
		p.secTag = words[1]
	}
	if reason, ok := unsupportedSections[name]; ok {
		p.alert("'%s' section is not supported by goproxy (%s).", name, reason)
		p.sect = secUnsupported
		return
	}
	if name == "userlist" {
		p.sect = secUserlist
		p.beginUserlist(words)
		return
	}
	if name == "program" {
		p.sect = secProgram
		p.beginProgram(words)
		return
	}
	if name == "resolvers" {
		p.sect = secResolvers
		p.beginResolvers(words)
		return
	}
	if name == "peers" {
		p.sect = secPeers
		p.beginPeers(words)
		return
	}
	if name == "global" {
		p.sect = secGlobal
		p.globalSeen = true
		return
	}
	p.sect = secProxy
	p.beginProxy(words)
}

// proxyKinds maps a section keyword to its capabilities.
var proxyKinds = map[string]Cap{
	"frontend": CapFrontend,
	"backend":  CapBackend,
	"listen":   CapFrontend | CapBackend,
	"defaults": CapDefaults | CapFrontend | CapBackend,
}

// capName is HAProxy's proxy_cap_str().
func capName(c Cap) string {
	switch {
	case c&CapDefaults != 0:
		return "defaults"
	case c&(CapFrontend|CapBackend) == CapFrontend|CapBackend:
		return "listen"
	case c&CapFrontend != 0:
		return "frontend"
	case c&CapBackend != 0:
		return "backend"
	}
	return "proxy"
}

// invalidNameChar returns the first character not allowed in a proxy name.
func invalidNameChar(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '.' || c == ':' {
			continue
		}
		return c, true
	}
	return 0, false
}

func (p *parser) beginProxy(words []string) {
	kind := words[0]
	caps := proxyKinds[kind]
	arg := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	isDefaults := caps&CapDefaults != 0
	name := arg(1)
	if !isDefaults {
		if name == "" {
			// HAProxy aborts loading here (ERR_ABORT).
			p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf("'%s' expects an <id> argument", kind), Phase: PhaseAbort})
			p.fileTrailer(p.file)
			p.abort = true
			return
		}
		if c, bad := invalidNameChar(name); bad {
			p.alert("character '%c' is not permitted in '%s' name '%s'.", c, kind, name)
		}
		for _, other := range p.cfg.Proxies {
			if other.Name == name && other.Cap&caps != 0 {
				p.alertStyle(StyleCapital, "%s '%s' has the same name as %s '%s' declared at %s:%d.",
					capName(caps), name, capName(other.Cap), other.Name, other.File, other.Line)
				break
			}
		}
		if (arg(2) != "" && (arg(3) == "" || arg(2) != "from")) || len(words) > 4 {
			if len(words) > 4 {
				p.alert("'%s' cannot handle unexpected argument '%s'.", kind, words[4])
			}
			if caps&CapFrontend != 0 {
				p.alert("please use the 'bind' keyword for listening addresses.")
			}
			p.sect = secUnsupported
			return
		}
	}
	fromAt := 2
	if isDefaults && arg(1) == "from" && arg(2) != "" && arg(3) == "" {
		fromAt = 1
		name = ""
	}
	var parent *Proxy
	if !isDefaults {
		parent = p.lastDefaults
	}
	if arg(fromAt) == "from" {
		parent = nil
		for _, d := range p.defaults {
			if d.Name == arg(fromAt+1) {
				parent = d
			}
		}
		if parent == nil {
			p.alert("defaults section '%s' not found for %s '%s'.", arg(fromAt+1), capName(caps), name)
			p.sect = secUnsupported
			return
		}
		p.defRefs[parent] |= refExplicit
	} else if parent != nil {
		p.defRefs[parent] |= refImplicit
	}
	if parent != nil && p.defRefs[parent] == refExplicit|refImplicit {
		p.alert("defaults section '%s' (declared at %s:%d) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.",
			parent.Name, parent.File, parent.Line)
	}
	px := newProxy(parent)
	px.Pos = p.pos()
	px.Kind = kind
	px.Name = name
	px.Cap = caps
	if parent != nil && caps&CapBackend != 0 {
		// Only proxies with the backend capability inherit it, as in HAProxy.
		px.LoadServerState = parent.LoadServerState
	}
	if arg(fromAt) == "from" {
		px.From = arg(fromAt + 1)
	}
	if parent != nil {
		// Every proxy inherits unique-id-format (only a frontend's is used).
		px.uifText = parent.uifText
	}
	if parent != nil && caps&CapFrontend != 0 {
		// HAProxy copies the log format to frontends only.
		px.logFmt, px.logFmtPos = parent.logFmt, parent.logFmtPos
		px.lfText, px.lfsdText, px.elfText = parent.lfText, parent.lfsdText, parent.elfText
		px.monitorURI = parent.monitorURI
	}
	if parent != nil && parent.hasRules && !p.checkRulesParent(parent, caps) {
		return
	}
	p.cur = px
	if isDefaults {
		p.defaults = append(p.defaults, px)
		p.lastDefaults = px
		return
	}
	p.cfg.Proxies = append(p.cfg.Proxies, px)
}

// checkRulesParent applies HAProxy's limits on a defaults section that
// defines TCP/HTTP rules: only frontends, or only backends, may use it.
// Breaking them aborts loading, as in HAProxy.
func (p *parser) checkRulesParent(parent *Proxy, caps Cap) bool {
	both := CapFrontend | CapBackend
	switch {
	case caps&CapDefaults != 0:
		p.abortf("a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at %s:%d).", parent.File, parent.Line)
	case caps&both == both:
		p.abortf("a listen section cannot inherit from a defaults section defining TCP/HTTP rules.")
	case parent.rulesCap != 0 && parent.rulesCap != caps&both:
		p.abortf("frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at %s:%d).", parent.File, parent.Line)
	case caps&CapFrontend == 0 && len(parent.TCPReqConn)+len(parent.TCPReqSession) > 0:
		p.abortf("a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules (defaults section at %s:%d).", parent.File, parent.Line)
	default:
		parent.rulesCap = caps & both
		return true
	}
	p.sect = secUnsupported
	return false
}

// newProxy returns a proxy initialised from its defaults section, or with
// HAProxy's built-in defaults.
func newProxy(def *Proxy) *Proxy {
	if def == nil {
		return &Proxy{
			Mode:      ModeTCP,
			Retries:   3,
			Balance:   Balance{Algo: "roundrobin"},
			DefServer: defaultServerParams(),
			Options:   ProxyOptions{RedispatchInterval: -1},
		}
	}
	px := &Proxy{
		Mode:           def.Mode,
		DefaultBackend: def.DefaultBackend,
		DefaultBackPos: def.DefaultBackPos,
		InspectDelay:   def.InspectDelay,
		Balance:        def.Balance,
		HashType:       def.HashType,
		DefServer:      def.DefServer,
		Options:        def.Options,
		LogTag:         def.LogTag,
		Retries:        def.Retries,
		Timeouts:       def.Timeouts,
		LogGlobal:      def.LogGlobal,
		MaxConn:        def.MaxConn,
		FullConn:       def.FullConn,
		CheckKind:      def.CheckKind,
		CheckArgs:      def.CheckArgs,
	}
	px.DefServer.InitAddr = append([]string(nil), def.DefServer.InitAddr...)
	px.Logs = append([]LogTarget(nil), def.Logs...)
	px.TCPChecks = append([]*TCPCheckRule(nil), def.TCPChecks...)
	px.inheritedChecks = len(def.TCPChecks) > 0
	px.HTTPCheck = def.HTTPCheck
	px.HTTPCheck.Headers = append([]HTTPHeader(nil), def.HTTPCheck.Headers...)
	px.HTTPChecks = append([]*HTTPCheckRule(nil), def.HTTPChecks...)
	px.modePos = def.modePos
	px.httpOpts = def.httpOpts
	px.cookie = def.cookie
	// tcp-request rules and ACLs of a named defaults section apply to the
	// proxies that use it.
	px.TCPReqConn = append([]*TCPRule(nil), def.TCPReqConn...)
	px.TCPReqSession = append([]*TCPRule(nil), def.TCPReqSession...)
	px.TCPReqContent = append([]*TCPRule(nil), def.TCPReqContent...)
	px.ACLs = append([]*ACL(nil), def.ACLs...)
	px.Stats, px.statsInherited = def.Stats, def.Stats != nil
	return px
}

// defaultServerParams are HAProxy's built-in server defaults.
func defaultServerParams() ServerParams {
	return ServerParams{
		Inter:  DefaultInter,
		Rise:   2,
		Fall:   3,
		Weight: 1,
	}
}

// defaultGlobal are HAProxy's built-in global settings.
func defaultGlobal() Global {
	return Global{
		StatsTimeout: 10 * time.Second,
		StatsMaxConn: 10,
		StrictLimits: true,
	}
}

// sectionLabel is how HAProxy names the current section in messages.
func (p *parser) sectionLabel() string {
	if p.sect == secGlobal {
		return "global"
	}
	if p.cur != nil {
		return p.cur.Kind
	}
	return "proxy"
}

// tooManyArgs reports HAProxy's "cannot handle unexpected argument" error.
func (p *parser) tooManyArgs(words []string, max int) bool {
	if len(words) > max+1 {
		p.alert("'%s' cannot handle unexpected argument '%s'.", words[0], words[max+1])
		return true
	}
	return false
}

// tooManyArgsOpt is the same for "option X" keywords.
func (p *parser) tooManyArgsOpt(words []string, max int) bool {
	if len(words) > max+2 {
		p.alert("'%s %s' cannot handle unexpected argument '%s'.", words[0], words[1], words[max+2])
		return true
	}
	return false
}

func joinWords(w []string) string { return strings.Join(w, " ") }
