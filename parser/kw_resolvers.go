package parser

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// This file parses resolvers sections (HAProxy's cfg_parse_resolvers).

// resolvConf is the file parse-resolv-conf reads.
var resolvConf = "/etc/resolv.conf"

// beginResolvers opens "resolvers <name>". A missing, invalid or
// duplicated name stops loading, as in HAProxy.
func (p *parser) beginResolvers(words []string) {
	name := argAt(words, 1)
	if name == "" {
		p.report(&Error{Pos: p.pos(), Msg: "missing name for resolvers section.", Phase: PhaseAbort})
		p.fileTrailer(p.file)
		p.abort = true
		return
	}
	if c, bad := invalidNameChar(name); bad {
		p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf("character '%c' is not permitted in 'resolvers' name '%s'.", c, name), Phase: PhaseAbort})
		p.fileTrailer(p.file)
		p.abort = true
		return
	}
	for _, r := range p.cfg.Resolvers {
		if r.Name == name {
			p.report(&Error{Pos: p.pos(), Style: StyleCapital, Phase: PhaseAbort,
				Msg: fmt.Sprintf("resolvers '%s' has same name as another resolvers (declared at %s:%d).", name, r.File, r.Line)})
			// HAProxy goes on to allocate the section and reports it so.
			p.report(&Error{Pos: p.pos(), Phase: PhaseAbort, Msg: "out of memory."})
			p.fileTrailer(p.file)
			p.abort = true
			return
		}
	}
	p.curResolvers = newResolvers(p.pos(), name)
	p.cfg.Resolvers = append(p.cfg.Resolvers, p.curResolvers)
}

// resolversKeyword parses one line of a resolvers section.
func (p *parser) resolversKeyword(w []string) {
	r := p.curResolvers
	if r == nil {
		return
	}
	switch w[0] {
	case "nameserver":
		p.kwNameserver(r, w)
	case "parse-resolv-conf":
		p.parseResolvConf(r)
	case "hold":
		if argAt(w, 2) == "" {
			p.alert("'%s' expects an <event> and a <time> as arguments.", w[0])
			p.nonFatalAlert("<event> can be either 'valid', 'nx', 'refused', 'timeout', or 'other'")
			return
		}
		d, ok := p.resolverTime(w[2], w[1], w[0])
		if !ok {
			return
		}
		h := &r.Hold
		dst := map[string]*time.Duration{"nx": &h.NX, "other": &h.Other, "refused": &h.Refused,
			"timeout": &h.Timeout, "valid": &h.Valid, "obsolete": &h.Obsolete}[w[1]]
		if dst == nil {
			p.alert("'%s' unknown <event>: '%s', expects either 'nx', 'timeout', 'valid', 'obsolete' or 'other'.", w[0], w[1])
			return
		}
		*dst = d
	case "accepted_payload_size":
		if argAt(w, 1) == "" {
			p.alert("'%s' expects <nb> as argument.", w[0])
			return
		}
		n := atol(w[1])
		if n < 12 || n > 65535 {
			p.alert("'%s' must be between %d and %d inclusive (was %s).", w[0], 12, 65535, w[1])
			return
		}
		r.AcceptedPayloadSize = n
	case "resolution_pool_size":
		p.alert("'%s' directive is not supported anymore (it never appeared in a stable release).", w[0])
	case "resolve_retries":
		if argAt(w, 1) == "" {
			p.alert("'%s' expects <nb> as argument.", w[0])
			return
		}
		r.ResolveRetries = atol(w[1])
	case "timeout":
		switch argAt(w, 1) {
		case "":
			p.alert("'%s' expects 'retry' or 'resolve' and <time> as arguments.", w[0])
		case "retry", "resolve":
			if argAt(w, 2) == "" {
				p.alert("'%s %s' expects <time> as argument.", w[0], w[1])
				return
			}
			d, ok := p.resolverTime(w[2], w[2], w[0]+" "+w[1])
			if !ok {
				return
			}
			if w[1] == "retry" {
				r.TimeoutRetry = d
			} else {
				r.TimeoutResolve = d
			}
		default:
			p.alert("'%s' expects 'retry' or 'resolve' and <time> as arguments got '%s'.", w[0], w[1])
		}
	default:
		p.alert("unknown keyword '%s' in 'resolvers' section", w[0])
	}
}

