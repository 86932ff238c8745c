package parser

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// globalKeywords are the keywords goproxy implements in the global section.
var globalKeywords = map[string]func(p *parser, w []string, mod kwMod){
	"log":               (*parser).globalLog,
	"localpeer":         (*parser).globalLocalPeer,
	"log-send-hostname": (*parser).globalLogSendHostname,
	"log-tag":           (*parser).globalLogTag,
	"maxconn":           (*parser).globalMaxConn,
	"maxconnrate":       (*parser).globalMaxConnRate,
	"daemon":            (*parser).globalDaemon,
	"master-worker":     (*parser).globalMasterWorker,
	"nbthread":          (*parser).globalNbThread,
	"pidfile":           (*parser).globalPidFile,
	"stats":             (*parser).globalStats,
	"hard-stop-after":   (*parser).globalHardStopAfter,
	"nbproc":            (*parser).globalNbproc,
	"setenv":            (*parser).globalEnv,
	"presetenv":         (*parser).globalEnv,
	"unsetenv":          (*parser).globalEnv,
	"resetenv":          (*parser).globalEnv,
	"ulimit-n":          (*parser).globalUlimitN,
	"zero-warning":      (*parser).globalZeroWarning,
	"strict-limits":     (*parser).globalStrictLimits,
	"spread-checks":     (*parser).globalSpreadChecks,
	"max-spread-checks": (*parser).globalMaxSpreadChecks,
	"tune.maxaccept":    (*parser).globalTuneMaxAccept,
	"server-state-file": (*parser).globalServerStateFile,
	"server-state-base": (*parser).globalServerStateBase,
	"session-handoff":   (*parser).globalSessionHandoff,
	"grace":             (*parser).globalGrace,
	"close-spread-time": (*parser).globalCloseSpreadTime,
	"uid":               (*parser).globalUID,
	"gid":               (*parser).globalGID,
	"user":              (*parser).globalUser,
	"group":             (*parser).globalGroup,
	"chroot":            (*parser).globalChroot,
	"node":              (*parser).globalNode,
	"description":       (*parser).globalDescription,
}

func (p *parser) globalNode(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	v := argAt(w, 1)
	ok := v != ""
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isAlpha(c) && !isDigit(c) && c != '.' && c != '-' && c != '_' {
			ok = false
		}
	}
	if !ok {
		p.alertStyle(StyleLine, "'%s' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_).", w[0])
		return
	}
	p.cfg.Global.Node = v
}

func (p *parser) globalDescription(w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alertStyle(StyleLine, "'%s' expects a string argument.", w[0])
		return
	}
	p.cfg.Global.Description = strings.Join(w[1:], " ")
}

func (p *parser) globalKeyword(w []string, mod kwMod) {
	kw := w[0]
	if fn, ok := globalKeywords[kw]; ok {
		fn(p, w, mod)
		return
	}
	if reason, ok := unsupportedGlobal(kw); ok {
		p.alert("'%s' is not supported by goproxy (%s).", kw, reason)
		return
	}
	msg := fmt.Sprintf("unknown keyword '%s' in 'global' section", kw)
	if s := bestMatch(kw, globalCandidates()); s != "" {
		msg += fmt.Sprintf("; did you mean '%s' maybe ?", s)
	}
	p.alert("%s", msg)
}

// globalCandidates lists every global keyword HAProxy knows, for "did you
// mean" suggestions.
func globalCandidates() []string {
	out := append([]string(nil), sectionKeywords...)
	for k := range globalKeywords {
		out = append(out, k)
	}
	return append(out, knownGlobalKeywords...)
}

func (p *parser) globalLog(w []string, mod kwMod) {
	g := &p.cfg.Global
	if mod == modNo {
		g.Logs = nil
		return
	}
	t, ok := p.parseLogTarget(w, false)
	if ok {
		g.Logs = append(g.Logs, t)
	}
}

func (p *parser) globalLogSendHostname(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	name := argAt(w, 1)
	if name == "" {
		name = "hostname" // resolved by the logger
	}
	p.cfg.Global.LogSendHostname = name
}

func (p *parser) globalLogTag(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects a tag for use in syslog.", w[0])
		return
	}
	p.cfg.Global.LogTag = w[1]
}

