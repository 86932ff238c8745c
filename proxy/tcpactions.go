package proxy

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"goproxy/internal/stktable"
	"goproxy/parser"
)

// tcp-request actions. accept and reject end the rules; set-var,
// unset-var, set-src and expect-proxy apply and the rules go on;
// silent-drop ends the session without telling the client.

type tcpAct uint8

const (
	actAccept tcpAct = iota
	actReject
	actSetVar
	actUnsetVar
	actSetSrc
	actSilentDrop
	actExpectProxy
	actCapture
	actSetDst
	actSetSrcPort
	actSetDstPort
	actTrackSC
	actIncGPC0
	actIncGPC1
	actSetGPT0
	actSetMark
	actSetTos
	actSetLogLevel
	actSetVarFmt
	actSetPrioClass
	actSetPrioOffset
)

var tcpActs = map[string]tcpAct{
	"accept": actAccept, "reject": actReject, "set-var": actSetVar, "unset-var": actUnsetVar,
	"set-src": actSetSrc, "silent-drop": actSilentDrop, "expect-proxy": actExpectProxy,
	"capture": actCapture, "set-dst": actSetDst, "set-src-port": actSetSrcPort, "set-dst-port": actSetDstPort,
	"track-sc": actTrackSC, "sc-inc-gpc0": actIncGPC0, "sc-inc-gpc1": actIncGPC1, "sc-set-gpt0": actSetGPT0,
	"set-mark": actSetMark, "set-tos": actSetTos, "set-log-level": actSetLogLevel, "set-var-fmt": actSetVarFmt,
	"set-priority-class": actSetPrioClass, "set-priority-offset": actSetPrioOffset,
}

// tcpRule is a compiled tcp-request connection or content rule.
type tcpRule struct {
	act    tcpAct
	cond   *cond
	vr     varRef      // set-var, unset-var
	vflags uint8       // set-var's conditions (vcIfExists...)
	expr   *sampleExpr // set-var, set-src, capture
	slot   int         // capture: the slot and its length
	n      int
	// track-sc and the counter actions: the sticky counter, the table
	// tracked in, and sc-set-gpt0's value.
	sc    int
	table *stktable.Table
	value int64
	// format is set-var-fmt's log format (tcp_fmtactions.go).
	format *ruleFormat
}

// tcpVerdict is the outcome of a rule list.
type tcpVerdict uint8

const (
	verdictAccept tcpVerdict = iota
	verdictReject
	verdictDrop // silent-drop
)

// compileTCPRule compiles one rule the parser validated.
func compileTCPRule(px *parser.Proxy, r *parser.TCPRule, named map[string][]*acl, maps *compileEnv) (tcpRule, error) {
	c, err := compileCond(r.Cond, named, maps)
	if err != nil {
		return tcpRule{}, err
	}
	act, ok := tcpActs[r.Action]
	if !ok {
		return tcpRule{}, fmt.Errorf("unsupported action '%s'", r.Action)
	}
	rule := tcpRule{act: act, cond: c, slot: r.Capture, n: r.Len, sc: r.SC, value: r.Value}
	if act == actTrackSC {
		name := r.Table
		if name == "" {
			name = px.Name
		}
		if rule.table = maps.table(name); rule.table == nil {
			return tcpRule{}, fmt.Errorf("track-sc%d: no stick-table '%s'", r.SC, name)
		}
	}
	if r.Var != "" {
		rule.vr = newVarRef(r.Var)
	}
	for _, c := range r.VarConds {
		rule.vflags |= varConds[c]
	}
	if act == actSetVarFmt {
		if rule.format, err = compileRuleFormat(r.Format, maps); err != nil {
			return tcpRule{}, err
		}
	}
	if r.Expr != nil {
		if rule.expr, err = compileSampleExpr(r.Expr.Fetch, r.Expr.Args, r.Expr.Conv, maps); err != nil {
			return tcpRule{}, err
		}
	}
	return rule, nil
}

