package stats

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"goproxy/internal/srvstate"
)

// stateLine is a version 1 line as HAProxy 2.6 dumps it.
const stateLine = "3 b 1 s1 127.0.0.1 2 0 3 10 4 1 0 2 0 0 0 0 - 65021 - 0 0 - - 0"

func TestParseStateFileGolden(t *testing.T) {
	data := golden(t, "show-servers-state.txt")
	sf, err := ParseStateFile("golden", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if sf.Version != 1 || len(sf.Entries) != 3 || len(sf.Errors) != 0 {
		t.Fatalf("version %d, %d entries, errors %v", sf.Version, len(sf.Entries), sf.Errors)
	}
	e := sf.Entries[2]
	if e.Line != 5 || e.BackendID != "3" || e.Backend != "persistent_connection_backend" || e.ServerID != "3" ||
		e.Server != "server3" || len(e.Params) != 21 || e.Params[0] != "127.0.0.1" || e.Params[14] != "19317" {
		t.Errorf("entry = %+v", e)
	}
}

func TestParseStateFileVersion(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"empty", ""},
		{"no newline", "1"},
		{"version 2", "2\n" + stateLine + "\n"},
		{"not a number", "x\n"},
		{"trailing blank", "1 \n"},
		{"header first", "# be_id\n1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStateFile("f", strings.NewReader(tc.text))
			if !errors.Is(err, ErrStateVersion) {
				t.Errorf("err = %v, want ErrStateVersion", err)
			}
		})
	}
	if _, err := ParseStateFile("f", strings.NewReader(" 1\n")); err != nil {
		t.Errorf("leading blanks before the version (strtol): %v", err)
	}
}

func TestParseStateFileLines(t *testing.T) {
	long := "3 b 1 s1 127.0.0.1 2 0 3 10 4 1 0 2 0 0 0 0 " + strings.Repeat("a", 480) + " 65021 - 0 0 - - 0"
	for _, tc := range []struct {
		name    string
		body    string
		entries []string // server names
		errs    []string // "line: substring"
	}{
		{"comments and blanks", "# header\n\n   \t\n  # indented comment\n" + stateLine + "\n", []string{"s1"}, nil},
		{"tabs and runs of blanks", "3\tb  1\t s2 127.0.0.1 2 0 3 10 4 1 0 2 0 0 0 0 - 65021 -\n", []string{"s2"}, nil},
		{"twenty fields is enough", "3 b 1 s3 127.0.0.1 2 0 3 10 4 1 0 2 0 0 0 0 - 65021 -\n", []string{"s3"}, nil},
		{"fields past 25 are ignored", stateLine + " extra more\n", []string{"s1"}, nil},
		{"too few fields skipped", "3 b 1 s0 127.0.0.1 2 0\n" + stateLine + "\n", []string{"s1"}, []string{"2:7 fields, version 1 lines have 20 to 25"}},
		{"too long skipped", long + "\n" + stateLine + "\n", []string{"s1"}, []string{"2:line too long"}},
		{"truncated last line", stateLine + "\n3 b 2 s2 127.0.0.1 2 0", []string{"s1"}, []string{"3:truncated line"}},
		{"NUL skipped", "3 b 1 s\x00 127.0.0.1\n" + stateLine + "\n", []string{"s1"}, []string{"2:NUL character"}},
		{"duplicates are kept in order", stateLine + "\n" + stateLine + "\n", []string{"s1", "s1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sf, err := ParseStateFile("st", strings.NewReader("1\n"+tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range sf.Entries {
				names = append(names, e.Server)
			}
			if strings.Join(names, ",") != strings.Join(tc.entries, ",") {
				t.Errorf("entries = %v, want %v", names, tc.entries)
			}
			if len(sf.Errors) != len(tc.errs) {
				t.Fatalf("errors = %v, want %v", sf.Errors, tc.errs)
			}
			for i, want := range tc.errs {
				line, msg, _ := strings.Cut(want, ":")
				got := sf.Errors[i]
				if itoa(got.Line) != line || !strings.Contains(got.Msg, msg) || !strings.HasPrefix(got.Error(), "st:"+line+": ") {
					t.Errorf("error %d = %q, want line %s and %q", i, got.Error(), line, msg)
				}
			}
		})
	}
}

