package stats

import (
	"regexp"
	"strings"
	"testing"
)

// transcript splits a golden admin transcript into (command, answer) pairs.
func transcript(text string) [][2]string {
	var out [][2]string
	for _, part := range strings.Split(text, ">>> ")[1:] {
		nl := strings.IndexByte(part, '\n')
		out = append(out, [2]string{part[:nl], part[nl+1:]})
	}
	return out
}

// maskState hides the time since last change in show servers state lines.
var maskState = regexp.MustCompile(`(?m)^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+ )\d+`)

func TestAdminTranscripts(t *testing.T) {
	for _, file := range []string{
		"admin-disable-server.txt", "admin-set-state.txt", "admin-weight.txt",
		"admin-maxconn.txt", "admin-misc.txt", "admin-clear.txt",
	} {
		t.Run(file, func(t *testing.T) {
			f := newFakeSource()
			srv := newTestServer(t, f)
			for _, step := range transcript(golden(t, file)) {
				cmd, want := step[0], step[1]
				got := run(srv, LevelAdmin, cmd)
				if strings.HasPrefix(cmd, "show sess") {
					// Debug-grade format: check the session ids only.
					if strings.Count(got, "\n") != strings.Count(want, "\n") {
						t.Errorf("%s: got %q want %q", cmd, got, want)
					}
					continue
				}
				if strings.HasPrefix(cmd, "show servers state") {
					// Health counters move with the checks of the real
					// process; compare the shape and the admin state.
					got, want = maskState.ReplaceAllString(got, "${1}T"), maskState.ReplaceAllString(want, "${1}T")
					gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
					if len(gl) != len(wl) {
						t.Fatalf("%s: %d lines, want %d", cmd, len(gl), len(wl))
					}
					for i := range wl {
						gf, wf := strings.Fields(gl[i]), strings.Fields(wl[i])
						if len(gf) != len(wf) {
							t.Fatalf("%s line %d: got %q want %q", cmd, i, gl[i], wl[i])
						}
						for _, c := range []int{0, 1, 2, 3, 4, 6, 7, 8, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24} {
							if c < len(wf) && gf[c] != wf[c] {
								t.Errorf("%s line %d field %d: got %q want %q", cmd, i, c, gl[i], wl[i])
							}
						}
					}
					continue
				}
				if got != want {
					t.Errorf("%s:\n got %q\nwant %q", cmd, got, want)
				}
			}
		})
	}
}

func TestLevelsTranscript(t *testing.T) {
	text := golden(t, "cli-levels.txt")
	for _, step := range transcript(text) {
		cmd, want := step[0], step[1]
		got := run(newTestServer(t, newFakeSource()), LevelAdmin, cmd)
		// Compare answer by answer: each is followed by an empty line.
		// Answers with live data (show stat, show info, show servers
		// state, show sess) are only checked for being there.
		cmds := splitCommands(cmd)
		gs, ws := splitAnswers(got, len(cmds)), splitAnswers(want, len(cmds))
		for i, c := range cmds {
			name := strings.Join(c, " ")
			switch {
			case strings.HasPrefix(name, "show stat"), strings.HasPrefix(name, "show info"),
				strings.HasPrefix(name, "show servers"), strings.HasPrefix(name, "show sess"):
				if (gs[i] == "") != (ws[i] == "") || strings.HasPrefix(ws[i], "Permission") != strings.HasPrefix(gs[i], "Permission") {
					t.Errorf("%s: got %.80q want %.80q", name, gs[i], ws[i])
				}
			default:
				if gs[i] != ws[i] {
					t.Errorf("%s: got %.200q want %.200q", name, gs[i], ws[i])
				}
			}
		}
	}
}

// splitAnswers cuts a non-interactive output into n answers using the empty
// line that ends each of them (answers here never contain an empty line).
func splitAnswers(out string, n int) []string {
	res := make([]string, n)
	for i := 0; i < n; i++ {
		j := strings.Index(out, "\n\n")
		if out != "" && out[0] == '\n' {
			j = -1
		}
		switch {
		case out == "":
		case j < 0 || out[0] == '\n':
			res[i], out = "", out[1:]
		default:
			res[i], out = out[:j+1], out[j+2:]
		}
	}
	return res
}
