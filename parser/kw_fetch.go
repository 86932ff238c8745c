package parser

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// fetchDef describes a sample fetch goproxy evaluates in TCP mode.
type fetchDef struct {
	out     string // output type: bool, int, str, bin, ip
	match   string // default matching method of its ACL keyword
	minArgs int
	maxArgs int
}

// fetches are the sample fetches goproxy evaluates in TCP mode, by name.
var fetches = map[string]fetchDef{
	"src":                {"ip", "ip", 0, 0},
	"dst":                {"ip", "ip", 0, 0},
	"src_port":           {"int", "int", 0, 0},
	"dst_port":           {"int", "int", 0, 0},
	"always_true":        {"bool", "bool", 0, 0},
	"always_false":       {"bool", "bool", 0, 0},
	"req.len":            {"int", "int", 0, 0},
	"req_len":            {"int", "int", 0, 0},
	"req.payload":        {"bin", "bin", 2, 2},
	"req.payload_lv":     {"bin", "bin", 2, 3},
	"payload":            {"bin", "bin", 2, 2}, // HAProxy's older names
	"payload_lv":         {"bin", "bin", 2, 3},
	"req.ssl_sni":        {"str", "str", 0, 0},
	"req_ssl_sni":        {"str", "str", 0, 0},
	"req.ssl_hello_type": {"int", "int", 0, 0},
	"req_ssl_hello_type": {"int", "int", 0, 0},
	"req.ssl_ver":        {"int", "ver", 0, 0},
	"req_ssl_ver":        {"int", "ver", 0, 0},
	"req.ssl_alpn":       {"str", "str", 0, 0},
	"req.ssl_ec_ext":     {"bool", "bool", 0, 0},
	"fe_name":            {"str", "str", 0, 0},
	"be_name":            {"str", "str", 0, 0},
	"fe_id":              {"int", "int", 0, 0},
	"so_id":              {"int", "int", 0, 0},
	"prio_class":         {"int", "int", 0, 0},
	"prio_offset":        {"int", "int", 0, 0},
	"fe_conn":            {"int", "int", 0, 1},
	"nbsrv":              {"int", "int", 0, 1},
	"be_conn":            {"int", "int", 0, 1},
	"connslots":          {"int", "int", 0, 1},
	"queue":              {"int", "int", 0, 1},
	"srv_is_up":          {"bool", "bool", 0, 1},
	"be_id":              {"int", "int", 0, 0},
	"be_sess_rate":       {"int", "int", 0, 1},
	"avg_queue":          {"int", "int", 0, 1},
	"srv_conn":           {"int", "int", 0, 1},
	"srv_queue":          {"int", "int", 0, 1},
	"srv_sess_rate":      {"int", "int", 0, 1},
	"var":                {"any", "any", 1, 2},
	"fc_err":             {"int", "int", 0, 0},
	"fc_err_str":         {"str", "str", 0, 0},
	"fc_pp_authority":    {"str", "str", 0, 0},
	"fc_pp_unique_id":    {"str", "str", 0, 0},
	"unique-id":          {"str", "str", 0, 0},
	"capture.req.hdr":    {"str", "str", 1, 1},
	"int":                {"int", "int", 1, 1}, // constants
	"str":                {"str", "str", 0, 1},
	"bool":               {"bool", "bool", 1, 1},
	"bin":                {"bin", "bin", 1, 1},
	"ipv4":               {"ip", "ip", 1, 1},
	"ipv6":               {"ip", "ip", 1, 1},
}

// knownConverters are HAProxy converters goproxy does not apply.
var knownConverters = map[string]bool{
	"add": true, "and": true, "base64": true, "bool": true, "bytes": true, "concat": true,
	"cpl": true, "crc32": true, "crc32c": true, "cut_crlf": true, "div": true, "djb2": true,
	"even": true, "field": true, "hex2i": true, "htonl": true, "ipmask": true, "json": true,
	"length": true, "ltrim": true, "map": true, "mod": true, "mul": true, "neg": true,
	"not": true, "odd": true, "or": true, "regsub": true, "rtrim": true, "sdbm": true,
	"sha1": true, "sha2": true, "strcmp": true, "sub": true, "ub64dec": true, "ub64enc": true,
	"url_dec": true, "word": true, "wt6": true, "xor": true, "xxh32": true, "xxh64": true,
}