func (p *parser) globalMaxConn(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if p.cfg.Global.MaxConnSet {
		p.nonFatalAlert("'%s' already specified. Continuing.", w[0])
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects an integer argument.", w[0])
		return
	}
	p.cfg.Global.MaxConn = atol(w[1])
	p.cfg.Global.MaxConnSet = p.cfg.Global.MaxConn != 0
}

func (p *parser) globalDaemon(w []string, _ kwMod) {
	if p.tooManyArgs(w, 0) {
		return
	}
	p.cfg.Global.Daemon = true
}

// globalSessionHandoff is a goproxy extension (HAProxy rejects it: write
// it inside ".if feature(GOPROXY)"): on a -sf reload the old process hands
// its established sessions to the new one instead of keeping them.
func (p *parser) globalSessionHandoff(w []string, _ kwMod) {
	if p.tooManyArgs(w, 0) {
		return
	}
	p.cfg.Global.SessionHandoff = true
}

// globalMasterWorker is "master-worker [no-exit-on-failure]", the -W of
// the configuration.
func (p *parser) globalMasterWorker(w []string, _ kwMod) {
	if len(w) > 1 {
		if w[1] != "no-exit-on-failure" {
			p.alert("'%s' only supports 'no-exit-on-failure' option.", w[0])
			return
		}
		p.cfg.Global.NoExitOnFailure = true
	}
	p.cfg.Global.MasterWorker = true
}

func (p *parser) globalNbThread(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	n, ok := strictInt(argAt(w, 1))
	if !ok {
		p.alert("'%s' passed a missing or unparsable integer value in '%s'", w[0], argAt(w, 1))
		return
	}
	if n < 1 || n > 64 {
		p.alert("'%s' value must be between 1 and 64 (was %d)", w[0], n)
		return
	}
	p.cfg.Global.NbThread = n
}

func (p *parser) globalPidFile(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects a file name as an argument.", w[0])
		return
	}
	p.cfg.Global.PidFile = w[1]
}

func (p *parser) globalStats(w []string, _ kwMod) {
	g := &p.cfg.Global
	switch argAt(w, 1) {
	case "socket":
		if argAt(w, 2) == "" {
			p.alert("'%s %s' in global section expects an address or a path to a UNIX socket", w[0], w[1])
			return
		}
		addrs, msg := p.addrCtx(useStats).parseList(w[2])
		if msg != "" {
			p.alert("parsing [%s:%d] : '%s %s' : %s\n", p.file, p.line, w[0], w[1], msg)
			return
		}
		for _, a := range addrs {
			if a.Family != FamilyFD {
				continue
			}
			if m := checkFD(a.FD); m != "" {
				p.alert("parsing [%s:%d] : '%s %s' : %s\n", p.file, p.line, w[0], w[1], m)
				return
			}
		}
		var opts BindOptions
		if !p.parseBindOptions(w[:3], w[3:], &opts, true) {
			return
		}
		for _, a := range addrs {
			g.StatsSockets = append(g.StatsSockets, StatsSocket{Pos: p.pos(), Addr: a, BindOptions: opts})
		}
	case "timeout":
		if p.tooManyArgs(w[1:], 1) {
			return
		}
		d, _, err := ParseTime(argAt(w, 2))
		if err != nil {
			te := err.(*timeError)
			c := te.char
			if te.kind == "empty" {
				p.alert("'%s %s' : unexpected character '\x00'", w[0], w[1])
				return
			}
			if te.kind != "char" {
				p.alert("'%s %s' : %s", w[0], w[1], te.Error())
				return
			}
			p.alert("'%s %s' : unexpected character '%c'", w[0], w[1], c)
			return
		}
		if d == 0 {
			p.alert("'%s %s' expects a positive value", w[0], w[1])
			return
		}
		g.StatsTimeout = d
	case "maxconn":
		if p.tooManyArgs(w[1:], 1) {
			return
		}
		n := atol(argAt(w, 2))
		if n <= 0 {
			p.alert("'%s %s' expects a positive value", w[0], w[1])
			return
		}
		g.StatsMaxConn = n
	case "bind-process":
		p.statsBindProcess(w)
	default:
		p.alert("'%s' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '%s')", w[0], argAt(w, 1))
	}
}

// globalNbproc refuses nbproc with HAProxy 2.6's alert.
func (p *parser) globalNbproc(_ []string, _ kwMod) {
	p.alert("nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.")
}

func (p *parser) globalHardStopAfter(w []string, _ kwMod) {
	if d, ok := p.globalTime(w); ok {
		p.cfg.Global.HardStopAfter = d
	}
}

