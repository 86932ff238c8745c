package parser

import (
	"strings"
	"testing"
)

func TestProgramSection(t *testing.T) {
	cfg, err := parseText(t, "program foo\n  command sleep 10\nprogram bar\n  command /bin/echo \"a b\"\n  no option start-on-reload\n  option start-on-reload\n  no option start-on-reload\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	if len(cfg.Programs) != 2 {
		t.Fatalf("programs: %+v", cfg.Programs)
	}
	foo, bar := cfg.Programs[0], cfg.Programs[1]
	if foo.Name != "foo" || strings.Join(foo.Command, "|") != "sleep|10" || !foo.StartOnReload {
		t.Errorf("foo: %+v", foo)
	}
	if bar.Name != "bar" || strings.Join(bar.Command, "|") != "/bin/echo|a b" || bar.StartOnReload {
		t.Errorf("bar: %+v", bar)
	}
}

// TestProgramErrors: HAProxy 2.6.12's messages for program sections
// (checked with haproxy -c on the same lines).
func TestProgramErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"program\n", "parsing [t.cfg:1] : 'program' expects an <id> argument"},
		{"program a b\n  command x\n", "parsing [t.cfg:1] : 'program' cannot handle unexpected argument 'b'."},
		{"program a\n  command x\nprogram a\n  command y\n", "parsing [t.cfg:3]: 'a' program section already exists in the configuration."},
		{"program a\n", "parsing [t.cfg:1] : The program section 'a' lacks a command to launch."},
		{"program a\n  command\n", "parsing [t.cfg:2]: 'command' expects a command with optional arguments separated in words."},
		{"program a\n  command x\n  foo bar\n", "parsing [t.cfg:3] : unknown keyword 'foo' in 'program' section"},
		{"program a\n  command x\n  user\n", "parsing [t.cfg:3]: 'user' expects a user name."},
		{"program a\n  command x\n  group\n", "parsing [t.cfg:3]: 'group' expects a group name."},
		{"program a\n  command x\n  user goproxy-no-such-user\n", "parsing [t.cfg:3] : cannot find user id for 'goproxy-no-such-user' (0:Success)"},
		{"program a\n  command x\n  user root x\n", "parsing [t.cfg:3] : 'user' cannot handle unexpected argument 'x'."},
		{"program a\n  command x\n  option\n", "parsing [t.cfg:3]: 'option' expects an option name."},
		{"program a\n  command x\n  no option foo\n", "parsing [t.cfg:3] : unknown option 'foo'."},
		{"program a\n  command x\n  option start-on-reload x\n", "parsing [t.cfg:3] : 'option start-on-reload' cannot handle unexpected argument 'x'."},
	}
	for _, tc := range tests {
		cfg, err := parseText(t, tc.text)
		if err == nil {
			t.Errorf("%q: no error\n%s", tc.text, diagText(cfg))
			continue
		}
		if got := diagText(cfg); !strings.Contains(got, tc.want) {
			t.Errorf("%q:\n%s\nwant %q", tc.text, got, tc.want)
		}
	}
}
