package parser

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// The environment directives of the global section (setenv, presetenv,
// unsetenv, resetenv), as HAProxy 2.6: they act while the file is read,
// so the lines after them expand the variables they set, and they are
// kept in Global.Env for the process to apply (EnvOp.Apply) before it
// starts its programs.

// EnvOp is one environment directive.
type EnvOp struct {
	Kind  string   // setenv, presetenv, unsetenv, resetenv
	Names []string // setenv/presetenv: the name; unsetenv: the names; resetenv: the names kept
	Value string   `json:",omitempty"`
}

// envView is the environment as the directives read so far leave it,
// over the parser's base lookup.
type envView struct {
	base    func(string) (string, bool)
	set     map[string]*string // nil value: unset
	cleared bool               // a resetenv ran: the base shows only kept names
	kept    []string
}

func (e *envView) lookup(name string) (string, bool) {
	if v, ok := e.set[name]; ok {
		if v == nil {
			return "", false
		}
		return *v, true
	}
	if e.cleared && !slices.Contains(e.kept, name) {
		return "", false
	}
	return e.base(name)
}

func (e *envView) put(name string, v *string) {
	if e.set == nil {
		e.set = map[string]*string{}
	}
	e.set[name] = v
}

// globalEnv parses the four directives.
func (p *parser) globalEnv(w []string, _ kwMod) {
	g := &p.cfg.Global
	switch w[0] {
	case "setenv", "presetenv":
		if p.tooManyArgs(w, 3) { // as HAProxy, which reads the name and value only
			return
		}
		if argAt(w, 2) == "" {
			p.alertStyle(StyleLine, "'%s' expects a name and a value.", w[0])
			return
		}
		name, v := w[1], w[2]
		if name == "" || strings.Contains(name, "=") {
			p.alertStyle(StyleLine, "'%s' failed on variable '%s' : Invalid argument.", w[0], name)
			return
		}
		if _, set := p.env.lookup(name); w[0] == "presetenv" && set {
			return
		}
		p.env.put(name, &v)
		g.Env = append(g.Env, EnvOp{Kind: w[0], Names: []string{name}, Value: v})
	case "unsetenv":
		if len(w) < 2 {
			p.alertStyle(StyleLine, "'%s' expects at least one variable name.", w[0])
			return
		}
		for _, name := range w[1:] {
			if name == "" || strings.Contains(name, "=") {
				p.alertStyle(StyleLine, "'%s' failed on variable '%s' : Invalid argument.", w[0], name)
				return
			}
			p.env.put(name, nil)
		}
		g.Env = append(g.Env, EnvOp{Kind: w[0], Names: w[1:]})
	case "resetenv":
		keep := w[1:]
		for name, v := range p.env.set {
			if v != nil && !slices.Contains(keep, name) {
				p.env.put(name, nil)
			}
		}
		if p.env.cleared {
			var k []string
			for _, n := range keep {
				if slices.Contains(p.env.kept, n) {
					k = append(k, n)
				}
			}
			keep = k
		}
		p.env.cleared, p.env.kept = true, append([]string(nil), keep...)
		g.Env = append(g.Env, EnvOp{Kind: w[0], Names: w[1:]})
	}
}

// ApplyEnv applies the environment directives to the process's
// environment, as HAProxy has them act on its own.
func ApplyEnv(ops []EnvOp) error {
	for _, op := range ops {
		var err error
		switch op.Kind {
		case "setenv":
			err = os.Setenv(op.Names[0], op.Value)
		case "presetenv":
			if _, set := os.LookupEnv(op.Names[0]); !set {
				err = os.Setenv(op.Names[0], op.Value)
			}
		case "unsetenv":
			for _, n := range op.Names {
				if e := os.Unsetenv(n); e != nil {
					err = e
				}
			}
		case "resetenv":
			for _, kv := range os.Environ() {
				name, _, _ := strings.Cut(kv, "=")
				if !slices.Contains(op.Names, name) {
					if e := os.Unsetenv(name); e != nil {
						err = e
					}
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", op.Kind, strings.Join(op.Names, " "), err)
		}
	}
	return nil
}
