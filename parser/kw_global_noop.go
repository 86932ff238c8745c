package parser

import (
	"fmt"
	"strings"
)

// Global keywords goproxy accepts and does not act on: they tune HAProxy's
// internals (buffers, pipes, pollers, the TLS session cache and DH
// parameters: Go's TLS has no DHE and resumes sessions with tickets), so
// they change nothing observable. The TLS defaults and bases are applied
// (kw_ssl_global.go).
// Their arguments are checked as HAProxy checks them, so a file HAProxy
// rejects is rejected here too. README.md lists them under "Accepted, no
// effect in goproxy".

func init() {
	for k, fn := range map[string]func(p *parser, w []string, mod kwMod){
		"tune.ssl.default-dh-param":        (*parser).globalTuneInt,
		"tune.ssl.cachesize":               (*parser).globalTuneInt,
		"tune.ssl.lifetime":                (*parser).globalTuneSSLLifetime,
		"tune.bufsize":                     (*parser).globalTuneInt,
		"tune.maxrewrite":                  (*parser).globalTuneInt,
		"tune.maxpollevents":               (*parser).globalTuneInt,
		"tune.http.maxhdr":                 (*parser).globalTuneInt,
		"maxpipes":                         (*parser).globalTuneInt,
		"tune.idle-pool.shared":            (*parser).globalTuneOnOff,
		"tune.ssl.capture-buffer-size":     (*parser).globalTuneSSLCapture,
		"tune.ssl.capture-cipherlist-size": (*parser).globalTuneSSLCapture,
	} {
		globalKeywords[k] = fn
	}
}

// NoEffectGlobals lists the global keywords accepted without effect, for
// documentation and tests.
func NoEffectGlobals() []string {
	return []string{"maxpipes", "tune.http.maxhdr", "tune.idle-pool.shared", "tune.ssl.capture-buffer-size",
		"tune.maxpollevents", "tune.ssl.cachesize",
		"tune.ssl.default-dh-param", "tune.ssl.lifetime"}
}

// globalTuneSSLCapture checks tune.ssl.capture-buffer-size (and its
// deprecated name), the ClientHello capture of the ssl_fc_cipherlist_*
// fetches, which goproxy does not have: set once, a number >= 0.
func (p *parser) globalTuneSSLCapture(w []string, _ kwMod) {
	if w[0] == "tune.ssl.capture-cipherlist-size" {
		p.report(&Error{Pos: p.pos(), Sev: SevWarning, Phase: PhaseParse, Style: StyleLine,
			Msg: fmt.Sprintf("'%s' is deprecated and will be removed in version 2.7. Please use 'tune.ssl.capture-buffer-size' instead.", w[0])})
	}
	if p.tooManyArgs(w, 1) {
		return
	}
	switch {
	case argAt(w, 1) == "":
		p.alert("'%s' expects an integer argument.", w[0])
	case atol(w[1]) < 0:
		p.alert("'%s' expects a positive numeric value.", w[0])
	case p.sslCaptureSet:
		p.alert("'%s' is already configured.", w[0])
	default:
		p.sslCaptureSet = true
	}
}

// globalTuneOnOff checks an "on"/"off" tuning keyword.
func (p *parser) globalTuneOnOff(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if v := argAt(w, 1); v != "on" && v != "off" {
		p.alert("'%s' expects either 'on' or 'off' but got '%s'.", w[0], v)
	}
}

func (p *parser) globalBaseDir(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alert("global statement '%s' expects a directory path as an argument.", w[0])
		return
	}
	if p.baseDirs == nil {
		p.baseDirs = map[string]bool{}
	}
	if p.baseDirs[w[0]] {
		p.alert("'%s' already specified.", w[0])
		return
	}
	p.baseDirs[w[0]] = true
}

func (p *parser) globalSSLServerVerify(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	switch argAt(w, 1) {
	case "none", "required":
	case "":
		p.alert("'%s' expects an integer argument.", w[0])
	default:
		p.alert("'%s' expects 'none' or 'required' as argument.", w[0])
	}
}

func (p *parser) globalCiphers(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		what := "a cipher suite as an argument"
		if w[0] == "ssl-default-bind-curves" {
			what = "a curves suite as an arguments"
		}
		p.alert("global statement '%s' expects %s.", w[0], what)
	}
}

