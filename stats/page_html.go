package stats

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
)

// pageCSS is the page's style sheet, served inline: the page fetches
// nothing from elsewhere.
//
//go:embed page.css
var pageCSS string

// fieldIndex maps a show stat column name to its position.
var fieldIndex = func() map[string]int {
	m := make(map[string]int, numFields)
	for i := range fieldMeta {
		m[fieldMeta[i].name] = i
	}
	return m
}()

// cells gives a row's show stat values by column name, so the page shows
// exactly the numbers of the CSV.
type cells struct {
	r   *Row
	ctx *rowCtx
}

func (c cells) v(name string) string {
	i, ok := fieldIndex[name]
	if !ok {
		return ""
	}
	return field(i, c.r, c.ctx).String()
}

// orDash is v, or "-" when the field is empty (no limit).
func orDash(v string) string {
	if v == "" || v == "0" {
		return "-"
	}
	return v
}

// humanTime renders seconds as HAProxy's human_time(): at most two units
// among d, h, m, s ("3s", "1m15s", "2h05m" is "2h5m", "1d3h").
func humanTime(t int64) string {
	if t < 0 {
		return "?"
	}
	const minute, hour, day = 60, 3600, 86400
	var b strings.Builder
	n := 2
	if t >= day {
		fmt.Fprintf(&b, "%dd", t/day)
		n--
	}
	if n > 0 && t%day/hour != 0 {
		fmt.Fprintf(&b, "%dh", t%day/hour)
		n--
	}
	if n > 0 && t%hour/minute != 0 {
		fmt.Fprintf(&b, "%dm", t%hour/minute)
		n--
	}
	if (n > 0 && t%minute != 0) || t == 0 {
		fmt.Fprintf(&b, "%ds", t%minute)
	}
	return b.String()
}

// uptime renders the process uptime as the page's header does.
func uptime(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%dd %dh%02dm%02ds", s/86400, s%86400/3600, s%3600/60, s%60)
}

// serverClass is the row class of a server: its state's colour.
func serverClass(status string, backup bool) string {
	kind := "active_"
	if backup {
		kind = "backup_"
	}
	switch {
	case strings.HasPrefix(status, "MAINT"):
		return "maintain"
	case strings.HasPrefix(status, "DRAIN"):
		return kind + "draining"
	case status == "no check":
		return kind + "no_check"
	case strings.HasPrefix(status, "NOLB"):
		return kind + "nolb"
	case status == "UP":
		return kind + "up"
	case strings.HasPrefix(status, "UP "):
		return kind + "going_down"
	case strings.HasPrefix(status, "DOWN ") && !strings.HasPrefix(status, "DOWN ("):
		return kind + "going_up"
	}
	return kind + "down"
}

type htmlWriter struct{ bytes.Buffer }

func (w *htmlWriter) p(format string, args ...any) { fmt.Fprintf(&w.Buffer, format, args...) }

func (w *htmlWriter) td(s string) {
	if s == "" {
		w.WriteString("<td></td>")
		return
	}
	w.WriteString("<td>" + html.EscapeString(s) + "</td>")
}

func (w *htmlWriter) tdc(s string) { w.WriteString("<td class=ac>" + s + "</td>") }