// matchMethods are the -m methods goproxy implements.
var matchMethods = map[string]bool{
	"str": true, "beg": true, "end": true, "sub": true, "reg": true, "bin": true,
	"len": true, "found": true, "int": true, "ip": true, "bool": true,
}

// intOps are the operators that may precede an integer pattern.
var intOps = map[string]bool{"eq": true, "ge": true, "gt": true, "le": true, "lt": true}

// parseFetchACL parses a TCP-mode ACL expression: the fetch with its
// arguments and converters, the flags and the patterns.
func (p *parser) parseFetchACL(expr string, w []string) (*ACL, string) {
	name, args, convText, msg := splitSample(expr)
	if msg != "" {
		return nil, msg + " in ACL expression '" + expr + "'."
	}
	def, ok := fetches[name]
	if !ok {
		return nil, ""
	}
	if m := checkFetchArity(name, args); m != "" {
		return nil, m + " in ACL expression '" + expr + "'."
	}
	p.noteFetchArg(name, args, true)
	match := def.match
	conv, out, cmsg := p.parseConverters(convText, def.out)
	if cmsg != "" {
		return nil, string(cmsg) + " in ACL expression '" + expr + "'."
	}
	if len(conv) > 0 {
		match = out // the default method follows the output type
		if out == "addrout" {
			match = "ip"
		}
	}
	args = p.stickArgs(name, args, conv, true)
	acl := &ACL{Criterion: name, Args: args, Conv: conv}
	asMap, methodSet := false, false
	for len(w) > 0 && strings.HasPrefix(w[0], "-") {
		f := w[0]
		if f == "--" {
			w = w[1:]
			break
		}
		switch f {
		case "-m":
			m := argAt(w, 1)
			if m == "" {
				return nil, "missing matching method after '-m'."
			}
			if !matchMethods[m] {
				if m == "dom" || m == "dir" {
					return nil, fmt.Sprintf("matching method '-m %s' is not supported by goproxy for '%s'.", m, name)
				}
				return nil, fmt.Sprintf("unknown matching method '%s' when parsing ACL expression.", m)
			}
			acl.Match = m
			match = m
			methodSet = true
			w = w[2:]
		case "-i":
			acl.IgnoreCase = true
			w = w[1:]
		case "-n":
			w = w[1:]
		case "-f":
			file := argAt(w, 1)
			if file == "" {
				return nil, "missing file name after '-f'."
			}
			if !methodSet && (match == "bin" || match == "any") {
				return nil, fmt.Sprintf("matching method must be specified first (using '-m') when using a sample fetch of this type ('%s').", name)
			}
			vals, m := p.aclPatternFile(file, asMap, match)
			if m != "" {
				return nil, m
			}
			acl.Values = append(acl.Values, vals...)
			acl.Files = append(acl.Files, file)
			w = w[2:]
		case "-M":
			asMap = true
			w = w[1:]
		case "-u":
			return nil, fmt.Sprintf("ACL flag '%s' is not supported by goproxy.", f)
		default:
			return nil, fmt.Sprintf("'%s' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.", f)
		}
	}
	if match == "any" {
		return nil, fmt.Sprintf("matching method must be specified first (using '-m') when using a sample fetch of this type ('%s').", name)
	}
	if def.match == "ver" && acl.Match == "" {
		match = "ver"
	}
	p.nextRefID() // the ACL's own pattern reference
	acl.Values = append(acl.Values, w...)
	if match == "bool" || match == "found" {
		acl.Values = nil
	}
	for i := 0; i < len(acl.Values); i++ {
		v := acl.Values[i]
		if m := validPattern(match, v); m != "" {
			if (match == "int" || match == "len" || match == "ver") && intOps[v] {
				continue // an operator; HAProxy accepts one with no value after it
			}
			return nil, m
		}
	}
	if match != "bool" && match != "found" && len(acl.Values) == 0 {
		p.report(&Error{Msg: fmt.Sprintf("parsing acl keyword '%s' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.", name), Sev: SevWarning, Phase: PhaseParse})
	}
	return acl, ""
}

