package parser

import (
	"strings"
	"testing"
)

// TestUnixBind: unix-bind is checked as haproxy 2.6.12 checks it (the
// same messages for the same lines).
func TestUnixBind(t *testing.T) {
	cfg, err := parseText(t, "global\n  unix-bind prefix /run/hap mode 660 uid 7 gid 8\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	if ub := cfg.Global.UnixBind; ub.Prefix != "/run/hap" || ub.Mode != 0o660 || ub.UID != 7 || ub.GID != 8 {
		t.Errorf("unix-bind: %+v", ub)
	}
	for line, want := range map[string]string{
		"unix-bind foo":                      "'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.",
		"unix-bind prefix":                   "unix_bind 'prefix' expects a path as an argument.",
		"unix-bind user goproxy-no-such-usr": "'unix-bind' : 'goproxy-no-such-usr' unknown user.",
		"unix-bind group goproxy-no-such-gr": "'unix-bind' : 'goproxy-no-such-gr' unknown group.",
	} {
		cfg, err := parseText(t, "global\n  "+line+"\n")
		if err == nil || !strings.Contains(diagText(cfg), want) {
			t.Errorf("%q: %v\n%s\nwant %q", line, err, diagText(cfg), want)
		}
	}
}