// renderHTML writes the statistics report.
func (pg *Page) renderHTML(out *bytes.Buffer, o pageOptions, admin bool) {
	w := &htmlWriter{}
	in := pg.src.Info()
	if in.Version == "" {
		in.Version, in.ReleaseDate = defaultVersion, defaultReleaseDate
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	node := pg.st.Node
	if node == "" {
		node = in.Node
	}
	desc := pg.st.Desc
	if desc == "" {
		desc = in.Description
	}
	product := "HAProxy"
	title := "Statistics Report for " + product
	if pg.st.ShowNode {
		title += " on " + node
	}
	w.WriteString("<!DOCTYPE html>\n<html><head><title>" + html.EscapeString(title) + "</title>\n")
	w.WriteString("<link rel=\"icon\" href=\"data:,\">\n<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n")
	w.WriteString("<style type=\"text/css\">\n" + pageCSS + "</style></head>\n<body>")
	if pg.st.HideVersion {
		w.WriteString("<h1>" + product + "</h1>\n")
	} else {
		w.p("<h1>%s version %s, released %s</h1>\n", product, html.EscapeString(in.Version), html.EscapeString(in.ReleaseDate))
	}
	h2 := fmt.Sprintf("Statistics Report for pid %d", in.Pid)
	if pg.st.ShowNode {
		h2 += " on " + node
	}
	if pg.st.ShowDesc && desc != "" {
		h2 += ": " + desc
	}
	w.WriteString("<h2>" + html.EscapeString(h2) + "</h2>\n<hr width=\"100%\" class=\"hr\">\n")
	pg.renderInfo(w, in, now, o)
	if o.status != "" {
		if m, ok := statusMessages[o.status]; ok {
			w.p("<p><div class=%s><a class=lfsb href=\"%s\" title=\"Remove this message\">[X]</a> %s</div>\n",
				m[0], html.EscapeString(pg.uri()+o.suffix()), m[1])
		} else {
			w.p("<p><div class=active_down><a class=lfsb href=\"%s\" title=\"Remove this message\">[X]</a> Unexpected result.</div>\n",
				html.EscapeString(pg.uri()+o.suffix()))
		}
	}
	w.WriteString("<p>\n")
	rows := pg.rows(o)
	so := statOptions{hideDown: o.up}
	ctx := rowCtx{showLegends: pg.st.ShowLegends || admin, hideFlags: o.up}
	aggs := aggregate(rows)
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && rows[end].IID == rows[start].IID {
			end++
		}
		pg.renderProxy(w, rows[start:end], &so, ctx, aggs, admin, now)
		start = end
	}
	w.WriteString("</body></html>\n")
	out.Write(w.Bytes())
}

