package proxy

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"goproxy/internal/tlshello"
	"goproxy/parser"
)

// connInfo is what ACLs look at: the connection's addresses and, during
// content inspection, the client's first bytes.
type connInfo struct {
	src, dst netip.AddrPort
	s        *session // nil in unit tests of layer-4 rules
	// conn: tcp-request connection rules, where the fetches of the
	// client's bytes never match (as HAProxy warns at startup).
	conn bool
	// req holds the bytes the client sent so far (peeked, still in the
	// socket); final means no more will be waited for.
	req   []byte
	final bool
	// bufSize is tune.bufsize: a payload fetch beyond it never matches.
	// 0 (rules without a session) is HAProxy's default.
	bufSize int
	// ending: the session is being logged at its end (fEnding).
	ending bool
}

// bufLimit is the buffer size the payload fetches are bounded by.
func (c *connInfo) bufLimit() int {
	if c.bufSize > 0 {
		return c.bufSize
	}
	return parser.DefaultBufSize
}

// ACL results, HAProxy's three-valued logic: AND is &, OR is |.
const (
	aclFail = 0
	aclMiss = 1 // the fetch needs data that may still come
	aclPass = 3
)

// Sample types.
const (
	smpBool uint8 = iota
	smpInt
	smpStr
	smpBin
	smpIP
	// smpAny is a variable that exists without a value (HAProxy's
	// SMP_T_ANY, which a set-var condition can leave): never fetched.
	smpAny
)

// sample is a fetched value.
type sample struct {
	typ       uint8
	i         int64
	b         []byte
	ip        netip.Addr
	mayChange bool // the value may differ once more data arrives
	// list: b is an ALPN protocol_name_list, one value per protocol
	// (HAProxy's multi-valued samples: any of them may match).
	list bool
}

// Matching methods.
const (
	mBool uint8 = iota
	mFound
	mInt
	mIP
	mStr
	mBeg
	mEnd
	mSub
	mReg
	mBin
	mLen
)

var matchIDs = map[string]uint8{
	"bool": mBool, "found": mFound, "int": mInt, "ver": mInt, "ip": mIP, "str": mStr, "beg": mBeg,
	"end": mEnd, "sub": mSub, "reg": mReg, "bin": mBin, "len": mLen,
}

// acl is a compiled ACL: one fetch, its converters, a matching method and
// its patterns (OR-ed).
type acl struct {
	crit     string
	fetch    fetchFn
	fa       fetchArgs
	conv     []converter
	method   uint8
	icase    bool
	l6       bool // reads the client's bytes
	prefixes []netip.Prefix
	ranges   [][2]int64
	pats     [][]byte
	regs     []*regexp.Regexp
}

// exec evaluates a against c: aclPass, aclFail or aclMiss.
func (a *acl) exec(c *connInfo) int {
	if a.l6 && c.conn {
		return aclFail
	}
	smp, ok := a.fetch(&a.fa, c)
	if ok && smp.list {
		for rest := smp.b; len(rest) > 0; {
			var p []byte
			if p, rest, ok = tlshello.NextProtocol(rest); !ok {
				break
			}
			one := sample{typ: smpStr, b: p}
			if a.convert(&one) && a.matches(&one) {
				return aclPass
			}
		}
		return aclFail
	}
	if ok {
		ok = a.convert(&smp)
	}
	if !ok {
		if smp.mayChange && !c.final {
			return aclMiss
		}
		return aclFail
	}
	if a.matches(&smp) {
		return aclPass
	}
	if smp.mayChange && !c.final {
		return aclMiss
	}
	return aclFail
}

// match reports whether c matches a (layer-4 rules: data never waits).
func (a *acl) match(c *connInfo) bool { return a.exec(c) == aclPass }

// convert applies the converters; false when one leaves no sample.
func (a *acl) convert(smp *sample) bool { return applyConverters(a.conv, smp) }

// matches applies the matching method to a fetched sample.
func (a *acl) matches(smp *sample) bool {
	switch a.method {
	case mFound:
		return true
	case mBool:
		switch smp.typ {
		case smpBool, smpInt:
			return smp.i != 0
		}
		return len(smp.b) > 0
	case mInt, mLen:
		v := smp.i
		switch {
		case a.method == mLen:
			if smp.typ != smpStr && smp.typ != smpBin {
				return false
			}
			v = int64(len(binToStr(smp)))
		case smpStr == smp.typ:
			// HAProxy's str-to-int cast: an optional sign, then digits.
			var ok bool
			if v, ok = leadingInt(smp.b); !ok {
				return false
			}
		case smp.typ != smpInt && smp.typ != smpBool:
			return false
		}
		for _, r := range a.ranges {
			if v >= r[0] && v <= r[1] {
				return true
			}
		}
	case mIP:
		ip := smp.ip.Unmap()
		switch smp.typ {
		case smpIP:
		case smpInt: // int-to-ipv4 cast
			u := uint32(smp.i)
			ip = netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
		case smpStr:
			var err error
			if ip, err = netip.ParseAddr(string(smp.b)); err != nil {
				return false
			}
			ip = ip.Unmap()
		default:
			return false
		}
		for _, p := range a.prefixes {
			if p.Contains(ip) {
				return true
			}
		}
	case mReg:
		b := a.text(smp)
		for _, r := range a.regs {
			if r.Match(b) {
				return true
			}
		}
	default:
		b := a.text(smp)
		for _, p := range a.pats {
			if a.strMatch(b, p) {
				return true
			}
		}
	}
	return false
}

