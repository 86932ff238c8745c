package parser

import (
	"fmt"
	"os"
	"strings"
)

// HTTP keywords in TCP proxies.
//
// HAProxy parses and validates HTTP keywords wherever they are allowed,
// whatever the mode, and decides once the proxy's mode is known
// (check_config_validity): a proxy that ends up in TCP mode drops them,
// with a warning for some ("'option forwardfor' ignored for frontend 'fe'
// as it requires HTTP mode.") and silently for others (errorfile,
// http-reuse, compression, timeout http-request, option http-server-close).
// goproxy does the same: this is what lets a file with "defaults mode http"
// and TCP frontends below it, as Debian ships and Kubernetes guides write,
// load unchanged. A proxy that really ends up in HTTP mode is rejected by
// validate, except the Prometheus exporter frontend.

// httpOnlyOption is an "option X" that only HTTP proxies act on; caps are
// the proxies HAProxy warns for when they are in TCP mode.
type httpOnlyOption struct {
	name string
	caps Cap
}

// httpOnlyOptions are in the order HAProxy 2.6 prints its warnings:
// forwardfor and originalto, then its cfg_opts and cfg_opts2 tables.
var httpOnlyOptions = []httpOnlyOption{
	{"forwardfor", inF | inB},
	{"originalto", inF | inB},
	{"checkcache", inB},
	{"http-buffer-request", inF | inB},
	{"http-ignore-probes", inF},
	{"idle-close-on-response", inF},
	{"prefer-last-server", inB},
	{"accept-invalid-http-request", inF},
	{"accept-invalid-http-response", inB},
	{"http-use-proxy-header", inF},
	{"http-pretend-keepalive", inB},
	{"http-no-delay", inF | inB},
	{"disable-h2-upgrade", inF},
}

func httpOnlyOptionIndex(name string) int {
	for i, o := range httpOnlyOptions {
		if o.name == name {
			return i
		}
	}
	return -1
}

// httpModeOptions are HAProxy's PR_O_HTTP_MODE options: they choose how an
// HTTP connection is kept alive, and a TCP proxy drops them silently.
var httpModeOptions = map[string]bool{"httpclose": true, "http-server-close": true, "http-keep-alive": true}

// silentHTTPOptions are HTTP options a TCP proxy drops without a word.
var silentHTTPOptions = map[string]Cap{"h1-case-adjust-bogus-client": inF, "h1-case-adjust-bogus-server": inB}

// kwHTTPOption parses an HTTP-only option; it reports whether name is one.
func (p *parser) kwHTTPOption(px *Proxy, w []string, mod kwMod, ignoredCap func(Cap) bool) bool {
	name := w[1]
	if httpModeOptions[name] {
		if ignoredCap(inF | inB) {
			return true
		}
		p.tooManyArgsOpt(w, 0)
		return true
	}
	if caps, ok := silentHTTPOptions[name]; ok {
		if !p.tooManyArgsOpt(w, 0) {
			ignoredCap(caps)
		}
		return true
	}
	if name == "http-restrict-req-hdr-names" {
		if ignoredCap(inF | inB) {
			return true
		}
		switch v := argAt(w, 2); v {
		case "preserve", "delete", "reject":
			p.tooManyArgsOpt(w, 1)
		case "":
			p.alert("missing parameter. option '%s' expects 'preserve', 'reject' or 'delete' option.", name)
		default:
			p.alert("invalid parameter '%s'. option '%s' expects 'preserve', 'reject' or 'delete' option.", v, name)
		}
		return true
	}
	i := httpOnlyOptionIndex(name)
	if i < 0 {
		return false
	}
	switch name {
	case "forwardfor", "originalto":
		if mod != modNone {
			p.alertStyle(StyleLine, "negation/default is not supported for option '%s'.", name)
			return true
		}
		if ignoredCap(inF | inB) {
			return true
		}
		if !p.forwardForArgs(name, w) {
			return true
		}
	default:
		if p.tooManyArgsOpt(w, 0) {
			return true
		}
		if ignoredCap(httpOnlyOptions[i].caps) {
			return true
		}
	}
	if mod == modNone {
		px.httpOpts |= 1 << i
	} else {
		px.httpOpts &^= 1 << i
	}
	return true
}

