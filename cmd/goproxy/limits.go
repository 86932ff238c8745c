package main

import (
	"fmt"

	"golang.org/x/sys/unix"

	"goproxy/parser"
)

// fdReserve is the number of descriptors HAProxy 2.6 keeps aside besides
// the listeners and the health checks (poller, wake-up pipes, logs, ...).
// With it, maxsock matches HAProxy's figures: 100031 for the seed config
// (maxconn 50000, 1 listener, 1 stats socket, 3 checked servers) and a
// computed maxconn of 9986 under a 20000 limit with 2 listeners.
const fdReserve = 26

// maxAutoConn caps the maxconn computed from a very large fd limit.
const maxAutoConn = 1 << 20

// limitPlan is the outcome of sizing the process against RLIMIT_NOFILE.
type limitPlan struct {
	MaxConn  int    // effective global maxconn
	MaxSock  int    // descriptors needed for MaxConn
	NoFile   uint64 // soft RLIMIT_NOFILE to set
	Warnings []string
	Fatal    string // non-empty: refuse to start with this alert
}

// fdExtra counts the descriptors needed besides two per connection.
func fdExtra(cfg *parser.Config) int {
	n := fdReserve + len(cfg.Global.StatsSockets)
	for _, p := range cfg.Proxies {
		if p.Disabled {
			continue
		}
		if p.Cap&parser.CapFrontend != 0 {
			n += len(p.Binds)
		}
		if p.Cap&parser.CapBackend != 0 {
			for _, s := range p.Servers {
				if s.Check {
					n++
				}
			}
		}
	}
	return n
}

// strictLimits reports whether an fd shortage is fatal. HAProxy 2.6 makes
// it fatal by default; goproxy only when the configuration says
// "strict-limits" explicitly, and otherwise lowers maxconn to fit.
func strictLimits(g *parser.Global) bool {
	return g.StrictLimitsSet && g.StrictLimits
}

// planLimits sizes maxconn and the fd limit. maxConnArg is -n (0 = not
// given); cur and hard are the current soft and hard RLIMIT_NOFILE.
func planLimits(cfg *parser.Config, maxConnArg int, cur, hard uint64) limitPlan {
	extra := fdExtra(cfg)
	limit := hard
	if cfg.Global.UlimitN > 0 {
		limit = uint64(cfg.Global.UlimitN)
	}
	maxconn := cfg.Global.MaxConn
	if maxConnArg > 0 {
		maxconn = maxConnArg
	}
	if maxconn <= 0 {
		// Computed like HAProxy: what the fd limit allows.
		avail := min(limit, hard)
		mc := 0
		if avail > uint64(extra) {
			mc = int(min((avail-uint64(extra))/2, maxAutoConn))
		}
		if mc < 1 {
			mc = 1
		}
		return limitPlan{MaxConn: mc, MaxSock: 2*mc + extra, NoFile: avail}
	}
	maxsock := 2*maxconn + extra
	want := uint64(maxsock)
	if cfg.Global.UlimitN > 0 {
		want = uint64(cfg.Global.UlimitN)
	}
	if want <= hard {
		return limitPlan{MaxConn: maxconn, MaxSock: maxsock, NoFile: max(want, cur)}
	}
	cannot := fmt.Sprintf("[haproxy.main()] Cannot raise FD limit to %d, limit is %d.", want, hard)
	if strictLimits(&cfg.Global) {
		return limitPlan{MaxConn: maxconn, MaxSock: maxsock, NoFile: cur, Fatal: cannot}
	}
	fit := 1
	if hard > uint64(extra) {
		fit = max(int((hard-uint64(extra))/2), 1)
	}
	return limitPlan{
		MaxConn: fit,
		MaxSock: 2*fit + extra,
		NoFile:  hard,
		Warnings: []string{
			cannot,
			fmt.Sprintf("[haproxy.main()] FD limit (%d) too low for maxconn=%d/maxsock=%d. "+
				"Lowering maxconn to %d (maxsock=%d); raise 'ulimit-n' to %d or more to keep %d, "+
				"or set 'strict-limits' in the global section to refuse to start instead.",
				hard, maxconn, maxsock, fit, 2*fit+extra, want, maxconn),
		},
	}
}

// getNoFile returns the soft and hard RLIMIT_NOFILE.
func getNoFile() (cur, hard uint64, err error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, fmt.Errorf("getrlimit(RLIMIT_NOFILE): %w", err)
	}
	return r.Cur, r.Max, nil
}

// setNoFile sets the soft RLIMIT_NOFILE, keeping the hard one.
func setNoFile(cur, hard uint64) error {
	r := unix.Rlimit{Cur: cur, Max: hard}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return fmt.Errorf("setrlimit(RLIMIT_NOFILE, %d): %w", cur, err)
	}
	return nil
}