// leadingInt parses an optional sign and the digits that follow.
func leadingInt(b []byte) (int64, bool) {
	i, neg := 0, false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var v int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + int64(b[i]-'0')
	}
	if i == start {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// binToStr is HAProxy's binary-to-string cast: the string ends at the
// first NUL byte.
func binToStr(smp *sample) []byte {
	if smp.typ == smpBin {
		if i := bytes.IndexByte(smp.b, 0); i >= 0 {
			return smp.b[:i]
		}
	}
	return smp.b
}

// text returns the sample as bytes for the string methods (a binary
// sample through HAProxy's cast, except for bin).
func (a *acl) text(smp *sample) []byte {
	switch smp.typ {
	case smpStr:
		return smp.b
	case smpBin:
		if a.method == mBin {
			return smp.b
		}
		return binToStr(smp)
	case smpIP:
		return []byte(smp.ip.String())
	}
	return strconv.AppendInt(nil, smp.i, 10)
}

// strMatch applies str, beg, end, sub or bin to one pattern.
func (a *acl) strMatch(b, p []byte) bool {
	eq := bytes.Equal
	if a.icase && a.method != mBin {
		eq = bytes.EqualFold
	}
	switch a.method {
	case mStr, mBin:
		return eq(b, p)
	case mBeg:
		return len(b) >= len(p) && eq(b[:len(p)], p)
	case mEnd:
		return len(b) >= len(p) && eq(b[len(b)-len(p):], p)
	case mSub:
		if !a.icase {
			return bytes.Contains(b, p)
		}
		for i := 0; i+len(p) <= len(b); i++ {
			if eq(b[i:i+len(p)], p) {
				return true
			}
		}
	}
	return false
}

// compileACL compiles one acl line.
func compileACL(p *parser.ACL, maps *compileEnv) (*acl, error) {
	name := canonicalFetch(p.Criterion)
	f, ok := fetchTable[name]
	if !ok {
		return nil, fmt.Errorf("acl '%s': unsupported criterion '%s'", p.Name, p.Criterion)
	}
	conv, err := compileConverters(p.Conv, maps)
	if err != nil {
		return nil, fmt.Errorf("acl '%s': %w", p.Name, err)
	}
	a := &acl{crit: name, fetch: f.fn, l6: f.l6, conv: conv, icase: p.IgnoreCase}
	if err := a.fa.parse(name, p.Args); err != nil {
		return nil, fmt.Errorf("acl '%s': %w", p.Name, err)
	}
	if err := a.fa.resolveTable(name, maps); err != nil {
		return nil, fmt.Errorf("acl '%s': %w", p.Name, err)
	}
	m := p.Match
	if m == "" {
		m = f.match
		if len(p.Conv) > 0 {
			m = convMatch(p.Conv[len(p.Conv)-1])
		}
	}
	a.method = matchIDs[m]
	op := ""
	for _, v := range p.Values {
		var err error
		switch a.method {
		case mBool, mFound:
		case mIP:
			var pfx netip.Prefix
			pfx, err = parsePrefix(v)
			a.prefixes = append(a.prefixes, pfx)
		case mInt, mLen:
			switch v {
			case "eq", "ge", "gt", "le", "lt":
				op = v
				continue
			}
			var r [2]int64
			r, err = parseIntPattern(v, op, m == "ver")
			a.ranges = append(a.ranges, r)
			op = ""
		case mReg:
			expr := v
			if a.icase {
				expr = "(?i)" + expr
			}
			var re *regexp.Regexp
			re, err = regexp.Compile(expr)
			a.regs = append(a.regs, re)
		case mBin:
			var b []byte
			b, err = hex.DecodeString(v)
			a.pats = append(a.pats, b)
		default:
			a.pats = append(a.pats, []byte(v))
		}
		if err != nil {
			return nil, fmt.Errorf("acl '%s': %w", p.Name, err)
		}
	}
	return a, nil
}

// parseIntPattern parses an integer pattern (N, N:M, :M, N:, or with '-'
// for ':') after an
// optional operator; ver patterns are dotted versions (3.1 = 0x030001).
func parseIntPattern(v, op string, ver bool) ([2]int64, error) {
	num := func(s string, def int64) (int64, error) {
		if s == "" {
			return def, nil
		}
		if ver {
			maj, mnr, _ := strings.Cut(s, ".")
			a, err1 := strconv.ParseInt(maj, 10, 32)
			b, err2 := int64(0), error(nil)
			if mnr != "" {
				b, err2 = strconv.ParseInt(mnr, 10, 16)
			}
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("invalid version '%s'", v)
			}
			return a<<16 | b, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid number '%s'", v)
		}
		return n, nil
	}
	lo, hi, rng := v, "", false
	if i := strings.IndexAny(v, ":-"); i >= 0 { // HAProxy's separators
		lo, hi, rng = v[:i], v[i+1:], true
	}
	a, err := num(lo, math.MinInt64)
	if err != nil {
		return [2]int64{}, err
	}
	if rng {
		b, err := num(hi, math.MaxInt64)
		return [2]int64{a, b}, err
	}
	switch op {
	case "ge":
		return [2]int64{a, math.MaxInt64}, nil
	case "gt":
		return [2]int64{a + 1, math.MaxInt64}, nil
	case "le":
		return [2]int64{math.MinInt64, a}, nil
	case "lt":
		return [2]int64{math.MinInt64, a - 1}, nil
	}
	return [2]int64{a, a}, nil
}

