package parser

import (
	"strings"
	"testing"
)

const stateDefaults = "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"

func TestServerStateKeywordErrors(t *testing.T) {
	// Messages checked against haproxy 2.6 -c.
	tests := []struct{ name, src, want string }{
		{"state file without path", "global\n  server-state-file\n", "parsing [t.cfg:2] : 'server-state-file' expect one argument: a file path."},
		{"state base without path", "global\n  server-state-base\n", "parsing [t.cfg:2] : 'server-state-base' expects one argument: a directory path."},
		{"load without mode", "backend b\n  load-server-state-from-file\n", "parsing [t.cfg:2] : 'load-server-state-from-file' expects 'global', 'local' or 'none'. Got ''"},
		{"load bad mode", stateDefaults + "  load-server-state-from-file foo\n", "parsing [t.cfg:6] : 'load-server-state-from-file' expects 'global', 'local' or 'none'. Got 'foo'"},
		{"file name extra argument", "backend b\n  server-state-file-name a b\n", "parsing [t.cfg:2] : 'server-state-file-name' cannot handle unexpected argument 'b'."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseText(t, tc.src)
			if err == nil {
				t.Fatalf("no error for %q\n%s", tc.src, diagText(cfg))
			}
			if got := diagText(cfg); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", got, tc.want)
			}
		})
	}
}

func TestServerStateKeywords(t *testing.T) {
	type want struct {
		file, base string
		load, name map[string]string // by proxy name
		diag       string            // substring of the diagnostics, if any
		noDiag     string            // must not appear
	}
	tests := []struct {
		name string
		src  string
		want want
	}{
		{
			name: "global file and base",
			src:  "global\n  server-state-file st\n  server-state-base /var/lib/st\n" + stateDefaults + "backend b\n  server s 127.0.0.1:1\n",
			want: want{file: "st", base: "/var/lib/st", load: map[string]string{"b": ""}, name: map[string]string{"b": ""}},
		},
		{
			name: "extra arguments are ignored",
			src:  "global\n  server-state-file st x\n  server-state-base /b y\n" + stateDefaults + "  load-server-state-from-file global extra\nbackend b\n  server s 127.0.0.1:1\n",
			want: want{file: "st", base: "/b", load: map[string]string{"b": "global"}, noDiag: "Unfortunately"},
		},
		{
			name: "duplicates keep the first and are not fatal",
			src:  "global\n  server-state-file a\n  server-state-file b\n  server-state-base x\n  server-state-base y\n" + stateDefaults + "backend b\n  server s 127.0.0.1:1\n",
			want: want{file: "a", base: "x", diag: "parsing [t.cfg:3] : 'server-state-file' already specified. Continuing.\nparsing [t.cfg:5] : 'server-state-base' already specified. Continuing."},
		},
		{
			name: "backends inherit load mode, frontends do not",
			src:  stateDefaults + "  load-server-state-from-file local\nfrontend f\n  bind :80\n  default_backend b\nbackend b\n  server s 127.0.0.1:1\nlisten l\n  bind :81\n  server s 127.0.0.1:1\n",
			want: want{load: map[string]string{"f": "", "b": "local", "l": "local"}},
		},
		{
			name: "own setting overrides defaults",
			src:  stateDefaults + "  load-server-state-from-file global\nbackend b\n  load-server-state-from-file none\n  server s 127.0.0.1:1\nbackend c\n  server s 127.0.0.1:1\n",
			want: want{load: map[string]string{"b": "none", "c": "global"}, diag: "backend 'c' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!", noDiag: "backend 'b' configured"},
		},
		{
			name: "defaults from defaults",
			src:  "defaults base\n  load-server-state-from-file local\n" + "defaults d2 from base\n  mode tcp\n  timeout connect 1s\n  timeout server 1s\nbackend b from d2\n  server s 127.0.0.1:1\n",
			want: want{load: map[string]string{"b": "local"}},
		},
		{
			name: "file name is not inherited from defaults",
			src:  stateDefaults + "  server-state-file-name xx\n  load-server-state-from-file local\nbackend b\n  server s 127.0.0.1:1\n",
			want: want{load: map[string]string{"b": "local"}, name: map[string]string{"b": ""}},
		},
		{
			name: "file name forms",
			src: stateDefaults + "backend a\n  server-state-file-name /abs/a\n  server s 127.0.0.1:1\n" +
				"backend b\n  server-state-file-name q\n  server-state-file-name\n  server s 127.0.0.1:1\n" +
				"backend c\n  server-state-file-name q\n  server-state-file-name use-backend-name\n  server s 127.0.0.1:1\n" +
				"backend d\n  server-state-file-name rel\n  server s 127.0.0.1:1\n",
			want: want{name: map[string]string{"a": "/abs/a", "b": "", "c": "", "d": "rel"}},
		},
		{
			name: "frontend: warned, kept, then the missing file is reported as HAProxy does",
			src:  stateDefaults + "frontend f\n  bind :80\n  load-server-state-from-file global\n  default_backend b\nbackend b\n  server s 127.0.0.1:1\n",
			want: want{load: map[string]string{"f": "global"}, diag: "parsing [t.cfg:8] : 'load-server-state-from-file' ignored because frontend 'f' has no backend capability.\nbackend 'f' configured to load server state file"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseText(t, tc.src)
			if err != nil {
				t.Fatalf("unexpected error: %v\n%s", err, diagText(cfg))
			}
			if tc.want.file != "" || tc.want.base != "" {
				if cfg.Global.ServerStateFile != tc.want.file || cfg.Global.ServerStateBase != tc.want.base {
					t.Errorf("file, base = %q, %q; want %q, %q", cfg.Global.ServerStateFile, cfg.Global.ServerStateBase, tc.want.file, tc.want.base)
				}
			}
			byName := map[string]*Proxy{}
			for _, px := range cfg.Proxies {
				byName[px.Name] = px
			}
			for n, v := range tc.want.load {
				if px := byName[n]; px == nil || px.LoadServerState != v {
					t.Errorf("%s: LoadServerState = %+v, want %q", n, px, v)
				}
			}
			for n, v := range tc.want.name {
				if px := byName[n]; px == nil || px.ServerStateFileName != v {
					t.Errorf("%s: ServerStateFileName wrong, want %q", n, v)
				}
			}
			got := diagText(cfg)
			if tc.want.diag != "" && !strings.Contains(got, tc.want.diag) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", got, tc.want.diag)
			}
			if tc.want.noDiag != "" && strings.Contains(got, tc.want.noDiag) {
				t.Errorf("diagnostics:\n%s\nmust not contain %q", got, tc.want.noDiag)
			}
		})
	}
}

func TestServerStateDuplicateIsAnAlert(t *testing.T) {
	cfg, err := parseText(t, "global\n  server-state-base a\n  server-state-base b\n"+stateDefaults+"backend b\n  server s 127.0.0.1:1\n")
	if err != nil {
		t.Fatalf("a duplicate server-state-base must not be fatal: %v", err)
	}
	var alerts int
	for _, d := range cfg.Diags {
		if d.Sev == SevAlert && !d.Trailer {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("alerts = %d, want 1:\n%s", alerts, diagText(cfg))
	}
}
