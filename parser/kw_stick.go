package parser

import (
	"fmt"
	"strings"
	"time"
)

// StickTable is a proxy's stick-table line: the table is named after
// the proxy.
type StickTable struct {
	Pos
	// Name is the table's name: its proxy's, or "<peers>/<name>" for a
	// table line of a peers section.
	Name string `json:",omitempty"`
	// Peers names the peers section the table is replicated with.
	Peers string `json:",omitempty"`
	Type  string // ip, ipv6, integer, string, binary
	// KeyLen is the key size HAProxy reserves: 4 (ip), 16 (ipv6), 4
	// (integer), len+1 (string, with its NUL), len (binary).
	KeyLen  int
	Size    int
	Expire  time.Duration // 0: entries never expire
	NoPurge bool
	// Store is the data the entries keep, in HAProxy's enum order.
	Store []StickData
	// SrvKeyAddr is "srvkey addr": server_key holds the server's
	// address, not its name.
	SrvKeyAddr bool `json:",omitempty"`
}

// StickData is one stored data type and, for the rates, its period.
type StickData struct {
	Type   string
	Period time.Duration `json:",omitempty"`
}

// Has reports whether the table stores data type name.
func (t *StickTable) Has(name string) bool {
	for _, d := range t.Store {
		if d.Type == name {
			return true
		}
	}
	return false
}

// addStore adds a data type in enum order; false when already there.
func (t *StickTable) addStore(d StickData) bool {
	if t.Has(d.Type) {
		return false
	}
	idx := StickDataIndex(d.Type)
	at := len(t.Store)
	for i, o := range t.Store {
		if StickDataIndex(o.Type) > idx {
			at = i
			break
		}
	}
	t.Store = append(t.Store, StickData{})
	copy(t.Store[at+1:], t.Store[at:])
	t.Store[at] = d
	return true
}

// StickDataTypes are HAProxy 2.6's stored data types in its enum order
// (the order "show table" prints them in). The arrays gpt, gpc and
// gpc_rate come last.
var StickDataTypes = []string{
	"server_id", "gpt0", "gpc0", "gpc0_rate", "conn_cnt", "conn_rate", "conn_cur",
	"sess_cnt", "sess_rate", "http_req_cnt", "http_req_rate", "http_err_cnt",
	"http_err_rate", "bytes_in_cnt", "bytes_in_rate", "bytes_out_cnt", "bytes_out_rate",
	"gpc1", "gpc1_rate", "server_key", "http_fail_cnt", "http_fail_rate",
	"gpt", "gpc", "gpc_rate",
}

// StickDataIndex is the enum index of a data type, -1 when unknown.
func StickDataIndex(name string) int {
	for i, n := range StickDataTypes {
		if n == name {
			return i
		}
	}
	return -1
}

// StickIsRate reports whether a data type is a frequency counter, which
// takes a period argument.
func StickIsRate(name string) bool { return strings.HasSuffix(name, "_rate") }

// stickTypes are the key types with their default key size and whether
// "len" may change it.
var stickTypes = []struct {
	name   string
	size   int
	custom bool
}{{"ip", 4, false}, {"ipv6", 16, false}, {"integer", 4, false}, {"string", 32, true}, {"binary", 32, true}}

func (p *parser) kwStickTable(px *Proxy, w []string, _ kwMod) {
	if px.Cap&CapDefaults != 0 {
		p.alert("'stick-table' is not supported in 'defaults' section.")
		return
	}
	for _, o := range p.cfg.Proxies {
		if o != px && o.Table != nil && o.Name == px.Name {
			p.alert("stick-table name '%s' conflicts with table declared in %s '%s' at %s:%d.", px.Name, capName(o.Cap), o.Name, o.Table.File, o.Table.Line)
			return
		}
	}
	if px.Table != nil {
		p.alert("stick-table name '%s' conflicts with table declared in %s '%s' at %s:%d.", px.Name, capName(px.Cap), px.Name, px.Table.File, px.Table.Line)
		return
	}
	t, msg := parseStickTableLine(w, false)
	if msg != "" {
		p.report(&Error{Pos: p.pos(), Msg: msg, Phase: PhaseParse, Style: stickStyle(msg)})
		return
	}
	for _, warn := range t.warnings {
		p.report(&Error{Pos: p.pos(), Msg: warn, Phase: PhaseParse, Sev: SevWarning, Style: StyleLine})
	}
	t.StickTable.Pos = p.pos()
	t.Name = px.Name
	px.Table = &t.StickTable
}

// stickStyle: HAProxy writes its timer messages "parsing [f:l]: ...".
func stickStyle(msg string) Style {
	if strings.Contains(msg, "timer overflow") || strings.Contains(msg, "timer underflow") {
		return StyleLine
	}
	return StyleKeyword
}

// parsedTable is a stick-table line with the warnings it gave.
type parsedTable struct {
	StickTable
	warnings []string
}