// checkFetchArgs validates the arguments of fetches that take some.
func checkFetchArgs(name string, args []string) string {
	num := func(i int, what string, signed bool) string {
		v := args[i]
		if signed && (strings.HasPrefix(v, "+") || strings.HasPrefix(v, "-")) {
			v = v[1:]
		}
		if _, err := strconv.ParseUint(v, 10, 31); err != nil {
			return fmt.Sprintf("failed to parse '%s' as type '%s' at position %d", args[i], what, i+1)
		}
		return ""
	}
	switch name {
	case "req.payload", "payload":
		if m := num(0, "integer", false); m != "" {
			return m
		}
		return num(1, "integer", false)
	case "req.payload_lv", "payload_lv":
		if m := num(0, "integer", false); m != "" {
			return m
		}
		if m := num(1, "integer", false); m != "" {
			return m
		}
		if n, _ := strconv.Atoi(args[1]); n < 1 {
			return "payload length must be > 0"
		}
		if len(args) == 3 {
			return num(2, "integer", true)
		}
	case "int":
		if _, err := strconv.ParseInt(args[0], 10, 64); err != nil {
			return "failed to parse '" + args[0] + "' as type 'integer' at position 1"
		}
	case "ipv4", "ipv6":
		a, err := netip.ParseAddr(args[0])
		if err != nil || a.Is4() != (name == "ipv4") || a.Zone() != "" {
			return fmt.Sprintf("failed to parse '%s' as type 'IPv%c address' at position 1", args[0], name[3])
		}
	case "bin":
		if m := validPattern("bin", args[0]); m != "" {
			return "invalid args:" + strings.TrimSuffix(m, ".")
		}
	case "bool":
		switch args[0] {
		case "true", "false", "0", "1":
		default:
			return "invalid args:Expects 'true', 'false', '0' or '1'"
		}
	case "var":
		if m := varNameError(args[0]); m != "" {
			return "invalid args:" + m
		}
	}
	return ""
}

// validPattern checks one pattern of a matching method; "" when valid.
func validPattern(match, v string) string {
	switch match {
	case "ip":
		if !validIPPattern(v) {
			return fmt.Sprintf("'%s' is not a valid IPv4 or IPv6 address.", v)
		}
	case "int", "len":
		return validIntPattern(v)
	case "ver":
		lo, hi, _ := cutRange(v)
		for _, part := range []string{lo, hi} {
			if part == "" {
				continue
			}
			maj, mnr, _ := strings.Cut(part, ".")
			if validIntPattern(maj) != "" || (mnr != "" && validIntPattern(mnr) != "") {
				return fmt.Sprintf("'%s' is not a dotted number.", v)
			}
		}
	case "bin":
		for i := 0; i < len(v); i++ {
			if !isHex(v[i]) {
				return fmt.Sprintf("an hex digit is expected (found '%c').", v[i])
			}
		}
		if len(v)%2 != 0 {
			return "an even number of hex digit is expected."
		}
	case "reg":
		if _, err := regexp.Compile(v); err != nil {
			return fmt.Sprintf("regex '%s' is invalid.", v)
		}
	}
	return ""
}

// readPatternFile reads an ACL pattern file: one pattern per line, blank
// lines and lines starting with '#' skipped, surrounding spaces trimmed.
func readPatternFile(name string) ([]string, error) {
	b, err := readRegularFile(name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		out = append(out, line)
	}
	return out, nil
}

// ruleContexts name where a condition is evaluated, as HAProxy's
// sample_ckp_names: the fetches incompatible with it never match there.
const (
	ctxFrontendConn    = "frontend tcp-request connection rule"
	ctxFrontendSession = "frontend tcp-request session rule"
	ctxFrontendContent = "frontend tcp-request content rule"
	ctxUseBackend      = "frontend use-backend rule"
)