// usesContent reports whether the rule reads the client's bytes.
func (r *tcpRule) usesContent() bool {
	return r.cond.usesContent() || (r.expr != nil && r.expr.l6) || r.format.usesContent()
}

// needsDst reports whether the rule needs the destination address.
func (r *tcpRule) needsDst() bool {
	return r.cond.needsDst() || (r.expr != nil && (r.expr.crit == "dst" || r.expr.crit == "dst_port")) || r.format.needsDst()
}

// apply runs a non-final action.
func (r *tcpRule) apply(ci *connInfo) {
	s := ci.s
	switch r.act {
	case actTrackSC:
		r.track(ci)
	case actIncGPC0, actIncGPC1, actSetGPT0:
		r.counterAction(ci)
	case actSetVar:
		if smp, ok := r.expr.eval(ci); ok {
			setVar(ci, r.vr, &smp, r.vflags)
		}
	case actUnsetVar:
		unsetVar(ci, r.vr)
	case actSetVarFmt:
		if s != nil {
			v := r.format.build(ci)
			setVar(ci, r.vr, &v, r.vflags)
		}
	case actSetMark, actSetTos:
		if s != nil {
			setClientSockopt(int(s.cfd), r.act == actSetMark, int(r.value))
		}
	case actSetPrioClass, actSetPrioOffset:
		r.setPriority(ci)
	case actSetLogLevel:
		if s != nil {
			s.logLevel = int8(r.value)
		}
	case actSetSrc:
		smp, ok := r.expr.eval(ci)
		if !ok || !castSample(&smp, castAddr) {
			return
		}
		// As HAProxy, the port stays when the family does.
		port := uint16(0)
		if smp.ip.Is4() == ci.src.Addr().Is4() {
			port = ci.src.Port()
		}
		ci.src = netip.AddrPortFrom(smp.ip, port)
		if s != nil {
			s.src = ci.src
		}
	case actSetDst:
		smp, ok := r.expr.eval(ci)
		if !ok || !castSample(&smp, castAddr) || s == nil {
			return
		}
		dst := s.dstAddr()
		port := uint16(0)
		if smp.ip.Is4() == dst.Addr().Is4() {
			port = dst.Port()
		}
		s.dst, ci.dst = netip.AddrPortFrom(smp.ip, port), netip.AddrPortFrom(smp.ip, port)
	case actSetSrcPort, actSetDstPort:
		smp, ok := r.expr.eval(ci)
		if !ok || !castSample(&smp, castInt) || s == nil {
			return
		}
		if r.act == actSetSrcPort {
			ci.src = netip.AddrPortFrom(ci.src.Addr(), uint16(smp.i))
			s.src = ci.src
			return
		}
		dst := s.dstAddr()
		s.dst, ci.dst = netip.AddrPortFrom(dst.Addr(), uint16(smp.i)), netip.AddrPortFrom(dst.Addr(), uint16(smp.i))
	case actCapture:
		smp, ok := r.expr.eval(ci)
		if !ok || s == nil || !castSample(&smp, castStr) || r.slot >= len(s.fe.captures) {
			return
		}
		if s.caps == nil {
			s.caps = make([][]byte, len(s.fe.captures))
		}
		s.caps[r.slot] = append([]byte(nil), smp.b[:min(len(smp.b), r.n)]...)
	case actExpectProxy:
		if s != nil {
			s.flags |= fExpectProxy
		}
	}
}

// runTCPRules applies the rules in order: the first accept, reject or
// silent-drop whose condition matches decides; the other actions apply
// and the rules go on. Without a decision the connection is accepted.
func runTCPRules(rules []tcpRule, ci *connInfo) tcpVerdict {
	for i := range rules {
		r := &rules[i]
		if !r.cond.eval(ci) {
			continue
		}
		switch r.act {
		case actAccept:
			return verdictAccept
		case actReject:
			return verdictReject
		case actSilentDrop:
			return verdictDrop
		}
		r.apply(ci)
	}
	return verdictAccept
}

