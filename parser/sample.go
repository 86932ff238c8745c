package parser

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Converter is one converter of a sample expression ("lower",
// "bytes(0,4)", "map_beg(/etc/accounts.map,pool_a)"), as written after the
// fetch in an ACL, a use_backend %[...] or a log-format %[...].
type Converter struct {
	Name string
	Args []string `json:",omitempty"`
	// Map converters: the map file they look up (shared with every other
	// converter naming the same file), the match type (str, beg, ip...) and
	// the output type (str, int, ip).
	Map      *MapFile `json:"-"`
	MapMatch string   `json:",omitempty"`
	MapOut   string   `json:",omitempty"`
}

// SampleExpr is a sample fetch with its arguments and converters.
type SampleExpr struct {
	Fetch string
	Args  []string    `json:",omitempty"`
	Conv  []Converter `json:",omitempty"`
}

// argKind is the type of a converter argument, as HAProxy names it in
// its messages.
type argKind string

const (
	argInt   argKind = "integer"
	argMask4 argKind = "IPv4 mask"
	argMask6 argKind = "IPv6 mask"
	argStr   argKind = "string"
)

// convDef describes a converter goproxy applies: the type its input is
// cast to, its output type, its arguments and how many are mandatory.
type convDef struct {
	in, out   string // bool, int, addr (in only), ip, str, bin
	args      []argKind
	mandatory int
}

var convDefs = map[string]convDef{
	"lower":  {"str", "str", nil, 0},
	"upper":  {"str", "str", nil, 0},
	"hex":    {"bin", "str", nil, 0},
	"bytes":  {"bin", "bin", []argKind{argInt, argInt}, 1},
	"ipmask": {"addr", "ip", []argKind{argMask4, argMask6}, 1},
}

// mapMatchIn are the match types of the map converters with the type of
// their input.
var mapMatchIn = map[string]string{
	"str": "str", "beg": "str", "sub": "str", "dir": "str", "dom": "str", "end": "str",
	"reg": "str", "regm": "str", "int": "int", "ip": "addr",
}

// mapConverter splits a map converter's name ("map", "map_beg",
// "map_str_int") into its match and output types.
func mapConverter(name string) (match, out string, ok bool) {
	if name == "map" {
		return "str", "str", true
	}
	rest, found := strings.CutPrefix(name, "map_")
	if !found {
		return "", "", false
	}
	match, out, two := strings.Cut(rest, "_")
	if _, known := mapMatchIn[match]; !known {
		return "", "", false
	}
	switch {
	case match == "regm" && two:
		return "", "", false // map_regm gives strings only
	case !two:
		out = "str"
		if match == "int" || match == "ip" {
			// map_int and map_ip give strings too.
			return match, "str", true
		}
	case out != "int" && out != "ip":
		return "", "", false
	}
	return match, out, true
}

// castable reports whether HAProxy casts a sample of type from to type to
// (sample_casts): where it does not, a converter cannot be applied.
func castable(from, to string) bool {
	if from == "addrout" {
		return false
	}
	if from == to || from == "any" || to == "str" || (to == "addr" && from == "ip") {
		return true
	}
	switch from {
	case "bool":
		return to == "int" || to == "bin"
	case "int", "str":
		return true
	case "ip":
		return to == "int" || to == "bin"
	case "bin":
		return to == "bin"
	}
	return false
}

// convError is a converter's error, without the context HAProxy adds
// (" in ACL expression '...'.", "failed to parse sample expression").
type convError string

// splitArgs splits the argument list after '(' at s[0] up to its ')':
// the arguments, the rest after ')', and false when ')' is missing.
func splitArgs(s string) (args []string, rest string, closed bool) {
	end := strings.IndexByte(s, ')')
	if end < 0 {
		if inner := s[1:]; inner != "" {
			args = strings.Split(inner, ",")
		}
		return args, "", false
	}
	if inner := s[1:end]; inner != "" {
		args = strings.Split(inner, ",")
	}
	return args, s[end+1:], true
}

// parseConverters parses the converters after a fetch ("lower,bytes(1)"
// without the first comma) applied to a sample of type in. It returns them,
// the type of the result and, on error, HAProxy's message.
func (p *parser) parseConverters(text, in string) ([]Converter, string, convError) {
	var out []Converter
	typ := in
	for text != "" {
		i := strings.IndexAny(text, "(,")
		name := text
		if i >= 0 {
			name = text[:i]
		}
		if name == "" {
			break // HAProxy ends the converter list at an empty name
		}
		text = text[len(name):]
		var args []string
		hasArgs, closed := false, true
		if text != "" && text[0] == '(' {
			hasArgs = true
			args, text, closed = splitArgs(text)
		}
		if text != "" && text[0] != ',' {
			return nil, "", convError(fmt.Sprintf("missing comma after converter '%s'", name))
		}
		text = strings.TrimPrefix(text, ",")
		def, ok := convDefs[name]
		match, mout, isMap := mapConverter(name)
		if isMap {
			def = convDef{in: mapMatchIn[match], out: mout, args: []argKind{argStr, argStr}, mandatory: 1}
			if mout == "ip" {
				// HAProxy types it "addr", which no converter takes.
				def.out = "addrout"
			}
			if mout == "int" {
				def.args[1] = argInt
			}
		} else if !ok {
			base := name
			if knownConverters[base] {
				return nil, "", convError(fmt.Sprintf("converter '%s' is not supported by goproxy (see the README for the converters applied)", base))
			}
			return nil, "", convError(fmt.Sprintf("unknown converter '%s'", base))
		}
		if m := checkMQTTArity(name, args); m != "" {
			return nil, "", m
		}
		if m := checkConvArgs(name, def, args, hasArgs, closed); m != "" {
			return nil, "", m
		}
		if m := checkMQTTArgs(name, args); m != "" {
			return nil, "", m
		}
		if !castable(typ, def.in) {
			return nil, "", convError(fmt.Sprintf("converter '%s' cannot be applied", name))
		}
		c := Converter{Name: name, Args: trimEmptyArgs(args)}
		if isMap {
			c.MapMatch, c.MapOut = match, mout
			if def := argAt(args, 1); def != "" && mout == "ip" {
				if _, err := netip.ParseAddr(def); err != nil {
					return nil, "", convError(fmt.Sprintf("invalid args in converter '%s' : map: cannot parse default ip <%s>.", name, def))
				}
			}
			ref, m := p.loadMap(argAt(args, 0), match, mout)
			if m != "" {
				return nil, "", convError(fmt.Sprintf("invalid args in converter '%s' : %s", name, m))
			}
			c.Map = ref
		}
		out = append(out, c)
		typ = def.out
	}
	return out, typ, ""
}

// trimEmptyArgs drops trailing empty arguments: HAProxy reads an empty
// optional argument as absent.
func trimEmptyArgs(args []string) []string {
	for len(args) > 0 && args[len(args)-1] == "" {
		args = args[:len(args)-1]
	}
	return args
}

// checkConvArgs validates a converter's arguments with HAProxy's
// make_arg_list() messages.
func checkConvArgs(name string, def convDef, args []string, hasArgs, closed bool) convError {
	bad := func(n int, format string, a ...any) convError {
		return convError(fmt.Sprintf("invalid arg %d in converter '%s' : ", n, name) + fmt.Sprintf(format, a...))
	}
	if hasArgs && !closed {
		// HAProxy counts the argument it stopped in, at most the last.
		return bad(max(min(len(args)+1, len(def.args)), 1), "expected ')'")
	}
	if len(args) > len(def.args) {
		extra := strings.Join(args[len(def.args):], ",")
		if len(def.args) > 0 {
			extra = "," + extra
		}
		return bad(max(len(def.args), 1), "expected ')' before '%s)'", extra)
	}
	for i, k := range def.args {
		v := argAt(args, i)
		if v == "" {
			if i < def.mandatory && k != argStr {
				return bad(i+1, "expected type '%s' at position %d, but got nothing", k, i+1)
			}
			continue
		}
		if !validConvArg(k, v) {
			return bad(i+1, "failed to parse '%s' as type '%s' at position %d", v, k, i+1)
		}
	}
	return ""
}

// validConvArg checks one argument of type k.
func validConvArg(k argKind, v string) bool {
	switch k {
	case argInt:
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case argMask4:
		_, ok := ParseMask4(v)
		return ok
	case argMask6:
		n, err := strconv.Atoi(v)
		return err == nil && n >= 0 && n <= 128
	}
	return true
}

// ParseMask4 parses an IPv4 mask, a prefix length (0 to 32) or a dotted
// mask of contiguous bits, into its length.
func ParseMask4(v string) (int, bool) {
	if n, err := strconv.Atoi(v); err == nil {
		return n, n >= 0 && n <= 32
	}
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	u := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for bits < 32 && u&(1<<(31-bits)) != 0 {
		bits++
	}
	if u<<bits != 0 {
		return 0, false
	}
	return bits, true
}

// splitSample splits "name(args),conv..." into the fetch name, its
// arguments, and the converters' text after the first comma.
func splitSample(expr string) (name string, args []string, conv string, msg string) {
	i := strings.IndexAny(expr, "(,")
	if i < 0 {
		return expr, nil, "", ""
	}
	name, rest := expr[:i], expr[i:]
	if rest[0] == '(' {
		var closed bool
		args, rest, closed = splitArgs(rest)
		if !closed {
			return name, nil, "", fmt.Sprintf("missing closing ')' after arguments to fetch keyword '%s'", name)
		}
	}
	if rest == "" {
		return name, args, "", ""
	}
	if rest[0] != ',' {
		return name, args, "", fmt.Sprintf("missing comma after fetch keyword '%s'", name)
	}
	return name, args, rest[1:], ""
}