// forwardForArgs checks "option forwardfor [except <net>] [header <name>]
// [if-none]" and "option originalto [except <net>] [header <name>]".
func (p *parser) forwardForArgs(name string, w []string) bool {
	only := "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'."
	if name == "originalto" {
		only = "'option originalto' only supports optional values: 'except' and 'header'."
	}
	for i := 2; i < len(w); i++ {
		switch w[i] {
		case "except":
			if i+1 >= len(w) || !validNet(w[i+1]) {
				p.alert("'%s %s %s' expects <address>[/mask] as argument.", w[0], name, w[i])
				return false
			}
			i++
		case "header":
			if i+1 >= len(w) || w[i+1] == "" {
				p.alert("'%s %s %s' expects <header_name> as argument.", w[0], name, w[i])
				return false
			}
			i++
		case "if-none":
			if name == "forwardfor" {
				continue
			}
			p.alert("%s", only)
			return false
		default:
			p.alert("%s", only)
			return false
		}
	}
	return true
}

// validNet accepts what HAProxy's str2net() does for these options: an
// IPv4 or IPv6 address with an optional mask.
func validNet(s string) bool {
	addr, mask, _ := strings.Cut(s, "/")
	if addr == "" {
		return false
	}
	if _, ok := parseIPv4Loose(addr); !ok && !strings.Contains(addr, ":") {
		return false
	}
	if mask == "" {
		return true
	}
	if _, ok := strictInt(mask); ok {
		return true
	}
	_, ok := parseIPv4Loose(mask)
	return ok
}

// parseIPv4Loose accepts a dotted IPv4 address of up to four parts.
func parseIPv4Loose(s string) (int, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, false
	}
	for _, part := range parts {
		n, ok := strictInt(part)
		if !ok || n > 255 {
			return 0, false
		}
	}
	return len(parts), true
}

// logFormatOption handles option tcplog/httplog/httpslog: the log format
// of a frontend. In a defaults section HAProxy warns when one replaces
// another; in a TCP proxy the HTTP formats fall back to tcplog (validate).
func (p *parser) logFormatOption(px *Proxy, name string, w []string) {
	label := "option " + name
	if name == "httplog" && argAt(w, 2) == "clf" {
		label = "option httplog clf"
	}
	if px.Cap&CapDefaults != 0 && px.logFmt != "" {
		// HAProxy names httpslog "option httplog" as the new format.
		newLabel := label
		if name == "httpslog" {
			newLabel = "option httplog"
		}
		p.report(&Error{Pos: p.pos(), Sev: SevWarning, Phase: PhaseParse, Style: StyleLine,
			Msg: fmt.Sprintf("'%s' overrides previous '%s' in 'defaults' section.", newLabel, px.logFmt)})
	}
	px.logFmt = label
	px.logFmtPos = p.pos()
	px.lfText = nil
	px.Options.TCPLog = true
}

// httpTimeouts are the HTTP timeouts of HAProxy: valid in frontends and
// backends, used only in HTTP mode.
var httpTimeouts = map[string]bool{"http-request": true, "http-keep-alive": true, "tarpit": true}

// errorfileCodes are the status codes HAProxy 2.6 accepts in errorfile.
var errorfileCodes = map[string]bool{"200": true, "400": true, "401": true, "403": true, "404": true,
	"405": true, "407": true, "408": true, "410": true, "413": true, "425": true, "429": true,
	"500": true, "501": true, "502": true, "503": true, "504": true}

// kwErrorfile parses "errorfile <code> <file>": HAProxy reads the file at
// parse time, so a missing one is an error even in a TCP proxy, where the
// response is never sent.
func (p *parser) kwErrorfile(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" || argAt(w, 2) == "" {
		p.alert("%s : expects <status_code> and <file> as arguments.\n", w[0])
		return
	}
	if !errorfileCodes[w[1]] {
		p.alert("%s : status code '%s' not handled.", w[0], w[1])
		return
	}
	f, err := os.Open(w[2])
	if err != nil {
		p.alert("%s : error opening file '%s'.", w[0], w[2])
		return
	}
	f.Close()
}

