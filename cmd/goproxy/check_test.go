package main

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"

	"goproxy/parser"
)

// maskPid replaces the pid of every message prefix by PID, and the version
// and executable notices by fixed text, so outputs of different runs and
// programs compare.
var (
	pidRe     = regexp.MustCompile(`(?m)^(\[[A-Z]+\] *) \(\d+\) : `)
	versionRe = regexp.MustCompile(`(?m)^(\[NOTICE\] +\(PID\) : haproxy version is ).*$`)
	exeRe     = regexp.MustCompile(`(?m)^(\[NOTICE\] +\(PID\) : path to executable is ).*$`)
)

func mask(s string) string {
	s = pidRe.ReplaceAllString(s, "$1 (PID) : ")
	s = versionRe.ReplaceAllString(s, "${1}VERSION")
	return exeRe.ReplaceAllString(s, "${1}EXE")
}

func perr(file string, line int, phase parser.Phase, msg string) *parser.Error {
	return &parser.Error{Pos: parser.Pos{File: file, Line: line}, Msg: msg, Phase: phase}
}

func multi(errs ...*parser.Error) error {
	var me *multierror.Error
	for _, e := range errs {
		me = multierror.Append(me, e)
	}
	return me.ErrorOrNil()
}

// listening is a minimal configuration with one listener.
func listening() *parser.Config {
	return &parser.Config{Proxies: []*parser.Proxy{{
		Name: "fe", Cap: parser.CapFrontend,
		Binds: []*parser.Bind{{Addr: parser.Addr{Family: parser.FamilyTCP4, Port: 1}}},
	}}}
}

const notices = "[NOTICE]   (PID) : haproxy version is VERSION\n[NOTICE]   (PID) : path to executable is EXE\n"

func TestReportLoad(t *testing.T) {
	missingTimeouts := "missing timeouts for frontend 'f'.\n   | While not properly invalid, you will certainly encounter various problems\n" +
		"   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
	quote := &parser.Error{Pos: parser.Pos{File: "a.cfg", Line: 2}, Style: parser.StyleLine, Phase: parser.PhaseAbort,
		Msg: "unmatched quote at position 11:\n  log-tag \"abc\n          ^"}
	tests := []struct {
		name   string
		cfg    *parser.Config
		err    error
		ok     bool
		stderr string
	}{
		{name: "clean", cfg: listening(), ok: true},
		{
			name: "diags in the parser's order with levels and trailers",
			cfg: &parser.Config{Diags: []*parser.Error{
				{Pos: parser.Pos{File: "a.cfg", Line: 1}, Style: parser.StyleLine, Sev: parser.SevNotice, Msg: "'n'."},
				{Pos: parser.Pos{File: "a.cfg", Line: 9}, Msg: "balance only supports ..."},
				{Pos: parser.Pos{File: "a.cfg", Line: 25}, Style: parser.StyleServer, Server: "be/s1", Msg: "'fall' has to be > 0.."},
				{Pos: parser.Pos{File: "a.cfg", Line: 26}, Sev: parser.SevWarning, Msg: "w"},
				{Pos: parser.Pos{File: "a.cfg", Line: 27}, Style: parser.StyleLine, Sev: parser.SevDiag, Msg: "'d'."},
				{Msg: "Error(s) found in configuration file : a.cfg", Trailer: true},
				{Msg: "Fatal errors found in configuration.", Trailer: true},
			}},
			err: multi(&parser.Error{Msg: "x"}),
			stderr: "[NOTICE]   (PID) : config : parsing [a.cfg:1]: 'n'.\n" + notices +
				"[ALERT]    (PID) : config : parsing [a.cfg:9] : balance only supports ...\n" +
				"[ALERT]    (PID) : config : [a.cfg:25] : 'server be/s1' : 'fall' has to be > 0..\n" +
				"[WARNING]  (PID) : config : parsing [a.cfg:26] : w\n" +
				"[DIAG]     (PID) : config : parsing [a.cfg:27]: 'd'.\n" +
				"[ALERT]    (PID) : config : Error(s) found in configuration file : a.cfg\n" +
				"[ALERT]    (PID) : config : Fatal errors found in configuration.\n",
		},
		{
			name:   "caret layout kept as it is",
			cfg:    &parser.Config{Diags: []*parser.Error{quote}},
			err:    multi(quote),
			stderr: notices + "[ALERT]    (PID) : config : parsing [a.cfg:2]: unmatched quote at position 11:\n  log-tag \"abc\n          ^\n",
		},
		{
			name:   "warning with its own margin",
			cfg:    &parser.Config{Diags: []*parser.Error{{Msg: missingTimeouts, Sev: parser.SevWarning, Phase: parser.PhaseCheck}}},
			ok:     true,
			stderr: notices + "[WARNING]  (PID) : config : " + missingTimeouts + "\n",
		},
		{
			name:   "bare continuation lines get the margin",
			cfg:    &parser.Config{Diags: []*parser.Error{{Msg: "first\nsecond", Sev: parser.SevWarning}}},
			ok:     true,
			stderr: notices + "[WARNING]  (PID) : config : first\n   | second\n",
		},
		{
			name:   "no config: the errors as alerts",
			err:    multi(&parser.Error{Msg: "Cannot open configuration file/directory nope.cfg : No such file or directory", Phase: parser.PhaseOpen}),
			stderr: notices + "[ALERT]    (PID) : config : Cannot open configuration file/directory nope.cfg : No such file or directory\n",
		},
		{
			name:   "foreign error",
			err:    errors.New("boom"),
			stderr: notices + "[ALERT]    (PID) : config : boom\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := newConsole(&buf, false)
			ok := reportLoad(c, tt.cfg, tt.err)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			if got := mask(buf.String()); got != tt.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", got, tt.stderr)
			}
		})
	}
}

