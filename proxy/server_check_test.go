package proxy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

func testBackend(t *testing.T, n int, params parser.ServerParams) *Backend {
	t.Helper()
	be := &Backend{Name: "be", Config: &parser.Proxy{Name: "be", Cap: parser.CapBackend}}
	for i := range n {
		s := &Server{Name: "s" + string(rune('1'+i)), ID: i + 1, Backend: be, Config: params}
		s.uweight.Store(1)
		s.initCheckState()
		be.Servers = append(be.Servers, s)
	}
	return be
}

// reportCheck hands s one health check result.
func reportCheck(s *Server, st srvstate.CheckStatus, code int, desc string, took time.Duration, log logrus.FieldLogger) {
	s.Report(srvstate.Report{Kind: srvstate.HealthCheck, Status: st, Code: code, Desc: desc, Took: took}, log)
}

// agentReply hands s one agent reply.
func agentReply(s *Server, a srvstate.AgentReply, log logrus.FieldLogger) {
	s.Report(srvstate.Report{Kind: srvstate.AgentCheck, Status: srvstate.CheckChecked, Agent: &a}, log)
}

func checked() parser.ServerParams {
	return parser.ServerParams{Check: true, Inter: 5 * time.Second, Rise: 2, Fall: 3, Weight: 1}
}

const refused = "Connection refused at initial connection step of tcp-check"

func messages(h *test.Hook) []string {
	var out []string
	for _, e := range h.AllEntries() {
		out = append(out, e.Level.String()+": "+e.Message)
	}
	h.Reset()
	return out
}

// TestTimeline replays golden/timeline-server3: down since start, back up
// after rise successes, down again after fall failures.
func TestTimeline(t *testing.T) {
	log, hook := test.NewNullLogger()
	be := testBackend(t, 3, checked())
	s := be.Servers[2]
	type step struct {
		status                srvstate.CheckStatus
		desc                  string
		wantStatus, wantCheck string
		chkfail, chkdown      int64
		health                int
		wantLog               []string
	}
	steps := []step{
		{srvstate.CheckL4Con, refused, "DOWN", "L4CON", 1, 1, 0, []string{
			`warning: Server be/s3 is DOWN, reason: Layer4 connection problem, info: "Connection refused at initial connection step of tcp-check", check duration: 0ms. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`}},
		{srvstate.CheckL4OK, "", "DOWN 1/2", "L4OK", 1, 1, 1, nil},
		{srvstate.CheckL4OK, "", "UP", "L4OK", 1, 1, 4, []string{
			`warning: Server be/s3 is UP, reason: Layer4 check passed, check duration: 0ms. 3 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`}},
		{srvstate.CheckL4Con, refused, "UP 2/3", "L4CON", 2, 1, 3, nil},
		{srvstate.CheckL4Con, refused, "UP 1/3", "L4CON", 3, 1, 2, nil},
		{srvstate.CheckL4Con, refused, "DOWN", "L4CON", 4, 2, 0, []string{
			`warning: Server be/s3 is DOWN, reason: Layer4 connection problem, info: "Connection refused at initial connection step of tcp-check", check duration: 0ms. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`}},
		{srvstate.CheckL4Con, refused, "DOWN", "L4CON", 4, 2, 0, nil},
	}
	snap := s.CheckSnapshot(time.Now())
	if snap.Status != "UP 1/3" || snap.Check.Status != "INI" || snap.Check.Desc != "Initializing" || snap.Check.HasDuration || snap.Check.Health != 2 {
		t.Fatalf("initial snapshot = %+v", snap)
	}
	for i, st := range steps {
		s.StartCheck(srvstate.HealthCheck)
		if got := s.CheckSnapshot(time.Now()); !strings.HasPrefix(got.Check.Status, "* ") || got.Check.LastChk != "" {
			t.Fatalf("step %d: in progress shows %q / %q", i, got.Check.Status, got.Check.LastChk)
		}
		reportCheck(s, st.status, 0, st.desc, 0, log)
		got := s.CheckSnapshot(time.Now())
		if got.Status != st.wantStatus || got.Check.Status != st.wantCheck || got.ChkFail != st.chkfail ||
			got.ChkDown != st.chkdown || got.Check.Health != st.health || got.Check.LastChk != st.desc {
			t.Errorf("step %d: got status %q check %q chkfail %d chkdown %d health %d last %q", i,
				got.Status, got.Check.Status, got.ChkFail, got.ChkDown, got.Check.Health, got.Check.LastChk)
		}
		if msgs := messages(hook); strings.Join(msgs, "\n") != strings.Join(st.wantLog, "\n") {
			t.Errorf("step %d: log\n%s\nwant\n%s", i, strings.Join(msgs, "\n"), strings.Join(st.wantLog, "\n"))
		}
		if s.Running() != strings.HasPrefix(st.wantStatus, "UP") {
			t.Errorf("step %d: running = %v", i, s.Running())
		}
	}
}