func (p *parser) kwHTTPReuse(px *Proxy, w []string, _ kwMod) {
	switch argAt(w, 1) {
	case "never", "safe", "aggressive", "always":
	default:
		p.alert("'%s' only supports 'never', 'safe', 'aggressive', 'always'.", w[0])
		return
	}
	p.tooManyArgs(w, 1)
}

func (p *parser) kwCompression(px *Proxy, w []string, _ kwMod) {
	switch argAt(w, 1) {
	case "algo":
		if argAt(w, 2) == "" {
			p.alert("'%s' expects <algorithm>.", w[0])
			return
		}
		for _, a := range w[2:] {
			switch a {
			case "identity", "gzip", "deflate", "raw-deflate":
			default:
				p.alert("'%s' : '%s' is not a supported algorithm.", w[0], a)
				return
			}
		}
	case "type":
		if argAt(w, 2) == "" {
			p.alert("'%s' expects <type>.", w[0])
			return
		}
	case "offload":
		if px.Cap&CapDefaults != 0 {
			p.alert("'%s offload' ignored in defaults section.", w[0])
			return
		}
	default:
		p.alert("'%s' expects 'algo', 'type' or 'offload'", w[0])
	}
}

// httpActions are the actions of HAProxy 2.6's http-request,
// http-response and http-after-response rules. goproxy checks the action
// name only: a TCP proxy never runs these rules.
var httpActions = map[string]bool{}

func init() {
	for _, a := range strings.Fields(`add-acl add-header allow auth cache-use
	cache-store capture del-acl del-header del-map deny disable-l7-retry
	do-resolve early-hint normalize-uri redirect reject replace-header
	replace-path replace-pathq replace-uri replace-value return sc-inc-gpc
	sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt0 send-spoe-group set-bandwidth-limit
	set-dst set-dst-port set-header set-log-level set-map set-mark set-method
	set-nice set-path set-pathq set-priority-class set-priority-offset
	set-query set-src set-src-port set-status set-timeout set-tos set-uri
	set-var set-var-fmt silent-drop strict-mode tarpit track-sc0 track-sc1
	track-sc2 unset-var use-service wait-for-body wait-for-handshake
	set-retries lua`) {
		httpActions[a] = true
	}
}

// kwHTTPRule parses http-request, http-response and http-after-response.
// The one rule goproxy serves is the Prometheus exporter of an HTTP
// frontend; any other rule is kept only to be dropped, as HAProxy drops it,
// when its proxy ends up in TCP mode (validate rejects HTTP proxies).
func (p *parser) kwHTTPRule(px *Proxy, w []string, mod kwMod) {
	if px.Cap&CapDefaults != 0 && px.Name == "" {
		p.alert("'%s' not allowed in anonymous 'defaults' section.", w[0])
		return
	}
	if w[0] == "http-request" && px.Cap&CapFrontend != 0 &&
		(px.Mode == ModeHTTP || (argAt(w, 1) == "use-service" && argAt(w, 2) == "prometheus-exporter")) {
		// An HTTP frontend's rules: the exporter, the statistics
		// page's allow, deny and auth.
		p.kwHTTPRequest(px, w, mod)
		return
	}
	action := argAt(w, 1)
	base, _, _ := strings.Cut(action, "(")
	if !httpActions[base] {
		p.alert("'%s %s' is not supported by goproxy: unknown action (goproxy knows HAProxy 2.6's action names only, to drop them in TCP mode).", w[0], action)
		return
	}
	px.logFmtPos = p.pos()
	if px.Cap&CapDefaults != 0 {
		px.hasRules = true
		return
	}
	for _, k := range px.httpRules {
		if k == w[0] {
			return
		}
	}
	px.httpRules = append(px.httpRules, w[0])
}

