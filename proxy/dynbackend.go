package proxy

import (
	"fmt"

	"goproxy/parser"
)

// dynName is the compiled name of a use_backend rule written as a log
// format ("use_backend pool_%[req.payload(12,6),map(accounts.map)]"): text
// and sample expressions, printed as HAProxy's build_logline() prints
// them, then looked up among the backends.
type dynName struct {
	parts    []dynPart
	backends map[string]*Backend // every backend by name (read-only)
}

type dynPart struct {
	text  string
	sep   bool
	expr  *sampleExpr
	flags parser.LogFlags
}

// compileDynName compiles the nodes the parser made of a backend name.
func compileDynName(nodes []parser.LogNode, backends map[string]*Backend, maps *compileEnv) (*dynName, error) {
	d := &dynName{backends: backends}
	for _, n := range nodes {
		switch n.Kind {
		case parser.LogText:
			d.parts = append(d.parts, dynPart{text: n.Text})
		case parser.LogSep:
			d.parts = append(d.parts, dynPart{sep: true})
		case parser.LogFetch:
			e, err := compileSampleExpr(n.Text, n.Args, n.Conv, maps)
			if err != nil {
				return nil, err
			}
			d.parts = append(d.parts, dynPart{expr: e, flags: n.Flags})
		default:
			return nil, fmt.Errorf("unsupported log format variable '%s' in a backend name", n.Text)
		}
	}
	return d, nil
}

// usesContent reports whether the name reads the client's bytes.
func (d *dynName) usesContent() bool {
	for _, p := range d.parts {
		if p.expr != nil && p.expr.l6 {
			return true
		}
	}
	return false
}

// needsDst reports whether the name needs the destination address.
func (d *dynName) needsDst() bool {
	for _, p := range d.parts {
		if p.expr != nil && (p.expr.crit == "dst" || p.expr.crit == "dst_port") {
			return true
		}
	}
	return false
}

// resolve builds the name for a session and returns its backend; nil
// when none has that name.
func (d *dynName) resolve(ci *connInfo, buf []byte) *Backend {
	b := buf[:0]
	lastSpace := true
	for i := range d.parts {
		p := &d.parts[i]
		switch {
		case p.sep:
			if !lastSpace {
				b = append(b, ' ')
				lastSpace = true
			}
			continue
		case p.expr == nil:
			b = append(b, p.text...)
		default:
			smp, ok := p.expr.eval(ci)
			if ok {
				var txt [64]byte
				b = lfText(b, string(appendSampleText(txt[:0], &smp)), p.flags)
			} else {
				b = lfText(b, "", p.flags)
			}
		}
		lastSpace = false
	}
	return d.backends[string(b)]
}