// renderInfo writes the general process information and the legend.
func (pg *Page) renderInfo(w *htmlWriter, in Info, now time.Time, o pageOptions) {
	up := now.Sub(in.Start)
	if in.Start.IsZero() || up < 0 {
		up = 0
	}
	w.WriteString("<h3>&gt; General process information</h3>\n")
	w.WriteString("<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n")
	w.p("<p><b>pid = </b> %d (process #1, nbproc = 1, nbthread = %d)<br>\n", in.Pid, in.Nbthread)
	w.p("<b>uptime = </b> %s<br>\n", uptime(up))
	w.p("<b>system limits:</b> memmax = unlimited; ulimit-n = %d<br>\n", in.UlimitN)
	w.p("<b>maxsock = </b> %d; <b>maxconn = </b> %d; <b>maxpipes = </b> 0<br>\n", in.Maxsock, in.Maxconn)
	w.p("current conns = %d; current pipes = 0/0; conn rate = %d/sec; bit rate = %s<br>\n",
		in.CurrConns, in.ConnRate, bitRate(in.BytesOutRate))
	w.p("Running tasks: %d/%d; idle = %d %%<br>\n", in.RunQueue, in.Tasks, in.IdlePct)
	w.WriteString("</td><td align=\"center\" nowrap>\n<table class=\"lgd\"><tr>\n")
	legend := [][4]string{
		{"active_up", "active UP ", "backup_up", "backup UP "},
		{"active_going_down", "active UP, going down ", "backup_going_down", "backup UP, going down "},
		{"active_going_up", "active DOWN, going up ", "backup_going_up", "backup DOWN, going up "},
		{"active_down", "active or backup DOWN &nbsp;", "active_no_check", "not checked "},
	}
	for i, l := range legend {
		if i > 0 {
			w.WriteString("</tr><tr>\n")
		}
		w.p("<td class=\"%s\">&nbsp;</td><td class=\"noborder\">%s</td><td class=\"%s\">&nbsp;</td><td class=\"noborder\">%s</td>", l[0], l[1], l[2], l[3])
	}
	w.WriteString("</tr><tr>\n<td class=\"maintain\">&nbsp;</td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n")
	w.WriteString("<td class=\"active_draining\">&nbsp;</td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\n")
	w.WriteString("Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>")
	uri := html.EscapeString(pg.uri())
	keep := pageOptions{noRefresh: o.noRefresh, scope: o.scope}
	w.WriteString("<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\">")
	w.p("<li><form method=\"GET\">Scope : <input value=\"%s\" name=\"scope\" size=\"8\" maxlength=\"20\" tabindex=\"1\"/></form>\n", html.EscapeString(o.scope))
	if o.up {
		w.p("<li><a href=\"%s%s\">Show all servers</a><br>\n", uri, html.EscapeString(keep.suffix()))
	} else {
		k := keep
		k.up = true
		w.p("<li><a href=\"%s%s\">Hide 'DOWN' servers</a><br>\n", uri, html.EscapeString(k.suffix()))
	}
	if pg.st.Refresh > 0 {
		k := pageOptions{up: o.up, scope: o.scope}
		if o.noRefresh {
			w.p("<li><a href=\"%s%s\">Enable refresh</a><br>\n", uri, html.EscapeString(k.suffix()))
		} else {
			k.noRefresh = true
			w.p("<li><a href=\"%s%s\">Disable refresh</a><br>\n", uri, html.EscapeString(k.suffix()))
		}
	}
	w.p("<li><a href=\"%s%s\">Refresh now</a><br>\n", uri, html.EscapeString(o.suffix()))
	exp := ""
	if pg.st.Refresh > 0 {
		exp = ";norefresh"
	}
	w.p("<li><a href=\"%s;csv%s\">CSV export</a><br>\n", uri, exp)
	w.p("<li><a href=\"%s;json%s\">JSON export</a><br>\n", uri, exp)
	w.WriteString("</ul></td></tr></table>\n")
}

// bitRate renders a bytes-per-second rate as the header's bit rate.
func bitRate(bytesPerSec uint64) string {
	bits := float64(bytesPerSec) * 8
	for _, u := range []string{"bps", "kbps", "Mbps", "Gbps"} {
		if bits < 1000 || u == "Gbps" {
			if u == "bps" {
				return fmt.Sprintf("%.0f %s", bits, u)
			}
			return fmt.Sprintf("%.3f %s", bits, u)
		}
		bits /= 1000
	}
	return ""
}

