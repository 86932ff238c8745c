package parser

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"goproxy/internal/hatext"
)

// addrUse says what an address is for; the accepted forms differ.
type addrUse int

const (
	useBind addrUse = iota
	useServer
	useStats
	useLog
)

// addrCtx is what parsing an address depends on besides its text: its use,
// the resolver, the environment (HAProxy expands $VAR and ${VAR} in every
// address, quoted or not) and the unix-bind prefix of UNIX binds.
type addrCtx struct {
	use    addrUse
	lookup func(string) ([]string, error)
	env    func(string) (string, bool)
	prefix string
}

// addrCtx returns the context of an address of the given use.
func (p *parser) addrCtx(use addrUse) addrCtx {
	c := addrCtx{use: use, lookup: p.opts.LookupHost, env: p.opts.Env}
	if use == useBind {
		c.prefix = p.cfg.Global.UnixBind.Prefix
	}
	return c
}

// parseAddrList parses a bind address, which may be a comma list of
// addresses each with a port range: ":26602,:26603-26605".
func parseAddrList(s string, use addrUse, lookup func(string) ([]string, error)) ([]Addr, string) {
	return addrCtx{use: use, lookup: lookup}.parseList(s)
}

// parseList parses a comma list of addresses (parseAddrList).
func (c addrCtx) parseList(s string) ([]Addr, string) {
	var out []Addr
	for _, part := range strings.Split(s, ",") {
		addrs, msg := c.parseRange(part)
		if msg != "" {
			return nil, msg
		}
		if len(out)+len(addrs) > maxListeners {
			return nil, fmt.Sprintf("too many addresses in '%s' (goproxy's limit is %d listeners)", s, maxListeners)
		}
		out = append(out, addrs...)
	}
	return out, ""
}

// maxListeners bounds the listening addresses of a whole configuration: a
// listener takes a file descriptor, and port ranges must not make the parser
// allocate without bound.
const maxListeners = 65536

// parseRange parses one address with an optional port range.
func (c addrCtx) parseRange(s string) ([]Addr, string) {
	use := c.use
	a, portText, msg := c.split(s)
	if msg != "" {
		return nil, msg
	}
	if a.Family == FamilyUnix || a.Family == FamilyAbns || a.Family == FamilyFD {
		return []Addr{a}, ""
	}
	if portText == "" {
		if use == useServer || use == useLog {
			return []Addr{a}, ""
		}
		return nil, fmt.Sprintf("missing port specification in '%s'", s)
	}
	lo, hi, msg := parsePortRange(portText, s, use)
	if msg != "" {
		return nil, msg
	}
	if use != useBind && hi != lo {
		return nil, fmt.Sprintf("port range not allowed in '%s'", s)
	}
	var out []Addr
	for port := lo; port <= hi; port++ {
		b := a
		b.Port = port
		out = append(out, b)
	}
	return out, ""
}

// parsePortRange parses "N" or "N-M".
func parsePortRange(t, s string, use addrUse) (int, int, string) {
	if use == useServer && (t[0] == '+' || t[0] == '-') {
		return 0, 0, "" // handled by the caller
	}
	loText, hiText, isRange := strings.Cut(t, "-")
	for _, c := range []byte(loText + hiText) {
		if !isDigit(c) {
			return 0, 0, fmt.Sprintf("invalid character '%c' in port number '%s' in '%s'", c, t, s)
		}
	}
	lo, _ := strconv.Atoi(loText)
	hi := lo
	if isRange {
		hi, _ = strconv.Atoi(hiText)
		if loText == "" || hiText == "" || lo < 1 || hi > 65535 || lo > hi {
			return 0, 0, fmt.Sprintf("invalid port range '%s'", t)
		}
	}
	if (use == useBind || use == useStats) && (lo < 1 || lo > 65535) {
		return 0, 0, fmt.Sprintf("invalid port '%s'", loText)
	}
	if lo > 65535 {
		return 0, 0, fmt.Sprintf("invalid port '%s'", loText)
	}
	return lo, hi, ""
}