// sslVersions are the names of ssl-min-ver and ssl-max-ver.
var sslVersions = map[string]bool{"SSLv3": true, "TLSv1.0": true, "TLSv1.1": true, "TLSv1.2": true, "TLSv1.3": true}

func (p *parser) globalSSLOptions(w []string, _ kwMod) {
	if len(w) < 2 || w[1] == "" {
		p.alert("global statement '%s' expects an option as an argument.", w[0])
		return
	}
	bind := w[0] == "ssl-default-bind-options"
	for i := 1; i < len(w); i++ {
		o := w[i]
		switch {
		case o == "no-tls-tickets":
		case o == "prefer-client-ciphers" && bind:
		case o == "ssl-min-ver" || o == "ssl-max-ver":
			if i+1 >= len(w) || w[i+1] == "" {
				p.alert("'%s' : missing the ssl/tls version on global statement '%s'.", o, w[0])
				return
			}
			i++
			if !sslVersions[w[i]] {
				p.alert("'%s' : unknown ssl/tls version on global statement '%s'.", w[i], w[0])
				return
			}
		case sslMethodOption(o):
		default:
			p.alert("unknown option '%s' on global statement '%s'.", o, w[0])
			return
		}
	}
}

// sslMethodOption is HAProxy's parse_tls_method_options(): no-sslv3,
// force-tlsv12 and the like.
func sslMethodOption(o string) bool {
	m, ok := strings.CutPrefix(o, "no-")
	if !ok {
		m, ok = strings.CutPrefix(o, "force-")
	}
	if !ok {
		return false
	}
	switch m {
	case "sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13":
		return true
	}
	return false
}

// globalTuneInt checks the integer argument of a tuning keyword with
// HAProxy's bounds and messages (atol: "abc" is 0).
func (p *parser) globalTuneInt(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects an integer argument.", w[0])
		return
	}
	n := atol(w[1])
	if p.tuneRepeated(w[0], n) {
		return
	}
	switch w[0] {
	case "tune.bufsize":
		if n <= 0 {
			p.alert("'%s' expects a positive integer argument.", w[0])
			return
		}
		p.cfg.Global.TuneBufSize = int(min(n, maxTuneBufSize))
	case "tune.maxrewrite":
		v := int(max(min(n, maxTuneBufSize), 0))
		p.cfg.Global.TuneMaxRewrite = &v
	case "tune.ssl.default-dh-param":
		if n < 1024 {
			p.alert("'%s' expects a value >= 1024.", w[0])
		}
	case "tune.ssl.cachesize":
		if n < 0 {
			p.alert("'%s' expects a positive numeric value.", w[0])
		}
	case "tune.http.maxhdr":
		if n < 1 || n > 32767 {
			p.alert("'%s' expects a numeric value between 1 and 32767", w[0])
		}
	}
}

// onceTuneInts are the tuning keywords whose later occurrences HAProxy
// ignores with a non-fatal alert once a non-zero value is set.
var onceTuneInts = map[string]bool{"tune.maxaccept": true, "tune.maxpollevents": true, "maxpipes": true}

// tuneRepeated reports, with HAProxy's non-fatal alert, a keyword of
// onceTuneInts already set to a non-zero value; otherwise it records n.
func (p *parser) tuneRepeated(kw string, n int) bool {
	if !onceTuneInts[kw] {
		return false
	}
	if p.tuneInts[kw] != 0 {
		p.nonFatalAlert("'%s' already specified. Continuing.", kw)
		return true
	}
	if p.tuneInts == nil {
		p.tuneInts = map[string]int{}
	}
	p.tuneInts[kw] = n
	return false
}

func (p *parser) globalTuneSSLLifetime(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects ssl sessions <lifetime> in seconds as argument.", w[0])
		return
	}
	if _, _, err := ParseTime(w[1]); err != nil {
		if te, ok := err.(*timeError); ok && te.kind == "char" {
			p.alert("unexpected character '%c' in argument to <%s>.", te.char, w[0])
			return
		}
		p.alert("'%s' : %s", w[0], err)
	}
}