func TestParseStateFileTooLarge(t *testing.T) {
	r := &repeatReader{line: []byte(stateLine + "\n"), left: MaxStateFileSize + 100}
	_, err := ParseStateFile("big", r)
	if !errors.Is(err, ErrStateTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if r.read > MaxStateFileSize+1 {
		t.Errorf("read %d bytes, the limit is %d", r.read, MaxStateFileSize)
	}
}

type repeatReader struct {
	line       []byte
	left, read int
	off        int
}

func (r *repeatReader) Read(b []byte) (int, error) {
	if r.left <= 0 {
		return 0, errors.New("EOF expected earlier")
	}
	n := 0
	for n < len(b) && r.left > 0 {
		b[n] = r.line[r.off%len(r.line)]
		r.off++
		n++
		r.left--
	}
	r.read += n
	return n, nil
}

func TestSavedStateValidation(t *testing.T) {
	// Each case changes fields of stateLine (index from be_id = 0); the
	// messages are HAProxy 2.6's.
	for _, tc := range []struct {
		name string
		set  map[int]string
		want string
	}{
		{"valid", nil, ""},
		{"op and admin", map[int]string{5: "9", 6: "77"}, ", invalid srv_op_state value '9', invalid srv_admin_state value '77'"},
		{"maint and drain together", map[int]string{6: "9"}, ", invalid srv_admin_state value '9'"},
		{"inherited flags are dropped", map[int]string{6: "18"}, ""},
		{"inherited and fqdn bits", map[int]string{6: "114"}, ""}, // 0x72 = IDRAIN|RMAINT|FQDN|IMAINT... minus those = 0
		{"weights", map[int]string{7: "257", 8: "-1"}, ", invalid srv_uweight value '257', invalid srv_iweight value '-1'"},
		{"no digits", map[int]string{9: "x", 12: ""}, ", invalid srv_last_time_change value 'x', invalid srv_check_health value ''"},
		{"check status and result", map[int]string{10: "21", 11: "5"}, ", invalid srv_check_status value '21', invalid srv_check_result value '5'"},
		{"check bits", map[int]string{13: "32", 14: "-1"}, ", invalid srv_check_state value '32', invalid srv_agent_state value '-1'"},
		{"forced ids", map[int]string{15: "2", 16: "x"}, ", invalid bk_f_forced_id value '2', invalid srv_f_forced_id value 'x'"},
		{"fqdn", map[int]string{17: "a/b"}, ", invalid srv_fqdn value 'a/b'"},
		{"port", map[int]string{18: "70000"}, ", invalid srv_port value '70000'"},
		{"strtol trailing garbage is accepted", map[int]string{7: "5x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := strings.Fields(stateLine)
			for i, v := range tc.set {
				f[i] = v
			}
			e := StateEntry{Params: f[4:]}
			_, msg := parseSavedState(&e)
			if msg != tc.want {
				t.Errorf("msg = %q, want %q", msg, tc.want)
			}
		})
	}
}

func TestStatePath(t *testing.T) {
	for _, tc := range []struct{ base, name, want string }{
		{"", "st", "st"},
		{"/var/st", "st", "/var/st/st"},
		{"/var/st/", "st", "/var/st/st"},
		{"/var/st", "/abs/st", "/abs/st"},
	} {
		if got, ok := statePath(tc.base, tc.name); !ok || got != tc.want {
			t.Errorf("statePath(%q, %q) = %q, %v; want %q", tc.base, tc.name, got, ok, tc.want)
		}
	}
	if _, ok := statePath("/b", strings.Repeat("x", maxStatePath)); ok {
		t.Error("an overlong path was accepted")
	}
}

func TestIsHostName(t *testing.T) {
	for text, want := range map[string]bool{
		"127.0.0.1:80": false, "[::1]:80": false, "::1": false, "ipv4@10.0.0.1:80": false,
		"localhost:80": true, "db.example.com": true, "ipv6@db6:80": true, "*:80": false, ":80": false,
	} {
		if got := isHostName(text); got != want {
			t.Errorf("isHostName(%q) = %v", text, got)
		}
	}
}

func FuzzStateFile(f *testing.F) {
	golden, _ := os.ReadFile(filepath.Join(goldenDir, "show-servers-state.txt"))
	f.Add(string(golden))
	f.Add("1\n" + stateLine + "\n")
	f.Add("1\n3 b 1 s1 - 9 77 999 -1 x 1 0 2 0 0 0 0 a/b 99999 - 0 0 - - 0\n")
	f.Add("1\n\t# c\n3 b")
	f.Fuzz(func(t *testing.T, text string) {
		sf, err := ParseStateFile("fuzz", strings.NewReader(text))
		if err != nil {
			return
		}
		lines := strings.Count(text, "\n") + 1
		for _, le := range sf.Errors {
			if le.Line < 2 || le.Line > lines {
				t.Fatalf("error on line %d of %d", le.Line, lines)
			}
		}
		for i := range sf.Entries {
			e := &sf.Entries[i]
			if e.Line < 2 || e.Line > lines || len(e.Params) < stateFieldsMin-4 || len(e.Params) > stateFieldsMax-4 {
				t.Fatalf("entry %+v", e)
			}
			st, msg := parseSavedState(e)
			if msg == "" && (st.uweight < 0 || st.uweight > 256 || st.op < srvstate.OpStopped || st.op > srvstate.OpStopping || st.port > 65535) {
				t.Fatalf("accepted out of range values: %+v", st)
			}
			// Applying any valid entry must not panic either.
			ApplyServerState(&recAdmin{}, ServerStateTarget{Row: Row{Type: TypeServer, Proxy: "b", Name: e.Server,
				Server: ServerState{Host: "127.0.0.1", Port: 1, IWeight: 1, UWeight: 1, Op: srvstate.OpRunning}}}, e, quietLog())
		}
	})
}