// splitAddr recognises the prefix and host part of an address and returns
// the port text still to parse.
func splitAddr(s string, use addrUse, lookup func(string) ([]string, error)) (Addr, string, string) {
	return addrCtx{use: use, lookup: lookup}.split(s)
}

// split is splitAddr in the context c. The address is expanded first, as
// HAProxy's str2sa_range does with env_expand; messages quote the address
// as written.
func (c addrCtx) split(s string) (Addr, string, string) {
	use, lookup := c.use, c.lookup
	a := Addr{Text: s}
	rest := expandEnv(s, c.env)
	if rest == "" {
		return a, "", fmt.Sprintf("'%s' resolves to an empty address (environment variable missing?)", s)
	}
	family := AddrFamily(0)
	switch {
	case strings.HasPrefix(rest, "unix@"), strings.HasPrefix(rest, "uxst@"):
		return c.unixAddr(a, FamilyUnix, rest[len("unix@"):], s)
	case strings.HasPrefix(rest, "abns@"):
		return c.unixAddr(a, FamilyAbns, rest[len("abns@"):], s)
	case strings.HasPrefix(rest, "fd@"):
		n, err := strconv.Atoi(rest[len("fd@"):])
		if err != nil || n < 0 {
			return a, "", fmt.Sprintf("file descriptor '%s' is not a valid integer in '%s'", rest[len("fd@"):], s)
		}
		a.Family, a.FD = FamilyFD, n
		return a, "", ""
	case strings.HasPrefix(rest, "sockpair@"):
		return a, "", fmt.Sprintf("address family 'sockpair@' is not supported by goproxy in '%s'", s)
	case strings.HasPrefix(rest, "udp@"), strings.HasPrefix(rest, "udp4@"), strings.HasPrefix(rest, "udp6@"), strings.HasPrefix(rest, "uxdg@"):
		if use == useLog {
			at := strings.IndexByte(rest, '@')
			if rest[:at] == "uxdg" {
				a.Family, a.Path = FamilyUnix, rest[at+1:]
				return a, "", ""
			}
			if rest[:at] == "udp6" {
				family = FamilyTCP6
			} else if rest[:at] == "udp4" {
				family = FamilyTCP4
			}
			rest = rest[at+1:]
			break
		}
		return a, "", fmt.Sprintf("dgram-type address not acceptable in '%s'", s)
	case strings.HasPrefix(rest, "ipv4@"), strings.HasPrefix(rest, "tcp4@"):
		family, rest = FamilyTCP4, rest[5:]
	case strings.HasPrefix(rest, "ipv6@"), strings.HasPrefix(rest, "tcp6@"):
		family, rest = FamilyTCP6, rest[5:]
	case strings.HasPrefix(rest, "tcp@"):
		rest = rest[4:]
	case strings.HasPrefix(rest, "/"):
		return c.unixAddr(a, FamilyUnix, rest, s)
	}
	if at := strings.IndexByte(rest, '@'); at >= 0 && !strings.Contains(rest[:at], ":") {
		return a, "", fmt.Sprintf("unknown address family '%s' in '%s'", rest[:at+1], s)
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return a, "", fmt.Sprintf("invalid address: '%s' in '%s'", rest, s)
		}
		host = rest[1:end]
		after := rest[end+1:]
		if strings.HasPrefix(after, ":") {
			port = after[1:]
			if port == "" && use != useServer && use != useLog {
				return a, "", fmt.Sprintf("missing port specification in '%s'", s)
			}
		} else if after != "" {
			return a, "", fmt.Sprintf("invalid address: '%s' in '%s'", rest, s)
		}
		if family == 0 {
			family = FamilyTCP6
		}
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i+1:]
		if port == "" && use != useServer && use != useLog {
			return a, "", fmt.Sprintf("missing port specification in '%s'", s)
		}
	} else if use == useBind || use == useStats {
		return a, "", fmt.Sprintf("missing port specification in '%s'", s)
	}
	switch host {
	case "", "*", "0.0.0.0":
		if family == 0 {
			family = FamilyTCP4
		}
		if family == FamilyTCP6 && host == "" {
			host = ""
		}
		a.Host = ""
		if host == "0.0.0.0" && family == FamilyTCP6 {
			return a, "", fmt.Sprintf("invalid address: '%s' in '%s'", host, s)
		}
	case "::":
		family = FamilyTCP6
		a.Host = ""
	default:
		ip, err := netip.ParseAddr(host)
		if err != nil {
			if use == useServer || use == useLog {
				// A host name, resolved later (at validation).
				a.Host = host
				if family == 0 {
					family = FamilyTCP4
				}
				break
			}
			resolved, ok := resolveHost(lookup, host, family)
			if !ok {
				return a, "", fmt.Sprintf("invalid address: '%s' in '%s'", host, s)
			}
			ip = resolved
		}
		if ip.IsValid() {
			ip = ip.Unmap()
			if family == 0 {
				if ip.Is4() {
					family = FamilyTCP4
				} else {
					family = FamilyTCP6
				}
			}
			a.Host = ip.String()
		}
	}
	a.Family = family
	return a, port, ""
}

