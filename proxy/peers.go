package proxy

import (
	"fmt"
	"strings"

	"goproxy/internal/peersync"
	"goproxy/internal/stktable"
	"goproxy/parser"
)

// Peers at run time: one peersync.Section per peers section that has a
// local peer and is enabled, replicating the tables that name it.

// buildPeers prepares the sections; tables maps table names to tables.
func (g *Graph) buildPeers(cfg *parser.Config, tables map[string]*stktable.Table) error {
	for _, ps := range cfg.Peers {
		if ps.Removed {
			continue
		}
		sc := peersync.Config{Name: ps.Name, Local: cfg.LocalPeerName, Bind: ps.Bind, Reload: g.opts.Takeover}
		for _, p := range ps.Peers {
			sc.Peers = append(sc.Peers, peersync.PeerConfig{Name: p.Name, Addr: p.Addr, Local: p.Local})
		}
		for _, px := range cfg.Proxies {
			if px.Table != nil && !px.Disabled && px.Table.Peers == ps.Name {
				sc.Tables = append(sc.Tables, peersync.Table{T: tables[px.Table.Name], NameID: px.Name})
			}
		}
		for _, t := range ps.Tables {
			if t.Peers == ps.Name {
				sc.Tables = append(sc.Tables, peersync.Table{T: tables[t.Name], NameID: strings.TrimPrefix(t.Name, ps.Name+"/")})
			}
		}
		s, err := peersync.New(sc)
		if err != nil {
			return fmt.Errorf("peers section '%s': %w", ps.Name, err)
		}
		g.peers = append(g.peers, s)
	}
	return nil
}

// ShowPeers writes "show peers" for every section, the last declared
// first as HAProxy lists them, or for the one named section; false when
// there is no such section.
func (g *Graph) ShowPeers(b *strings.Builder, dict bool, section string) bool {
	first := true
	found := section == ""
	for i := len(g.peers) - 1; i >= 0; i-- {
		s := g.peers[i]
		if section != "" && s.Name() != section {
			continue
		}
		found = true
		if !first {
			b.WriteString("\n")
		}
		first = false
		s.Show(b, dict)
	}
	return found
}

// PeersCounts are the active and connected peer sessions (show info's
// ActivePeers and ConnectedPeers).
func (g *Graph) PeersCounts() (active, connected int) {
	for _, s := range g.peers {
		a, c := s.Counts()
		active += a
		connected += c
	}
	return active, connected
}
