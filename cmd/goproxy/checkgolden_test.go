package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// checkDir holds the -c corpus: broken and good configurations, and per
// case a .golden file with the expected output (stdout and stderr merged,
// pid, version and executable masked) and exit code.
const checkDir = "../../testdata/check"

// checkCase is one -c invocation, run from checkDir.
type checkCase struct {
	name string
	args []string
}

// extraCases are invocations other than "-c -f <name>.cfg".
var extraCases = []checkCase{
	{"missing-file", []string{"-c", "-f", "does-not-exist.cfg"}},
	{"missing-file-among-others", []string{"-c", "-f", "unknown-keyword.cfg", "-f", "does-not-exist.cfg"}},
	{"quiet-valid", []string{"-c", "-q", "-f", "valid.cfg"}},
	{"quiet-missing-backend", []string{"-c", "-q", "-f", "missing-backend.cfg"}},
	{"quiet-verbose-warnings", []string{"-c", "-q", "-V", "-f", "missing-timeout-client.cfg"}},
	{"multi-file-errors", []string{"-c", "-f", "unknown-keyword.cfg", "-f", "missing-backend.cfg", "-f", "bad-balance.cfg"}},
	{"multi-file-valid-and-warning", []string{"-c", "-f", "valid.cfg", "-f", "warn-directive.cfg"}},
	{"directory", []string{"-c", "-f", "dir"}},
	{"double-dash", []string{"-c", "--", "valid.cfg", "ok-listen.cfg"}},
	{"zero-warning-flag", []string{"-c", "-dW", "-f", "warn-directive.cfg"}},
	{"diag-mode", []string{"-c", "-dD", "-f", "ok-notice.cfg"}},
	{"chdir", []string{"-C", "dir", "-c", "-f", "02-global.cfg", "-f", "10-proxies.cfg", "-f", "B-backend.cfg"}},
	{"chdir-missing", []string{"-C", "/nonexistent-goproxy-dir", "-c", "-f", "valid.cfg"}},
	{"localpeer-flag", []string{"-c", "-L", "peer1", "-f", "env/startup-env.cfg"}},
	{"sf-garbage-pid", []string{"-c", "-f", "valid.cfg", "-sf", "12x"}},
}

// byDesign lists the corpus configurations that HAProxy accepts and goproxy
// rejects on purpose (features outside goproxy's TCP scope, or known to
// HAProxy but not implemented): their goldens are goproxy's own output.
var byDesign = map[string]string{}

// oracleFixups are the places where goproxy is expected to differ from
// HAProxy's output, applied when the goldens are taken from haproxy:
// goproxy is built without OpenSSL, so feature(OPENSSL) is false; it
// warns that option splice-auto has no effect.
var oracleFixups = map[string][2]string{
	"example-kw": {
		"[WARNING]  (PID) : config : parsing [example-kw.cfg:90]",
		"[WARNING]  (PID) : config : parsing [example-kw.cfg:51] : 'option splice-auto' has no effect in goproxy: its event loop copies through a per-loop buffer and never splices.\n[WARNING]  (PID) : config : parsing [example-kw.cfg:90]",
	},
	"example-cond1": {
		"[NOTICE]   (PID) : config : parsing [example-cond1.cfg:15]: 'has openssl'.",
		"[NOTICE]   (PID) : config : parsing [example-cond1.cfg:13]: 'no openssl'.",
	},
}

func corpus(t *testing.T) []checkCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(checkDir, "*.cfg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", checkDir, err)
	}
	var cases []checkCase
	for _, f := range files {
		base := filepath.Base(f)
		cases = append(cases, checkCase{strings.TrimSuffix(base, ".cfg"), []string{"-c", "-f", base}})
	}
	cases = append(cases, extraCases...)
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// transcript renders a run the way the golden files (and HAProxy's
// captures in reference/golden) are written.
func transcript(prog string, args []string, r result) string {
	return "$ " + prog + " " + strings.Join(args, " ") + "\n" + mask(r.combined) +
		"[exit code: " + itoa(r.code) + "]\n"
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestCheckGolden(t *testing.T) {
	haproxy := ""
	if *update && *oracle == "haproxy" {
		var err error
		if haproxy, err = exec.LookPath("haproxy"); err != nil {
			t.Fatal("-oracle haproxy: haproxy is not on PATH")
		}
	}
	for _, tc := range corpus(t) {
		t.Run(tc.name, func(t *testing.T) {
			golden := filepath.Join(checkDir, tc.name+".golden")
			var got string
			if _, ok := byDesign[tc.name]; haproxy != "" && !ok {
				got = transcript("goproxy", tc.args, runMerged(t, checkDir, haproxy, cleanEnv(), tc.args...))
				if fix, ok := oracleFixups[tc.name]; ok {
					got = strings.Replace(got, fix[0], fix[1], 1)
				}
			} else {
				got = transcript("goproxy", tc.args, runMerged(t, checkDir, goproxyBin, cleanEnv(), tc.args...))
			}
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			// Goldens taken from haproxy lack the locations goproxy
			// adds to HAProxy's unlocated errors: compare without them,
			// and check that goproxy's alerts all have one.
			if haproxyText(got) != haproxyText(string(want)) {
				t.Errorf("output differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
			for _, l := range unlocatedAlerts(got) {
				t.Errorf("alert without file and line: %s", l)
			}
		})
	}
}

// TestCheckMatchesHAProxyCaptures compares goproxy -c with the raw
// captures of HAProxy 2.6 kept in testdata/check/haproxy (copied from the
// reference goldens): byte for byte once pid, version and path are masked.
func TestCheckMatchesHAProxyCaptures(t *testing.T) {
	captures, err := filepath.Glob(filepath.Join(checkDir, "haproxy", "config-check-*.txt"))
	if err != nil || len(captures) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	cmdRe := regexp.MustCompile(`(?m)^\$ haproxy (.*)$`)
	for _, capture := range captures {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(capture), "config-check-"), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(capture)
			if err != nil {
				t.Fatal(err)
			}
			// A capture may hold several commands; each starts with "$ haproxy".
			text := string(raw)
			locs := cmdRe.FindAllStringSubmatchIndex(text, -1)
			for i, loc := range locs {
				end := len(text)
				if i+1 < len(locs) {
					end = locs[i+1][0]
				}
				want := strings.Replace(mask(text[loc[0]:end]), "$ haproxy ", "$ goproxy ", 1)
				args := strings.Fields(text[loc[2]:loc[3]])
				if cfg := args[len(args)-1]; name != "missing-file" {
					if _, err := os.Stat(filepath.Join(checkDir, cfg)); err != nil {
						t.Skipf("%s is not in the corpus (it would query DNS)", cfg)
					}
				}
				got := haproxyText(transcript("goproxy", args, runMerged(t, checkDir, goproxyBin, cleanEnv(), args...)))
				if got != want {
					t.Errorf("goproxy differs from HAProxy\n--- goproxy\n%s--- haproxy\n%s", got, want)
				}
			}
		})
	}
}
