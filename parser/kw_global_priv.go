package parser

import (
	"os/user"
	"strconv"
)

// The privilege drop of HAProxy's global section: goproxy binds its
// listeners and opens its sockets, logs and pidfile first, then chroots
// and takes the user and group (see cmd/goproxy's dropPrivileges).

func (p *parser) globalUID(w []string, _ kwMod) {
	if p.cfg.Global.UID != 0 {
		p.nonFatalAlert("user/uid already specified. Continuing.")
		return
	}
	n, err := strconv.Atoi(argAt(w, 1))
	if err != nil || n < 0 {
		p.warn(" uid: string '%s' is not a number.\n   | You might want to use the 'user' parameter to use a system user name.", argAt(w, 1))
		return
	}
	p.cfg.Global.UID = n
}

func (p *parser) globalGID(w []string, _ kwMod) {
	if p.cfg.Global.GID != 0 {
		p.nonFatalAlert("group/gid already specified. Continuing.")
		return
	}
	n, err := strconv.Atoi(argAt(w, 1))
	if err != nil || n < 0 {
		p.warn(" gid: string '%s' is not a number.\n   | You might want to use the 'group' parameter to use a system group name.", argAt(w, 1))
		return
	}
	p.cfg.Global.GID = n
}

func (p *parser) globalUser(w []string, _ kwMod) {
	if p.cfg.Global.UID != 0 {
		p.nonFatalAlert("user/uid already specified. Continuing.")
		return
	}
	u, err := user.Lookup(argAt(w, 1))
	if err != nil {
		p.alert("cannot find user id for '%s' (0:Success)", argAt(w, 1))
		return
	}
	n, _ := strconv.Atoi(u.Uid)
	p.cfg.Global.UID = n
	p.cfg.Global.User = u.Username
}

func (p *parser) globalGroup(w []string, _ kwMod) {
	if p.cfg.Global.GID != 0 {
		p.nonFatalAlert("group/gid already specified. Continuing.")
		return
	}
	g, err := user.LookupGroup(argAt(w, 1))
	if err != nil {
		p.alert("cannot find group id for '%s' (0:Success)", argAt(w, 1))
		return
	}
	n, _ := strconv.Atoi(g.Gid)
	p.cfg.Global.GID = n
	p.cfg.Global.Group = g.Name
}

func (p *parser) globalChroot(w []string, _ kwMod) {
	if p.cfg.Global.Chroot != "" {
		p.nonFatalAlert("'%s' already specified. Continuing.", w[0])
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects a directory as an argument.", w[0])
		return
	}
	p.cfg.Global.Chroot = w[1]
}
