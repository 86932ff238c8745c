package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestE2EAdminStateLogLevels puts servers in maintenance and drain through
// the stats socket of goproxy and haproxy: both send the same state lines
// at the same syslog levels (going DOWN for maintenance is an alert, a
// notice when the server was draining).
func TestE2EAdminStateLogLevels(t *testing.T) {
	t.Parallel()
	header := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d haproxy\[\d+\]: `)
	got := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		sink := startSyslog(t)
		sock := filepath.Join(t.TempDir(), "admin.sock")
		ss := nameServers(t, 2)
		_, _ = e2eCfg{
			global:   []string{"log " + sink.addr() + " local2", "stats socket " + sock + " level admin"},
			defaults: []string{"log global"},
			servers:  srvLines(ss, []int{1, 1}),
		}.runWith(t, bin)
		waitFor(t, 5*time.Second, "the stats socket", func() bool { _, err := cliErr(sock, "show info"); return err == nil })
		for _, c := range []string{"disable server be/s1", "set server be/s2 state drain", "set server be/s2 state maint", "enable server be/s1"} {
			cli(t, sock, c)
			time.Sleep(50 * time.Millisecond)
		}
		var lines []string
		deadline := time.After(3 * time.Second)
		for len(lines) < 5 {
			select {
			case m := <-sink.msgs:
				m = strings.TrimRight(m, "\n\x00")
				if sm := header.FindStringSubmatch(m); sm != nil {
					lines = append(lines, "<"+sm[1]+">"+m[len(sm[0]):])
				}
			case <-deadline:
				t.Fatalf("got %d state lines: %q", len(lines), lines)
			}
		}
		got[bin] = lines
	})
	var all [][]string
	for _, l := range got {
		all = append(all, l)
	}
	if len(all) == 2 && strings.Join(all[0], "\n") != strings.Join(all[1], "\n") {
		t.Errorf("state lines differ:\n%s\n---\n%s", strings.Join(all[0], "\n"), strings.Join(all[1], "\n"))
	}
}
