package parser

import (
	"os/user"
	"strconv"
)

// bindUnixOption parses the UNIX socket options of a bind line (mode, uid,
// gid, user, group) with HAProxy's messages (src/cfgparse-unix.c); names
// are looked up now, as HAProxy does. It returns the words it consumed
// after the keyword.
func (p *parser) bindUnixOption(where string, w []string, i int, o *BindOptions) (int, bool) {
	kw, v := w[i], argAt(w, i+1)
	switch kw {
	case "mode":
		m, ok := strtolOctal(v)
		if !ok {
			p.alert("%s : '%s' : missing or invalid mode '%s' (octal integer expected)", where, kw, v)
			return 0, false
		}
		o.Mode, o.ModeSet = uint32(m), true
	case "uid", "gid":
		if v == "" {
			p.alert("%s : '%s' : missing value", where, kw)
			return 0, false
		}
		if kw == "uid" {
			o.UID, o.UIDSet = atol(v), true
		} else {
			o.GID, o.GIDSet = atol(v), true
		}
	case "user":
		if v == "" {
			p.alert("%s : '%s' : missing user name", where, kw)
			return 0, false
		}
		u, err := user.Lookup(v)
		if err != nil {
			p.alert("%s : '%s' : unknown user name '%s'", where, kw, v)
			return 0, false
		}
		o.UID, _ = strconv.Atoi(u.Uid)
		o.UIDSet = true
	case "group":
		if v == "" {
			p.alert("%s : '%s' : missing group name", where, kw)
			return 0, false
		}
		g, err := user.LookupGroup(v)
		if err != nil {
			p.alert("%s : '%s' : unknown group name '%s'", where, kw, v)
			return 0, false
		}
		o.GID, _ = strconv.Atoi(g.Gid)
		o.GIDSet = true
	}
	return 1, true
}

// unixBindDefaults are the options a bind line starts from: the global
// unix-bind mode and owner (HAProxy copies them into each bind_conf).
func (ub UnixBind) unixBindDefaults() BindOptions {
	var o BindOptions
	if ub.Mode != 0 {
		o.Mode, o.ModeSet = uint32(ub.Mode), true
	}
	if ub.UIDSet {
		o.UID, o.UIDSet = ub.UID, true
	}
	if ub.GIDSet {
		o.GID, o.GIDSet = ub.GID, true
	}
	return o
}

// strtolOctal is C's strtol(s, &end, 8) that must consume all of s, as
// HAProxy reads a bind's mode: leading blanks and a sign are allowed.
func strtolOctal(s string) (int64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	var v int64
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return 0, false
		}
		if v < 1<<40 {
			v = v*8 + int64(s[i]-'0')
		}
	}
	if neg {
		v = -v
	}
	return v, true
}