// incompatible reports whether fetch name cannot run in ctx.
func incompatible(name, ctx string) bool {
	switch {
	case strings.HasPrefix(name, "req.") || strings.HasPrefix(name, "req_") || strings.HasPrefix(name, "payload"):
		return ctx == ctxFrontendConn || ctx == ctxFrontendSession
	case name == "be_name":
		return ctx != ""
	}
	return false
}

// warnNeverMatch warns, as HAProxy, of the ACLs of c that only involve
// fetches incompatible with ctx; in names the rule ("tcp-request
// connection"), empty for use_backend.
func (p *parser) warnNeverMatch(px *Proxy, c *Condition, ctx, in string) {
	if c == nil {
		return
	}
	where := ""
	if in != "" {
		where = " in '" + in + "'"
	}
	for _, and := range c.Terms {
		for _, t := range and {
			if t.Anon != nil {
				if incompatible(t.Anon.Criterion, ctx) {
					p.warn("anonymous acl will never match%s because it uses keyword '%s' which is incompatible with '%s'", where, t.Anon.Criterion, ctx)
					return
				}
				continue
			}
			n, bad := 0, 0
			for _, a := range px.ACLs {
				if a.Name == t.ACL {
					n++
					if incompatible(a.Criterion, ctx) {
						bad++
					}
				}
			}
			if n > 0 && bad == n {
				p.warn("acl '%s' will never match%s because it only involves keywords that are incompatible with '%s'", t.ACL, where, ctx)
				return
			}
		}
	}
}

// checkFetchArity checks the number and values of a fetch's arguments,
// with HAProxy's messages (without their context).
func checkFetchArity(name string, args []string) string {
	def := fetches[name]
	if name == "var" && len(args) == 0 {
		return "invalid args in fetch method 'var' : Empty variable name cannot be accepted"
	}
	if strings.HasPrefix(name, "sc_") {
		// sc_*(<ctr>[,<table>]), HAProxy's ARG2(1,SINT,TAB).
		switch {
		case len(args) == 0:
			return fmt.Sprintf("fetch method '%s' : expected type 'integer' at position 1, but got nothing", name)
		case len(args) > 2:
			return fmt.Sprintf("fetch method '%s' : expected ')' before ',%s)'", name, strings.Join(args[2:], ","))
		}
		if _, err := strconv.ParseInt(args[0], 10, 64); err != nil {
			return fmt.Sprintf("fetch method '%s' : failed to parse '%s' as type 'integer' at position 1", name, args[0])
		}
		return ""
	}
	if konst := constTypes[name]; konst != "" && len(args) == 0 {
		return fmt.Sprintf("fetch method '%s' : expected type '%s' at position 1, but got nothing", name, konst)
	}
	if len(args) < def.minArgs {
		typ := "integer"
		if name == "srv_is_up" {
			typ = "server"
		}
		return fmt.Sprintf("fetch method '%s' : missing arguments (got %d/%d), type '%s' expected", name, len(args), def.minArgs, typ)
	}
	if len(args) > def.maxArgs {
		if def.maxArgs == 0 {
			return fmt.Sprintf("fetch method '%s' : expected ')' before '%s)'", name, strings.Join(args, ","))
		}
		return fmt.Sprintf("fetch method '%s' : end of arguments expected at position %d, but got ',%s'", name, def.maxArgs+1, args[def.maxArgs])
	}
	if m := checkFetchArgs(name, args); m != "" {
		if strings.HasPrefix(m, "payload length") {
			return fmt.Sprintf("invalid args in fetch method '%s' : %s", name, m)
		}
		if rest, ok := strings.CutPrefix(m, "invalid args:"); ok {
			return fmt.Sprintf("invalid args in fetch method '%s' : %s", name, rest)
		}
		return fmt.Sprintf("fetch method '%s' : %s", name, m)
	}
	return ""
}

// constTypes are the constant fetches with the type of their argument,
// as HAProxy names it.
var constTypes = map[string]string{"int": "integer", "bool": "string", "bin": "string", "ipv4": "IPv4 address", "ipv6": "IPv6 address"}
