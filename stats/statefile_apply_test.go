package stats

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/internal/srvstate"
	"goproxy/proxy"
)

// recAdmin records the admin calls; the methods the state loader never
// uses are left to the nil embedded interface, so calling one panics.
type recAdmin struct {
	Admin
	calls []string
	fail  error
}

func (a *recAdmin) rec(format string, args ...any) error {
	a.calls = append(a.calls, fmt.Sprintf(format, args...))
	return a.fail
}

func (a *recAdmin) SetServerState(be, sv string, st proxy.AdminMode) error {
	return a.rec("state %s/%s %s", be, sv, [...]string{"ready", "drain", "maint"}[st])
}

func (a *recAdmin) SetServerHealth(be, sv string, h srvstate.Op) error {
	return a.rec("health %s/%s %s", be, sv, map[srvstate.Op]string{srvstate.OpRunning: "up", srvstate.OpStopping: "stopping", srvstate.OpStopped: "down"}[h])
}

func (a *recAdmin) SetServerWeight(be, sv string, w int) error {
	return a.rec("weight %s/%s %d", be, sv, w)
}

func (a *recAdmin) SetServerAddr(be, sv string, ip netip.Addr, port int) error {
	return a.rec("addr %s/%s %s %d", be, sv, ip, port)
}

func (a *recAdmin) SetServerCheck(be, sv string, on bool) error {
	return a.rec("check %s/%s %v", be, sv, on)
}

func (a *recAdmin) SetServerAgent(be, sv string, on bool) error {
	return a.rec("agent %s/%s %v", be, sv, on)
}

func quietLog() logrus.FieldLogger {
	l, _ := test.NewNullLogger()
	return l
}

// srvRow is a server row as built from a configuration line.
func srvRow(name string, weight int, disabled, check bool) Row {
	r := Row{Type: TypeServer, Proxy: "b", Name: name, IID: 3, Server: ServerState{
		Op: srvstate.OpRunning, Weight: weight, UWeight: weight, IWeight: weight, Host: "127.0.0.1", Port: 65021,
		Check: Check{Configured: check, Enabled: check, Rise: 2, Fall: 3},
	}}
	if disabled {
		r.Server.Op = srvstate.OpStopped
		r.Server.Admin = srvstate.AdminConfigMaint | srvstate.AdminForcedMaint
	}
	return r
}

// saved builds a state line for b/<name> from "op admin uweight iweight"
// and the check state, port 65021.
func saved(name string, op, admin, uw, iw, chk int) *StateEntry {
	line := fmt.Sprintf("3 b 1 %s 127.0.0.1 %d %d %d %d 4 1 0 2 %d 0 0 0 - 65021 - 0 0 - - 0", name, op, admin, uw, iw, chk)
	sf, err := ParseStateFile("t", strings.NewReader("1\n"+line+"\n"))
	if err != nil || len(sf.Entries) != 1 {
		panic(fmt.Sprint(err, sf))
	}
	return &sf.Entries[0]
}

func TestApplyServerStateRules(t *testing.T) {
	// The cases reproduce a reload of haproxy 2.6 (see the differential
	// test): the server's row as the new configuration builds it, the line
	// the old process saved, and the calls that give HAProxy's result.
	for _, tc := range []struct {
		name  string
		row   Row
		entry *StateEntry
		calls []string
	}{
		{"unchanged", srvRow("s", 1, false, false), saved("s", 2, 0, 1, 1, 0), nil},
		{"user weight restored", srvRow("s", 10, false, false), saved("s", 2, 0, 3, 10, 0), []string{"weight b/s 3"}},
		{"config weight changed wins", srvRow("s", 20, false, false), saved("s", 2, 0, 3, 10, 0), nil},
		{"forced maint restored, down first", srvRow("s", 10, false, false), saved("s", 0, 1, 10, 10, 0),
			[]string{"health b/s down", "state b/s maint"}},
		{"operator-enabled disabled server stays enabled", srvRow("s", 1, true, false), saved("s", 2, 4, 1, 1, 8),
			[]string{"health b/s up", "state b/s ready"}},
		{"disabled still disabled", srvRow("s", 1, true, false), saved("s", 0, 5, 1, 1, 8), nil},
		{"newly disabled in config", srvRow("s", 10, true, false), saved("s", 0, 1, 10, 10, 0), nil},
		{"disabled removed from config: ready, but saved op down", srvRow("s", 1, false, false), saved("s", 0, 5, 1, 1, 8),
			[]string{"health b/s down"}},
		{"drain restored", srvRow("s", 5, false, false), saved("s", 2, 8, 5, 5, 0), []string{"state b/s drain"}},
		{"drain kept when config weight drops to 0", srvRow("s", 0, false, false), saved("s", 2, 8, 5, 5, 0), []string{"state b/s drain"}},
		{"drain of a weight 0 server dropped when weight rises", srvRow("s", 3, false, false), saved("s", 2, 8, 0, 0, 0), nil},
		{"drain of a weight 0 server kept", srvRow("s", 0, false, false), saved("s", 2, 8, 0, 0, 0), []string{"state b/s drain"}},
		{"drain of a disabled-then-drained server", srvRow("s", 1, true, false), saved("s", 2, 12, 1, 1, 0),
			[]string{"health b/s up", "state b/s drain"}},
		{"health check disabled", srvRow("s", 1, false, true), saved("s", 0, 0, 1, 1, 2),
			[]string{"health b/s down", "check b/s false"}},
		{"check state of an unchecked server ignored", srvRow("s", 1, false, false), saved("s", 2, 0, 1, 1, 2), nil},
		{"stopping", srvRow("s", 1, false, true), saved("s", 3, 0, 1, 1, 6), []string{"health b/s stopping"}},
		{"starting is up", srvRow("s", 1, false, true), saved("s", 1, 0, 1, 1, 6), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &recAdmin{}
			if !ApplyServerState(a, ServerStateTarget{Row: tc.row}, tc.entry, quietLog()) {
				t.Fatal("not applied")
			}
			if strings.Join(a.calls, "|") != strings.Join(tc.calls, "|") {
				t.Errorf("calls = %q, want %q", a.calls, tc.calls)
			}
		})
	}
}

