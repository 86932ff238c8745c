package stats

import (
	"net/http"
	"strconv"
	"strings"

	"goproxy/internal/srvstate"
	"goproxy/proxy"
)

// Result codes of an admin action, carried by the redirect as ";st=<code>"
// and shown on the next page as HAProxy does.
const (
	stDone = "DONE" // every server changed
	stPart = "PART" // some servers changed, some could not
	stNone = "NONE" // nothing to change
	stErrp = "ERRP" // invalid parameters (backend, server or action)
	stDeny = "DENY" // the client is not admin
)

// statusMessages are the banner of each result code: its row class and
// text.
var statusMessages = map[string][2]string{
	stDone: {"active_up", "Action processed successfully."},
	stPart: {"active_going_down", "Action processed partially."},
	stNone: {"active_going_down", "Nothing has changed."},
	stErrp: {"active_down", "Action not processed because of invalid parameters." +
		"<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li>" +
		"<li>The backend name is probably unknown or ambiguous (duplicated).</li>" +
		"<li>Some server names are probably unknown or ambiguous (duplicated in the same backend).</li></ul>"},
	stDeny: {"active_down", "Action denied."},
}

// pageActions are the admin form's actions, in the form's order: value and
// label.
var pageActions = [][2]string{
	{"ready", "Set state to READY"}, {"drain", "Set state to DRAIN"}, {"maint", "Set state to MAINT"},
	{"dhlth", "Health: disable checks"}, {"ehlth", "Health: enable checks"},
	{"hrunn", "Health: force UP"}, {"hnolb", "Health: force NOLB"}, {"hdown", "Health: force DOWN"},
	{"dagent", "Agent: disable checks"}, {"eagent", "Agent: enable checks"},
	{"arunn", "Agent: force UP"}, {"adown", "Agent: force DOWN"},
	{"shutdown", "Kill Sessions"},
}

// maxFormBody bounds the admin form's body.
const maxFormBody = 64 << 10

// servePost applies the admin form ("s=<server>&...&action=<act>&b=#<iid>")
// to the backend's checked servers, then redirects (303) to the page with
// the result code.
func (pg *Page) servePost(w http.ResponseWriter, r *http.Request, o pageOptions, admin bool) {
	code := stDeny
	if admin {
		code = pg.applyForm(w, r)
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", "0")
	w.Header().Set("Location", pg.uri()+";st="+code+o.suffix())
	w.WriteHeader(http.StatusSeeOther)
}

func (pg *Page) applyForm(w http.ResponseWriter, r *http.Request) string {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return stErrp
	}
	form := r.PostForm
	rows := pg.src.Stats()
	be := form.Get("b")
	var backend string
	if id, ok := strings.CutPrefix(be, "#"); ok {
		iid, err := strconv.Atoi(id)
		if err != nil {
			return stErrp
		}
		for _, row := range rows {
			if row.Type == TypeBackend && row.IID == iid {
				backend = row.Proxy
			}
		}
	} else {
		for _, row := range rows {
			if row.Type == TypeBackend && row.Proxy == be {
				backend = row.Proxy
			}
		}
	}
	if backend == "" || !pg.inScope(backend) {
		return stErrp
	}
	acts, given := form["action"]
	if !given {
		return stNone
	}
	apply := pageAction(pg.src.Admin(), acts[len(acts)-1])
	if apply == nil {
		return stErrp
	}
	servers := form["s"]
	if len(servers) == 0 {
		return stNone
	}
	changed, failed := 0, 0
	for _, name := range servers {
		var sv *Row
		for i := range rows {
			if rows[i].Type == TypeServer && rows[i].Proxy == backend && rows[i].Name == name {
				sv = &rows[i]
				break
			}
		}
		if sv == nil || apply(sv) != nil {
			failed++
			continue
		}
		changed++
	}
	switch {
	case changed > 0 && failed == 0:
		return stDone
	case changed > 0:
		return stPart
	case failed > 0:
		return stErrp
	}
	return stNone
}

// errNotConfigured refuses enabling a check the server does not have.
type errNotConfigured string

func (e errNotConfigured) Error() string { return string(e) }

// pageAction returns the Admin call of one form action, nil for an unknown
// one.
func pageAction(a Admin, act string) func(r *Row) error {
	switch act {
	case "ready", "drain", "maint":
		st := map[string]proxy.AdminMode{"ready": proxy.ModeReady, "drain": proxy.ModeDrain, "maint": proxy.ModeMaint}[act]
		return func(r *Row) error { return a.SetServerState(r.Proxy, r.Name, st) }
	case "dhlth":
		return func(r *Row) error { return a.SetServerCheck(r.Proxy, r.Name, false) }
	case "ehlth":
		return func(r *Row) error {
			if !r.Server.Check.Configured {
				return errNotConfigured("health check not configured")
			}
			return a.SetServerCheck(r.Proxy, r.Name, true)
		}
	case "hrunn", "hnolb", "hdown":
		h := map[string]srvstate.Op{"hrunn": srvstate.OpRunning, "hnolb": srvstate.OpStopping, "hdown": srvstate.OpStopped}[act]
		return func(r *Row) error {
			if !r.Server.Check.Configured {
				return errNotConfigured("health check not configured")
			}
			return a.SetServerHealth(r.Proxy, r.Name, h)
		}
	case "dagent":
		return func(r *Row) error { return a.SetServerAgent(r.Proxy, r.Name, false) }
	case "eagent", "arunn", "adown":
		return func(r *Row) error {
			if !r.Server.Agent.Configured {
				return errNotConfigured("agent check not configured")
			}
			switch act {
			case "eagent":
				return a.SetServerAgent(r.Proxy, r.Name, true)
			case "arunn":
				return a.SetServerAgentHealth(r.Proxy, r.Name, true)
			}
			return a.SetServerAgentHealth(r.Proxy, r.Name, false)
		}
	case "shutdown":
		return func(r *Row) error { return a.ShutdownServerSessions(r.Proxy, r.Name) }
	}
	return nil
}
