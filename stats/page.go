package stats

import (
	"bytes"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"goproxy/parser"
)

// HAProxy's answers for the requests the page refuses.
const (
	unauthorizedBody = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"
	forbiddenBody    = "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n"
)

// Page serves HAProxy's HTTP statistics page of one frontend ("stats
// enable" and friends): the HTML report, its ;csv and ;json exports, and,
// with "stats admin", the form that changes servers' states through the
// same Admin API as the CLI. It also evaluates the frontend's http-request
// allow/deny/auth rules; metrics, when not nil, answers the
// prometheus-exporter rule of the same frontend.
type Page struct {
	px      *parser.Proxy
	st      *parser.StatsPage
	src     Source
	env     *condEnv
	metrics http.Handler
}

// NewPage prepares the page of px; userlists are the configuration's, for
// http_auth().
func NewPage(px *parser.Proxy, userlists []*parser.Userlist, src Source, metrics http.Handler) *Page {
	return &Page{px: px, st: px.Stats, src: src, env: newCondEnv(px, userlists), metrics: metrics}
}

func (pg *Page) uri() string {
	if pg.st != nil && pg.st.URI != "" {
		return pg.st.URI
	}
	return parser.DefaultStatsURI
}

func (pg *Page) realm() string {
	if pg.st != nil && pg.st.Realm != "" {
		return pg.st.Realm
	}
	return parser.DefaultStatsRealm
}

// request gathers what the conditions look at.
func request(r *http.Request) *httpReq {
	q := &httpReq{path: r.URL.Path}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		q.src = ap
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(la.String()); err == nil {
			q.dst = ap
		}
	}
	q.user, q.pass, q.hasAuth = r.BasicAuth()
	return q
}

