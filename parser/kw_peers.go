package parser

import (
	"fmt"
	"net/netip"
	"strings"
)

// This file parses peers sections (HAProxy's cfg_parse_peers): the peer
// (or bind and server) lines, table lines, disabled and enabled.

// peersState is what the section being parsed remembers between lines.
type peersState struct {
	cur                *PeersSection
	bindLine, peerLine bool
	bindPos            Pos // the line that made the local listener
	// fePos is the last line that gave the section's proxy its place
	// (bind, default-bind, log and local peer lines), which HAProxy
	// quotes when the local peer is named twice.
	fePos Pos
}

// beginPeers opens "peers <name>".
func (p *parser) beginPeers(words []string) {
	p.peers = peersState{}
	name := argAt(words, 1)
	if name == "" {
		p.report(&Error{Pos: p.pos(), Msg: "missing name for peers section.", Phase: PhaseAbort})
		p.fileTrailer(p.file)
		p.abort = true
		return
	}
	if p.tooManyArgs(words, 1) {
		return
	}
	if c, bad := invalidNameChar(name); bad {
		p.report(&Error{Pos: p.pos(), Msg: fmt.Sprintf("character '%c' is not permitted in '%s' name '%s'.", c, words[0], name), Phase: PhaseAbort})
		p.fileTrailer(p.file)
		p.abort = true
		return
	}
	if o := p.cfg.PeersByName(name); o != nil {
		p.alertStyle(StyleCapital, "peers section '%s' has the same name as another peers section declared at %s:%d.", name, o.File, o.Line)
	}
	p.peers.cur = &PeersSection{Pos: p.pos(), Name: name}
	p.cfg.Peers = append(p.cfg.Peers, p.peers.cur)
}

// peersKeyword parses one line of a peers section.
func (p *parser) peersKeyword(w []string, mod kwMod) {
	s := p.peers.cur
	if s == nil {
		return
	}
	switch w[0] {
	case "bind", "default-bind":
		p.peers.fePos = p.pos()
		p.peersBind(s, w)
	case "peer", "server":
		p.peersPeer(s, w)
	case "default-server":
		if len(w) > 1 {
			p.alert("'%s %s' : server options are not supported by goproxy in a 'peers' section.", w[0], w[1])
		}
	case "table":
		p.peersTable(s, w)
	case "disabled":
		s.Disabled = true
	case "enabled":
		s.Disabled = false
	case "log":
		p.peers.fePos = p.pos()
		p.alert("'%s' is not supported by goproxy in a 'peers' section (peer sessions are not logged).", w[0])
	default:
		p.alert("unknown keyword '%s' in 'peers' section", w[0])
	}
}

// localPeerName is the name the local peer has: -L, the global
// localpeer, or the host name.
func (p *parser) localPeerName() string {
	if p.cfg.LocalPeerName == "" {
		p.cfg.LocalPeerName = p.opts.LocalPeer
	}
	return p.cfg.LocalPeerName
}

// peersBind parses "bind <addr>" and "default-bind": the local peer's
// listener when the section names its peers with server lines.
func (p *parser) peersBind(s *PeersSection, w []string) {
	if w[0] == "default-bind" {
		if len(w) > 1 {
			p.alert("'%s' : bind options are not supported by goproxy in a 'peers' section.", w[0])
		}
		return
	}
	if p.peers.peerLine {
		p.alert("mixing \"peer\" and \"bind\" line is forbidden")
		return
	}
	if p.peers.bindPos.File != "" {
		p.report(&Error{Pos: p.pos(), Phase: PhaseParse,
			Msg: fmt.Sprintf("One listener per \"peers\" section is authorized but another is already configured at [%s:%d].", p.peers.bindPos.File, p.peers.bindPos.Line)})
	}
	var ap netip.AddrPort
	if addrs, msg := p.addrCtx(useBind).parseList(argAt(w, 1)); msg == "" && len(addrs) == 1 && addrs[0].Family == FamilyFD {
		// An inherited socket (VTest's "fd@${A}"), listened on as is.
		s.BindFD = addrs[0].FD
	} else {
		var ok bool
		if ap, ok = p.peerListenAddr(w, argAt(w, 1)); !ok {
			return
		}
	}
	if len(w) > 2 {
		p.alert("'%s %s' : bind options are not supported by goproxy in a 'peers' section.", w[0], w[1])
		return
	}
	p.peers.bindLine = true
	p.peers.bindPos = p.pos()
	s.Bind = ap
	if l := s.LocalPeer(); l != nil {
		l.Addr = ap
	} else {
		// The name comes with the server line of the local peer.
		s.Peers = append(s.Peers, &Peer{Pos: p.pos(), Local: true, Addr: ap})
	}
}

// peerListenAddr parses the address the local peer listens on.
func (p *parser) peerListenAddr(w []string, text string) (netip.AddrPort, bool) {
	addrs, msg := p.addrCtx(useBind).parseList(text)
	if msg == "" && (len(addrs) != 1 || (addrs[0].Family != FamilyTCP4 && addrs[0].Family != FamilyTCP6 && addrs[0].Family != 0)) {
		msg = fmt.Sprintf("'%s' is not supported by goproxy for a peer (only one TCP address is).", text)
	}
	if msg != "" {
		p.alert("'%s %s' : %s", w[0], w[1], msg)
		return netip.AddrPort{}, false
	}
	return addrPortOf(addrs[0])
}

