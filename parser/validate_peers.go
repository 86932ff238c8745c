package parser

// checkTablePeers resolves the peers section of px's stick table, as
// HAProxy's check_config_validity: a missing section is fatal, a disabled
// one silently stops the replication, a section without any peer has no
// local peer to run.
func (p *parser) checkTablePeers(px *Proxy) {
	t := px.Table
	if t == nil || t.Peers == "" {
		return
	}
	s := p.cfg.PeersByName(t.Peers)
	switch {
	case s == nil:
		p.checkAlert(t.Pos, "Proxy '%s': unable to find sync peers '%s'.", px.Name, t.Peers)
		t.Peers = ""
	case s.Disabled:
		t.Peers = ""
	case len(s.Peers) == 0 && len(s.Tables) == 0:
		p.checkAlert(t.Pos, "Proxy '%s': unable to find local peer '%s' in peers section '%s'.", px.Name, p.localPeerName(), s.Name)
		t.Peers = ""
	}
}

// removeIncompletePeers marks Removed the disabled peers sections and,
// with HAProxy's warning, those without a local peer (the last declared
// first, as HAProxy walks them): their tables stay, not replicated.
func (p *parser) removeIncompletePeers() {
	keep := make(map[*PeersSection]bool)
	for i := len(p.cfg.Peers) - 1; i >= 0; i-- {
		s := p.cfg.Peers[i]
		l := s.LocalPeer()
		switch {
		case s.Disabled:
		case l == nil || l.Name == "":
			p.checkWarn("Removing incomplete section 'peers %s' (no peer named '%s').", s.Name, p.localPeerName())
		default:
			keep[s] = true
		}
	}
	for _, s := range p.cfg.Peers {
		s.Removed = !keep[s]
	}
	drop := func(t *StickTable) {
		if t != nil && t.Peers != "" {
			if s := p.cfg.PeersByName(t.Peers); s == nil || !keep[s] {
				t.Peers = ""
			}
		}
	}
	for _, px := range p.cfg.Proxies {
		drop(px.Table)
	}
	for _, s := range p.cfg.Peers {
		for _, t := range s.Tables {
			drop(t)
		}
	}
}