func TestApplyServerStateFallOne(t *testing.T) {
	r := srvRow("s", 1, false, true)
	r.Server.Check.Fall = 1
	a := &recAdmin{}
	ApplyServerState(a, ServerStateTarget{Row: r}, saved("s", 3, 0, 1, 1, 6), quietLog())
	if strings.Join(a.calls, "|") != "health b/s down" {
		t.Errorf("calls = %q: with fall 1 there is no stopping state", a.calls)
	}
}

func TestApplyServerStateTracking(t *testing.T) {
	r := srvRow("s", 1, false, false)
	r.Server.Tracked = "o/s"
	a := &recAdmin{}
	ApplyServerState(a, ServerStateTarget{Row: r}, saved("s", 0, 1, 1, 1, 0), quietLog())
	if strings.Join(a.calls, "|") != "state b/s maint" {
		t.Errorf("calls = %q: a tracking server's health follows the tracked one", a.calls)
	}
}

func TestApplyServerStateAddrPort(t *testing.T) {
	line := func(addr, port string) *StateEntry {
		f := strings.Fields(stateLine)
		f[3], f[4], f[18] = "s", addr, port
		return &StateEntry{Line: 2, BackendID: f[0], Backend: f[1], ServerID: f[2], Server: f[3], Params: f[4:]}
	}
	row := srvRow("s", 10, false, false) // 127.0.0.1:65021
	for _, tc := range []struct {
		name     string
		entry    *StateEntry
		lastAddr bool
		calls    []string
	}{
		{"same", line("127.0.0.1", "65021"), false, []string{"weight b/s 3"}},
		// HAProxy restores the port even over a new port in the configuration.
		{"port restored", line("127.0.0.2", "65127"), false, []string{"weight b/s 3", "addr b/s 127.0.0.1 65127"}},
		{"address kept for an IP server", line("127.0.0.2", "65021"), false, []string{"weight b/s 3"}},
		{"address restored for init-addr last", line("127.0.0.2", "65021"), true, []string{"weight b/s 3", "addr b/s 127.0.0.2 0"}},
		{"no address saved", line("-", "65021"), true, []string{"weight b/s 3"}},
		{"port without digits left alone", line("127.0.0.1", "-"), false, []string{"weight b/s 3"}},
		{"port 0 left alone", line("127.0.0.1", "0"), false, []string{"weight b/s 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &recAdmin{}
			ApplyServerState(a, ServerStateTarget{Row: row, LastAddr: tc.lastAddr}, tc.entry, quietLog())
			if strings.Join(a.calls, "|") != strings.Join(tc.calls, "|") {
				t.Errorf("calls = %q, want %q", a.calls, tc.calls)
			}
		})
	}
}

func TestApplyServerStateRefusedAndFailing(t *testing.T) {
	log, hook := test.NewNullLogger()
	a := &recAdmin{}
	f := strings.Fields(stateLine)
	f[5], f[6] = "9", "77"
	e := &StateEntry{Server: "s1", Params: f[4:]}
	if ApplyServerState(a, ServerStateTarget{Row: srvRow("s1", 10, false, false)}, e, log) {
		t.Error("an invalid line was applied")
	}
	if len(a.calls) != 0 {
		t.Errorf("calls = %q", a.calls)
	}
	want := "server-state application failed for server 'b/s1', invalid srv_op_state value '9', invalid srv_admin_state value '77'"
	if hook.LastEntry() == nil || hook.LastEntry().Message != want || hook.LastEntry().Level != logrus.WarnLevel {
		t.Errorf("log = %+v, want %q", hook.LastEntry(), want)
	}

	hook.Reset()
	a = &recAdmin{fail: fmt.Errorf("No such server.\n")}
	ApplyServerState(a, ServerStateTarget{Row: srvRow("s1", 10, false, false)}, saved("s1", 0, 1, 3, 10, 0), log)
	if len(a.calls) != 3 || len(hook.AllEntries()) != 3 {
		t.Fatalf("calls %q, log %d entries: every step is tried and each failure logged", a.calls, len(hook.AllEntries()))
	}
	if got := hook.AllEntries()[0].Message; got != "server-state: b/s1: set health: No such server." {
		t.Errorf("log = %q", got)
	}
}
