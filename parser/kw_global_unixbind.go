package parser

import (
	"os/user"
	"strconv"
)

// UnixBind is the global unix-bind line: the defaults HAProxy applies to
// the UNIX-socket binds of the proxies parsed after it (path prefix, mode,
// owner); the stats socket takes none of them, as in HAProxy.
type UnixBind struct {
	Prefix         string `json:",omitempty"`
	Mode           int    `json:",omitzero"`
	UID, GID       int    `json:",omitzero"`
	UIDSet, GIDSet bool   `json:",omitzero"`
}

func init() { globalKeywords["unix-bind"] = (*parser).globalUnixBind }

// globalUnixBind is "unix-bind [prefix <p>] [mode <m>] [user <u>] [uid <n>]
// [group <g>] [gid <n>]", with HAProxy's messages and its lenient numbers.
func (p *parser) globalUnixBind(w []string, _ kwMod) {
	ub := &p.cfg.Global.UnixBind
	for i := 1; i < len(w); i++ {
		v := argAt(w, i+1)
		switch w[i] {
		case "prefix":
			if v == "" {
				p.alert("unix_bind 'prefix' expects a path as an argument.")
				return
			}
			ub.Prefix = v
		case "mode":
			n, _ := strconv.ParseInt(v, 8, 32)
			ub.Mode = int(n)
		case "uid":
			ub.UID, ub.UIDSet = int(atol(v)), true
		case "gid":
			ub.GID, ub.GIDSet = int(atol(v)), true
		case "user":
			u, err := user.Lookup(v)
			if err != nil {
				p.alert("'unix-bind' : '%s' unknown user.", v)
				return
			}
			ub.UID, _ = strconv.Atoi(u.Uid)
			ub.UIDSet = true
		case "group":
			g, err := user.LookupGroup(v)
			if err != nil {
				p.alert("'unix-bind' : '%s' unknown group.", v)
				return
			}
			ub.GID, _ = strconv.Atoi(g.Gid)
			ub.GIDSet = true
		default:
			p.alert("'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.")
			return
		}
		i++
	}
}