// resolverTime parses a timer of a resolvers section with HAProxy's
// messages: arg is what the overflow messages quote, kw the keyword.
func (p *parser) resolverTime(v, arg, kw string) (time.Duration, bool) {
	d, _, err := ParseTime(v)
	if err == nil {
		return d, true
	}
	te := err.(*timeError)
	switch te.kind {
	case "overflow":
		p.alertStyle(StyleLine, "timer overflow in argument <%s> to <%s>, maximum value is 2147483647 ms (~24.8 days).", arg, kw)
	case "underflow":
		p.alertStyle(StyleLine, "timer underflow in argument <%s> to <%s>, minimum non-null value is 1 ms.", arg, kw)
	default:
		p.alertStyle(StyleLine, "unexpected character '%c' in argument to <%s>.", te.char, kw)
	}
	return 0, false
}

// kwNameserver parses "nameserver <id> [udp@|tcp@]<ip:port>": a tcp@
// nameserver is queried over TCP.
func (p *parser) kwNameserver(r *Resolvers, w []string) {
	if argAt(w, 2) == "" {
		p.alert("'%s' expects <name> and <addr>[:<port>] as arguments.", w[0])
		return
	}
	name, addr := w[1], w[2]
	if c, bad := invalidNameChar(name); bad {
		p.alert("character '%c' is not permitted in server name '%s'.", c, name)
		return
	}
	dup := false
	for _, ns := range r.Nameservers {
		if ns.Name == name {
			p.alertStyle(StyleCapital, "nameserver '%s' has same name as another nameserver (declared at %s:%d).", name, ns.File, ns.Line)
			dup = true
		}
	}
	host, stream := addr, false
	if i := strings.Index(addr, "@"); i >= 0 {
		switch addr[:i] {
		case "udp", "udp4", "udp6", "ipv4", "ipv6":
			host = addr[i+1:]
		case "tcp", "tcp4", "tcp6":
			host, stream = addr[i+1:], true
		default:
			p.alert("'%s %s' : unknown protocol family '%s' in address '%s'", w[0], name, addr[:i+1], addr)
			return
		}
	}
	ap, msg := parseNameserverAddr(host)
	if msg != "" {
		p.alert("'%s %s' : %s", w[0], name, msg)
		return
	}
	if dup {
		return
	}
	r.Nameservers = append(r.Nameservers, &Nameserver{Pos: p.pos(), Name: name, Addr: ap, Stream: stream})
}

// parseNameserverAddr parses "<ip>:<port>" (an IPv6 address in brackets
// or with its port after the last colon, as HAProxy).
func parseNameserverAddr(s string) (netip.AddrPort, string) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return netip.AddrPort{}, fmt.Sprintf("missing port specification in '%s'", s)
	}
	host, port := strings.Trim(s[:i], "[]"), s[i+1:]
	if port == "" {
		return netip.AddrPort{}, fmt.Sprintf("missing port specification in '%s'", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return netip.AddrPort{}, fmt.Sprintf("invalid port '%s'", port)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Sprintf("'%s' is not an IP address (goproxy does not resolve nameserver names)", host)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(n)), ""
}

// parseResolvConf adds the nameservers of /etc/resolv.conf, named after
// their address as HAProxy names them, on port 53.
func (p *parser) parseResolvConf(r *Resolvers) {
	for _, ip := range readResolvConf(resolvConf) {
		r.Nameservers = append(r.Nameservers, &Nameserver{Pos: p.pos(), Name: ip.String(), Addr: netip.AddrPortFrom(ip, 53)})
	}
}

// readResolvConf returns the nameserver addresses of a resolv.conf file.
func readResolvConf(path string) []netip.Addr {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || fs[0] != "nameserver" {
			continue
		}
		if ip, err := netip.ParseAddr(fs[1]); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// defaultResolvers adds HAProxy's implicit "default" section, built from
// /etc/resolv.conf, when the configuration declares none of that name.
func (p *parser) defaultResolvers() {
	for _, r := range p.cfg.Resolvers {
		if r.Name == "default" {
			return
		}
	}
	r := newResolvers(Pos{File: "<internal>"}, "default")
	r.Implicit = true
	p.parseResolvConf(r)
	p.cfg.DefaultResolvers = r
}
