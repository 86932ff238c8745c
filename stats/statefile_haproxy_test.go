package stats

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/internal/nettest"
	"goproxy/internal/srvstate"
	"goproxy/parser"
	"goproxy/proxy"
)

// The differential test runs haproxy 2.6 through a reload with a state
// file, and goproxy's loader on the same files, and compares the servers'
// state afterwards.

const stateOldServers = `  server s1 127.0.0.1:{P1} weight 10
  server s2 127.0.0.1:{P2} weight 10
  server s3 127.0.0.1:{P3} disabled
  server s4 127.0.0.1:{P4} weight 0
  server s5 127.0.0.1:{CHK} check inter 100 rise 1 fall 1
  server s6 127.0.0.1:{P6}
  server s7 127.0.0.1:{P7} weight 5
  server s8 127.0.0.1:{P8} disabled
  server s9 127.0.0.1:{P9} weight 8
  server s10 127.0.0.1:{CHK} check inter 100
`

// stateNewServers is the configuration after the edit: weights changed for
// s1, s4 and s7, s2 now disabled, s8 no longer, s6 on another port.
const stateNewServers = `  server s1 127.0.0.1:{P1} weight 20
  server s2 127.0.0.1:{P2} weight 10 disabled
  server s3 127.0.0.1:{P3} disabled
  server s4 127.0.0.1:{P4} weight 3
  server s5 127.0.0.1:{CHK} check inter 100 rise 1 fall 1
  server s6 127.0.0.1:{P6b}
  server s7 127.0.0.1:{P7} weight 0
  server s8 127.0.0.1:{P8}
  server s9 127.0.0.1:{P9} weight 8
  server s10 127.0.0.1:{CHK} check inter 100
`

// stateCommands are what the operator does before the reload.
var stateCommands = []string{
	"set weight b/s1 3",
	"set server b/s2 state maint",
	"enable server b/s3",
	"set server b/s4 state drain",
	"disable health b/s5",
	"set server b/s5 health down",
	"set server b/s6 addr 127.0.0.2 port {P6c}",
	"set server b/s7 state drain",
	"set weight b/s9 2",
	"set server b/s10 state drain",
}

func TestServerStateAgainstHAProxy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		newServers string
		local      bool
	}{
		{"edited configuration", stateNewServers, false},
		{"same configuration", stateOldServers, false},
		{"edited configuration local file", stateNewServers, true},
	} {
		t.Run(tc.name, func(t *testing.T) { testStateReload(t, tc.newServers, tc.local) })
	}
}

