package stats

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

const pageCfg = `userlist ops
    user alice password $5$xx$K4Uxsnk8bpaONhN5L2jLNKMZmQ3Xc3oySu4iQtX.r07 groups admins
    user bob insecure-password secret
    group admins
listen stats
    mode http
    bind 127.0.0.1:8404
    timeout client 5s
    stats enable
    stats uri /st
    stats realm My\ Stats
    stats auth a:b
    stats refresh 5s
    stats show-legends
    stats admin if LOCALHOST
    http-request use-service prometheus-exporter if { path /metrics }
listen opsonly
    mode http
    bind 127.0.0.1:8405
    timeout client 5s
    acl is_admin http_auth_group(ops) admins
    stats enable
    stats admin if is_admin
    http-request auth realm Ops unless { http_auth(ops) }
`

func newTestPage(t *testing.T, which int) (*Page, *fakeSource) {
	t.Helper()
	cfg, err := parser.Parse("p.cfg", pageCfg, parser.Options{})
	if err != nil {
		t.Fatalf("%v", err)
	}
	src := newFakeSource()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "metrics\n") })
	return NewPage(cfg.Proxies[which], cfg.Userlists, src, metrics), src
}

type pageReq struct {
	method, uri, user, pass, body, remote string
}

func (pg *Page) do(t *testing.T, q pageReq) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	if q.method == "" {
		q.method = http.MethodGet
	}
	r := httptest.NewRequest(q.method, q.uri, body)
	r.RemoteAddr = "127.0.0.1:40000"
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	if q.body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if q.user != "" {
		r.SetBasicAuth(q.user, q.pass)
	}
	w := httptest.NewRecorder()
	pg.ServeHTTP(w, r)
	return w
}

func TestPageAuth(t *testing.T) {
	pg, _ := newTestPage(t, 0)
	w := pg.do(t, pageReq{uri: "/st"})
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Basic realm="My Stats"` || w.Body.String() != unauthorizedBody {
		t.Fatalf("no credentials: %d %q %q", w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	}
	if w := pg.do(t, pageReq{uri: "/st", user: "a", pass: "x"}); w.Code != 401 {
		t.Errorf("bad password: %d", w.Code)
	}
	w = pg.do(t, pageReq{uri: "/st", user: "a", pass: "b"})
	if w.Code != 200 || w.Header().Get("Refresh") != "5" || w.Header().Get("Content-Type") != "text/html" {
		t.Fatalf("good credentials: %d %v", w.Code, w.Header())
	}
	if w := pg.do(t, pageReq{uri: "/st;norefresh", user: "a", pass: "b"}); w.Header().Get("Refresh") != "" {
		t.Errorf(";norefresh still refreshes")
	}
	// Elsewhere: HAProxy's 503 page; the exporter's path: the metrics.
	if w := pg.do(t, pageReq{uri: "/other"}); w.Code != 503 || w.Body.String() != noServerBody {
		t.Errorf("/other: %d %q", w.Code, w.Body.String())
	}
	if w := pg.do(t, pageReq{uri: "/metrics"}); w.Code != 200 || w.Body.String() != "metrics\n" {
		t.Errorf("/metrics: %d %q", w.Code, w.Body.String())
	}
}

func TestPageUserlistAuth(t *testing.T) {
	pg, _ := newTestPage(t, 1)
	w := pg.do(t, pageReq{uri: "/haproxy?stats"})
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Basic realm="Ops"` {
		t.Fatalf("no credentials: %d %v", w.Code, w.Header())
	}
	for _, c := range []struct {
		user, pass string
		code       int
		admin      bool
	}{
		{"alice", "pw", 200, true}, // SHA-256 crypt
		{"alice", "bad", 401, false},
		{"bob", "secret", 200, false}, // insecure-password, not in admins
		{"carol", "secret", 401, false},
	} {
		w := pg.do(t, pageReq{uri: "/haproxy?stats", user: c.user, pass: c.pass})
		if w.Code != c.code {
			t.Errorf("%s:%s: %d, want %d", c.user, c.pass, w.Code, c.code)
			continue
		}
		if got := strings.Contains(w.Body.String(), `<select name=action>`); c.code == 200 && got != c.admin {
			t.Errorf("%s: admin form shown = %v, want %v", c.user, got, c.admin)
		}
	}
}