// parseStickTableLine parses the words of a stick-table line (w[0] is
// the keyword) as parse_stick_table() does: the first error ends it.
// inPeers is set for the table lines of a peers section, which take no
// "peers" argument.
func parseStickTableLine(w []string, inPeers bool) (parsedTable, string) {
	var t parsedTable
	kw := w[0]
	typeSet := false
	for i := 1; i < len(w); {
		switch arg := w[i]; arg {
		case "size":
			i++
			v := argAt(w, i)
			if v == "" {
				return t, fmt.Sprintf("%s: missing argument after '%s'.", kw, arg)
			}
			n, bad := parseSize(v)
			if bad != "" {
				return t, fmt.Sprintf("%s: unexpected character '%s' in argument of '%s'.", kw, bad[:1], arg)
			}
			t.Size = n
			i++
		case "peers":
			if inPeers {
				return t, fmt.Sprintf("%s: unknown argument '%s'.", kw, arg)
			}
			i++
			if argAt(w, i) == "" {
				return t, fmt.Sprintf("%s: missing argument after '%s'.", kw, arg)
			}
			t.Peers = w[i]
			i++
		case "expire":
			i++
			v := argAt(w, i)
			if v == "" {
				return t, fmt.Sprintf("%s: missing argument after '%s'.", kw, arg)
			}
			d, rest, err := ParseTime(v)
			if err == nil && rest != "" {
				err = &timeError{kind: "char", char: rest[0]}
			}
			if te, ok := err.(*timeError); ok {
				switch te.kind {
				case "overflow":
					return t, fmt.Sprintf("%s: timer overflow in argument <%s> to <%s>, maximum value is 2147483647 ms (~24.8 days).", kw, v, arg)
				case "underflow":
					return t, fmt.Sprintf("%s: timer underflow in argument <%s> to <%s>, minimum non-null value is 1 ms.", kw, v, arg)
				default:
					return t, fmt.Sprintf("%s: unexpected character '%c' in argument of '%s'.", kw, te.char, arg)
				}
			}
			t.Expire = d
			i++
		case "nopurge":
			t.NoPurge = true
			i++
		case "type":
			i++
			next, ok := t.parseType(w, i)
			if !ok {
				return t, fmt.Sprintf("%s: unknown type '%s'.", kw, argAt(w, next))
			}
			typeSet = true
			i = next
		case "store":
			i++
			if m := t.parseStore(kw, argAt(w, i)); m != "" {
				return t, m
			}
			i++
		case "srvkey":
			i++
			v := argAt(w, i)
			if v != "name" && v != "addr" {
				return t, fmt.Sprintf("%s : unknown server key type '%s'.", kw, v)
			}
			t.SrvKeyAddr = v == "addr"
			i++
		default:
			return t, fmt.Sprintf("%s: unknown argument '%s'.", kw, arg)
		}
	}
	if t.Size == 0 {
		return t, fmt.Sprintf("%s: missing size.", kw)
	}
	if !typeSet {
		return t, fmt.Sprintf("%s: missing type.", kw)
	}
	return t, ""
}

// parseType parses "type <t> [len <n>]" from w[i]; it returns the index
// after it, or with false the index of the word HAProxy names.
func (t *parsedTable) parseType(w []string, i int) (int, bool) {
	name := argAt(w, i)
	for _, st := range stickTypes {
		if st.name != name {
			continue
		}
		t.Type, t.KeyLen = st.name, st.size
		i++
		if st.custom && argAt(w, i) == "len" {
			i++
			n := atol(argAt(w, i))
			if n <= 0 {
				return i, false
			}
			t.KeyLen = n
			if st.name == "string" {
				t.KeyLen++
			}
			i++
		}
		return i, true
	}
	return i, false
}

// parseStore parses the comma-separated list after "store".
func (t *parsedTable) parseStore(kw, list string) string {
	for nw := list; nw != ""; {
		cw, arg, hasArg := nw, "", false
		end := strings.IndexByte(nw, ',')
		if open := strings.IndexByte(nw, '('); open >= 0 && (end < 0 || open < end) {
			cw = nw[:open]
			closeAt := strings.IndexByte(nw[open:], ')')
			if closeAt < 0 {
				return fmt.Sprintf("%s: missing closing parenthesis after store option '%s'.", kw, cw)
			}
			arg, hasArg = nw[open+1:open+closeAt], true
			nw = nw[open+closeAt+1:]
			// HAProxy skips what follows ')' up to the next comma.
			if c := strings.IndexByte(nw, ','); c >= 0 {
				nw = nw[c+1:]
			} else {
				nw = ""
			}
		} else if end >= 0 {
			cw, nw = nw[:end], nw[end+1:]
		} else {
			nw = ""
		}
		if StickDataIndex(cw) < 0 {
			return fmt.Sprintf("%s: unknown store option '%s'.", kw, cw)
		}
		if cw == "gpt" || cw == "gpc" || cw == "gpc_rate" {
			return fmt.Sprintf("%s: store option '%s' is not supported by goproxy (use gpt0, gpc0, gpc1 and their rates).", kw, cw)
		}
		d := StickData{Type: cw}
		if StickIsRate(cw) {
			if !hasArg {
				return fmt.Sprintf("%s: missing argument to store option '%s'.", kw, cw)
			}
			a, _, _ := strings.Cut(arg, ",")
			per, rest, err := ParseTime(a)
			if err != nil || rest != "" {
				return fmt.Sprintf("%s: error when processing store option '%s'.", kw, cw)
			}
			d.Period = per
		} else if hasArg {
			return fmt.Sprintf("%s: unexpected argument to store option '%s'.", kw, cw)
		}
		if !t.addStore(d) {
			t.warnings = append(t.warnings, fmt.Sprintf("%s: store option '%s' already enabled, ignored.", kw, cw))
		}
	}
	return ""
}

// parseSize is HAProxy's parse_size_err: digits and an optional k, m or
// g suffix, in 32 bits; bad is the text from the first wrong character.
func parseSize(s string) (int, string) {
	if s == "" || !isDigit(s[0]) {
		return 0, s
	}
	var v uint64
	i := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		v = v*10 + uint64(s[i]-'0')
		if v > 1<<32-1 {
			return 0, s[i:]
		}
	}
	if i < len(s) {
		shift := 0
		switch s[i] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		default:
			return 0, s[i:]
		}
		if v > (1<<32-1)>>shift {
			return 0, s[i:]
		}
		v <<= shift
		if i+1 < len(s) {
			return 0, s[i+1:]
		}
	}
	return int(v), ""
}
