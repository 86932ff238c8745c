package parser

import "fmt"

// boolOption is an "option X" that sets a flag; caps is where it means
// something, negatable whether "no option X" is allowed (HAProxy's "(*)").
type boolOption struct {
	caps      Cap
	negatable bool
	field     func(o *ProxyOptions) *bool
}

var boolOptions = map[string]boolOption{
	"dontlognull":         {inF, true, func(o *ProxyOptions) *bool { return &o.DontLogNull }},
	"tcplog":              {inF | inB, false, func(o *ProxyOptions) *bool { return &o.TCPLog }},
	"tcpka":               {inF | inB, false, func(o *ProxyOptions) *bool { return &o.TCPKA }},
	"clitcpka":            {inF, true, func(o *ProxyOptions) *bool { return &o.CliTCPKA }},
	"srvtcpka":            {inB, true, func(o *ProxyOptions) *bool { return &o.SrvTCPKA }},
	"splice-auto":         {inF | inB, true, func(o *ProxyOptions) *bool { return &o.SpliceAuto }},
	"allbackups":          {inB, true, func(o *ProxyOptions) *bool { return &o.AllBackups }},
	"socket-stats":        {inF, true, func(o *ProxyOptions) *bool { return &o.SocketStats }},
	"abortonclose":        {inB, true, func(o *ProxyOptions) *bool { return &o.AbortOnClose }},
	"dontlog-normal":      {inF, true, func(o *ProxyOptions) *bool { return &o.DontLogNormal }},
	"log-separate-errors": {inF, true, func(o *ProxyOptions) *bool { return &o.LogSeparateErrors }},
	"logasap":             {inF, true, func(o *ProxyOptions) *bool { return &o.LogASAP }},
	"log-health-checks":   {inB, true, func(o *ProxyOptions) *bool { return &o.LogHealthChecks }},
}

func (p *parser) kwOption(px *Proxy, w []string, mod kwMod) {
	name := argAt(w, 1)
	if name == "" {
		p.alertStyle(StyleLine, "'%s' expects an option name.", w[0])
		return
	}
	isDefaults := px.Cap&CapDefaults != 0
	ignoredCap := func(caps Cap) bool {
		if isDefaults || px.Cap&caps != 0 {
			return false
		}
		p.warn("'%s' ignored because %s '%s' has no %s capability.", name, px.Kind, px.Name, otherCapName(caps))
		return true
	}
	if bo, ok := boolOptions[name]; ok {
		if mod != modNone && !bo.negatable {
			p.alertStyle(StyleLine, "negation/default is not supported for option '%s'.", name)
			return
		}
		if p.tooManyArgsOpt(w, 0) {
			return
		}
		if ignoredCap(bo.caps) {
			return
		}
		if name == "tcplog" && !isDefaults && px.Cap&CapFrontend == 0 {
			p.warn("%s '%s' : 'option %s' directive is ignored in backends.", px.Kind, px.Name, name)
		}
		if name == "tcplog" {
			p.logFormatOption(px, name, w)
			return
		}
		v := mod == modNone
		if mod == modDefault {
			v = false
		}
		if name == "splice-auto" && v {
			p.warn("'option splice-auto' has no effect in goproxy: its event loop copies through a per-loop buffer and never splices.")
		}
		*bo.field(&px.Options) = v
		return
	}
	switch name {
	case "redispatch":
		if ignoredCap(inB) {
			return
		}
		if p.tooManyArgsOpt(w, 1) {
			return
		}
		px.Options.Redispatch = mod == modNone
		px.Options.RedispatchInterval = -1
		if argAt(w, 2) != "" {
			px.Options.RedispatchInterval = atol(w[2])
		}
		return
	case "tcp-check":
		if mod != modNone {
			p.alertStyle(StyleLine, "negation/default is not supported for option '%s'.", name)
			return
		}
		if p.tooManyArgsOpt(w, 0) {
			return
		}
		if ignoredCap(inB) {
			return
		}
		px.CheckKind = CheckTCP
		return
	case "httplog", "httpslog":
		max := 0
		if name == "httplog" {
			max = 1
		}
		if p.tooManyArgsOpt(w, max) {
			return
		}
		if !isDefaults && px.Cap&CapFrontend == 0 {
			p.warn("%s '%s' : 'option %s' directive is ignored in backends.", px.Kind, px.Name, name)
		}
		p.logFormatOption(px, name, w)
		return
	}
	if name == "httpchk" {
		p.optionHTTPChk(px, w, mod, ignoredCap)
		return
	}
	if p.kwHTTPOption(px, w, mod, ignoredCap) {
		return
	}
	if kind, ok := protocolChecks[name]; ok {
		if mod != modNone {
			p.alertStyle(StyleLine, "negation/default is not supported for option '%s'.", name)
			return
		}
		if ignoredCap(inB) {
			return
		}
		args, ok := p.protocolCheckArgs(name, w)
		if !ok {
			return
		}
		px.CheckKind = kind
		px.CheckArgs = args
		return
	}
	if reason, ok := notYetOptions[name]; ok {
		p.alert("'option %s' is not supported by goproxy (%s).", name, reason)
		return
	}
	msg := fmt.Sprintf("unknown option '%s'.", name)
	if s := bestMatch(name, knownOptions); s != "" {
		msg = fmt.Sprintf("unknown option '%s'; did you mean '%s' maybe ?", name, s)
	}
	p.alert("%s", msg)
}

// protocolChecks are the "option X-check" health checks of HAProxy.
var protocolChecks = map[string]CheckKind{
	"redis-check":   CheckRedis,
	"mysql-check":   CheckMySQL,
	"pgsql-check":   CheckPgSQL,
	"smtpchk":       CheckSMTP,
	"ldap-check":    CheckLDAP,
	"ssl-hello-chk": CheckSSLHello,
}

// protocolCheckArgs parses the arguments of a protocol check option.
func (p *parser) protocolCheckArgs(name string, w []string) (CheckArgs, bool) {
	var a CheckArgs
	switch name {
	case "mysql-check":
		switch argAt(w, 2) {
		case "":
			return a, true
		case "user":
		default:
			p.alert("'%s %s' only supports optional values: 'user' (got '%s').", w[0], name, w[2])
			return a, false
		}
		if argAt(w, 3) == "" {
			p.alert("'%s %s %s' expects <username> as argument.", w[0], name, w[2])
			return a, false
		}
		a.User = w[3]
		switch argAt(w, 4) {
		case "", "post-41":
			a.Post41 = true
		case "pre-41":
			a.Pre41 = true
		default:
			p.alert("'%s %s %s' only supports optional values: 'post-41' and 'pre-41' (got '%s').", w[0], name, w[2], w[4])
			return a, false
		}
		if p.tooManyArgsOpt(w, 3) {
			return a, false
		}
	case "pgsql-check":
		if argAt(w, 2) != "user" || argAt(w, 3) == "" {
			p.alert("'%s %s' expects 'user <username>' as argument.", w[0], name)
			return a, false
		}
		a.User = w[3]
		if p.tooManyArgsOpt(w, 2) {
			return a, false
		}
	case "smtpchk":
		verb, domain := argAt(w, 2), argAt(w, 3)
		if (verb == "HELO" || verb == "EHLO") && domain != "" {
			a.Verb, a.Domain = verb, domain
		}
		if p.tooManyArgsOpt(w, 2) {
			return a, false
		}
	default:
		if p.tooManyArgsOpt(w, 0) {
			return a, false
		}
	}
	return a, true
}
