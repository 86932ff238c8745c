package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// deploymentsDir holds configurations modelled on what distributions and
// projects publish (Debian's and RHEL's shipped files, Kubernetes API load
// balancers, Patroni, Galera, Redis, RabbitMQ, MQTT, SMTP, LDAP,
// ZooKeeper, Vault, CMPP and SMPP gateways). The first line of each says
// what goproxy -c is expected to answer, so a verdict flips by editing
// one line when a feature lands:
//
//	# goproxy-verdict: same
//	    same exit code and the same WARNING/ALERT lines as haproxy -c
//	# goproxy-verdict: extra-warning <substring> <why>
//	    the same, except goproxy's own warnings containing <substring>
//	# goproxy-verdict: reject <why>
//	    haproxy accepts the file, goproxy rejects it (exit 1) naming file
//	    and line for every error, until <why> is implemented
const deploymentsDir = "../../testdata/deployments"

var verdictRe = regexp.MustCompile(`^# goproxy-verdict: (same|extra-warning|reject)\b ?(.*)$`)

// diagLines are the WARNING and ALERT lines of an output, continuation
// lines included, with pids masked and without the locations goproxy adds
// to HAProxy's unlocated errors.
func diagLines(out string) []string {
	var lines []string
	in := false
	for _, l := range strings.Split(haproxyText(mask(out)), "\n") {
		switch {
		case strings.HasPrefix(l, "[WARNING]"), strings.HasPrefix(l, "[ALERT]"):
			in = true
		case strings.HasPrefix(l, "   | ") && in:
		default:
			in = false
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// dropLines removes the lines containing sub, and the continuation lines
// after them.
func dropLines(lines []string, sub string) []string {
	var out []string
	dropping := false
	for _, l := range lines {
		if strings.HasPrefix(l, "   | ") {
			if !dropping {
				out = append(out, l)
			}
			continue
		}
		dropping = strings.Contains(l, sub)
		if !dropping {
			out = append(out, l)
		}
	}
	return out
}

func TestDeploymentsDifferential(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Log("SKIP: haproxy is not on PATH; the deployments corpus is compared with it")
		t.Skip("haproxy is not on PATH")
	}
	files, _ := filepath.Glob(filepath.Join(deploymentsDir, "*.cfg"))
	if len(files) == 0 {
		t.Fatalf("no corpus in %s", deploymentsDir)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".cfg"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			m := verdictRe.FindStringSubmatch(first)
			if m == nil {
				t.Fatalf("%s: first line must be '# goproxy-verdict: same|extra-warning|reject ...'", name)
			}
			args := []string{"-c", "-f", name}
			h := runBin(t, deploymentsDir, haproxy, cleanEnv(), args...)
			g := runBin(t, deploymentsDir, goproxyBin, cleanEnv(), args...)
			hl, gl := diagLines(h.stderr), diagLines(g.stderr)
			show := "\n--- haproxy\n" + mask(h.stdout+h.stderr) + "--- goproxy\n" + mask(g.stdout+g.stderr)
			switch m[1] {
			case "reject":
				if h.code != 0 {
					t.Fatalf("haproxy exit %d: the corpus holds files HAProxy accepts%s", h.code, show)
				}
				if g.code == 0 {
					t.Fatalf("goproxy now accepts %s (expected a rejection: %s): flip its verdict to 'same'%s", name, m[2], show)
				}
				if g.code != 1 {
					t.Errorf("goproxy exit %d, want 1%s", g.code, show)
				}
				for _, l := range unlocatedAlerts(g.stderr) {
					t.Errorf("alert without file and line: %s", l)
				}
				return
			case "extra-warning":
				sub, _, _ := strings.Cut(m[2], " ")
				gl = dropLines(gl, sub)
				if len(hl) == 0 {
					// goproxy's own warnings were the only ones.
					g.stdout = strings.Replace(g.stdout, "Warnings were found.\n", "", 1)
				}
			}
			if h.code != g.code {
				t.Errorf("exit code: haproxy %d, goproxy %d%s", h.code, g.code, show)
			}
			if strings.Join(hl, "\n") != strings.Join(gl, "\n") {
				t.Errorf("WARNING/ALERT lines differ%s", show)
			}
			if h.stdout != g.stdout {
				t.Errorf("verdict lines differ: haproxy %q, goproxy %q", h.stdout, g.stdout)
			}
		})
	}
}
