package parser

import (
	"os/user"
	"strconv"
)

// beginProgram opens a program section: "program <name>". A missing or
// duplicated name stops loading, as in HAProxy.
func (p *parser) beginProgram(words []string) {
	name := argAt(words, 1)
	if name == "" {
		p.report(&Error{Pos: p.pos(), Msg: "'program' expects an <id> argument", Phase: PhaseAbort})
		p.fileTrailer(p.file)
		p.abort = true
		return
	}
	if len(words) > 2 {
		p.report(&Error{Pos: p.pos(), Msg: "'program' cannot handle unexpected argument '" + words[2] + "'.", Phase: PhaseAbort})
		p.fileTrailer(p.file)
		p.abort = true
		return
	}
	for _, other := range p.cfg.Programs {
		if other.Name == name {
			p.abortf("'%s' program section already exists in the configuration.", name)
			return
		}
	}
	p.curProgram = &Program{Pos: p.pos(), Name: name, StartOnReload: true}
	p.cfg.Programs = append(p.cfg.Programs, p.curProgram)
}

// programKeyword parses one line of a program section:
//
//	command <command> [arguments*]
//	user <user name>
//	group <group name>
//	[no] option start-on-reload
func (p *parser) programKeyword(w []string, mod kwMod) {
	pg := p.curProgram
	if pg == nil {
		return
	}
	switch w[0] {
	case "command":
		if argAt(w, 1) == "" {
			p.alertStyle(StyleLine, "'command' expects a command with optional arguments separated in words.")
			return
		}
		pg.Command = append([]string(nil), w[1:]...)
	case "user", "group":
		if argAt(w, 1) == "" {
			what := "user name"
			if w[0] == "group" {
				what = "group name"
			}
			p.alertStyle(StyleLine, "'%s' expects a %s.", w[0], what)
			return
		}
		if p.tooManyArgs(w, 1) {
			return
		}
		if w[0] == "user" {
			u, err := user.Lookup(w[1])
			if err != nil {
				p.alert("cannot find user id for '%s' (0:Success)", w[1])
				return
			}
			pg.User = u.Username
			pg.UID, _ = strconv.Atoi(u.Uid)
			return
		}
		g, err := user.LookupGroup(w[1])
		if err != nil {
			p.alert("cannot find group id for '%s' (0:Success)", w[1])
			return
		}
		pg.Group = g.Name
		pg.GID, _ = strconv.Atoi(g.Gid)
	case "option":
		name := argAt(w, 1)
		switch {
		case name == "":
			p.alertStyle(StyleLine, "'option' expects an option name.")
		case name != "start-on-reload":
			p.alert("unknown option '%s'.", name)
		case mod == modDefault:
			// HAProxy reads "default option x" one word off.
			p.alert("'option start-on-reload' cannot handle unexpected argument 'start-on-reload'.")
		case len(w) > 2 && w[2] != "":
			p.alert("'option start-on-reload' cannot handle unexpected argument '%s'.", w[2])
		default:
			pg.StartOnReload = mod != modNo
		}
	default:
		p.alert("unknown keyword '%s' in 'program' section", w[0])
	}
}

// validatePrograms checks what HAProxy checks once the files are read.
func (p *parser) validatePrograms() {
	for _, pg := range p.cfg.Programs {
		if len(pg.Command) == 0 {
			p.checkAlert(pg.Pos, "The program section '%s' lacks a command to launch.", pg.Name)
		}
	}
}
