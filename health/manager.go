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
	mu     sync.Mutex // guards jobs (after New), ctx, cancel and each job's cancel
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sets   map[*parser.Proxy]*ruleset
}

// job is one periodic check: the health check or the agent check of a
// server.
type job struct {
	target Target
	kind   srvstate.CheckKind
	spec   *probeSpec
	first  time.Duration
	log    logrus.FieldLogger
	// cancel stops the job's goroutine once started; removed is set when
	// the job was removed before Start (its server deleted).
	cancel  context.CancelFunc
	removed bool
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
	m := &Manager{opts: opts, log: opts.Log, sets: map[*parser.Proxy]*ruleset{}}
	if m.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		m.log = l
	}
	for _, sv := range servers {
		jobs, err := m.jobsFor(sv)
		if err != nil {
			return nil, err
		}
		m.jobs = append(m.jobs, jobs...)
	}
	m.spreadFirst()
	return m, nil
}

// jobsFor prepares the checks of one server. Callers serialize it (New
// runs alone; Add holds mu).
func (m *Manager) jobsFor(sv Server) ([]*job, error) {
	px, t := sv.Backend, sv.Target
	if px == nil {
		px = &parser.Proxy{}
	}
	var jobs []*job
	if t.CheckConfigured(srvstate.HealthCheck) {
		rs, ok := m.sets[px]
		if !ok {
			var err error
			rs, err = rulesetFor(px)
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", px.Name, err)
			}
			m.sets[px] = rs
		}
		spec, err := healthSpec(px, rs, sv.Addr, sv.Params)
		if err != nil {
			return nil, fmt.Errorf("server %s/%s: %w", px.Name, sv.Name, err)
		}
		if st, ok := t.(StateTarget); ok {
			spec.state = st
		}
		spec.bufSize = m.opts.BufSize
		jobs = append(jobs, &job{target: t, kind: srvstate.HealthCheck, spec: spec, log: m.log})
	}
	if t.CheckConfigured(srvstate.AgentCheck) {
		spec := agentSpec(px, sv.Addr, sv.Params)
		spec.bufSize = m.opts.BufSize
		jobs = append(jobs, &job{target: t, kind: srvstate.AgentCheck, spec: spec, log: m.log})
	}
	return jobs, nil
}

// Add prepares the checks of a server added at run time and, once the
// manager is started, starts them at once (their first run comes without
// spreading, as HAProxy's for a dynamic server). It fails as New does on
// settings no check can run with.
func (m *Manager) Add(sv Server) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	jobs, err := m.jobsFor(sv)
	if err != nil {
		return err
	}
	m.jobs = append(m.jobs, jobs...)
	if m.ctx != nil {
		for _, j := range jobs {
			m.startLocked(j)
		}
	}
	return nil
}

// Remove stops the checks of t (a server deleted at run time) and forgets
// them. It waits for nothing: a check in progress is abandoned without a
// report.
func (m *Manager) Remove(t Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.jobs[:0:0]
	for _, j := range m.jobs {
		if j.target != t {
			kept = append(kept, j)
			continue
		}
		j.removed = true
		if j.cancel != nil {
			j.cancel()
		}
	}
	m.jobs = kept
}

// startLocked launches j's goroutine under the manager's context.
func (m *Manager) startLocked(j *job) {
	if j.removed || m.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	j.cancel = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer cancel()
		j.loop(ctx, m.opts.SpreadChecks)
	}()
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
func (m *Manager) Checks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.jobs)
}

// Start launches one goroutine per check. It does nothing if already
// started.
func (m *Manager) Start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		return
	}
	m.ctx, m.cancel = context.WithCancel(ctx)
	for _, j := range m.jobs {
		m.startLocked(j)
	}
}

// Stop cancels every check (a check in progress is abandoned without a
// report) and waits for the goroutines to end.
func (m *Manager) Stop() {
	m.mu.Lock()
	if m.cancel != nil {
		m.cancel() // under mu: Add starts nothing from now on
	}
	m.mu.Unlock()
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