// systemLookupHost resolves with the system resolver, bounded in time.
func systemLookupHost(host string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupHost(ctx, host)
}

// resolveHost resolves a bind host name at parse time, as HAProxy does.
func resolveHost(lookup func(string) ([]string, error), host string, family AddrFamily) (netip.Addr, bool) {
	addrs, err := lookup(host)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, s := range addrs {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		if family == FamilyTCP6 && !ip.Is6() {
			continue
		}
		if family == FamilyTCP4 && !ip.Is4() {
			continue
		}
		return ip, true
	}
	return netip.Addr{}, false
}

// parseServerAddr parses the address of a server line: no port means the
// client's destination port, +N/-N an offset from it.
func parseServerAddr(s string) (Addr, string) {
	return addrCtx{use: useServer}.parseServer(s)
}

// parseServer is parseServerAddr in the context c.
func (c addrCtx) parseServer(s string) (Addr, string) {
	a, port, msg := c.split(s)
	if msg != "" {
		return a, msg
	}
	if a.Family == FamilyUnix || a.Family == FamilyAbns {
		return a, ""
	}
	if a.Family == FamilyFD {
		return a, fmt.Sprintf("a file descriptor is not acceptable here in '%s'", s)
	}
	if port == "" {
		return a, ""
	}
	if port[0] == '+' || port[0] == '-' {
		n, err := strconv.Atoi(port[1:])
		if err != nil {
			for _, c := range []byte(port[1:]) {
				if !isDigit(c) {
					return a, fmt.Sprintf("invalid character '%c' in port number '%s' in '%s'", c, port, s)
				}
			}
			return a, fmt.Sprintf("invalid port '%s'", port)
		}
		if port[0] == '-' {
			n = -n
		}
		a.PortOffset, a.HasOffset = n, true
		return a, ""
	}
	for _, c := range []byte(port) {
		if !isDigit(c) {
			return a, fmt.Sprintf("invalid character '%c' in port number '%s' in '%s'", c, port, s)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n > 65535 {
		return a, fmt.Sprintf("invalid port '%s'", port)
	}
	a.Port = n
	return a, ""
}

// checkFD verifies that fd@N names an open socket, as HAProxy does at parse
// time.
func checkFD(n int) string {
	var st syscall.Stat_t
	if err := syscall.Fstat(n, &st); err != nil {
		return fmt.Sprintf("cannot use file descriptor '%d' : %s.", n, hatext.Strerror(err))
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return fmt.Sprintf("cannot use file descriptor '%d' : Socket operation on non-socket.", n)
	}
	return ""
}

// String renders an address as HAProxy shows it ("127.0.0.1:80", "[::1]:80",
// "unix@/path").
func (a Addr) String() string {
	switch a.Family {
	case FamilyUnix:
		return a.Path
	case FamilyAbns:
		return "abns@" + a.Path
	case FamilyFD:
		return fmt.Sprintf("fd@%d", a.FD)
	}
	host := a.Host
	if host == "" {
		if a.Family == FamilyTCP6 {
			host = "::"
		} else {
			host = "0.0.0.0"
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}