func writeError(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", "text/html")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func writeAuth(w http.ResponseWriter, realm string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(realm, `"`, `\"`)+`"`)
	writeError(w, http.StatusUnauthorized, unauthorizedBody)
}

// verdict of a rule list.
type verdict int

const (
	vContinue verdict = iota // no rule stopped the list
	vAllow                   // allow: stop evaluating, go on serving
	vDone                    // a response was written
)

// runRules evaluates rules in order as HAProxy's http-request rules.
func (pg *Page) runRules(rules []*parser.HTTPRule, w http.ResponseWriter, q *httpReq, defRealm string) verdict {
	for _, rule := range rules {
		if !pg.env.eval(rule.Cond, q) {
			continue
		}
		switch rule.Action {
		case "allow":
			return vAllow
		case "deny":
			code := rule.Status
			if code == 0 {
				code = http.StatusForbidden
			}
			if code == http.StatusForbidden {
				writeError(w, code, forbiddenBody)
			} else {
				writeError(w, code, "<html><body><h1>"+strconv.Itoa(code)+" "+http.StatusText(code)+"</h1>\n</body></html>\n")
			}
			return vDone
		case "auth":
			realm := rule.Realm
			if realm == "" {
				realm = defRealm
			}
			writeAuth(w, realm)
			return vDone
		}
	}
	return vContinue
}

// ServeHTTP answers one request as HAProxy's HTTP frontend would: the
// http-request rules (the exporter's among them), then the statistics page
// when the URI starts with its prefix, else HAProxy's 503 page.
func (pg *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := request(r)
	defRealm := pg.px.Name
	if pg.st != nil && pg.st.Realm != "" {
		defRealm = pg.st.Realm
	}
	rules := pg.px.HTTPRules
	split := 0
	if pg.px.PromExporter {
		split = min(pg.px.PromRule, len(rules))
	}
	v := pg.runRules(rules[:split], w, q, defRealm)
	if v == vDone {
		return
	}
	if v == vContinue && pg.px.PromExporter && pg.metrics != nil &&
		(pg.px.PromPath == "" || r.URL.Path == pg.px.PromPath) {
		pg.metrics.ServeHTTP(w, r)
		return
	}
	if v == vContinue && pg.runRules(rules[split:], w, q, defRealm) == vDone {
		return
	}
	uri := r.RequestURI
	if i := strings.Index(uri, "://"); i >= 0 { // absolute form
		if j := strings.IndexByte(uri[i+3:], '/'); j >= 0 {
			uri = uri[i+3+j:]
		} else {
			uri = "/"
		}
	}
	if pg.st == nil || !strings.HasPrefix(uri, pg.uri()) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(noServerBody))
		return
	}
	if pg.runRules(pg.st.Rules, w, q, pg.realm()) == vDone {
		return
	}
	if len(pg.st.Users) > 0 && !pg.statsUser(q) {
		writeAuth(w, pg.realm())
		return
	}
	admin := pg.st.Admin != nil && pg.env.eval(pg.st.Admin, q)
	opts := parsePageOptions(uri[len(pg.uri()):])
	// ;norefresh means something (and is kept in links) only when the page
	// refreshes.
	opts.noRefresh = opts.noRefresh && pg.st.Refresh > 0
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		pg.serveGet(w, r, opts, admin)
	case http.MethodPost:
		pg.servePost(w, r, opts, admin)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeError(w, http.StatusMethodNotAllowed, "<html><body><h1>405 Method Not Allowed</h1>\n</body></html>\n")
	}
}

// statsUser reports whether the request carries one of the "stats auth"
// accounts.
func (pg *Page) statsUser(q *httpReq) bool {
	if !q.hasAuth {
		return false
	}
	for _, u := range pg.st.Users {
		if u.Name == q.user && u.Password == q.pass {
			return true
		}
	}
	return false
}

// pageOptions are the ";word" options after the page's URI prefix.
type pageOptions struct {
	up, noRefresh, csv, json bool
	status                   string // ;st=<code> after an admin action
	scope                    string // scope=<text> from the page's form
}

func parsePageOptions(s string) pageOptions {
	var o pageOptions
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '?' || r == '&' }) {
		switch {
		case part == "up":
			o.up = true
		case part == "norefresh":
			o.noRefresh = true
		case part == "csv":
			o.csv = true
		case part == "json":
			o.json = true
		case strings.HasPrefix(part, "st="):
			o.status = part[3:]
		case strings.HasPrefix(part, "scope="):
			o.scope = part[6:]
			if len(o.scope) > 20 {
				o.scope = o.scope[:20]
			}
		}
	}
	return o
}

// suffix renders the options that links and redirects keep.
func (o pageOptions) suffix() string {
	s := ""
	if o.up {
		s += ";up"
	}
	if o.noRefresh {
		s += ";norefresh"
	}
	if o.scope != "" {
		s += ";scope=" + o.scope
	}
	return s
}

// rows returns the rows the page shows: the proxies of "stats scope" (all
// when unset) whose name contains the form's scope text.
func (pg *Page) rows(o pageOptions) []Row {
	rows := pg.src.Stats()
	if len(pg.st.Scope) == 0 && o.scope == "" {
		return rows
	}
	out := rows[:0:0]
	for _, r := range rows {
		if pg.inScope(r.Proxy) && (o.scope == "" || strings.Contains(strings.ToLower(r.Proxy), strings.ToLower(o.scope))) {
			out = append(out, r)
		}
	}
	return out
}

func (pg *Page) inScope(name string) bool {
	if len(pg.st.Scope) == 0 {
		return true
	}
	for _, s := range pg.st.Scope {
		if s == name || (s == "." && name == pg.px.Name) {
			return true
		}
	}
	return false
}

func (pg *Page) serveGet(w http.ResponseWriter, r *http.Request, o pageOptions, admin bool) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	if pg.st.Refresh > 0 && !o.noRefresh {
		h.Set("Refresh", strconv.Itoa(int(pg.st.Refresh.Seconds())))
	}
	var b bytes.Buffer
	switch {
	case o.csv || o.json:
		so := statOptions{hideDown: o.up}
		ct := "text/plain"
		if o.json {
			so.format = fmtJSON
			ct = "application/json"
		}
		renderStat(&b, pg.rows(o), &so, pg.st.ShowLegends || admin)
		h.Set("Content-Type", ct)
	default:
		pg.renderHTML(&b, o, admin)
		h.Set("Content-Type", "text/html")
	}
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}
