package proxy

import (
	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// The tcp-request actions that act on the client's socket (set-mark,
// set-tos) or format a value as the traffic logs do (set-var-fmt).

// ruleFormat is the compiled log format of a set-var-fmt rule.
type ruleFormat struct {
	nodes []parser.LogNode
	exprs map[*parser.LogNode]*sampleExpr
}

// compileRuleFormat compiles the %[...] of a rule's log format.
func compileRuleFormat(nodes []parser.LogNode, maps *compileEnv) (*ruleFormat, error) {
	f := &ruleFormat{nodes: nodes, exprs: map[*parser.LogNode]*sampleExpr{}}
	for i := range f.nodes {
		n := &f.nodes[i]
		if n.Kind != parser.LogFetch {
			continue
		}
		e, err := compileSampleExpr(n.Text, n.Args, n.Conv, maps)
		if err != nil {
			return nil, err
		}
		f.exprs[n] = e
	}
	return f, nil
}

// usesContent reports whether the format reads the client's bytes.
func (f *ruleFormat) usesContent() bool {
	if f == nil {
		return false
	}
	for _, e := range f.exprs {
		if e.l6 {
			return true
		}
	}
	return false
}

// needsDst reports whether the format needs the destination address.
func (f *ruleFormat) needsDst() bool {
	if f == nil {
		return false
	}
	for _, e := range f.exprs {
		if e.crit == "dst" || e.crit == "dst_port" {
			return true
		}
	}
	return false
}

// build formats the session as it is when the rule runs, as HAProxy's
// sess_build_logline(), into a string sample.
func (f *ruleFormat) build(ci *connInfo) sample {
	s := ci.s
	var r SessionRecord
	s.record(&r)
	var fci connInfo
	x := s.logFields(&r, &fci, f.nodes, nil)
	x.exprs = f.exprs
	fci.conn, fci.req, fci.final = ci.conn, ci.req, ci.final
	return sample{typ: smpStr, b: AppendLogFormat(make([]byte, 0, 64), f.nodes, &r, &x)}
}

// setClientSockopt applies set-mark (SO_MARK, which needs CAP_NET_ADMIN)
// or set-tos to the client's socket, as HAProxy's conn_set_mark and
// conn_set_tos: the TOS of an IPv6 socket is its traffic class, unless
// its peer is an IPv4 address mapped in IPv6. Errors are ignored, as
// HAProxy ignores them; a UNIX socket has neither option.
func setClientSockopt(fd int, mark bool, v int) {
	if mark {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, v)
		return
	}
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TOS, v)
	case *unix.SockaddrInet6:
		if isV4Mapped(a.Addr) {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TOS, v)
		} else {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, v)
		}
	}
}

// isV4Mapped reports whether a is an IPv4 address mapped in IPv6.
func isV4Mapped(a [16]byte) bool {
	for _, b := range a[:10] {
		if b != 0 {
			return false
		}
	}
	return a[10] == 0xff && a[11] == 0xff
}

// HAProxy's bounds of the queue priorities (queue_limit_class,
// queue_limit_offset): a class in -2047..2047, an offset in ms within
// about ±524 s.
const (
	prioClassMax  = 0x7ff
	prioOffsetMax = 0x7ffff
)

// setPriority runs set-priority-class or set-priority-offset: the
// sample, an integer, clamped to HAProxy's bounds; nothing without one.
func (r *tcpRule) setPriority(ci *connInfo) {
	s := ci.s
	smp, ok := r.expr.eval(ci)
	if s == nil || !ok || !castSample(&smp, castInt) {
		return
	}
	if r.act == actSetPrioClass {
		s.prioClass = int16(min(max(smp.i, -prioClassMax), prioClassMax))
		return
	}
	s.prioOffset = int32(min(max(smp.i, -prioOffsetMax), prioOffsetMax))
}

// fetchPrioClass is prio_class: the session's queue priority class.
func fetchPrioClass(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil {
		return intSample(0)
	}
	return intSample(int64(c.s.prioClass))
}

// fetchPrioOffset is prio_offset: the session's queue priority offset.
func fetchPrioOffset(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil {
		return intSample(0)
	}
	return intSample(int64(c.s.prioOffset))
}
