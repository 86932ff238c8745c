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

// locRe finds the file:line locations of a message: "parsing [f.cfg:12]",
// "[f.cfg:25] : 'server ...'", "Parsing [f.cfg:22]: ...".
var locRe = regexp.MustCompile(`\[([^\]\s:]+):(\d+)\]`)

// alertLocations returns the sorted, de-duplicated locations named by the
// [ALERT] lines of an output.
func alertLocations(out string) []string {
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "[ALERT]") {
			continue
		}
		for _, m := range locRe.FindAllStringSubmatch(line, -1) {
			seen[m[1]+":"+m[2]] = true
		}
	}
	locs := make([]string, 0, len(seen))
	for l := range seen {
		locs = append(locs, l)
	}
	sort.Strings(locs)
	return locs
}

// differ runs haproxy and goproxy -c on the same invocation and reports
// how they disagree: exit code, and for errors the set of locations.
func differ(t *testing.T, dir, haproxy string, args []string) string {
	t.Helper()
	h := runBin(t, dir, haproxy, cleanEnv(), args...)
	g := runBin(t, dir, goproxyBin, cleanEnv(), args...)
	if h.code != g.code {
		return "exit code: haproxy " + itoa(h.code) + ", goproxy " + itoa(g.code) +
			"\n--- haproxy\n" + mask(h.stdout+h.stderr) + "--- goproxy\n" + mask(g.stdout+g.stderr)
	}
	hl, gl := alertLocations(h.stderr), alertLocations(haproxyText(g.stderr))
	if strings.Join(hl, " ") != strings.Join(gl, " ") {
		return "alert locations: haproxy " + strings.Join(hl, " ") + ", goproxy " + strings.Join(gl, " ") +
			"\n--- haproxy\n" + mask(h.stdout+h.stderr) + "--- goproxy\n" + mask(g.stdout+g.stderr)
	}
	return ""
}

// TestDifferential holds goproxy -c to HAProxy's verdicts on the whole
// corpus: same exit code and, for errors, the same file:line locations.
func TestDifferential(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH")
	}
	for _, tc := range corpus(t) {
		t.Run(tc.name, func(t *testing.T) {
			if why, ok := byDesign[tc.name]; ok {
				h := runBin(t, checkDir, haproxy, cleanEnv(), tc.args...)
				g := runBin(t, checkDir, goproxyBin, cleanEnv(), tc.args...)
				if h.code != 0 || g.code != 1 {
					t.Errorf("by-design difference (%s) no longer holds: haproxy exit %d, goproxy exit %d", why, h.code, g.code)
				}
				return
			}
			if d := differ(t, checkDir, haproxy, tc.args); d != "" {
				t.Error(d)
			}
		})
	}
}

// httpOnly matches the lines of HTTP-mode features, which are beyond
// goproxy's TCP scope: dropping them leaves an example's TCP-mode part.
var httpOnly = regexp.MustCompile(`^\s*(http-\S+|option\s+(http\S*|forwardfor|prefer-last-server)|timeout\s+http-\S+|stats\s+(enable|uri|realm|auth|admin|refresh|hide-version|show-\S+)|monitor-uri|errorfile|capture|cookie|compression|redirect|unique-id-\S+)\b`)

var modeHTTP = regexp.MustCompile(`^(\s*mode\s+)http\b`)

// tcpPart turns an HTTP example into its TCP-mode part: "mode http"
// becomes "mode tcp" and HTTP-only lines become comments (so line numbers
// stay the same).
func tcpPart(src string) string {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		switch {
		case modeHTTP.MatchString(l):
			lines[i] = modeHTTP.ReplaceAllString(l, "${1}tcp")
		case httpOnly.MatchString(l):
			lines[i] = "#" + l
		}
	}
	return strings.Join(lines, "\n")
}

// TestDifferentialShippedExamples runs the same comparison on the example
// configurations shipped with Debian's haproxy package, as shipped and
// reduced to their TCP-mode part. Most are HTTP configurations beyond
// goproxy's scope, so disagreements are logged and counted, not failed:
// the counts are the measurement.
func TestDifferentialShippedExamples(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH")
	}
	dir := "/usr/share/doc/haproxy/examples"
	files, _ := filepath.Glob(filepath.Join(dir, "*.cfg"))
	if len(files) == 0 {
		t.Skip("no " + dir + "/*.cfg")
	}
	tmp := t.TempDir()
	agree, agreeTCP := 0, 0
	for _, f := range files {
		name := filepath.Base(f)
		if d := differ(t, dir, haproxy, []string{"-c", "-f", name}); d != "" {
			t.Logf("%s as shipped: %s", name, d)
		} else {
			agree++
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tcpName := strings.TrimSuffix(name, ".cfg") + "-tcp.cfg"
		writeFile(t, tmp, tcpName, tcpPart(string(src)))
		if d := differ(t, tmp, haproxy, []string{"-c", "-f", tcpName}); d != "" {
			t.Logf("%s: %s", tcpName, d)
		} else {
			agreeTCP++
		}
	}
	t.Logf("shipped examples: goproxy agrees with haproxy on %d of %d as shipped, %d of %d reduced to TCP mode",
		agree, len(files), agreeTCP, len(files))
}

func TestAlertLocations(t *testing.T) {
	out := "[NOTICE]   (1) : config : parsing [n.cfg:1]: 'x'.\n" +
		"[ALERT]    (1) : config : parsing [a.cfg:12] : unknown keyword\n" +
		"[ALERT]    (1) : config : [a.cfg:25] : 'server be/s1' : 'fall' has to be > 0..\n" +
		"[ALERT]    (1) : config : Parsing [dir/b.cfg:22]: backend 'be' has the same name as backend 'be' declared at a.cfg:16.\n" +
		"[WARNING]  (1) : config : parsing [w.cfg:3] : w\n" +
		"[ALERT]    (1) : config : parsing [a.cfg:12] : again\n"
	got := strings.Join(alertLocations(out), " ")
	if want := "a.cfg:12 a.cfg:25 dir/b.cfg:22"; got != want {
		t.Errorf("alertLocations = %q, want %q", got, want)
	}
}