// renderProxy writes the tables of one proxy: its title, then one row for
// the frontend, each server and the backend.
func (pg *Page) renderProxy(w *htmlWriter, rows []Row, so *statOptions, ctx rowCtx, aggs map[int]*beAgg, admin bool, now time.Time) {
	first := &rows[0]
	name := html.EscapeString(first.Proxy)
	var hasServers, hasFront, hasBack bool
	for i := range rows {
		switch rows[i].Type {
		case TypeServer:
			hasServers = true
		case TypeFrontend:
			hasFront = true
		case TypeBackend:
			hasBack = true
		}
	}
	form := admin && hasServers
	if form {
		w.WriteString("<form method=\"post\">")
	}
	capName := "proxy"
	switch {
	case hasFront && !hasBack:
		capName = "frontend"
	case hasBack && !hasFront:
		capName = "backend"
	}
	w.WriteString("<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\">")
	w.p("<a name=\"%s\"></a><u><a class=px href=\"#%s\">%s</a><div class=tips>cap: %s, mode: %s, id: %d</div></u></th>",
		name, name, name, capName, html.EscapeString(first.Mode), first.IID)
	w.WriteString("<th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n")
	w.WriteString("<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">")
	if form {
		w.p("<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for (const c of document.getElementsByClassName('%s-checkbox')) c.checked = this.checked\"></th>", name)
	} else {
		w.WriteString("<th rowspan=2></th>")
	}
	w.WriteString("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th>" +
		"<th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n")
	w.WriteString("<tr class=\"titre\">")
	for _, h := range []string{"Cur", "Max", "Limit", "Cur", "Max", "Limit", "Cur", "Max", "Limit", "Total", "LbTot", "Last",
		"In", "Out", "Req", "Resp", "Req", "Conn", "Resp", "Retr", "Redis",
		"Status", "LastChk", "Wght", "Act", "Bck", "Chk", "Dwn", "Dwntme", "Thrtle"} {
		w.WriteString("<th>" + h + "</th>")
	}
	w.WriteString("\n</tr>")
	for i := range rows {
		r := &rows[i]
		if !so.selected(r) || r.Type == TypeListener {
			continue
		}
		ctx.be = aggs[r.IID]
		if ctx.be == nil {
			ctx.be = &beAgg{}
		}
		c := cells{r, &ctx}
		switch r.Type {
		case TypeFrontend:
			pg.frontendRow(w, c, name)
		case TypeServer:
			pg.serverRow(w, c, name, form)
		case TypeBackend:
			pg.backendRow(w, c, name)
		}
	}
	w.WriteString("</table>")
	if form {
		w.WriteString("Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option>")
		for _, a := range pageActions {
			w.p("<option value=\"%s\">%s</option>", a[0], a[1])
		}
		w.p("</select><input type=\"hidden\" name=\"b\" value=\"#%d\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>", first.IID)
	}
	w.WriteString("<p>\n")
}

func (pg *Page) frontendRow(w *htmlWriter, c cells, px string) {
	w.p("<tr class=\"frontend\"><td></td><td class=ac><a name=\"%s/Frontend\"></a><a class=lfsb href=\"#%s/Frontend\">Frontend</a></td>", px, px)
	w.WriteString("<td colspan=3></td>")
	w.td(c.v("rate"))
	w.td(c.v("rate_max"))
	w.td(orDash(c.v("rate_lim")))
	w.td(c.v("scur"))
	w.td(c.v("smax"))
	w.td(c.v("slim"))
	w.td(c.v("stot"))
	w.td("")
	w.td("")
	w.td(c.v("bin"))
	w.td(c.v("bout"))
	w.td(c.v("dreq"))
	w.td(c.v("dresp"))
	w.td(c.v("ereq"))
	w.WriteString("<td></td><td></td><td></td><td></td>")
	w.tdc(html.EscapeString(c.v("status")))
	w.WriteString("<td class=ac colspan=8></td></tr>\n")
}

func (pg *Page) serverRow(w *htmlWriter, c cells, px string, form bool) {
	r := c.r
	status := c.v("status")
	backup := r.Server.Backup
	sv := html.EscapeString(r.Name)
	w.p("<tr class=\"%s\">", serverClass(status, backup))
	if form {
		w.p("<td><input class='%s-checkbox' type=\"checkbox\" name=\"s\" value=\"%s\"></td>", px, sv)
	} else {
		w.WriteString("<td></td>")
	}
	tip := fmt.Sprintf("id: %d", r.SID)
	if a := c.v("addr"); a != "" {
		tip = "IPv4: " + html.EscapeString(a) + ", " + tip
		if strings.HasPrefix(a, "[") {
			tip = "IPv6: " + html.EscapeString(a) + ", id: " + strconv.Itoa(r.SID)
		}
	}
	if r.Server.Tracked != "" {
		tip += ", tracking: " + html.EscapeString(r.Server.Tracked)
	}
	w.p("<td class=ac><a name=\"%s/%s\"></a><u><a class=lfsb href=\"#%s/%s\">%s</a><div class=tips>%s</div></u></td>", px, sv, px, sv, sv, tip)
	w.td(c.v("qcur"))
	w.td(c.v("qmax"))
	w.td(orDash(c.v("qlimit")))
	w.td(c.v("rate"))
	w.td(c.v("rate_max"))
	w.td("")
	w.td(c.v("scur"))
	w.td(c.v("smax"))
	w.td(orDash(c.v("slim")))
	w.td(c.v("stot"))
	w.td(c.v("lbtot"))
	w.td(humanTime(r.LastSess))
	w.td(c.v("bin"))
	w.td(c.v("bout"))
	w.td("")
	w.td(c.v("dresp"))
	w.td("")
	w.td(c.v("econ"))
	w.td(c.v("eresp"))
	w.td(c.v("wretr"))
	w.td(c.v("wredis"))
	// Status: time since the last change, then the state.
	if status == "no check" {
		w.tdc("<i>no check</i>")
	} else {
		w.tdc(humanTime(int64(r.LastChg)) + " " + html.EscapeString(status))
	}
	if cs := c.v("check_status"); cs != "" && r.Server.Check.Enabled {
		last := cs
		if d := c.v("check_duration"); d != "" {
			last += " in " + d + "ms"
		}
		tip := c.v("check_desc")
		if info := c.v("last_chk"); info != "" {
			tip += ": " + info
		}
		w.p("<td class=ac><u> %s<div class=tips>%s</div></u></td>", html.EscapeString(last), html.EscapeString(tip))
	} else {
		w.WriteString("<td></td>")
	}
	w.tdc(c.v("weight") + "/" + c.v("uweight"))
	if backup {
		w.tdc("-")
		w.tdc("Y")
	} else {
		w.tdc("Y")
		w.tdc("-")
	}
	if c.v("chkfail") != "" {
		w.p("<td><u>%s<div class=tips>Failed Health Checks</div></u></td>", c.v("chkfail"))
		w.td(c.v("chkdown"))
		dt, _ := strconv.ParseInt(c.v("downtime"), 10, 64)
		w.td(humanTime(dt))
	} else {
		w.WriteString("<td colspan=3></td>")
	}
	thr := c.v("throttle")
	if thr == "" {
		thr = "-"
	} else {
		thr += " %"
	}
	w.tdc(thr)
	w.WriteString("</tr>\n")
}

func (pg *Page) backendRow(w *htmlWriter, c cells, px string) {
	r := c.r
	w.p("<tr class=\"backend\"><td></td><td class=ac><u><a name=\"%s/Backend\"></a><a class=lfsb href=\"#%s/Backend\">Backend</a><div class=tips>balancing: %s</div></u></td>",
		px, px, html.EscapeString(r.Algo))
	w.td(c.v("qcur"))
	w.td(c.v("qmax"))
	w.td("")
	w.td(c.v("rate"))
	w.td(c.v("rate_max"))
	w.td("")
	w.td(c.v("scur"))
	w.td(c.v("smax"))
	w.td(c.v("slim"))
	w.td(c.v("stot"))
	w.td(c.v("lbtot"))
	w.td(humanTime(r.LastSess))
	w.td(c.v("bin"))
	w.td(c.v("bout"))
	w.td(c.v("dreq"))
	w.td(c.v("dresp"))
	w.td("")
	w.td(c.v("econ"))
	w.td(c.v("eresp"))
	w.td(c.v("wretr"))
	w.td(c.v("wredis"))
	w.tdc(humanTime(int64(r.LastChg)) + " " + html.EscapeString(c.v("status")))
	w.tdc("&nbsp;")
	w.tdc(c.v("weight") + "/" + c.v("uweight"))
	w.tdc(c.v("act"))
	w.tdc(c.v("bck"))
	w.tdc("&nbsp;")
	w.td(c.v("chkdown"))
	dt, _ := strconv.ParseInt(c.v("downtime"), 10, 64)
	w.td(humanTime(dt))
	w.td("")
	w.WriteString("</tr>\n")
}
