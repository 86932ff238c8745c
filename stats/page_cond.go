package stats

import (
	"net/netip"
	"strconv"
	"strings"

	"goproxy/internal/crypt"
	"goproxy/parser"
)

// httpReq is what the conditions of an HTTP frontend's rules look at.
type httpReq struct {
	src, dst   netip.AddrPort
	path       string
	user, pass string
	hasAuth    bool
}

// condEnv evaluates the conditions of one HTTP frontend: its named ACLs
// and the userlists its http_auth() fetches name.
type condEnv struct {
	acls      map[string][]*parser.ACL
	userlists map[string]*parser.Userlist
}

func newCondEnv(px *parser.Proxy, uls []*parser.Userlist) *condEnv {
	e := &condEnv{acls: map[string][]*parser.ACL{}, userlists: map[string]*parser.Userlist{}}
	for _, a := range px.ACLs {
		e.acls[a.Name] = append(e.acls[a.Name], a)
	}
	for _, u := range uls {
		e.userlists[u.Name] = u
	}
	return e
}

// eval evaluates c on r; a nil condition is true.
func (e *condEnv) eval(c *parser.Condition, r *httpReq) bool {
	if c == nil {
		return true
	}
	res := false
	for _, and := range c.Terms {
		ok := true
		for _, t := range and {
			if e.term(t, r) == t.Negate {
				ok = false
				break
			}
		}
		if ok {
			res = true
			break
		}
	}
	return res != c.Unless
}

func (e *condEnv) term(t parser.CondTerm, r *httpReq) bool {
	if t.Anon != nil {
		return e.match(t.Anon, r)
	}
	if lines, ok := e.acls[t.ACL]; ok {
		for _, a := range lines {
			if e.match(a, r) {
				return true
			}
		}
		return false
	}
	switch t.ACL {
	case "TRUE":
		return true
	case "LOCALHOST":
		ip := r.src.Addr().Unmap()
		return ip.IsLoopback()
	}
	return false
}

// match evaluates one ACL line: true when any of its patterns matches.
func (e *condEnv) match(a *parser.ACL, r *httpReq) bool {
	switch a.Criterion {
	case "always_true":
		return true
	case "always_false":
		return false
	case "src", "dst":
		ap := r.src
		if a.Criterion == "dst" {
			ap = r.dst
		}
		ip := ap.Addr().Unmap()
		for _, v := range a.Values {
			if ipMatches(v, ip) {
				return true
			}
		}
	case "src_port", "dst_port":
		ap := r.src
		if a.Criterion == "dst_port" {
			ap = r.dst
		}
		for _, v := range a.Values {
			if portMatches(v, int(ap.Port())) {
				return true
			}
		}
	case "path":
		for _, v := range a.Values {
			if r.path == v {
				return true
			}
		}
	case "path_beg":
		for _, v := range a.Values {
			if strings.HasPrefix(r.path, v) {
				return true
			}
		}
	case "http_auth":
		return e.authenticated(a.Arg, r) != nil
	case "http_auth_group":
		u := e.authenticated(a.Arg, r)
		if u == nil {
			return false
		}
		ul := e.userlists[a.Arg]
		for _, g := range a.Values {
			if ul.InGroup(u.Name, g) {
				return true
			}
		}
	}
	return false
}

// authenticated returns the user of the userlist whose name and password
// the request's Basic credentials carry, or nil.
func (e *condEnv) authenticated(list string, r *httpReq) *parser.User {
	ul := e.userlists[list]
	if ul == nil || !r.hasAuth {
		return nil
	}
	for _, u := range ul.Users {
		if u.Name != r.user {
			continue
		}
		if u.Insecure {
			if u.Password == r.pass {
				return u
			}
			return nil
		}
		if crypt.Verify(r.pass, u.Password) {
			return u
		}
		return nil
	}
	return nil
}

// ipMatches matches an address against a pattern: an address, a CIDR
// prefix or an IPv4 address with a dotted netmask.
func ipMatches(pat string, ip netip.Addr) bool {
	if !strings.Contains(pat, "/") {
		a, err := netip.ParseAddr(pat)
		return err == nil && a.Unmap() == ip
	}
	if p, err := netip.ParsePrefix(pat); err == nil {
		return p.Masked().Contains(ip)
	}
	addr, mask, _ := strings.Cut(pat, "/")
	a, err1 := netip.ParseAddr(addr)
	m, err2 := netip.ParseAddr(mask)
	if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() || !ip.Is4() {
		return false
	}
	ab, mb, ib := a.As4(), m.As4(), ip.As4()
	for i := range ab {
		if ab[i]&mb[i] != ib[i]&mb[i] {
			return false
		}
	}
	return true
}

// portMatches matches a port against "N", "N:M", ":M" or "N:".
func portMatches(pat string, port int) bool {
	lo, hi, isRange := strings.Cut(pat, ":")
	if !isRange {
		n, err := strconv.Atoi(pat)
		return err == nil && n == port
	}
	l, h := 0, 65535
	if lo != "" {
		l, _ = strconv.Atoi(lo)
	}
	if hi != "" {
		h, _ = strconv.Atoi(hi)
	}
	return port >= l && port <= h
}
