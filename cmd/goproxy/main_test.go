package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"goproxy/internal/nettest"
)

// asMainEnv makes the test binary behave as goproxy with the fake runtime.
const asMainEnv = "GOPROXY_TEST_AS_MAIN"

var (
	update = flag.Bool("update", false, "rewrite the golden files of testdata/check from goproxy's output")
	oracle = flag.String("oracle", "goproxy", "with -update: take the golden output from `goproxy` or `haproxy`")
)

// goproxyBin is the real binary, built once by TestMain.
var goproxyBin string

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		applyTestNofile()
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, fakeSeams()))
	}
	flag.Parse()
	dir, err := os.MkdirTemp("", "goproxy-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goproxyBin = filepath.Join(dir, "goproxy")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=test -X main.buildDate=2026/01/01", "-o", goproxyBin, ".")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building goproxy:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a finished process printed and returned.
type result struct {
	stdout, stderr string
	combined       string // runMerged: stdout and stderr through one pipe, in order
	code           int
}

// cleanEnv is a small fixed environment so outputs do not depend on the
// caller's (HOME in particular, which example configs expand).
func cleanEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent-home", "LANG=C"}, extra...)
}

// runBin runs bin with args in dir, bounded in time. With merged, stdout
// and stderr share one pipe and land, in order, in result.combined.
func runBin(t *testing.T, dir, bin string, env []string, args ...string) result {
	t.Helper()
	return runProg(t, dir, bin, env, false, args...)
}

func runMerged(t *testing.T, dir, bin string, env []string, args ...string) result {
	t.Helper()
	return runProg(t, dir, bin, env, true, args...)
}

func runProg(t *testing.T, dir, bin string, env []string, merged bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var outb, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = &outb, &errb
	if merged {
		cmd.Stderr = &outb
	}
	err := cmd.Run()
	var r result
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %q: %v", bin, args, err)
	}
	if merged {
		r.combined = outb.String()
	} else {
		r.stdout, r.stderr = outb.String(), errb.String()
	}
	return r
}

// asMain returns a command running this test binary as goproxy with the
// fake runtime.
func asMain(t *testing.T, dir string, extraEnv []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	// No race-detector exit delay in the children.
	cmd.Env = append(cleanEnv(asMainEnv+"=1", "GORACE=atexit_sleep_ms=0"), extraEnv...)
	return cmd
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int { return nettest.FreePort(t) }

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echoOK dials addr, writes a line and expects it back.
func echoOK(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil {
		return err
	}
	if string(buf) != "ping\n" {
		return fmt.Errorf("echo returned %q", buf)
	}
	return nil
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-h"}, {"cfg.cfg"}, {"-c"}, {"-f"}, {"-f", "a.cfg", "-sf", "0"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runBin(t, t.TempDir(), goproxyBin, cleanEnv(), args...)
			if r.code != 1 {
				t.Errorf("exit = %d, want 1", r.code)
			}
			if !strings.HasPrefix(r.stdout, "goproxy version test 2026/01/01 - HAProxy 2.6 compatible") {
				t.Errorf("stdout should be the version banner, got %q", r.stdout)
			}
			if !strings.HasPrefix(r.stderr, "Usage : goproxy [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n") {
				t.Errorf("stderr should start with the usage line, got %q", r.stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := runBin(t, t.TempDir(), goproxyBin, cleanEnv(), "-v")
	first, _, _ := strings.Cut(r.stdout, "\n")
	if r.code != 0 || first != "goproxy version test 2026/01/01 - HAProxy 2.6 compatible (TCP mode)" || r.stderr != "" {
		t.Errorf("-v: exit %d, first line %q, stderr %q", r.code, first, r.stderr)
	}
	r = runBin(t, t.TempDir(), goproxyBin, cleanEnv(), "-vv")
	if r.code != 0 || !strings.Contains(r.stdout, "\nFeature list : -51DEGREES +ACCEPT4 ") || !strings.Contains(r.stdout, " +EPOLL ") {
		t.Errorf("-vv: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestUnbuiltFlagsFail(t *testing.T) {
	for _, f := range [][]string{{"-m", "10"}, {"-dR"}} {
		t.Run(f[0], func(t *testing.T) {
			r := runBin(t, t.TempDir(), goproxyBin, cleanEnv(), append([]string{"-f", "x.cfg"}, f...)...)
			if r.code != 1 || !strings.Contains(r.stderr, "[ALERT]") || !strings.Contains(r.stderr, f[0]+" (") || !strings.Contains(r.stderr, "is not supported by goproxy.") {
				t.Errorf("exit %d stderr %q", r.code, r.stderr)
			}
		})
	}
}

// TestCheckCondition runs -cc as VTest does ("feature(...)" guards) on
// goproxy and haproxy: 0 when the condition holds, 1 when it does not, 2
// with HAProxy's alert when it cannot be parsed.
func TestCheckCondition(t *testing.T) {
	cases := []struct {
		cond string
		want int
	}{
		{"feature(EPOLL)", 0},
		{"feature(EPOLL) && defined(HOME)", 0},
		{"version_atleast(2.4)", 0},
		{"version_before(2.4)", 1},
		{"defined(GOPROXY_NO_SUCH_VAR)", 1},
		{"", 1},
		{"bogus(", 2},
		// The argument is split into words as a configuration line is.
		{`streq(foo,'foo')`, 0},
		{`streq("foo bar",'foo bar')`, 0},
		{`streq(foo,bar)`, 1},
		{`streq(a,"a)`, 2},
	}
	for name, bin := range oracles(t) {
		t.Run(name, func(t *testing.T) {
			for _, tc := range cases {
				r := runBin(t, t.TempDir(), bin, cleanEnv("HOME=/root"), "-cc", tc.cond)
				if r.code != tc.want {
					t.Errorf("-cc %q: exit %d, want %d (stderr %q)", tc.cond, r.code, tc.want, r.stderr)
				}
				if tc.cond == `streq(a,"a)` && !strings.Contains(r.stderr, "config : Syntax Error in condition: Unmatched quote.") {
					t.Errorf("-cc %q: stderr %q", tc.cond, r.stderr)
				}
				if tc.cond == "bogus(" && !strings.Contains(r.stderr, "Failed to evaluate condition: unparsable conditional expression 'bogus('") {
					t.Errorf("-cc %q: stderr %q", tc.cond, r.stderr)
				}
			}
		})
	}
}
