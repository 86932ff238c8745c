package proxy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"goproxy/parser"
)

// connInfo is what layer-4 ACLs look at.
type connInfo struct {
	src, dst netip.AddrPort
}

// acl is a compiled ACL: one criterion and its patterns (OR-ed).
type acl struct {
	crit     string
	prefixes []netip.Prefix
	ports    [][2]int
}

// match reports whether c matches any pattern of a.
func (a *acl) match(c *connInfo) bool {
	switch a.crit {
	case "always_true":
		return true
	case "always_false":
		return false
	case "src", "dst":
		ap := c.src
		if a.crit == "dst" {
			ap = c.dst
		}
		ip := ap.Addr().Unmap()
		for _, p := range a.prefixes {
			if p.Contains(ip) {
				return true
			}
		}
	case "src_port", "dst_port":
		ap := c.src
		if a.crit == "dst_port" {
			ap = c.dst
		}
		port := int(ap.Port())
		for _, r := range a.ports {
			if port >= r[0] && port <= r[1] {
				return true
			}
		}
	}
	return false
}

// compileACL compiles one acl line.
func compileACL(p *parser.ACL) (*acl, error) {
	a := &acl{crit: p.Criterion}
	switch p.Criterion {
	case "always_true", "always_false":
	case "src", "dst":
		for _, v := range p.Values {
			pfx, err := parsePrefix(v)
			if err != nil {
				return nil, fmt.Errorf("acl '%s': %w", p.Name, err)
			}
			a.prefixes = append(a.prefixes, pfx)
		}
	case "src_port", "dst_port":
		for _, v := range p.Values {
			r, err := parsePortRange(v)
			if err != nil {
				return nil, fmt.Errorf("acl '%s': %w", p.Name, err)
			}
			a.ports = append(a.ports, r)
		}
	default:
		return nil, fmt.Errorf("acl '%s': unsupported criterion '%s'", p.Name, p.Criterion)
	}
	return a, nil
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

// parsePortRange parses N, N:M, :M or N: (HAProxy integer ranges).
func parsePortRange(v string) ([2]int, error) {
	lo, hi, rng := strings.Cut(v, ":")
	parse := func(s string, def int) (int, error) {
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid port '%s'", v)
		}
		return n, nil
	}
	a, err := parse(lo, 0)
	if err != nil {
		return [2]int{}, err
	}
	if !rng {
		return [2]int{a, a}, nil
	}
	b, err := parse(hi, 65535)
	if err != nil {
		return [2]int{}, err
	}
	return [2]int{a, b}, nil
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

// eval evaluates the condition; a nil condition is true.
func (c *cond) eval(ci *connInfo) bool {
	if c == nil {
		return true
	}
	res := false
	for _, and := range c.terms {
		ok := true
		for _, t := range and {
			m := false
			for _, a := range t.acls {
				if a.match(ci) {
					m = true
					break
				}
			}
			if m == t.negate {
				ok = false
				break
			}
		}
		if ok {
			res = true
			break
		}
	}
	return res != c.unless
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
func compileCond(c *parser.Condition, named map[string][]*acl) (*cond, error) {
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
				a, err := compileACL(t.Anon)
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
		return &acl{crit: "always_true"}
	case "FALSE":
		return &acl{crit: "always_false"}
	case "LOCALHOST":
		return &acl{crit: "src", prefixes: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	}
	return nil
}