// TestLastChangeAndDowntime: lastchg counts from the last transition,
// downtime adds the current DOWN period to the closed ones.
func TestLastChangeAndDowntime(t *testing.T) {
	log, _ := test.NewNullLogger()
	s := testBackend(t, 1, checked()).Servers[0]
	reportCheck(s, srvstate.CheckL4Con, 0, "", 0, log)
	later := time.Now().Add(5 * time.Second)
	if snap := s.CheckSnapshot(later); snap.LastChg != 5 || snap.DownTime != 5 {
		t.Fatalf("DOWN for 5 s: lastchg %d downtime %d", snap.LastChg, snap.DownTime)
	}
	reportCheck(s, srvstate.CheckL4OK, 0, "", 0, log)
	reportCheck(s, srvstate.CheckL4OK, 0, "", 0, log)
	if snap := s.CheckSnapshot(later); snap.LastChg != 5 || snap.DownTime != 0 || snap.Status != "UP" {
		t.Fatalf("UP: lastchg %d downtime %d status %s", snap.LastChg, snap.DownTime, snap.Status)
	}
}

func TestLastServerDown(t *testing.T) {
	log, hook := test.NewNullLogger()
	be := testBackend(t, 1, checked())
	reportCheck(be.Servers[0], srvstate.CheckL4TOut, 0, " at initial connection step of tcp-check", 2001*time.Millisecond, log)
	got := messages(hook)
	want := []string{
		`warning: Server be/s1 is DOWN, reason: Layer4 timeout, info: " at initial connection step of tcp-check", check duration: 2001ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
		`error: backend 'be' has no server available!`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIntervals(t *testing.T) {
	p := checked()
	p.Inter, p.FastInter, p.DownInter = 5*time.Second, time.Second, 10*time.Second
	s := testBackend(t, 1, p).Servers[0]
	log, _ := test.NewNullLogger()
	cases := []struct {
		report srvstate.CheckStatus
		want   time.Duration
	}{
		{-1, time.Second},                     // UP 1/3 at start: transition
		{srvstate.CheckL4OK, 5 * time.Second}, // fully up
		{srvstate.CheckL4Con, time.Second},    // UP 2/3
		{srvstate.CheckL4Con, time.Second},    // UP 1/3
		{srvstate.CheckL4Con, 10 * time.Second},
		{srvstate.CheckL4OK, time.Second}, // DOWN 1/2
	}
	for i, c := range cases {
		if c.report >= 0 {
			reportCheck(s, c.report, 0, "", 0, log)
		}
		if got := s.CheckInterval(srvstate.HealthCheck); got != c.want {
			t.Errorf("case %d: interval %v, want %v", i, got, c.want)
		}
	}
}

func TestMaintenance(t *testing.T) {
	log, hook := test.NewNullLogger()
	be := testBackend(t, 2, checked())
	s := be.Servers[1]
	reportCheck(s, srvstate.CheckL4OK, 0, "", 0, log)
	messages(hook)
	s.SetMaint(true, log)
	snap := s.CheckSnapshot(time.Now())
	if snap.Status != "MAINT" || snap.ChkDown != 1 || snap.Check.Shown || s.Running() || s.checkRunnable(srvstate.HealthCheck) || snap.Check.StateBits != 14 {
		t.Fatalf("in maint: %+v running=%v", snap, s.Running())
	}
	s.SetMaint(false, log)
	snap = s.CheckSnapshot(time.Now())
	if snap.Status != "UP 1/3" || snap.Check.Status != "L4OK" || !s.Running() || !s.checkRunnable(srvstate.HealthCheck) {
		t.Fatalf("after maint: %+v", snap)
	}
	want := []string{
		"warning: Server be/s2 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
		"warning: Server be/s2 is UP/READY (leaving forced maintenance).",
	}
	if got := messages(hook); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log\n%s", strings.Join(got, "\n"))
	}
	s.SetDrain(true, log)
	if snap = s.CheckSnapshot(time.Now()); snap.Status != "DRAIN 1/3" || s.usable() {
		t.Fatalf("drain: %+v", snap)
	}
	if got := messages(hook); len(got) != 1 || got[0] != "warning: Server be/s2 enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue." {
		t.Fatalf("drain log %q", got)
	}
}

func TestDisabledAndNoCheck(t *testing.T) {
	p := checked()
	p.Disabled = true
	be := testBackend(t, 1, p)
	s := be.Servers[0]
	if snap := s.CheckSnapshot(time.Now()); snap.Status != "MAINT" || s.Running() || s.checkRunnable(srvstate.HealthCheck) {
		t.Fatalf("disabled: %+v", snap)
	}
	plain := testBackend(t, 1, parser.ServerParams{Weight: 1}).Servers[0]
	if snap := plain.CheckSnapshot(time.Now()); snap.Status != "no check" || snap.HasChecks || !plain.Running() {
		t.Fatalf("no check: %+v", snap)
	}
	c := testBackend(t, 1, checked()).Servers[0]
	c.SetHealthCheckEnabled(false)
	if snap := c.CheckSnapshot(time.Now()); snap.Status != "no check" || snap.Check.Shown || c.checkRunnable(srvstate.HealthCheck) || snap.Check.StateBits != 2 {
		t.Fatalf("disable health: %+v", snap)
	}
	c.SetHealthCheckEnabled(true)
	if snap := c.CheckSnapshot(time.Now()); snap.Status != "UP 1/3" || snap.Check.StateBits != 6 {
		t.Fatalf("enable health: %+v", snap)
	}
}

func TestSlowstart(t *testing.T) {
	p := checked()
	p.SlowStart = 20 * time.Second
	be := testBackend(t, 1, p)
	s := be.Servers[0]
	log, _ := test.NewNullLogger()
	if s.effectiveWeightPercent() != 100 {
		t.Fatal("full weight expected at start")
	}
	reportCheck(s, srvstate.CheckL4Con, 0, "", 0, log)
	reportCheck(s, srvstate.CheckL4OK, 0, "", 0, log)
	reportCheck(s, srvstate.CheckL4OK, 0, "", 0, log)
	defer s.stopCheckTimers()
	snap := s.CheckSnapshot(time.Now())
	if snap.OpState != srvstate.OpStarting || snap.Throttle <= 0 || snap.Throttle >= 100 || !s.Running() {
		t.Fatalf("warming up: %+v", snap)
	}
	if p := s.effectiveWeightPercent(); p != 7 {
		t.Fatalf("effective weight %d%%, want 7%%", p)
	}
	if got := warmupPercent(10, 20); got != 57 {
		t.Fatalf("warmupPercent(10,20) = %d", got)
	}
}

func TestAgentReply(t *testing.T) {
	p := checked()
	p.AgentCheck, p.AgentPort = true, 9999
	be := testBackend(t, 2, p)
	s := be.Servers[0]
	log, hook := test.NewNullLogger()
	agentReply(s, srvstate.AgentReply{Weight: 50, WeightRelative: true, HasWeight: true}, log)
	if s.UWeight() != 0 { // 50% of weight 1
		t.Fatalf("weight %d", s.UWeight())
	}
	s.uweight.Store(1)
	agentReply(s, srvstate.AgentReply{Health: srvstate.AgentDown, HealthWord: "down", Desc: "going away"}, log)
	snap := s.CheckSnapshot(time.Now())
	if snap.Status != "DOWN (agent)" || snap.Agent.LastChk != "via agent : down (going away)" || s.Running() {
		t.Fatalf("agent down: %+v", snap)
	}
	agentReply(s, srvstate.AgentReply{Health: srvstate.AgentUp, HealthWord: "up"}, log)
	if snap = s.CheckSnapshot(time.Now()); !s.Running() || snap.Agent.Status != "L7OK" {
		t.Fatalf("agent up: %+v", snap)
	}
	agentReply(s, srvstate.AgentReply{Admin: srvstate.AgentDrain}, log)
	if s.Admin()&srvstate.AdminForcedDrain == 0 {
		t.Fatal("agent drain not applied")
	}
	agentReply(s, srvstate.AgentReply{MaxConn: 3, HasMaxConn: true}, log)
	if s.MaxConn() != 3 || s.CheckSnapshot(time.Now()).Agent.LastChk != "" {
		t.Fatalf("agent maxconn:3: maxconn %d, %+v", s.MaxConn(), s.CheckSnapshot(time.Now()).Agent)
	}
	agentReply(s, srvstate.AgentReply{MaxConnWarning: "maxconn string empty or preceded by garbage"}, log)
	if snap := s.CheckSnapshot(time.Now()); s.MaxConn() != 3 || snap.Agent.LastChk != "agent warns : maxconn string empty or preceded by garbage" {
		t.Fatalf("agent maxconn:x: maxconn %d, last_agt %q", s.MaxConn(), snap.Agent.LastChk)
	}
	msgs := messages(hook)
	if len(msgs) != 3 || !strings.Contains(msgs[0], `is DOWN, reason: Layer7 wrong status, code: 0, info: "via agent : down (going away)"`) {
		t.Fatalf("agent log %q", msgs)
	}
}

func TestAsciiEncode(t *testing.T) {
	if got := asciiEncode("a\"b<c>\x01"); got != "a<22>b<3C>c<3E><01>" {
		t.Fatal(got)
	}
	var _ logrus.FieldLogger = logrus.New()
}

// TestSetHealth replays the CLI lines of golden/haproxy-foreground-stderr.txt.
func TestSetHealth(t *testing.T) {
	log, hook := test.NewNullLogger()
	be := testBackend(t, 2, checked())
	s := be.Servers[0]
	for _, st := range []srvstate.Op{srvstate.OpStopped, srvstate.OpRunning, srvstate.OpStopping, srvstate.OpRunning} {
		if err := s.SetHealth(st, log); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"warning: Server be/s1 is DOWN, changed from CLI. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
		"warning: Server be/s1 is UP, changed from CLI. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
		"warning: Server be/s1 is stopping, changed from CLI. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
		"warning: Server be/s1 is UP, changed from CLI. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
	}
	if got := messages(hook); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log\n%s", strings.Join(got, "\n"))
	}
	if err := s.SetHealth(srvstate.OpStarting, log); !errors.Is(err, ErrHealthState) {
		t.Fatal("bad state accepted")
	}
	s.SetHealth(srvstate.OpStopping, log)
	if snap := s.CheckSnapshot(time.Now()); snap.Status != "NOLB" || s.Running() {
		t.Fatalf("stopping: %+v", snap)
	}
}
