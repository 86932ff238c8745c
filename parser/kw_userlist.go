package parser

import (
	"fmt"
	"strings"
)

// beginUserlist opens a userlist section: "userlist <name>".
func (p *parser) beginUserlist(words []string) {
	name := argAt(words, 1)
	if name == "" {
		p.alertStyle(StyleLine, "'%s' expects <name> as argument.", words[0])
		p.curUserlist = &Userlist{Pos: p.pos()} // lines are parsed, then dropped
		return
	}
	if u := p.cfg.Userlist(name); u != nil {
		p.alertStyle(StyleLine, "ignoring duplicated userlist '%s'.", name)
		p.curUserlist = &Userlist{Pos: p.pos(), Name: name}
		return
	}
	p.curUserlist = &Userlist{Pos: p.pos(), Name: name}
	p.cfg.Userlists = append(p.cfg.Userlists, p.curUserlist)
}

// userlistKeyword parses one line of a userlist section:
//
//	group <name> [users <user>[,<user>...]]
//	user <name> [password <crypt hash>|insecure-password <password>] [groups <group>[,<group>...]]
func (p *parser) userlistKeyword(w []string) {
	ul := p.curUserlist
	if ul == nil {
		return
	}
	switch w[0] {
	case "group":
		name := argAt(w, 1)
		if name == "" {
			p.alertStyle(StyleLine, "'%s' expects <name> as argument.", w[0])
			return
		}
		for _, g := range ul.Groups {
			if g.Name == name {
				p.report(&Error{Pos: p.pos(), Style: StyleLine, Phase: PhaseParse, Sev: SevWarning,
					Msg: fmt.Sprintf("ignoring duplicated group '%s' in userlist '%s'.", name, ul.Name)})
				return
			}
		}
		g := &Group{Pos: p.pos(), Name: name}
		for i := 2; i < len(w); i += 2 {
			if w[i] != "users" || i+1 >= len(w) {
				p.alertStyle(StyleLine, "'%s' only supports 'users' option.", w[0])
				return
			}
			g.Users = append(g.Users, splitList(w[i+1])...)
		}
		ul.Groups = append(ul.Groups, g)
	case "user":
		name := argAt(w, 1)
		if name == "" {
			p.alertStyle(StyleLine, "'%s' expects <name> as argument.", w[0])
			return
		}
		for _, u := range ul.Users {
			if u.Name == name {
				p.report(&Error{Pos: p.pos(), Style: StyleLine, Phase: PhaseParse, Sev: SevWarning,
					Msg: fmt.Sprintf("ignoring duplicated user '%s' in userlist '%s'.", name, ul.Name)})
				return
			}
		}
		u := &User{Pos: p.pos(), Name: name}
		for i := 2; i < len(w); i += 2 {
			if i+1 >= len(w) {
				p.alertStyle(StyleLine, "'%s' : '%s' expects an argument.", w[0], w[i])
				return
			}
			switch w[i] {
			case "password":
				u.Password, u.Insecure = w[i+1], false
				if !cryptSupported(u.Password) {
					p.report(&Error{Pos: p.pos(), Style: StyleLine, Phase: PhaseParse, Sev: SevWarning,
						Msg: fmt.Sprintf("user '%s' in userlist '%s' : goproxy checks only SHA-512 ($6$), SHA-256 ($5$) and MD5 ($1$) crypt hashes; this password never matches.", name, ul.Name)})
				}
			case "insecure-password":
				u.Password, u.Insecure = w[i+1], true
			case "groups":
				u.Groups = append(u.Groups, splitList(w[i+1])...)
			default:
				p.alertStyle(StyleLine, "'%s' only supports 'password', 'insecure-password' and 'groups' options.", w[0])
				return
			}
		}
		ul.Users = append(ul.Users, u)
	default:
		p.alertStyle(StyleLine, "unknown keyword '%s' in 'users' section", w[0])
	}
}

// cryptSupported reports whether hash is a crypt(3) format goproxy verifies.
func cryptSupported(hash string) bool {
	return strings.HasPrefix(hash, "$1$") || strings.HasPrefix(hash, "$5$") || strings.HasPrefix(hash, "$6$")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// validateUserlists checks the cross-references inside each userlist, as
// HAProxy's check of userlists.
func (p *parser) validateUserlists() {
	for _, ul := range p.cfg.Userlists {
		groups := map[string]bool{}
		users := map[string]bool{}
		for _, g := range ul.Groups {
			groups[g.Name] = true
		}
		for _, u := range ul.Users {
			users[u.Name] = true
		}
		for _, g := range ul.Groups {
			for _, n := range g.Users {
				if !users[n] {
					p.checkAlert(g.Pos, "userlist '%s': no such user '%s' specified in group '%s'", ul.Name, n, g.Name)
				}
			}
		}
		for _, u := range ul.Users {
			for _, g := range u.Groups {
				if !groups[g] {
					p.checkAlert(u.Pos, "userlist '%s': no such group '%s' specified in user '%s'", ul.Name, g, u.Name)
				}
			}
		}
	}
}

// validateUserlistRefs checks the http_auth()/http_auth_group() fetches of
// an HTTP proxy's ACLs and conditions.
func (p *parser) validateUserlistRefs(px *Proxy) {
	check := func(a *ACL) {
		if a == nil || a.Arg == "" {
			return
		}
		ul := p.cfg.Userlist(a.Arg)
		if ul == nil {
			p.report(&Error{Pos: a.Pos, Style: StyleLine, Phase: PhaseCheck,
				Msg: fmt.Sprintf("unable to find userlist '%s' referenced in arg 1 of ACL keyword '%s' in proxy '%s'.", a.Arg, a.Criterion, px.Name)})
			return
		}
		if a.Criterion == "http_auth_group" {
			for _, g := range a.Values {
				found := false
				for _, gr := range ul.Groups {
					found = found || gr.Name == g
				}
				for _, u := range ul.Users {
					for _, ug := range u.Groups {
						found = found || ug == g
					}
				}
				if !found {
					p.checkAlert(a.Pos, "proxy %s: acl  http_auth_group(): invalid group '%s'.", px.Name, g)
				}
			}
		}
	}
	conds := func(c *Condition) {
		if c == nil {
			return
		}
		for _, and := range c.Terms {
			for _, t := range and {
				check(t.Anon)
			}
		}
	}
	for _, a := range px.ACLs {
		check(a)
	}
	for _, r := range px.HTTPRules {
		conds(r.Cond)
	}
	if st := px.Stats; st != nil {
		conds(st.Admin)
		for _, r := range st.Rules {
			conds(r.Cond)
		}
	}
}
