package proxy

import (
	"fmt"
	"net"
	"os"
	"strconv"
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
		if ps.BindFD > 0 {
			ln, err := inheritedListener(ps.BindFD)
			if err != nil {
				return fmt.Errorf("peers section '%s': bind fd@%d: %w", ps.Name, ps.BindFD, err)
			}
			sc.Listener = ln
		}
		for _, p := range ps.Peers {
			sc.Peers = append(sc.Peers, peersync.PeerConfig{Name: p.Name, Addr: p.Addr, Local: p.Local})
		}
		// HAProxy registers the section's own tables, the last declared
		// first, then the proxies' (the last declared first too: its
		// lists grow at the front), numbering them from 1. On the wire a
		// proxy's table goes by the proxy's name, a section's by what
		// follows the section's name: "/<name>".
		var list []*parser.StickTable
		for i := len(ps.Tables) - 1; i >= 0; i-- {
			if t := ps.Tables[i]; t.Peers == ps.Name {
				list = append(list, t)
			}
		}
		for i := len(cfg.Proxies) - 1; i >= 0; i-- {
			if px := cfg.Proxies[i]; px.Table != nil && !px.Disabled && px.Table.Peers == ps.Name {
				list = append(list, px.Table)
			}
		}
		for _, t := range list {
			nid := t.Name
			if t.Name != "" && strings.HasPrefix(t.Name, ps.Name+"/") && inSection(ps, t) {
				nid = strings.TrimPrefix(t.Name, ps.Name)
			}
			sc.Tables = append(sc.Tables, peersync.Table{T: tables[t.Name], NameID: nid})
		}
		s, err := peersync.New(sc)
		if err != nil {
			return fmt.Errorf("peers section '%s': %w", ps.Name, err)
		}
		g.peers = append(g.peers, s)
	}
	return nil
}

// inheritedListener listens on the inherited socket fd (fd@<n>).
func inheritedListener(fd int) (net.Listener, error) {
	f := os.NewFile(uintptr(fd), "fd@"+strconv.Itoa(fd))
	defer f.Close()
	return net.FileListener(f)
}

// inSection reports whether t is one of the section's own table lines.
func inSection(ps *parser.PeersSection, t *parser.StickTable) bool {
	for _, o := range ps.Tables {
		if o == t {
			return true
		}
	}
	return false
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
