package parser

import (
	"strings"
	"testing"
)

// TestUnixBindApplied: unix-bind's prefix and owner apply to the UNIX binds
// of the proxies after it, a bind's own options override them, and the
// stats socket takes none of them (HAProxy's cfgparse-listen.c and cli.c).
func TestUnixBindApplied(t *testing.T) {
	cfg, err := parseText(t, `global
  unix-bind prefix /run/hap/ mode 640 uid 7 gid 8
  stats socket /run/stats.sock
frontend f
  bind unix@a.sock
  bind /abs.sock mode 600 uid 9
  bind abns@name
  bind 127.0.0.1:80 mode 600
`)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	b := cfg.Proxies[0].Binds
	if b[0].Addr.Path != "/run/hap/a.sock" || b[0].Mode != 0o640 || !b[0].ModeSet || b[0].UID != 7 || b[0].GID != 8 || !b[0].UIDSet || !b[0].GIDSet {
		t.Errorf("unix@a.sock: %+v %+v", b[0].Addr, b[0].BindOptions)
	}
	if b[1].Addr.Path != "/run/hap//abs.sock" || b[1].Mode != 0o600 || b[1].UID != 9 || b[1].GID != 8 {
		t.Errorf("/abs.sock: %+v %+v", b[1].Addr, b[1].BindOptions)
	}
	if b[2].Addr.Family != FamilyAbns || b[2].Addr.Path != "name" {
		t.Errorf("abns@name: %+v", b[2].Addr)
	}
	if b[3].Addr.Family != FamilyTCP4 || b[3].Addr.Port != 80 {
		t.Errorf("tcp bind with mode: %+v", b[3].Addr)
	}
	if s := cfg.Global.StatsSockets[0]; s.Addr.Path != "/run/stats.sock" || s.ModeSet || s.UIDSet {
		t.Errorf("stats socket took unix-bind: %+v", s)
	}
	// The prefix counts in a bind path's limit, not in a server's.
	long := strings.Repeat("a", 90)
	cfg, _ = parseText(t, "global\n  unix-bind prefix /run/hap/\nfrontend f\n  bind /"+long+"\nbackend b\n  server s /"+long+"\n")
	if d := diagText(cfg); !strings.Contains(d, "too long (max 88)") || strings.Contains(d, "'server b/s'") {
		t.Errorf("path limits:\n%s", d)
	}
}

// TestAddrEnv: $VAR and ${VAR} expand in addresses, quoted or not, as
// HAProxy's env_expand does; messages quote the address as written.
func TestAddrEnv(t *testing.T) {
	env := map[string]string{"A": "127.0.0.1", "P": "81", "S": "/tmp/s.sock", "E": ""}
	get := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for in, want := range map[string]string{
		"${A}:${P}":   "127.0.0.1:81",
		"$A:$P":       "127.0.0.1:81",
		"x${NOPE}y":   "xy",
		"a$":          "a",
		"${}b":        "b",
		"$A.$P":       "127.0.0.1.81",
		"unix@${S}":   "unix@/tmp/s.sock",
		"no dollar":   "no dollar",
		"${A":         "127.0.0.1",
		"${E}${NOPE}": "",
	} {
		if got := expandEnv(in, get); got != want {
			t.Errorf("expandEnv(%q) = %q, want %q", in, got, want)
		}
	}
	cfg, err := Parse("t.cfg", "frontend f\n  bind ${A}:${P}\n  bind unix@$S\nbackend b\n  server s ${S}\n  server t $A:$P\n",
		Options{Env: get, LookupHost: fakeLookup})
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	b := cfg.Proxies[0].Binds
	if b[0].Addr.Host != "127.0.0.1" || b[0].Addr.Port != 81 || b[1].Addr.Path != "/tmp/s.sock" {
		t.Errorf("binds: %+v %+v", b[0].Addr, b[1].Addr)
	}
	s := cfg.Proxies[1].Servers
	if s[0].Addr.Family != FamilyUnix || s[0].Addr.Path != "/tmp/s.sock" || s[1].Addr.Host != "127.0.0.1" || s[1].Addr.Port != 81 {
		t.Errorf("servers: %+v %+v", s[0].Addr, s[1].Addr)
	}
}

func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"${A}:${P}", "$", "${", "$A$B", "${}", "x${A}y$"} {
		f.Add(s)
	}
	env := func(k string) (string, bool) { return "<" + k + ">", k != "" }
	f.Fuzz(func(t *testing.T, s string) {
		out := expandEnv(s, env)
		if !strings.Contains(s, "$") && out != s {
			t.Fatalf("no '$' in %q, got %q", s, out)
		}
		if strings.Count(out, "$") > 0 && !strings.Contains(s, "<") {
			// every '$' of the input is consumed
			t.Fatalf("a '$' survived in %q -> %q", s, out)
		}
	})
}
