package parser

import "net/netip"

// PeersSection is a peers section: the processes that replicate the stick
// tables naming it, the local one among them, and the tables declared in
// the section itself.
type PeersSection struct {
	Pos
	Name     string
	Disabled bool `json:",omitempty"`
	// Peers are the peer (and server) lines in declaration order; the one
	// whose name is the local peer name is Local.
	Peers []*Peer
	// Bind is the address the local peer listens on (its peer line, or
	// a bind line); zero when the section has no local peer.
	Bind netip.AddrPort `json:",omitzero"`
	// BindFD is the inherited socket of a "bind fd@<n>" line (0: none).
	BindFD int `json:",omitempty"`
	// Tables are the section's own table lines, named "<section>/<name>".
	Tables []*StickTable `json:",omitempty"`
	// Removed marks a disabled or incomplete section: nothing of it runs
	// but its tables.
	Removed bool `json:",omitempty"`
}

// Peer is one peer of a section.
type Peer struct {
	Pos
	Name  string
	Addr  netip.AddrPort `json:",omitzero"`
	Local bool           `json:",omitempty"`
}

// LocalPeer is the section's local peer, nil when none.
func (s *PeersSection) LocalPeer() *Peer {
	for _, p := range s.Peers {
		if p.Local {
			return p
		}
	}
	return nil
}

// PeersByName returns the peers section named name, or nil.
func (c *Config) PeersByName(name string) *PeersSection {
	for _, s := range c.Peers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// TableByName returns the stick table named name: a proxy's (named after
// the proxy) or a peers section's ("<section>/<table>").
func (c *Config) TableByName(name string) *StickTable {
	for _, px := range c.Proxies {
		if px.Name == name && px.Table != nil {
			return px.Table
		}
	}
	for _, s := range c.Peers {
		for _, t := range s.Tables {
			if t.Name == name {
				return t
			}
		}
	}
	return nil
}
