package resolver

import (
	"context"
	"errors"
	"sync"

	"github.com/sirupsen/logrus"
)

// Options configure a Manager.
type Options struct {
	Log logrus.FieldLogger
}

// Manager owns the sections of a configuration and their goroutines.
type Manager struct {
	sections []*Section
	wg       sync.WaitGroup
	cancel   context.CancelFunc
}

// New prepares a section for every resolvers section, in order, with the
// servers that use it. Nothing is sent before Start.
func New(sections []Config, servers []Server, o Options) *Manager {
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		log = l
	}
	m := &Manager{}
	for i := range sections {
		rc := &sections[i]
		sec := newSection(rc, log)
		for _, s := range servers {
			if s.Resolvers == rc.Name {
				sec.addServer(s)
			}
		}
		m.sections = append(m.sections, sec)
	}
	return m
}

// Start runs a goroutine per section with servers and nameservers; they
// end when ctx is done or Stop is called.
func (m *Manager) Start(ctx context.Context) {
	ctx, m.cancel = context.WithCancel(ctx)
	for _, sec := range m.sections {
		if len(sec.res) == 0 || len(sec.ns) == 0 {
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			sec.run(ctx)
		}()
	}
}

// Stop ends the goroutines and waits for them.
func (m *Manager) Stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
}

// Stats returns the counters of every section, in HAProxy's order.
func (m *Manager) Stats() []SectionStats {
	out := make([]SectionStats, 0, len(m.sections))
	for _, sec := range m.sections {
		st := SectionStats{Name: sec.name}
		for _, ns := range sec.ns {
			st.Nameservers = append(st.Nameservers, ns.ctr.snapshot(ns.name))
		}
		out = append(out, st)
	}
	return out
}

// Errors of SetFQDN.
var (
	ErrNoResolution = errors.New("no resolution is configured")
	ErrSRV          = errors.New("SRV resolution is configured")
)

// SetFQDN makes the server labelled "backend/server" resolve name from now
// on ("set server <b>/<s> fqdn"), at once. It fails with ErrNoResolution
// for a server that does not resolve at run time and ErrSRV for a server
// of an SRV template.
func (m *Manager) SetFQDN(label, name string) error {
	for _, sec := range m.sections {
		if err := sec.setFQDN(label, name); err != ErrNoResolution {
			return err
		}
	}
	return ErrNoResolution
}

// FQDN returns the name the server labelled "backend/server" resolves, or
// "" when it does not resolve at run time.
func (m *Manager) FQDN(label string) string {
	for _, sec := range m.sections {
		sec.mu.Lock()
		for _, r := range sec.reqs {
			if r.Target.Label() == label {
				sec.mu.Unlock()
				return r.Target.FQDN()
			}
		}
		sec.mu.Unlock()
	}
	return ""
}