// addrPortOf is a parsed TCP address as an AddrPort (any address when
// the host is empty).
func addrPortOf(a Addr) (netip.AddrPort, bool) {
	ip := netip.IPv4Unspecified()
	if a.Family == FamilyTCP6 {
		ip = netip.IPv6Unspecified()
	}
	if a.Host != "" {
		v, err := netip.ParseAddr(a.Host)
		if err != nil {
			return netip.AddrPort{}, false
		}
		ip = v.Unmap()
	}
	return netip.AddrPortFrom(ip, uint16(a.Port)), true
}

// peersPeer parses "peer <name> <addr>" and "server <name> [<addr>]".
func (p *parser) peersPeer(s *PeersSection, w []string) {
	isPeer := w[0] == "peer"
	name := argAt(w, 1)
	local := name == p.localPeerName()
	if isPeer {
		if p.peers.bindLine {
			p.alert("mixing \"peer\" and \"bind\" line is forbidden")
			return
		}
		p.peers.peerLine = true
	}
	if (isPeer || !local) && argAt(w, 2) == "" {
		return // HAProxy ignores a peer without an address
	}
	if name == "" {
		return
	}
	if l := s.LocalPeer(); l != nil && local {
		if l.Name == "" {
			l.Name = name
			l.Pos = p.pos()
			return
		}
		p.alert("'%s %s' : local peer name already referenced at %s:%d. %s", w[0], name, p.peers.fePos.File, p.peers.fePos.Line, l.Name)
		return
	}
	if local {
		p.peers.fePos = p.pos()
	}
	peer := &Peer{Pos: p.pos(), Name: name, Local: local}
	if isPeer || !local {
		a, msg := p.addrCtx(useServer).parseServer(w[2])
		if msg == "" && a.Family != FamilyTCP4 && a.Family != FamilyTCP6 && a.Family != 0 {
			msg = fmt.Sprintf("'%s' is not supported by goproxy for a peer (only TCP addresses are).", w[2])
		}
		if msg == "" && a.Host != "" {
			if _, err := netip.ParseAddr(a.Host); err != nil {
				msg = fmt.Sprintf("'%s' is not an IP address (goproxy does not resolve peer names).", a.Host)
			}
		}
		if msg != "" {
			p.serverAlert(p.peersProxyName(s), name, "%s", withNewline(msg))
			return
		}
		if len(w) > 3 {
			p.alert("'%s %s' : server options are not supported by goproxy in a 'peers' section ('%s').", w[0], name, strings.Join(w[3:], " "))
			return
		}
		peer.Addr, _ = addrPortOf(a)
	}
	if local && isPeer {
		if p.peers.bindPos.File != "" {
			p.report(&Error{Pos: p.pos(), Phase: PhaseParse,
				Msg: fmt.Sprintf("One listener per \"peers\" section is authorized but another is already configured at [%s:%d].", p.peers.bindPos.File, p.peers.bindPos.Line)})
		}
		p.peers.bindPos = p.pos()
		s.Bind = peer.Addr
	}
	s.Peers = append(s.Peers, peer)
}

// peersProxyName is the name HAProxy gives the section's proxy in server
// messages: the local peer's name once known.
func (p *parser) peersProxyName(s *PeersSection) string {
	if l := s.LocalPeer(); l != nil && l.Name != "" {
		return l.Name
	}
	for _, o := range p.cfg.Peers {
		if l := o.LocalPeer(); l != nil && l.Name != "" {
			return l.Name
		}
	}
	return "(null)"
}

// peersTable parses "table <name> type ... size ..." of a peers section:
// a stick table named "<section>/<name>" replicated with the section.
func (p *parser) peersTable(s *PeersSection, w []string) {
	name := argAt(w, 1)
	for _, o := range p.cfg.Proxies {
		if o.Table != nil && o.Name == name {
			p.alert("stick-table name '%s' conflicts with table declared in %s '%s' at %s:%d.", name, capName(o.Cap), o.Name, o.Table.File, o.Table.Line)
			return
		}
	}
	for _, o := range p.cfg.Peers {
		for _, t := range o.Tables {
			if t.Name == name {
				p.alert("stick-table name '%s' conflicts with table declared in peers '%s' at %s:%d.", name, o.Name, t.File, t.Line)
				return
			}
		}
	}
	// w[1] is the name: the table's words start at "type" with the
	// keyword in front, as parse_stick_table reads them.
	tw := append([]string{w[0]}, w[2:]...)
	t, msg := parseStickTableLine(tw, true)
	if msg != "" {
		p.report(&Error{Pos: p.pos(), Msg: msg, Phase: PhaseParse, Style: stickStyle(msg)})
		return
	}
	for _, warn := range t.warnings {
		p.report(&Error{Pos: p.pos(), Msg: warn, Phase: PhaseParse, Sev: SevWarning, Style: StyleLine})
	}
	t.StickTable.Pos = p.pos()
	t.Name = s.Name + "/" + name
	t.Peers = s.Name
	s.Tables = append(s.Tables, &t.StickTable)
}

// globalLocalPeer parses "localpeer <name>"; -L wins over it.
func (p *parser) globalLocalPeer(w []string, _ kwMod) {
	if p.tooManyArgs(w, 1) {
		return
	}
	if argAt(w, 1) == "" {
		p.alert("'%s' expects a name as an argument.", w[0])
		return
	}
	if p.opts.LocalPeerSet {
		p.warn("'%s' ignored since it is already set by using the '-L' command line argument.", w[0])
		return
	}
	if len(p.cfg.Peers) > 0 {
		p.warn("'%s' ignored since it is used after 'peers' section.", w[0])
		return
	}
	p.cfg.Global.LocalPeer = w[1]
	p.cfg.LocalPeerName = w[1]
}