// validateHTTPInTCP prints HAProxy's warnings for the HTTP settings of a
// proxy in TCP mode, after the other checks of the proxy, in HAProxy's
// order.
func (p *parser) validateHTTPInTCP(px *Proxy) {
	if px.cookie && px.Cap&CapBackend != 0 {
		p.checkWarn("cookie will be ignored for %s '%s' (needs 'mode http').", typeName(px), px.Name)
	}
	defer func() {
		if px.Cap&CapBackend == 0 {
			return
		}
		for _, s := range px.Servers {
			if s.cookie != "" {
				p.checkWarn("%s '%s' : ignoring cookie for server '%s' as HTTP mode is disabled.", typeName(px), px.Name, s.Name)
			}
		}
	}()
	for _, kind := range []string{"http-request", "http-response", "http-after-response"} {
		for _, k := range px.httpRules {
			if k == kind {
				p.checkWarn("'%s' rules ignored for %s '%s' as they require HTTP mode.", kind, typeName(px), px.Name)
			}
		}
	}
	for i, o := range httpOnlyOptions {
		if px.httpOpts&(1<<i) != 0 && px.Cap&o.caps != 0 {
			p.checkWarn("'option %s' ignored for %s '%s' as it requires HTTP mode.", o.name, typeName(px), px.Name)
		}
	}
	px.httpOpts = 0
}

// validateHTTPLog is HAProxy's fallback of an HTTP log format in a TCP
// proxy, printed first among the proxy's checks.
func (p *parser) validateHTTPLog(px *Proxy) {
	if px.logFmt == "" || px.logFmt == "option tcplog" || px.logFmt == "log-format" {
		return
	}
	name := "option httplog"
	if px.logFmt == "option httpslog" {
		name = "option httpslog"
	}
	p.report(&Error{Pos: px.logFmtPos, Sev: SevWarning, Phase: PhaseCheck,
		Msg: fmt.Sprintf("'%s' not usable with %s '%s' (needs 'mode http'). Falling back to 'option tcplog'.", name, typeName(px), px.Name)})
}

func (p *parser) kwErrorloc(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" || argAt(w, 2) == "" {
		p.alert("%s : expects <status_code> and <url> as arguments.\n", w[0])
		return
	}
	if !errorfileCodes[w[1]] {
		p.alert("%s : status code '%s' not handled.", w[0], w[1])
	}
}

func (p *parser) kwMonitorURI(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' expects an URI.", w[0])
		return
	}
	if p.tooManyArgs(w, 1) {
		return
	}
	px.monitorURI = true
}

func (p *parser) kwMaxKeepAliveQueue(px *Proxy, w []string, _ kwMod) {
	if px.Cap&CapDefaults == 0 && px.Cap&CapBackend == 0 {
		p.warn("%s will be ignored because %s '%s' has no backend capability", w[0], px.Kind, px.Name)
		return
	}
	v := argAt(w, 1)
	if v == "" {
		p.alert("'%s' expects expects an integer value (or -1 to disable)", w[0])
		return
	}
	digits := strings.TrimPrefix(v, "-")
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			p.alert("'%s' : unexpected character '%c' in integer value '%s'", w[0], digits[i], v)
			return
		}
	}
}

// retryOnKeywords are the conditions of HAProxy 2.6's retry-on.
var retryOnKeywords = map[string]bool{"none": true, "conn-failure": true, "empty-response": true,
	"junk-response": true, "response-timeout": true, "0rtt-rejected": true, "all-retryable-errors": true,
	"401": true, "403": true, "404": true, "408": true, "425": true, "500": true, "501": true,
	"502": true, "503": true, "504": true}

func (p *parser) kwRetryOn(px *Proxy, w []string, _ kwMod) {
	if px.Cap&CapBackend == 0 {
		p.alert("'%s' only available in backend or listen section", w[0])
		return
	}
	if len(w) < 2 || w[1] == "" {
		p.alert("'%s' needs at least one keyword to specify when to retry", w[0])
		return
	}
	for _, k := range w[1:] {
		if !retryOnKeywords[k] {
			p.alert("'%s': unknown keyword '%s'", w[0], k)
			return
		}
		if k == "none" && len(w) > 2 {
			p.alert("'%s' 'none' keyworld only usable alone", w[0])
			return
		}
	}
}

func (p *parser) kwHTTPSendNameHeader(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("'%s' requires a header string.", w[0])
	}
}

func (p *parser) kwUniqueIDHeader(px *Proxy, w []string, _ kwMod) {
	if argAt(w, 1) == "" {
		p.alert("%s expects an argument.", w[0])
	}
}
