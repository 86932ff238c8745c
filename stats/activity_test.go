package stats

import (
	"regexp"
	"strings"
	"testing"
)

// TestShowActivityPoolsFD checks the shapes of HAProxy 2.6's developer
// dumps that goproxy keeps: the keys and bracketed per-thread columns of
// show activity, the header and total line of show pools, "%7d : " lines of
// show fd, and HAProxy's empty answer for a descriptor it does not know.
func TestShowActivityPoolsFD(t *testing.T) {
	srv := newTestServer(t, newFakeSource())
	act := run(srv, LevelUser, "show activity")
	lines := strings.Split(strings.TrimSuffix(act, "\n\n"), "\n")
	if len(lines) != 2+len(activityKeys) {
		t.Fatalf("show activity: %d lines:\n%s", len(lines), act)
	}
	if !regexp.MustCompile(`^thread_id: 1 \(1\.\.\d+\)$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^date_now: \d+\.\d{6}$`).MatchString(lines[1]) {
		t.Fatalf("show activity head:\n%s", act)
	}
	row := regexp.MustCompile(`^([a-z_0-9]+): \d+ \[( \d+)+ \]$`)
	for i, l := range lines[2:] {
		m := row.FindStringSubmatch(l)
		if m == nil || m[1] != activityKeys[i] {
			t.Fatalf("show activity line %q, want key %s", l, activityKeys[i])
		}
	}
	pools := run(srv, LevelUser, "show pools")
	if !regexp.MustCompile(`^Dumping pools usage\. Use SIGQUIT to flush them\.\nTotal: 0 pools, \d+ bytes allocated, \d+ used \(~0 by thread caches\)\.\n\n$`).MatchString(pools) {
		t.Fatalf("show pools: %q", pools)
	}
	fd := run(srv, LevelOperator, "show fd")
	if !regexp.MustCompile(`^(\s{0,6}\d+ : type=(socket|pipe|file|other) target=\S.*\n)+\n$`).MatchString(fd) {
		t.Fatalf("show fd:\n%s", fd)
	}
	if got := run(srv, LevelOperator, "show fd 0"); !strings.HasPrefix(got, "      0 : type=") {
		t.Fatalf("show fd 0: %q", got)
	}
	for _, cmd := range []string{"show fd x", "show fd 999999"} {
		if got := run(srv, LevelOperator, cmd); got != "\n" {
			t.Fatalf("%s: %q", cmd, got)
		}
	}
	if got := run(srv, LevelUser, "show fd"); got != permissionDenied+"\n" {
		t.Fatalf("show fd as user: %q", got)
	}
}