// silentDrop prepares fd to be closed without the client learning of it,
// as HAProxy's silent-drop: the socket leaves the kernel's TCP state
// machine (TCP_REPAIR, with CAP_NET_ADMIN), or else its packets get a TTL
// of 1 so that the reset sent at close dies at the first router.
func silentDrop(fd int, v6 bool) {
	if unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_REPAIR, 1) == nil {
		return
	}
	if v6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 1)
	} else {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, 1)
	}
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
}

// Variables (set-var, unset-var, var()). The proc scope is the
// process's; the others belong to the session, which keeps them only once
// one is set. In tcp-request connection rules only proc and sess exist,
// as in HAProxy, where no stream carries txn, req or res yet.

type varScope uint8

const (
	scopeProc varScope = iota
	scopeSess
	scopeTxn
	scopeReq
	scopeRes
	scopeCheck
)

// varRef names a variable: its scope and its full name ("txn.account").
type varRef struct {
	scope varScope
	name  string
}

func newVarRef(name string) varRef {
	scope, _, _ := strings.Cut(name, ".")
	v := varRef{name: name}
	switch scope {
	case "sess":
		v.scope = scopeSess
	case "txn":
		v.scope = scopeTxn
	case "req":
		v.scope = scopeReq
	case "res":
		v.scope = scopeRes
	case "check":
		v.scope = scopeCheck
	}
	return v
}

// sessVars are a session's variables.
type sessVars struct {
	names []string
	vals  []sample
}

// procVars are the variables of the proc scope.
type procVars struct {
	mu   sync.Mutex
	vals map[string]sample
}

// stored returns a copy of smp that owns its bytes.
func stored(smp *sample) sample {
	v := sample{typ: smp.typ, i: smp.i, ip: smp.ip}
	if smp.b != nil {
		v.b = append([]byte(nil), smp.b...)
	}
	return v
}

// varReachable reports whether the variable exists where ci is.
func varReachable(ci *connInfo, v varRef) bool {
	switch v.scope {
	case scopeProc:
		return ci.s != nil
	case scopeSess:
		return ci.s != nil
	case scopeCheck:
		return false
	}
	return ci.s != nil && !ci.conn
}

// The conditions of set-var and set-var-fmt, a bit set.
const (
	vcIfExists uint8 = 1 << iota
	vcIfNotExists
	vcIfEmpty
	vcIfNotEmpty
	vcIfSet
	vcIfNotSet
	vcIfGt
	vcIfLt
)

var varConds = map[string]uint8{
	"ifexists": vcIfExists, "ifnotexists": vcIfNotExists, "ifempty": vcIfEmpty, "ifnotempty": vcIfNotEmpty,
	"ifset": vcIfSet, "ifnotset": vcIfNotSet, "ifgt": vcIfGt, "iflt": vcIfLt,
}

// assignVar is HAProxy 2.6's var_set() on one variable: cur is its value,
// exists whether it exists; it returns the value after and whether the
// variable exists then. As in HAProxy, a condition that fails on a
// variable that did not exist may leave it created without a value
// (smpAny), which ifexists and ifnotexists then see.
func assignVar(cur sample, exists bool, smp *sample, flags uint8) (sample, bool) {
	switch {
	case exists && flags&vcIfNotExists != 0:
		return cur, true
	case !exists && flags&vcIfExists != 0:
		return cur, false
	case !exists:
		cur = sample{typ: smpAny}
	}
	if (flags&vcIfSet != 0 && cur.typ == smpAny) || (flags&vcIfNotSet != 0 && cur.typ != smpAny) {
		return cur, true
	}
	buf := smp.typ == smpStr || smp.typ == smpBin
	switch {
	case flags&vcIfEmpty != 0 && !buf:
		return cur, true // a scalar is never empty
	case smp.typ == smpInt && cur.typ == smpInt:
		if (flags&vcIfGt != 0 && cur.i <= smp.i) || (flags&vcIfLt != 0 && cur.i >= smp.i) {
			return cur, true
		}
	case buf:
		if (flags&vcIfNotEmpty != 0 && len(smp.b) == 0) || (flags&vcIfEmpty != 0 && len(smp.b) != 0) {
			return cur, true
		}
	}
	return stored(smp), true
}

