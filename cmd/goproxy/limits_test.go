package main

import (
	"strings"
	"testing"

	"goproxy/parser"
)

// seedLike is the seed configuration's shape: one listener, one stats
// socket, three checked servers.
func seedLike(maxconn int) *parser.Config {
	srv := func() *parser.Server { s := &parser.Server{}; s.Check = true; return s }
	return &parser.Config{
		Global: parser.Global{MaxConn: maxconn, StatsSockets: []parser.StatsSocket{{}}},
		Proxies: []*parser.Proxy{
			{Name: "fe", Cap: parser.CapFrontend, Binds: []*parser.Bind{{}}},
			{Name: "be", Cap: parser.CapBackend, Servers: []*parser.Server{srv(), srv(), srv()}},
		},
	}
}

func TestPlanLimits(t *testing.T) {
	strict := func(c *parser.Config, on bool) *parser.Config {
		c.Global.StrictLimitsSet, c.Global.StrictLimits = true, on
		return c
	}
	tests := []struct {
		name      string
		cfg       *parser.Config
		arg       int
		cur, hard uint64
		maxconn   int
		maxsock   int
		nofile    uint64
		fatal     string
		warn      []string
	}{
		{
			name: "fits", cfg: seedLike(5000), cur: 1024, hard: 20000,
			maxconn: 5000, maxsock: 10031, nofile: 10031,
		},
		{
			name: "seed on this machine: warn and lower", cfg: seedLike(50000), cur: 1024, hard: 20000,
			maxconn: 9984, maxsock: 19999, nofile: 20000,
			warn: []string{"Cannot raise FD limit to 100031, limit is 20000.", "FD limit (20000) too low for maxconn=50000/maxsock=100031"},
		},
		{
			name: "explicit no strict-limits behaves the same", cfg: strict(seedLike(50000), false), cur: 20000, hard: 20000,
			maxconn: 9984, maxsock: 19999, nofile: 20000,
			warn: []string{"Cannot raise FD limit to 100031, limit is 20000."},
		},
		{
			name: "explicit strict-limits is fatal like HAProxy", cfg: strict(seedLike(50000), true), cur: 20000, hard: 20000,
			maxconn: 50000, maxsock: 100031, nofile: 20000,
			fatal: "[haproxy.main()] Cannot raise FD limit to 100031, limit is 20000.",
		},
		{
			name: "-n overrides the config", cfg: seedLike(50000), arg: 100, cur: 1024, hard: 20000,
			maxconn: 100, maxsock: 231, nofile: 1024,
		},
		{
			name: "computed from the hard limit like HAProxy (9986 with 2 listeners)",
			cfg: &parser.Config{
				Global:  parser.Global{StatsSockets: []parser.StatsSocket{{}}},
				Proxies: []*parser.Proxy{{Cap: parser.CapFrontend, Binds: []*parser.Bind{{}}}},
			},
			cur: 1024, hard: 20000, maxconn: 9986, maxsock: 20000, nofile: 20000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planLimits(tt.cfg, tt.arg, tt.cur, tt.hard)
			if p.MaxConn != tt.maxconn || p.MaxSock != tt.maxsock || p.NoFile != tt.nofile || p.Fatal != tt.fatal {
				t.Errorf("plan = %+v, want maxconn %d maxsock %d nofile %d fatal %q", p, tt.maxconn, tt.maxsock, tt.nofile, tt.fatal)
			}
			if len(tt.warn) == 0 && len(p.Warnings) != 0 {
				t.Errorf("unexpected warnings %q", p.Warnings)
			}
			all := strings.Join(p.Warnings, "\n")
			for _, w := range tt.warn {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q lack %q", p.Warnings, w)
				}
			}
		})
	}
}
