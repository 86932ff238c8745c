package parser

import "time"

// DefaultStatsURI is the prefix the statistics page answers on when no
// "stats uri" is given.
const DefaultStatsURI = "/haproxy?stats"

// DefaultStatsRealm is the realm of the statistics page's Basic auth when no
// "stats realm" is given.
const DefaultStatsRealm = "HAProxy Statistics"

// StatsPage is the HTTP statistics page of a proxy: every "stats ..."
// keyword of an HTTP-mode frontend or listen section (HAProxy's uri_auth).
// Any of them enables the page.
type StatsPage struct {
	Pos
	URI         string // prefix of the request URI, DefaultStatsURI when unset
	Realm       string // empty: DefaultStatsRealm
	Users       []StatsUser
	Refresh     time.Duration // 0: no refresh
	HideVersion bool
	ShowLegends bool
	// ShowModules asks for the module counters (ssl, h2, h1) on the page;
	// goproxy's page shows the standard columns only.
	ShowModules bool
	ShowNode    bool
	Node        string // empty: the global node name (the host name)
	ShowDesc    bool
	Desc        string // empty: the global description
	// Admin is the condition of "stats admin"; nil when the page is read
	// only.
	Admin *Condition
	// Scope lists the proxies shown ("stats scope"); empty shows all, "."
	// is the page's own proxy.
	Scope []string
	// Rules are the "stats http-request" rules, evaluated in order on a
	// request for the page.
	Rules []*HTTPRule
}

// StatsUser is one "stats auth user:password" account.
type StatsUser struct {
	Name, Password string
}

// clone returns a copy that shares nothing mutable with s.
func (s *StatsPage) clone() *StatsPage {
	if s == nil {
		return nil
	}
	c := *s
	c.Users = append([]StatsUser(nil), s.Users...)
	c.Scope = append([]string(nil), s.Scope...)
	c.Rules = append([]*HTTPRule(nil), s.Rules...)
	return &c
}

// HTTPRule is an "http-request" (or "stats http-request") rule of an HTTP
// frontend: allow, deny, auth, or use-service prometheus-exporter.
type HTTPRule struct {
	Pos
	Action string // allow, deny, auth, use-service
	Realm  string // auth: the realm, empty for the default
	Status int    // deny: the status code, 403 by default
	Cond   *Condition
}

// Userlist is a userlist section: users and groups for http_auth().
type Userlist struct {
	Pos
	Name   string
	Users  []*User
	Groups []*Group
}

// User is one user line of a userlist.
type User struct {
	Pos
	Name string
	// Password is the crypt(3) hash, or the clear text when Insecure.
	Password string
	Insecure bool
	Groups   []string
}

// Group is one group line of a userlist.
type Group struct {
	Pos
	Name  string
	Users []string
}

// Userlist returns the userlist section of that name, or nil.
func (c *Config) Userlist(name string) *Userlist {
	for _, u := range c.Userlists {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// InGroup reports whether user belongs to group, from either the group's
// users or the user's groups.
func (u *Userlist) InGroup(user, group string) bool {
	for _, g := range u.Groups {
		if g.Name != group {
			continue
		}
		for _, n := range g.Users {
			if n == user {
				return true
			}
		}
	}
	for _, us := range u.Users {
		if us.Name != user {
			continue
		}
		for _, g := range us.Groups {
			if g == group {
				return true
			}
		}
	}
	return false
}

// ServesHTTP reports whether the proxy is one of the HTTP services goproxy
// answers itself (the statistics page, the Prometheus exporter) rather than
// a TCP proxy of the graph.
func (px *Proxy) ServesHTTP() bool {
	return px.Mode == ModeHTTP && px.Cap&CapFrontend != 0 && (px.Stats != nil || px.PromExporter)
}
