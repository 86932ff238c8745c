package stats

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus/hooks/test"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// rowsSource serves fixed rows and records admin calls.
type rowsSource struct {
	rows  []Row
	admin *recAdmin
}

func (s *rowsSource) Info() Info          { return Info{} }
func (s *rowsSource) Stats() []Row        { return append([]Row(nil), s.rows...) }
func (s *rowsSource) Sessions() []Session { return nil }
func (s *rowsSource) Admin() Admin        { return s.admin }
func (s *rowsSource) calls() string       { return strings.Join(s.admin.calls, "|") }
func writeState(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sourceFor builds the rows a runtime would start with for cfg.
func sourceFor(cfg *parser.Config) *rowsSource {
	src := &rowsSource{admin: &recAdmin{}}
	for _, px := range cfg.Proxies {
		for _, s := range px.Servers {
			r := Row{Type: TypeServer, Proxy: px.Name, Name: s.Name, IID: px.ID, SID: s.ID, Server: ServerState{
				Op: srvstate.OpRunning, Weight: s.Weight, UWeight: s.Weight, IWeight: s.Weight, Host: s.Addr.Host, Port: s.Addr.Port,
				Check: Check{Configured: s.Check, Enabled: s.Check, Rise: s.Rise, Fall: s.Fall},
			}}
			if s.Disabled {
				r.Server.Op, r.Server.Admin = srvstate.OpStopped, srvstate.AdminConfigMaint|srvstate.AdminForcedMaint
			}
			src.rows = append(src.rows, r)
		}
	}
	return src
}

func parseConfig(t *testing.T, text string) *parser.Config {
	t.Helper()
	cfg, err := parser.Parse("t.cfg", text, parser.Options{})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func TestLoadServerState(t *testing.T) {
	dir := t.TempDir()
	cfg := parseConfig(t, `global
  server-state-file global.state
  server-state-base `+dir+`
defaults
  mode tcp
  timeout connect 1s
  timeout server 1s
backend g1
  load-server-state-from-file global
  server a 127.0.0.1:1001 weight 10
  server b 127.0.0.1:1002
backend l1
  load-server-state-from-file local
  server s 127.0.0.1:1003
  server t 127.0.0.1:1004
backend l2
  load-server-state-from-file local
  server-state-file-name `+dir+`/sub/l2.state
  server s 127.0.0.1:1005
backend l3
  load-server-state-from-file local
  server-state-file-name missing
  server s 127.0.0.1:1006
backend n1
  load-server-state-from-file none
  server a 127.0.0.1:1007 weight 10
backend e1
  load-server-state-from-file global
`)
	ids := map[string]int{}
	for _, px := range cfg.Proxies {
		ids[px.Name] = px.ID
	}
	if ids["g1"] != 1 || ids["l1"] != 2 || ids["l2"] != 3 {
		t.Fatalf("proxy ids = %v", ids)
	}
	writeState(t, filepath.Join(dir, "global.state"), "1\n# header\n"+
		"1 g1 1 a 127.0.0.1 2 0 3 10 4 1 0 2 0 0 0 0 - 1001 - 0 0 - - 0\n"+
		"1 g1 1 a 127.0.0.1 2 0 7 10 4 1 0 2 0 0 0 0 - 1001 - 0 0 - - 0\n"+ // duplicate: first wins
		"1 g1 9 zz 127.0.0.1 2 0 3 10 4 1 0 2 0 0 0 0 - 1001 - 0 0 - - 0\n"+ // unknown server: ignored quietly
		"5 n1 1 a 127.0.0.1 2 0 3 10 4 1 0 2 0 0 0 0 - 1007 - 0 0 - - 0\n") // backend loads nothing
	writeState(t, filepath.Join(dir, "l1"), "1\n"+
		"7 l1 1 s 127.0.0.1 0 1 1 1 4 1 0 2 0 0 0 0 - 1003 - 0 0 - - 0\n"+ // id mismatch: warned, applied
		"2 l1 2 t 127.0.0.1 2 8 1 1 4 1 0 2 0 0 0 0 - 1004 - 0 0 - - 0\n"+
		"9 x 1 s 127.0.0.1 0 1 1 1 4 1 0 2 0 0 0 0 - 1003 - 0 0 - - 0\n"+ // another backend: skipped quietly
		"2 l1 3 gone 127.0.0.1 2 0 1 1 4 1 0 2 0 0 0 0 - 1003 - 0 0 - - 0\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeState(t, filepath.Join(dir, "sub", "l2.state"), "1\n"+
		"3 old 1 s 127.0.0.1 0 1 1 1 4 1 0 2 0 0 0 0 - 1005 - 0 0 - - 0\n") // name mismatch: skipped

	src := sourceFor(cfg)
	log, hook := test.NewNullLogger()
	if n := LoadServerState(cfg, src, log); n != 3 {
		t.Errorf("applied = %d, want 3", n)
	}
	if want := "weight g1/a 3|health l1/s down|state l1/s maint|state l1/t drain"; src.calls() != want {
		t.Errorf("calls:\n%s\nwant:\n%s", src.calls(), want)
	}
	var msgs []string
	for _, e := range hook.AllEntries() {
		msgs = append(msgs, e.Message)
	}
	want := []string{
		dir + "/global.state:4: duplicate entry for server 'g1/a' ignored",
		"Proxy 'l1': backend ID mismatch: from server state file: '7', from running config '2'",
		"Proxy 'l1': can't find server 'gone' in backend 'l1'",
		"Proxy 'l2': backend name mismatch: from server state file: 'old', from running config 'l2'",
		"Proxy 'l3': Can't open server state file '" + dir + "/missing': No such file or directory.",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}

	// Check mode: the same files are read and checked, nothing is applied.
	hook.Reset()
	if n := LoadServerState(cfg, nil, log); n != 0 {
		t.Errorf("check mode applied %d", n)
	}
	if len(hook.AllEntries()) != len(want) {
		t.Errorf("check mode logged %d messages, want %d", len(hook.AllEntries()), len(want))
	}
}

func TestLoadServerStateGlobalFileProblems(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string // body "" = no file
		want       string
	}{
		{"missing", "", "config: Can't open global server state file '" + dir + "/st': No such file or directory"},
		{"empty", "\x00", "config: Can't get version of the global server state file '" + dir + "/st'."},
		{"version 2", "2\n", "config: Can't get version of the global server state file '" + dir + "/st'."},
		// One malformed line drops the whole file, the good lines before it
		// included; the line is counted from the one after the version.
		{"corrupted", "1\n# header\n1 b 1 s 127.0.0.1 0 1 1 1 0 6 3 4 6 0 0 0 - 1 - 0 0 - - 0\nbogus line\n",
			"config: corrupted global server state file '" + dir + "/st' at line 3."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "st")
			os.Remove(path)
			if tc.body != "" {
				writeState(t, path, strings.TrimPrefix(tc.body, "\x00"))
			}
			cfg := parseConfig(t, "global\n  server-state-file "+path+"\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout server 1s\n"+
				"  load-server-state-from-file global\nbackend b\n  server s 127.0.0.1:1\n")
			src := sourceFor(cfg)
			log, hook := test.NewNullLogger()
			LoadServerState(cfg, src, log)
			if len(hook.AllEntries()) != 1 || hook.LastEntry().Message != tc.want {
				t.Errorf("log = %v, want %q", hook.AllEntries(), tc.want)
			}
			if src.calls() != "" {
				t.Errorf("calls = %q", src.calls())
			}
		})
	}
}

func TestConfigMaintAloneIsNotMaint(t *testing.T) {
	// haproxy 2.6: a 'disabled' server enabled from the CLI keeps
	// srv_admin_state 4 and shows "no check".
	s := ServerState{Op: srvstate.OpRunning, Admin: srvstate.AdminConfigMaint, Weight: 1, UWeight: 1, IWeight: 1}
	if got := serverStatus(&s); got != "no check" {
		t.Errorf("status = %q", got)
	}
	s.Admin |= srvstate.AdminForcedMaint
	if got := serverStatus(&s); got != "MAINT" {
		t.Errorf("status = %q", got)
	}
}