// parsePrefix parses an address or a CIDR (IPv4 masks in dotted form too).
func parsePrefix(v string) (netip.Prefix, error) {
	if ip, mask, ok := strings.Cut(v, "/"); ok {
		if m, err := netip.ParseAddr(mask); err == nil && m.Is4() {
			b := m.As4()
			bits := 0
			for _, x := range b {
				for i := 7; i >= 0 && x&(1<<i) != 0; i-- {
					bits++
				}
			}
			v = ip + "/" + strconv.Itoa(bits)
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid network '%s'", v)
		}
		return netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), p.Addr().Unmap().BitLen())).Masked(), nil
	}
	ip, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address '%s'", v)
	}
	ip = ip.Unmap().WithZone("")
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// cond is a compiled if/unless condition.
type cond struct {
	unless bool
	terms  [][]condTerm
}

type condTerm struct {
	negate bool
	acls   []*acl // lines of one named ACL, OR-ed
}

// exec evaluates the condition with HAProxy's three-valued logic, before
// if/unless applies: aclPass, aclFail, or aclMiss when more data may
// change the outcome. A nil condition passes.
func (c *cond) exec(ci *connInfo) int {
	if c == nil {
		return aclPass
	}
	res := aclFail
	for _, and := range c.terms {
		suite := aclPass
		for _, t := range and {
			r := aclFail
			for _, a := range t.acls {
				r |= a.exec(ci)
				if r == aclPass {
					break
				}
			}
			if t.negate {
				r = aclNeg(r)
			}
			suite &= r
			// As HAProxy's acl_exec_cond, a FAIL or a MISS ends the
			// AND: the terms after a miss are not evaluated, so the
			// condition waits for data even when a later term fails.
			if suite != aclPass {
				break
			}
		}
		res |= suite
		if res == aclPass {
			break
		}
	}
	return res
}

// aclNeg negates a result; a miss stays a miss.
func aclNeg(r int) int {
	switch r {
	case aclPass:
		return aclFail
	case aclFail:
		return aclPass
	}
	return r
}

// eval evaluates the condition with what is known now; a nil condition is
// true.
func (c *cond) eval(ci *connInfo) bool {
	if c == nil {
		return true
	}
	return (c.exec(ci) == aclPass) != c.unless
}

// usesContent reports whether evaluating c reads the client's bytes.
func (c *cond) usesContent() bool {
	if c == nil {
		return false
	}
	for _, and := range c.terms {
		for _, t := range and {
			for _, a := range t.acls {
				if a.l6 {
					return true
				}
			}
		}
	}
	return false
}

// needsDst reports whether evaluating c needs the destination address.
func (c *cond) needsDst() bool {
	if c == nil {
		return false
	}
	for _, and := range c.terms {
		for _, t := range and {
			for _, a := range t.acls {
				if a.crit == "dst" || a.crit == "dst_port" {
					return true
				}
			}
		}
	}
	return false
}

// compileCond compiles a condition against the proxy's named ACLs.
func compileCond(c *parser.Condition, named map[string][]*acl, maps *compileEnv) (*cond, error) {
	if c == nil {
		return nil, nil
	}
	out := &cond{unless: c.Unless}
	for _, and := range c.Terms {
		var ts []condTerm
		for _, t := range and {
			ct := condTerm{negate: t.Negate}
			switch {
			case t.Anon != nil:
				a, err := compileACL(t.Anon, maps)
				if err != nil {
					return nil, err
				}
				ct.acls = []*acl{a}
			default:
				as, ok := named[t.ACL]
				if !ok {
					if builtin := builtinACL(t.ACL); builtin != nil {
						as = []*acl{builtin}
					} else {
						return nil, fmt.Errorf("no such ACL : '%s'", t.ACL)
					}
				}
				ct.acls = as
			}
			ts = append(ts, ct)
		}
		out.terms = append(out.terms, ts)
	}
	return out, nil
}

// builtinACL returns HAProxy's predefined layer-4 ACLs.
func builtinACL(name string) *acl {
	switch name {
	case "TRUE":
		return &acl{crit: "always_true", fetch: fetchTrue}
	case "FALSE":
		return &acl{crit: "always_false", fetch: fetchFalse}
	case "LOCALHOST":
		return &acl{crit: "src", fetch: fetchSrc, method: mIP, prefixes: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	}
	return nil
}