// setVar sets a variable under the conditions flags (0: none).
func setVar(ci *connInfo, v varRef, smp *sample, flags uint8) {
	if !varReachable(ci, v) {
		return
	}
	if v.scope == scopeProc {
		pv := &ci.s.l.g.procVars
		pv.mu.Lock()
		cur, ok := pv.vals[v.name]
		if nv, keep := assignVar(cur, ok, smp, flags); keep {
			if pv.vals == nil {
				pv.vals = map[string]sample{}
			}
			pv.vals[v.name] = nv
		}
		pv.mu.Unlock()
		return
	}
	s := ci.s
	if s.vars == nil {
		s.vars = &sessVars{}
	}
	for i, n := range s.vars.names {
		if n == v.name {
			s.vars.vals[i], _ = assignVar(s.vars.vals[i], true, smp, flags)
			return
		}
	}
	if nv, keep := assignVar(sample{}, false, smp, flags); keep {
		s.vars.names = append(s.vars.names, v.name)
		s.vars.vals = append(s.vars.vals, nv)
	}
}

func unsetVar(ci *connInfo, v varRef) {
	if !varReachable(ci, v) {
		return
	}
	if v.scope == scopeProc {
		pv := &ci.s.l.g.procVars
		pv.mu.Lock()
		delete(pv.vals, v.name)
		pv.mu.Unlock()
		return
	}
	sv := ci.s.vars
	if sv == nil {
		return
	}
	for i, n := range sv.names {
		if n == v.name {
			sv.names = append(sv.names[:i], sv.names[i+1:]...)
			sv.vals = append(sv.vals[:i], sv.vals[i+1:]...)
			return
		}
	}
}

// getVar returns a variable's value.
func getVar(ci *connInfo, v varRef) (sample, bool) {
	if !varReachable(ci, v) {
		return sample{}, false
	}
	if v.scope == scopeProc {
		pv := &ci.s.l.g.procVars
		pv.mu.Lock()
		smp, ok := pv.vals[v.name]
		pv.mu.Unlock()
		return smp, ok && smp.typ != smpAny
	}
	if sv := ci.s.vars; sv != nil {
		for i, n := range sv.names {
			if n == v.name {
				return sv.vals[i], sv.vals[i].typ != smpAny
			}
		}
	}
	return sample{}, false
}

// fetchVar is var(<name>[,<default>]).
func fetchVar(fa *fetchArgs, c *connInfo) (sample, bool) {
	if smp, ok := getVar(c, fa.vr); ok {
		return smp, true
	}
	if fa.hasDef {
		return sample{typ: smpStr, b: []byte(fa.def)}, true
	}
	return sample{}, false
}

// fetchCaptureReqHdr is capture.req.hdr(<slot>): what a tcp-request
// content capture stored.
func fetchCaptureReqHdr(fa *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil || fa.off < 0 || fa.off >= len(c.s.caps) || c.s.caps[fa.off] == nil {
		return sample{}, false
	}
	return sample{typ: smpStr, b: c.s.caps[fa.off]}, true
}

// appendCaptures writes the captures as HAProxy's %hr ({a|b}, long: false)
// or %hrl (a b, with "-" for an empty slot), bytes outside of printable
// ASCII and '"', '#', '{', '|', '}' as #XX.
func appendCaptures(b []byte, caps [][]byte, n int, long bool) []byte {
	if !long {
		b = append(b, '{')
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			if long {
				b = append(b, ' ')
			} else {
				b = append(b, '|')
			}
		}
		var v []byte
		if i < len(caps) {
			v = caps[i]
		}
		if long && len(v) == 0 {
			b = append(b, '-')
			continue
		}
		for _, c := range v {
			if c < 0x20 || c >= 0x7f || c == '"' || c == '#' || c == '{' || c == '|' || c == '}' {
				b = append(b, '#', hexDigits[c>>4], hexDigits[c&15])
				continue
			}
			b = append(b, c)
		}
	}
	if !long {
		b = append(b, '}')
	}
	return b
}
