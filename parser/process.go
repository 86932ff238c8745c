package parser

import (
	"fmt"
	"strings"
)

// The process keywords of HAProxy 2.6, which runs one process: it still
// reads "bind-process", "stats bind-process" and "process" on bind lines
// (a process number, a range, all, odd or even), refuses what no single
// process satisfies, and warns that the first and the last have no effect.

// maxThreads is HAProxy's MAX_THREADS on 64-bit builds, the limit of a
// "process <p>/<threads>" thread set.
const maxThreads = 64

// parseProcessNumber checks one process set as HAProxy's
// parse_process_number() reads it, with at most max: its message, or "".
// A range's message ends with a newline, as HAProxy's does.
func parseProcessNumber(arg string, max int) string {
	switch arg {
	case "all", "odd", "even":
		return ""
	}
	dash := -1
	for i := 0; i < len(arg); i++ {
		switch {
		case arg[i] == '-' && dash < 0:
			dash = i
		case arg[i] < '0' || arg[i] > '9':
			return fmt.Sprintf("'%s' is not a valid number/range.", arg)
		}
	}
	low := str2uic(arg)
	high := low
	if dash >= 0 {
		high = uint32(max)
		if dash+1 < len(arg) {
			high = str2uic(arg[dash+1:])
		}
	}
	if high < low {
		low, high = high, low
	}
	if low < 1 || low > uint32(max) || high > uint32(max) {
		return fmt.Sprintf("'%s' is not a valid number/range. It supports numbers from 1 to %d.\n", arg, max)
	}
	return ""
}

// str2uic is HAProxy's str2uic(): the leading decimal digits as an
// unsigned 32-bit number, wrapping as C does.
func str2uic(s string) uint32 {
	var n uint32
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + uint32(s[i]-'0')
	}
	return n
}

// kwBindProcess parses "bind-process <set>...": checked, then HAProxy's
// warning that it has no effect.
func (p *parser) kwBindProcess(_ *Proxy, w []string, _ kwMod) {
	for _, a := range w[1:] {
		if a == "all" {
			break
		}
		if msg := parseProcessNumber(a, 1); msg != "" {
			p.alert("%s : %s", w[0], msg)
			return
		}
	}
	p.report(&Error{Pos: p.pos(), Sev: SevWarning, Phase: PhaseParse, Style: StyleLine,
		Msg: fmt.Sprintf("'%s' has no effect, is deprecated, and will be removed in version 2.7.", w[0])})
}

// statsBindProcess checks "stats bind-process <set>..." (no effect, no
// warning, as in HAProxy).
func (p *parser) statsBindProcess(w []string) {
	for _, a := range w[2:] {
		if a == "all" {
			break
		}
		if msg := parseProcessNumber(a, 1); msg != "" {
			p.alert("'%s %s' : %s", w[0], w[1], msg)
			return
		}
	}
}

// bindProcess checks the "process <p>[/<threads>]" of a bind line: the
// warning that it is deprecated (and which "thread" to use), or an error.
func (p *parser) bindProcess(where, kw, v string) bool {
	proc, threads, slash := strings.Cut(v, "/")
	// HAProxy prints a bind line's error without its final newline.
	if msg := parseProcessNumber(proc, 1); msg != "" {
		p.alert("%s : '%s' : %s", where, kw, strings.TrimSuffix(msg, "\n"))
		return false
	}
	if slash {
		if msg := parseProcessNumber(threads, maxThreads); msg != "" {
			p.alert("%s : '%s' : %s", where, kw, strings.TrimSuffix(msg, "\n"))
			return false
		}
	}
	msg := fmt.Sprintf("'process %s' on 'bind' lines is deprecated and will be removed in 2.7.", v)
	if slash {
		msg += fmt.Sprintf(" Please use 'thread %s' instead.", threads)
	}
	p.warn("%s : %s", where, msg)
	return true
}
