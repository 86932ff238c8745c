package parser

import (
	"fmt"
	"net/netip"
	"strings"
)

// parseResolveKeyword parses the runtime resolution keywords of a server
// or default-server line (resolvers, resolve-prefer, resolve-opts,
// resolve-net) into rp; it returns HAProxy's message on an error.
func parseResolveKeyword(rp *ResolveParams, kw, v string) string {
	switch kw {
	case "resolvers":
		rp.Resolvers = v
		rp.set = true
	case "resolve-prefer":
		switch v {
		case "ipv4":
			rp.PreferIPv4 = true
		case "ipv6":
			rp.PreferIPv4 = false
		default:
			return fmt.Sprintf("'%s' expects either ipv4 or ipv6 as argument.", kw)
		}
	case "resolve-opts":
		for _, o := range strings.Split(v, ",") {
			switch o {
			case "":
			case "allow-dup-ip":
				rp.AllowDupIP = true
			case "ignore-weight":
				rp.IgnoreWeight = true
			case "prevent-dup-ip":
				rp.AllowDupIP = false
			default:
				return fmt.Sprintf("'%s' : unknown resolve-opts option '%s', supported methods are 'allow-dup-ip', 'ignore-weight', and 'prevent-dup-ip'.", kw, o)
			}
		}
	case "resolve-net":
		if v == "" {
			return fmt.Sprintf("'%s' expects a list of networks.", kw)
		}
		for _, n := range strings.Split(v, ",") {
			if n == "" {
				continue
			}
			if len(rp.ResolveNet) >= 5 {
				return fmt.Sprintf("'%s' exceed %d networks.", kw, 5)
			}
			pf, ok := parseNet(n)
			if !ok {
				return fmt.Sprintf("'%s' invalid network '%s'.", kw, n)
			}
			rp.ResolveNet = append(rp.ResolveNet, pf)
		}
	}
	return ""
}

// parseNet parses an IPv4 network (address, address/len or
// address/mask) or an IPv6 network (address or address/len).
func parseNet(s string) (netip.Prefix, bool) {
	addr, bits, hasLen := strings.Cut(s, "/")
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, false
	}
	if !hasLen {
		return netip.PrefixFrom(ip, ip.BitLen()), true
	}
	if ip.Is4() {
		if m, err := netip.ParseAddr(bits); err == nil && m.Is4() {
			b := m.As4()
			n := 0
			for _, x := range b {
				for i := 7; i >= 0 && x&(1<<i) != 0; i-- {
					n++
				}
			}
			return netip.PrefixFrom(ip, n).Masked(), true
		}
	}
	pf, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return pf.Masked(), true
}