// globalGrace is "grace <time>": after SIGUSR1 the listeners keep
// accepting for that long before the soft stop proceeds.
func (p *parser) globalGrace(w []string, _ kwMod) {
	if d, ok := p.globalTime(w); ok {
		p.cfg.Global.Grace = d
	}
}

// globalCloseSpreadTime is "close-spread-time <time>|infinite": the window
// over which a soft stop closes idle and HTTP connections. A TCP session
// is never closed by a soft stop, so it is checked and has no effect.
func (p *parser) globalCloseSpreadTime(w []string, _ kwMod) {
	if argAt(w, 1) == "infinite" {
		return
	}
	p.globalTime(w)
}

// globalTime parses the <time> argument of a global keyword with HAProxy's
// messages.
func (p *parser) globalTime(w []string) (time.Duration, bool) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects <time> as argument.\n", w[0])
		return 0, false
	}
	d, _, err := ParseTime(w[1])
	if err != nil {
		te := err.(*timeError)
		switch te.kind {
		case "char":
			p.alert("unexpected character '%c' in argument to <%s>.\n", te.char, w[0])
		default:
			p.alert("%s in argument to <%s> (maximum value is 2147483647 ms or ~24.8 days).\n", te.Error(), w[0])
		}
		return 0, false
	}
	return d, true
}

func (p *parser) globalUlimitN(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if p.cfg.Global.UlimitN != 0 {
		p.nonFatalAlert("'%s' already specified. Continuing.", w[0])
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects an integer argument.", w[0])
		return
	}
	p.cfg.Global.UlimitN = atol(w[1])
}

func (p *parser) globalZeroWarning(w []string, _ kwMod) {
	if p.tooManyArgs(w, 0) {
		return
	}
	p.cfg.Global.ZeroWarning = true
}

func (p *parser) globalStrictLimits(w []string, mod kwMod) {
	if p.tooManyArgs(w, 0) {
		return
	}
	p.cfg.Global.StrictLimits = mod != modNo
	p.cfg.Global.StrictLimitsSet = true
}

func (p *parser) globalSpreadChecks(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alertStyle(StyleLine, "'%s' expects an integer argument (0..50).", w[0])
		return
	}
	n := atol(w[1])
	if n < 0 || n > 50 {
		p.alertStyle(StyleLine, "'%s' needs a positive value in range 0..50.", w[0])
		return
	}
	p.cfg.Global.SpreadChecks = n
}

// globalMaxSpreadChecks is "max-spread-checks <delay>": the upper bound of
// the window over which the first checks are spread (milliseconds unless
// a unit is given; 0 keeps the default, the shortest check interval).
func (p *parser) globalMaxSpreadChecks(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	v := argAt(w, 1)
	if v == "" {
		p.alertStyle(StyleLine, "'%s' expects an integer argument (0..50).", w[0])
		return
	}
	d, trailing, err := ParseTime(v)
	if err != nil {
		te := err.(*timeError)
		switch te.kind {
		case "overflow":
			p.alertStyle(StyleLine, "timer overflow in argument <%s> to <%s>, maximum value is 2147483647 ms (~24.8 days).", v, w[0])
		case "underflow":
			p.alertStyle(StyleLine, "timer underflow in argument <%s> to <%s>, minimum non-null value is 1 ms.", v, w[0])
		default:
			p.alertStyle(StyleLine, "unsupported character '%c' in '%s' (wants an integer delay).", te.char, w[0])
		}
		return
	}
	if trailing != "" {
		p.report(&Error{Sev: SevWarning, Phase: PhaseParse, Msg: fmt.Sprintf("unexpected character '%c' after the timer value '%s', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.", trailing[0], v)})
	}
	p.cfg.Global.MaxSpreadChecks = d
}

// globalTuneMaxAccept is "tune.maxaccept <n>": how many connections a
// listener accepts in a row before the loop serves other work (-1: no
// limit; 0 or absent: goproxy's default, 64).
func (p *parser) globalTuneMaxAccept(w []string, mod kwMod) {
	p.globalTuneInt(w, mod)
	if v, ok := p.tuneInts[w[0]]; ok {
		p.cfg.Global.TuneMaxAccept = v
	}
}

// logFacilities are syslog facility names in code order.
var logFacilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

