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
	hl, gl := alertLocations(h.stderr), alertLocations(g.stderr)
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
			if d := differ(t, checkDir, haproxy, tc.args); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestDifferentialShippedExamples runs the same comparison on the example
// configurations shipped with Debian's haproxy package. Most are HTTP
// configurations beyond goproxy's TCP scope, so disagreements are logged
// and counted, not failed; the count is the measurement.
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
	agree := 0
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if d := differ(t, dir, haproxy, []string{"-c", "-f", filepath.Base(f)}); d != "" {
			t.Logf("%s: %s", filepath.Base(f), d)
			continue
		}
		agree++
	}
	t.Logf("shipped examples: goproxy agrees with haproxy on %d of %d", agree, len(files))
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
