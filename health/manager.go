package health

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// interThreshold is HAProxy's SRV_CHK_INTER_THRES: intervals below it do not
// dictate how first checks are spread.
const interThreshold = time.Second

// Manager owns the check goroutines of one process generation.
type Manager struct {
	jobs   []*job
	opts   Options
	log    logrus.FieldLogger
	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// job is one periodic check: the health check or the agent check of a
// server.
type job struct {
	target Target
	kind   srvstate.CheckKind
	spec   *probeSpec
	first  time.Duration
	log    logrus.FieldLogger
}

func (j *job) interval() time.Duration { return j.target.CheckInterval(j.kind) }

func (j *job) report(o outcome, took time.Duration) {
	if o.twice && o.first != nil && j.kind == srvstate.HealthCheck {
		// The protocol's own result first (log-health-checks shows its
		// text), then the generic one.
		first := *o.first
		first.twice, first.first = false, nil
		j.report(first, took)
		o.twice = false
	}
	r := srvstate.Report{Kind: j.kind, Status: o.status, Code: o.code, Desc: o.desc, Took: took, Twice: o.twice}
	if o.status == statusKeep {
		r.Status, r.KeepStatus = srvstate.CheckUnknown, true
	}
	if a := o.agent; a != nil && a.warning == "" {
		r.Agent = a.typed()
	}
	j.target.Report(r, j.log)
}

// New prepares the checks of servers (in configuration order, which sets
// how first checks are spread). Servers without checks are skipped. It
// fails on settings no check can run with (bad pattern, no port).
func New(servers []Server, opts Options) (*Manager, error) {
	m := &Manager{opts: opts, log: opts.Log}
	if m.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		m.log = l
	}
	sets := map[*parser.Proxy]*ruleset{}
	for _, sv := range servers {
		px, t := sv.Backend, sv.Target
		if px == nil {
			px = &parser.Proxy{}
		}
		if t.CheckConfigured(srvstate.HealthCheck) {
			rs, ok := sets[px]
			if !ok {
				var err error
				rs, err = rulesetFor(px)
				if err != nil {
					return nil, fmt.Errorf("backend %s: %w", px.Name, err)
				}
				sets[px] = rs
			}
			spec, err := healthSpec(px, rs, sv.Addr, sv.Params)
			if err != nil {
				return nil, fmt.Errorf("server %s/%s: %w", px.Name, sv.Name, err)
			}
			if st, ok := t.(StateTarget); ok {
				spec.state = st
			}
			spec.bufSize = opts.BufSize
			m.jobs = append(m.jobs, &job{target: t, kind: srvstate.HealthCheck, spec: spec, log: m.log})
		}
		if t.CheckConfigured(srvstate.AgentCheck) {
			spec := agentSpec(px, sv.Addr, sv.Params)
			spec.bufSize = opts.BufSize
			m.jobs = append(m.jobs, &job{target: t, kind: srvstate.AgentCheck, spec: spec, log: m.log})
		}
	}
	m.spreadFirst()
	return m, nil
}

// spreadFirst sets each job's first delay as HAProxy's start_checks: the
// shortest interval of at least 1 s, divided by the number of checks and
// weighted by the position.
func (m *Manager) spreadFirst() {
	var minInter time.Duration
	for _, j := range m.jobs {
		if in := j.interval(); in >= interThreshold && (minInter == 0 || in < minInter) {
			minInter = in
		}
	}
	n := len(m.jobs)
	for pos, j := range m.jobs {
		mi := max(minInter, j.interval())
		if m.opts.MaxSpreadChecks > 0 && mi > m.opts.MaxSpreadChecks {
			mi = m.opts.MaxSpreadChecks
		}
		j.first = time.Duration(int64(mi) * int64(pos) / int64(n))
	}
}

// Checks returns the number of periodic checks (health and agent).
func (m *Manager) Checks() int { return len(m.jobs) }

// Start launches one goroutine per check. It does nothing if already
// started.
func (m *Manager) Start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		return
	}
	ctx, m.cancel = context.WithCancel(ctx)
	for _, j := range m.jobs {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			j.loop(ctx, m.opts.SpreadChecks)
		}()
	}
}

// Stop cancels every check (a check in progress is abandoned without a
// report) and waits for the goroutines to end.
func (m *Manager) Stop() {
	m.mu.Lock()
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
}

// loop runs the check at its times until ctx ends. The next check is
// scheduled from the end of the previous one, as HAProxy's
// process_chk_conn; a paused check keeps its phase.
func (j *job) loop(ctx context.Context, spread int) {
	next := time.Now().Add(j.first)
	timer := time.NewTimer(j.first)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if !j.target.StartCheck(j.kind) {
			now := time.Now()
			step := max(j.spec.inter, time.Millisecond)
			for !next.After(now) {
				next = next.Add(step)
			}
		} else {
			start := time.Now()
			o, ok := execute(ctx, j.spec)
			if !ok {
				return
			}
			end := time.Now()
			j.report(o, end.Sub(start))
			next = end.Add(max(spreadInterval(j.interval(), spread), time.Millisecond))
		}
		timer.Reset(time.Until(next))
	}
}

// spreadInterval moves an interval randomly by up to spread percent in
// either direction (global spread-checks).
func spreadInterval(in time.Duration, spread int) time.Duration {
	if spread <= 0 {
		return in
	}
	rv := int64(in) * int64(spread) / 100
	rv -= int64(2 * float64(rv) * rand.Float64())
	return in + time.Duration(rv)
}