// logLevels are syslog level names in code order.
var logLevels = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// parseLogTarget parses "log <target> [len N] [format F] [sample R:S]
// <facility> [<level> [<minlevel>]]". inProxy changes nothing but messages.
func (p *parser) parseLogTarget(w []string, inProxy bool) (LogTarget, bool) {
	t := LogTarget{Pos: p.pos(), Level: 7, Format: "rfc3164"}
	args := w[1:]
	if len(args) < 2 {
		p.alert("log : expects <address> and <facility>  as arguments")
		return t, false
	}
	target := args[0]
	args = args[1:]
	for len(args) > 0 {
		switch args[0] {
		case "len":
			if len(args) < 2 || atol(args[1]) <= 0 {
				p.alert("log : invalid log length '%s'", argAt(args, 1))
				return t, false
			}
			t.Len = atol(args[1])
			args = args[2:]
			continue
		case "format":
			if len(args) < 2 {
				p.alert("log : missing log format")
				return t, false
			}
			switch args[1] {
			case "rfc3164", "rfc5424", "short", "raw":
			case "iso", "timed", "priority", "local":
				p.alert("'log ... format %s' is not supported by goproxy (use rfc3164, rfc5424, short or raw).", args[1])
				return t, false
			default:
				p.alert("log : unknown log format '%s'", args[1])
				return t, false
			}
			t.Format = args[1]
			args = args[2:]
			continue
		case "sample":
			if msg := parseLogSample(&t, argAt(args, 1)); msg != "" {
				p.alert("log : %s", msg)
				return t, false
			}
			args = args[2:]
			continue
		}
		break
	}
	if len(args) == 0 {
		p.alert("log : expects <address> and <facility>  as arguments")
		return t, false
	}
	switch {
	case target == "stdout" || target == "stderr":
		t.Stream = target
	case strings.HasPrefix(target, "ring@"):
		p.alert("'log ring@' is not supported by goproxy (ring buffers are not implemented).")
		return t, false
	case strings.HasPrefix(target, "fd@"):
		n, err := strconv.Atoi(target[3:])
		if err != nil || n < 0 {
			p.alert("log : invalid address '%s'", target)
			return t, false
		}
		switch n {
		case 1:
			t.Stream = "stdout"
		case 2:
			t.Stream = "stderr"
		default:
			p.alert("'log fd@%d' is not supported by goproxy (only fd@1 and fd@2).", n)
			return t, false
		}
	default:
		a, port, msg := p.addrCtx(useLog).split(target)
		if msg != "" {
			p.alert("log : %s", msg)
			return t, false
		}
		if a.Family == FamilyTCP4 || a.Family == FamilyTCP6 {
			a.Port = 514
			if port != "" {
				n, err := strconv.Atoi(port)
				if err != nil || n < 1 || n > 65535 {
					p.alert("log : invalid port '%s' in '%s'", port, target)
					return t, false
				}
				a.Port = n
			}
			if a.Host == "" {
				// As HAProxy's str2sa_range(): no host is the any
				// address, which a datagram reaches as the local host
				// (VTest's "log ${S1_addr}:${S1_port}" before S1 exists).
				a.Host = "0.0.0.0"
				if a.Family == FamilyTCP6 {
					a.Host = "::"
				}
			}
		}
		t.Addr = a
	}
	fac := indexOf(logFacilities, args[0])
	if fac < 0 {
		p.alert("log : unknown log facility '%s'", args[0])
		return t, false
	}
	t.Facility = fac
	if len(args) > 1 {
		lvl := indexOf(logLevels, args[1])
		if lvl < 0 {
			p.alert("log : unknown optional log level '%s'", args[1])
			return t, false
		}
		t.Level = lvl
	}
	if len(args) > 2 {
		lvl := indexOf(logLevels, args[2])
		if lvl < 0 {
			p.alert("log : unknown optional minimum log level '%s'", args[2])
			return t, false
		}
		t.MinLevel = lvl
	}
	if len(args) > 3 {
		p.alert("log : too many arguments")
		return t, false
	}
	return t, true
}

func (p *parser) globalMaxConnRate(w []string, _ kwMod) {
	if p.cfg.Global.MaxConnRate != 0 {
		p.nonFatalAlert("'%s' already specified. Continuing.", w[0])
		return
	}
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects an integer argument.", w[0])
		return
	}
	p.cfg.Global.MaxConnRate = atol(w[1])
}
