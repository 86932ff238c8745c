package proxy

import (
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/internal/srvstate"
)

// TestBackendTransitionsRecorded: the backend records each transition its
// servers' changes make, even a down and up again with no read between.
func TestBackendTransitionsRecorded(t *testing.T) {
	log, _ := test.NewNullLogger()
	be := testBackend(t, 1, checked())
	be.initState(time.Now())
	s := be.Servers[0]
	if st := be.State(time.Now()); st.ChkDown != 0 || st.DownTime != 0 {
		t.Fatalf("initial state = %+v", st)
	}
	reportCheck(s, srvstate.CheckL4Con, 0, refused, 0, log) // UP 1/3 -> DOWN
	reportCheck(s, srvstate.CheckL4OK, 0, "", 0, log)
	reportCheck(s, srvstate.CheckL4OK, 0, "", 0, log) // UP again
	if st := be.State(time.Now()); st.ChkDown != 1 {
		t.Fatalf("after a down and up between two reads: chkdown = %d, want 1", st.ChkDown)
	}
	s.SetMaint(true, log)
	s.SetMaint(false, log)
	s.SetDrain(true, log)
	s.SetDrain(false, log)
	if st := be.State(time.Now()); st.ChkDown != 3 {
		t.Fatalf("after maintenance and drain: chkdown = %d, want 3", st.ChkDown)
	}
	if be.noUsableServer() {
		t.Fatal("backend down after its server came back")
	}
}

// TestRiseFall drives the rise/fall arithmetic step by step.
func TestRiseFall(t *testing.T) {
	p := &probe{rise: 2, fall: 3, health: 2}
	steps := []struct {
		res    srvstate.CheckResult
		want   srvstate.Op
		health int
	}{
		{srvstate.ResultFailed, srvstate.OpStopped, 0},
		{srvstate.ResultFailed, srvstate.OpStopped, 0},
		{srvstate.ResultPassed, srvstate.OpRunning, 1},
		{srvstate.ResultPassed, srvstate.OpRunning, 4},
		{srvstate.ResultFailed, -1, 3},
		{srvstate.ResultNeutral, -1, 3},
		{srvstate.ResultCondPass, srvstate.OpStopping, 4},
	}
	for i, st := range steps {
		if got := riseFall(p, st.res); got != st.want || p.health != st.health {
			t.Fatalf("step %d: riseFall = %d, health %d; want %d, health %d", i, got, p.health, st.want, st.health)
		}
	}
	if p.failed != 2 {
		t.Fatalf("failed = %d, want 2 (failures while up)", p.failed)
	}
}

// TestTransitionLevels: each transition carries the syslog level HAProxy
// sends its line at, whatever its text says.
func TestTransitionLevels(t *testing.T) {
	be := testBackend(t, 1, checked())
	s := be.Servers[0]
	events := func(f func(now time.Time, pd *pending)) []stateEvent {
		var got []stateEvent
		s.change(nil, func(now time.Time, _ *checkState, pd *pending) error {
			f(now, pd)
			got = append(got, pd.events...)
			return nil
		})
		return got
	}
	cli := stateReason{text: "changed from CLI"}
	steps := []struct {
		name   string
		do     func(now time.Time, pd *pending)
		levels []int
	}{
		{"down, last server", func(now time.Time, pd *pending) { s.setStoppedLocked(now, cli, pd) }, []int{LogAlert, LogEmerg}},
		{"up", func(now time.Time, pd *pending) { s.setUpLocked(now, cli, pd) }, []int{LogNotice}},
		{"drain", func(now time.Time, pd *pending) { s.setDrainLocked(now, true, pd) }, []int{LogNotice, LogEmerg}},
		{"maint while draining", func(now time.Time, pd *pending) { s.setMaintLocked(now, true, pd) }, []int{LogNotice}},
		{"ready from maint and drain", func(now time.Time, pd *pending) {
			s.setAdminModeLocked(now, ModeReady, pd)
		}, []int{LogNotice, LogNotice}},
		{"maint while up", func(now time.Time, pd *pending) { s.setMaintLocked(now, true, pd) }, []int{LogAlert, LogEmerg}},
		{"leave maint", func(now time.Time, pd *pending) { s.setMaintLocked(now, false, pd) }, []int{LogNotice}},
	}
	for _, st := range steps {
		got := events(st.do)
		var levels []int
		for _, e := range got {
			levels = append(levels, e.level)
		}
		if len(levels) != len(st.levels) {
			t.Fatalf("%s: events %+v, want levels %v", st.name, got, st.levels)
		}
		for i := range levels {
			if levels[i] != st.levels[i] {
				t.Fatalf("%s: event %q at level %d, want %d", st.name, got[i].msg, levels[i], st.levels[i])
			}
		}
	}
}
