package main

import (
	"slices"
	"testing"
)

func TestReexecArgs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"-W", "-f", "a.cfg"}, []string{"-W", "-f", "a.cfg"}},
		{[]string{"-W", "-x", "/run/h.sock", "-sf", "1", "2", "-f", "a.cfg", "-st", "3"}, []string{"-W", "-f", "a.cfg"}},
		{[]string{"-Ws", "-sf", "-f", "a.cfg", "--", "-x", "b.cfg"}, []string{"-Ws", "-f", "a.cfg", "--", "-x", "b.cfg"}},
	} {
		if got := reexecArgs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("reexecArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShowProcLayout(t *testing.T) {
	if got := uptime(90061e9); got != "1d01h01m01s" {
		t.Errorf("uptime = %q", got)
	}
}

func TestMasterCLIAddr(t *testing.T) {
	for in, want := range map[string]string{
		"/run/m.sock,level,admin": "unix@/run/m.sock",
		"unix@/run/m.sock":        "unix@/run/m.sock",
		"127.0.0.1:1234":          "ipv4@127.0.0.1:1234",
		"ipv4@127.0.0.1:1234":     "ipv4@127.0.0.1:1234",
		"[::1]:1234":              "ipv6@[::1]:1234",
	} {
		if got := masterCLIAddr(in); got != want {
			t.Errorf("masterCLIAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