func TestPageHTML(t *testing.T) {
	pg, src := newTestPage(t, 0)
	src.rows[1].Server.Admin |= srvstate.AdminForcedMaint // server1 in MAINT
	src.rows[2].Server.Backup = true
	body := pg.do(t, pageReq{uri: "/st", user: "a", pass: "b"}).Body.String()
	for _, want := range []string{
		"<h1>HAProxy version", "Statistics Report for pid 12183",
		"<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th>" +
			"<th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th>",
		`<tr class="frontend">`, `<tr class="backend">`,
		`<tr class="maintain"><td><input class='persistent_connection_backend-checkbox' type="checkbox" name="s" value="server1">`,
		`<tr class="backup_up">`, `<tr class="active_down">`,
		`<input type="hidden" name="b" value="#3">`, `<option value="maint">Set state to MAINT</option>`,
		"IPv4: 127.0.0.1:19315, id: 1", ".maintain { background: #c07820; }",
		`<a href="/st;csv;norefresh">CSV export</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("page refers to an external resource")
	}
	// Every row has the 32 cells of the two header lines.
	cell := regexp.MustCompile(`<td[^>]*?(?: colspan=(\d+))?>`)
	for _, row := range regexp.MustCompile(`<tr class="(?:frontend|backend|active_\w+|backup_\w+|maintain)">.*?</tr>`).FindAllString(body, -1) {
		n := 0
		for _, m := range cell.FindAllStringSubmatch(row, -1) {
			if m[1] != "" {
				n += int(m[1][0]-'0') + 0
				continue
			}
			n++
		}
		if n != 32 {
			t.Errorf("row has %d cells, want 32: %.200s", n, row)
		}
	}
	// hide-version, show-node, show-desc.
	pg.st.HideVersion, pg.st.ShowNode, pg.st.ShowDesc, pg.st.Desc = true, true, true, "edge"
	body = pg.do(t, pageReq{uri: "/st", user: "a", pass: "b"}).Body.String()
	if strings.Contains(body, "version") || !strings.Contains(body, "Statistics Report for pid 12183 on vm: edge") {
		t.Errorf("hide-version/show-node/show-desc not applied:\n%.1500s", body)
	}
	// ;up hides the DOWN server.
	body = pg.do(t, pageReq{uri: "/st;up", user: "a", pass: "b"}).Body.String()
	if strings.Contains(body, `value="server3"`) || !strings.Contains(body, `value="server2"`) {
		t.Errorf(";up shows DOWN servers or hides UP ones")
	}
}

func TestPageCSVIsShowStat(t *testing.T) {
	pg, src := newTestPage(t, 0)
	srv := newTestServer(t, src)
	for _, c := range []struct{ uri, cmd, ct string }{
		{"/st;csv", "show stat", "text/plain"},
		{"/st;csv;norefresh", "show stat", "text/plain"},
		{"/st;up;csv", "show stat up", "text/plain"},
		{"/st;json", "show stat json", "application/json"},
	} {
		w := pg.do(t, pageReq{uri: c.uri, user: "a", pass: "b"})
		want := strings.TrimSuffix(run(srv, LevelAdmin, c.cmd), "\n")
		if w.Code != 200 || w.Header().Get("Content-Type") != c.ct {
			t.Errorf("%s: %d %v", c.uri, w.Code, w.Header())
		}
		if w.Body.String() != want {
			t.Errorf("%s differs from %s:\n%s\n---\n%s", c.uri, c.cmd, w.Body.String(), want)
		}
	}
}

func TestPageAdminPost(t *testing.T) {
	pg, src := newTestPage(t, 0)
	form := url.Values{"s": {"server1", "server2"}, "action": {"maint"}, "b": {"#3"}}.Encode()
	w := pg.do(t, pageReq{method: "POST", uri: "/st", user: "a", pass: "b", body: form})
	if w.Code != 303 || w.Header().Get("Location") != "/st;st=DONE" {
		t.Fatalf("POST: %d %v", w.Code, w.Header())
	}
	csv := pg.do(t, pageReq{uri: "/st;csv", user: "a", pass: "b"}).Body.String()
	for _, want := range []string{"persistent_connection_backend,server1,", "persistent_connection_backend,server2,"} {
		line := ""
		for _, l := range strings.Split(csv, "\n") {
			if strings.HasPrefix(l, want) {
				line = l
			}
		}
		if f := strings.Split(line, ","); len(f) < 18 || f[17] != "MAINT" {
			t.Errorf("%s status after POST: %q", want, line)
		}
	}
	if got := strings.Join(src.calls, ";"); got != "state persistent_connection_backend/server1;state persistent_connection_backend/server2" {
		t.Errorf("admin calls: %s", got)
	}
	// The banner of the redirect's target.
	body := pg.do(t, pageReq{uri: "/st;st=DONE", user: "a", pass: "b"}).Body.String()
	if !strings.Contains(body, "<div class=active_up>") || !strings.Contains(body, "Action processed successfully.") {
		t.Errorf("no DONE banner")
	}
	for _, c := range []struct{ form, want string }{
		{"s=nosuch&action=maint&b=%233", "/st;st=ERRP"},
		{"action=maint&b=%233", "/st;st=NONE"},
		{"s=server1&b=%233", "/st;st=NONE"},
		{"action=&b=%233", "/st;st=ERRP"},
		{"s=server1&action=maint&b=persistent_connection_backend", "/st;st=DONE"},
		{"s=server1&action=bogus&b=%233", "/st;st=ERRP"},
		{"s=server1&s=nosuch&action=ready&b=%233", "/st;st=PART"},
		{"s=server1&action=ready&b=%2399", "/st;st=ERRP"},
	} {
		w := pg.do(t, pageReq{method: "POST", uri: "/st", user: "a", pass: "b", body: c.form})
		if got := w.Header().Get("Location"); w.Code != 303 || got != c.want {
			t.Errorf("%s: %d %s, want %s", c.form, w.Code, got, c.want)
		}
	}
	// The redirect keeps ;up and ;norefresh after the code, as HAProxy's.
	w = pg.do(t, pageReq{method: "POST", uri: "/st;up;norefresh", user: "a", pass: "b", body: form})
	if got := w.Header().Get("Location"); got != "/st;st=DONE;up;norefresh" {
		t.Errorf("redirect from /st;up;norefresh: %s", got)
	}
	// Not admin (not from localhost): denied, nothing applied.
	src.calls = nil
	w = pg.do(t, pageReq{method: "POST", uri: "/st", user: "a", pass: "b", body: form, remote: "192.0.2.1:5000"})
	if w.Header().Get("Location") != "/st;st=DENY" || len(src.calls) != 0 {
		t.Errorf("non-admin POST: %v calls %v", w.Header(), src.calls)
	}
	body = pg.do(t, pageReq{uri: "/st", user: "a", pass: "b", remote: "192.0.2.1:5000"}).Body.String()
	if strings.Contains(body, "<form method=\"post\">") {
		t.Errorf("admin form shown to a non-admin client")
	}
}

func TestHumanTime(t *testing.T) {
	for in, want := range map[int64]string{-1: "?", 0: "0s", 3: "3s", 60: "1m", 75: "1m15s", 3600: "1h", 3725: "1h2m", 90061: "1d1h", 86400: "1d"} {
		if got := humanTime(in); got != want {
			t.Errorf("humanTime(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestHTTPFrontendRows(t *testing.T) {
	cfg, err := parser.Parse("p.cfg", strings.Replace(pageCfg, "127.0.0.1:8404", freeAddr(t), 1), parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := NewHTTPService(cfg, cfg.Proxies[0], newFakeSource(), nil)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := "http://" + e.lns[0].Addr().String()
	get(t, base+"/st")      // 401
	get(t, base+"/metrics") // 200
	get(t, base+"/nope")    // 503
	rows := e.Rows(1000)
	if len(rows) != 2 {
		t.Fatalf("rows: %+v", rows)
	}
	fe, be := rows[0], rows[1]
	if fe.Type != TypeFrontend || fe.Mode != "http" || fe.IID != 1 || fe.SLim != 1000 || fe.STot == 0 || fe.BIn == 0 || fe.BOut == 0 ||
		fe.HTTP.ReqTot != 3 || fe.HTTP.Rsp[1] != 1 || fe.HTTP.Rsp[3] != 1 || fe.HTTP.Rsp[4] != 1 || fe.HTTP.Intercepted != 2 {
		t.Errorf("frontend row: %+v", fe)
	}
	if be.Type != TypeBackend || be.SLim != 100 || be.Algo != "roundrobin" || be.LastSess < 0 {
		t.Errorf("backend row: %+v", be)
	}
	var b strings.Builder
	for _, r := range rows {
		c := cells{&r, &rowCtx{be: &beAgg{}}}
		b.WriteString(c.v("status") + "," + c.v("downtime") + "," + c.v("intercepted") + ";")
	}
	if b.String() != "OPEN,,2;UP,,;" {
		t.Errorf("status,downtime,intercepted = %s", b.String())
	}
}

func TestPageScopeAndRules(t *testing.T) {
	cfg, err := parser.Parse("p.cfg", `listen s
    mode http
    bind 127.0.0.1:8404
    timeout client 5s
    stats uri /
    stats scope persistent_connection_backend
    stats http-request deny if { src 10.0.0.0/8 }
    stats http-request allow if { src 192.0.2.0/24 }
    stats http-request auth realm Inner if !LOCALHOST
`, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pg := NewPage(cfg.Proxies[0], nil, newFakeSource(), nil)
	if w := pg.do(t, pageReq{uri: "/", remote: "10.1.2.3:1000"}); w.Code != 403 || w.Body.String() != forbiddenBody {
		t.Errorf("denied source: %d %q", w.Code, w.Body.String())
	}
	if w := pg.do(t, pageReq{uri: "/", remote: "198.51.100.1:1000"}); w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Basic realm="Inner"` {
		t.Errorf("auth rule: %d %v", w.Code, w.Header())
	}
	w := pg.do(t, pageReq{uri: "/;csv", remote: "192.0.2.9:1000"})
	if w.Code != 200 {
		t.Fatalf("allowed source: %d", w.Code)
	}
	// stats scope: only the backend's rows.
	for _, l := range strings.Split(strings.TrimSpace(w.Body.String()), "\n")[1:] {
		if !strings.HasPrefix(l, "persistent_connection_backend,") {
			t.Errorf("row outside the scope: %s", l)
		}
	}
	// The form's scope text narrows further; HEAD has no body.
	w = pg.do(t, pageReq{uri: "/?scope=FRONT"})
	if strings.Contains(w.Body.String(), `<a class=px href="#persistent_connection_backend">`) {
		t.Errorf("scope=FRONT shows the backend")
	}
	if w := pg.do(t, pageReq{method: "HEAD", uri: "/"}); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d, %d bytes", w.Code, w.Body.Len())
	}
}