func TestRunCheckVerdicts(t *testing.T) {
	withWarning := func(c *parser.Config) *parser.Config {
		c.Diags = []*parser.Error{{Msg: "w", Sev: parser.SevWarning, Phase: parser.PhaseCheck}}
		return c
	}
	tests := []struct {
		name     string
		argv     []string
		cfg      *parser.Config
		err      error
		code     int
		stdout   string
		stderrRe string
	}{
		{name: "valid", cfg: listening(), code: 0, stdout: "Configuration file is valid\n"},
		{name: "no listener", cfg: &parser.Config{}, code: 2, stdout: "Configuration file has no error but will not start (no listener) => exit(2).\n"},
		{name: "stats socket counts as a listener", cfg: &parser.Config{Global: parser.Global{StatsSockets: []parser.StatsSocket{{}}}}, code: 0, stdout: "Configuration file is valid\n"},
		{name: "disabled frontend does not listen", cfg: func() *parser.Config { c := listening(); c.Proxies[0].Disabled = true; return c }(), code: 2, stdout: "Configuration file has no error but will not start (no listener) => exit(2).\n"},
		{name: "warnings", cfg: withWarning(listening()), code: 0, stdout: "Warnings were found.\nConfiguration file is valid\n", stderrRe: `\[WARNING\]  \(PID\) : config : w\n`},
		{name: "zero-warning flag", argv: []string{"-dW"}, cfg: withWarning(listening()), code: 1, stderrRe: `Some warnings were found and 'zero-warning' is set\. Aborting\.\n$`},
		{name: "zero-warning keyword", cfg: func() *parser.Config { c := withWarning(listening()); c.Global.ZeroWarning = true; return c }(), code: 1, stderrRe: `'zero-warning' is set`},
		{name: "quiet", argv: []string{"-q"}, cfg: withWarning(listening()), code: 0, stderrRe: `^$`},
		{name: "quiet but verbose", argv: []string{"-q", "-V"}, cfg: withWarning(listening()), code: 0, stdout: "Warnings were found.\nConfiguration file is valid\n", stderrRe: `WARNING`},
		{name: "error", err: multi(&parser.Error{Msg: "x", Phase: parser.PhaseCheck}), code: 1, stderrRe: `\[ALERT\]    \(PID\) : config : x\n$`},
		{name: "quiet error", argv: []string{"-q"}, err: multi(&parser.Error{Msg: "x", Phase: parser.PhaseCheck}), code: 1, stderrRe: `^$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, o, err := parseArgs(append([]string{"-c", "-f", "x.cfg"}, tt.argv...))
			if err != nil {
				t.Fatal(err)
			}
			o.loadConfig = func([]string, parser.Options) (*parser.Config, error) { return tt.cfg, tt.err }
			var stdout, stderr bytes.Buffer
			code := runCheck(o, &stdout, newConsole(&stderr, o.quiet && !o.verbose))
			if code != tt.code {
				t.Errorf("exit = %d, want %d", code, tt.code)
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.stdout)
			}
			if tt.stderrRe != "" && !regexp.MustCompile(tt.stderrRe).MatchString(mask(stderr.String())) {
				t.Errorf("stderr = %q, want match of %q", mask(stderr.String()), tt.stderrRe)
			}
		})
	}
}

func TestFeatureLine(t *testing.T) {
	line := featureLine()
	for _, want := range []string{"+EPOLL", "-LINUX_SPLICE", "+PROMEX", "-OPENSSL", "-LUA"} {
		if !strings.Contains(" "+line+" ", " "+want+" ") {
			t.Errorf("feature line %q lacks %s", line, want)
		}
	}
	if got := strings.Join(FeatureList(), " "); got != line {
		t.Errorf("FeatureList() = %q, want the -vv line %q", got, line)
	}
}