// testStateReload saves the state in the global file, or with local set in
// the backend's own file under server-state-base.
func testStateReload(t *testing.T, newServers string, local bool) {
	nettest.HAProxyPath(t) // skips without haproxy
	dir := t.TempDir()
	chk, err := net.Listen("tcp", "127.0.0.1:0") // health checks succeed on it
	if err != nil {
		t.Fatal(err)
	}
	defer chk.Close()
	go func() {
		for {
			c, err := chk.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	vars := map[string]string{"{CHK}": strconv.Itoa(chk.Addr().(*net.TCPAddr).Port), "{DIR}": dir}
	for i, k := range []string{"{P1}", "{P2}", "{P3}", "{P4}", "{P6}", "{P6b}", "{P6c}", "{P7}", "{P8}", "{P9}"} {
		vars[k] = strconv.Itoa(20001 + i) // never connected to
	}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
	config := func(servers, stateDir string) string {
		where, mode := "server-state-file "+stateDir+"/state", "global"
		if local {
			where, mode = "server-state-base "+stateDir, "local"
		}
		return expand(`global
  stats socket {DIR}/s.sock level admin
  ` + where + `
defaults
  mode tcp
  timeout connect 1s
  timeout client 1s
  timeout server 1s
  load-server-state-from-file ` + mode + `
frontend f
  bind 127.0.0.1:{FE}
  default_backend b
backend b
` + servers)
	}
	vars["{FE}"] = strconv.Itoa(freePort(t))

	// 1. The old process: operator commands, then the dump.
	h := startHAProxy(t, dir, config(stateOldServers, dir+"/none"))
	waitState(t, h, "b", "s10", func(f []string) bool { return f[5] == "2" }) // checks settled up
	for _, c := range stateCommands {
		h.cmd(t, expand(c))
	}
	waitState(t, h, "b", "s5", func(f []string) bool { return f[5] == "0" })
	dump := h.cmd(t, "show servers state b")
	h.Stop()
	stateDir := filepath.Join(dir, "st")
	statePath := filepath.Join(stateDir, "state")
	if local {
		statePath = filepath.Join(stateDir, "b")
	}
	if err := os.Mkdir(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(statePath, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}

	// 2. The new process without the file: the state goproxy starts from.
	vars["{FE}"] = strconv.Itoa(freePort(t))
	h = startHAProxy(t, dir, config(newServers, dir+"/none"))
	initial := h.cmd(t, "show servers state")
	h.Stop()

	// 3. The new process with the file: what goproxy must reach.
	vars["{FE}"] = strconv.Itoa(freePort(t))
	newCfg := config(newServers, stateDir)
	h = startHAProxy(t, dir, newCfg)
	want := h.cmd(t, "show servers state")
	h.Stop()

	cfg, err := parser.Parse("new.cfg", newCfg, parser.Options{})
	if err != nil {
		t.Fatalf("goproxy rejects the configuration: %v", err)
	}
	src := &modelSource{rows: rowsFromState(t, initial)}
	log, _ := test.NewNullLogger()
	LoadServerState(cfg, src, log)

	got := statesByServer(t, renderServersState(src.rows))
	exp := statesByServer(t, want)
	for name, e := range exp {
		if g := got[name]; g != e {
			t.Errorf("%s: goproxy %s, haproxy %s", name, g, e)
		}
	}
	if len(got) != len(exp) {
		t.Errorf("%d servers, haproxy has %d", len(got), len(exp))
	}
	if t.Failed() {
		t.Logf("saved:\n%s\nstarting point:\n%s\nhaproxy:\n%s\ngoproxy:\n%s", dump, initial, want, renderServersState(src.rows))
	}
}

// compared are the columns of show servers state that a reload restores:
// srv_addr, srv_op_state, srv_admin_state, srv_uweight, srv_iweight,
// srv_check_state (without the in-progress and paused bits), srv_port.
func statesByServer(t *testing.T, dump string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(dump, "\n") {
		f := strings.Fields(line)
		if len(f) < 20 || strings.HasPrefix(line, "#") {
			continue
		}
		chk, _ := strconv.Atoi(f[13])
		out[f[3]] = fmt.Sprintf("addr=%s op=%s admin=%s uweight=%s iweight=%s check=%d port=%s",
			f[4], f[5], f[6], f[7], f[8], chk&^9, f[18])
	}
	if len(out) == 0 {
		t.Fatalf("no server in %q", dump)
	}
	return out
}

// rowsFromState builds server rows from a show servers state dump.
func rowsFromState(t *testing.T, dump string) []Row {
	t.Helper()
	var rows []Row
	for _, line := range strings.Split(dump, "\n") {
		f := strings.Fields(line)
		if len(f) < 25 || strings.HasPrefix(line, "#") {
			continue
		}
		n := func(i int) int {
			v, err := strconv.Atoi(f[i])
			if err != nil {
				t.Fatalf("field %d of %q", i, line)
			}
			return v
		}
		chk := n(13)
		rows = append(rows, Row{Type: TypeServer, IID: n(0), Proxy: f[1], SID: n(2), Name: f[3], Server: ServerState{
			Host: f[4], Op: srvstate.Op(n(5)), Admin: srvstate.Admin(n(6)), UWeight: n(7), IWeight: n(8), Weight: n(7),
			Port:  n(18),
			Check: Check{Configured: chk&int(srvstate.ProbeConfigured) != 0, Enabled: chk&int(srvstate.ProbeEnabled) != 0, Rise: 2, Fall: 3},
		}})
	}
	return rows
}

func renderServersState(rows []Row) string {
	s := &session{srv: &Server{src: &modelSource{rows: rows}}}
	return cmdShowServersState(s, []string{"show", "servers", "state"})
}

// modelSource changes its rows as HAProxy changes a server's state for
// the admin calls the state loader makes.
type modelSource struct {
	rows        []Row
	unusedAdmin // the calls the loader never makes panic
}

type unusedAdmin = Admin

func (m *modelSource) Info() Info          { return Info{} }
func (m *modelSource) Stats() []Row        { return append([]Row(nil), m.rows...) }
func (m *modelSource) Sessions() []Session { return nil }
func (m *modelSource) Admin() Admin        { return m }

func (m *modelSource) srv(be, name string) *ServerState {
	for i := range m.rows {
		if m.rows[i].Proxy == be && m.rows[i].Name == name {
			return &m.rows[i].Server
		}
	}
	panic("no server " + be + "/" + name)
}

func (m *modelSource) SetServerState(be, sv string, st proxy.AdminMode) error {
	s := m.srv(be, sv)
	switch st {
	case proxy.ModeReady:
		s.Admin &^= srvstate.AdminForcedMaint | srvstate.AdminForcedDrain
	case proxy.ModeDrain:
		s.Admin = s.Admin&^srvstate.AdminForcedMaint | srvstate.AdminForcedDrain
	case proxy.ModeMaint:
		s.Admin = s.Admin&^srvstate.AdminForcedDrain | srvstate.AdminForcedMaint
	}
	return nil
}

func (m *modelSource) SetServerHealth(be, sv string, h srvstate.Op) error {
	m.srv(be, sv).Op = h
	return nil
}

func (m *modelSource) SetServerWeight(be, sv string, w int) error {
	m.srv(be, sv).UWeight = w
	return nil
}

func (m *modelSource) SetServerAddr(be, sv string, ip netip.Addr, port int) error {
	s := m.srv(be, sv)
	s.Host = ip.String()
	if port != 0 {
		s.Port = port
	}
	return nil
}

func (m *modelSource) SetServerCheck(be, sv string, on bool) error {
	m.srv(be, sv).Check.Enabled = on
	return nil
}

func (m *modelSource) SetServerAgent(be, sv string, on bool) error {
	m.srv(be, sv).Agent.Enabled = on
	return nil
}

// haproxyProc is a haproxy with its stats socket, s.sock in its directory.
type haproxyProc struct {
	*nettest.HAProxy
	sock string
}

func startHAProxy(t *testing.T, dir, config string) *haproxyProc {
	t.Helper()
	sock := filepath.Join(dir, "s.sock")
	os.Remove(sock)
	h := nettest.StartHAProxy(t, dir, config)
	h.WaitUnix(t, sock)
	return &haproxyProc{HAProxy: h, sock: sock}
}

func (h *haproxyProc) cmd(t *testing.T, line string) string {
	t.Helper()
	return nettest.CLI(t, h.sock, line)
}

// waitState polls show servers state until ok holds for the server's
// fields, for up to 3 seconds.
func waitState(t *testing.T, h *haproxyProc, be, name string, ok func([]string) bool) {
	t.Helper()
	for i := 0; i < 150; i++ {
		for _, line := range strings.Split(h.cmd(t, "show servers state "+be), "\n") {
			if f := strings.Fields(line); len(f) > 5 && f[1] == be && f[3] == name && ok(f) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/%s did not reach the expected state", be, name)
}
