package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestE2ELogHealthChecks runs option log-health-checks on goproxy and
// haproxy with a server that answers, one that refuses and a backup of
// weight 0: both send HAProxy's "Health check for server ..." lines, at
// notice, before the state change they cause, whose line then carries no
// check reason.
func TestE2ELogHealthChecks(t *testing.T) {
	t.Parallel()
	header := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d haproxy\[\d+\]: `)
	duration := regexp.MustCompile(`check duration: \d+ms`)
	want := []string{
		`<189>Health check for backup server be/s3 succeeded, reason: Layer4 check passed, check duration: Nms, status: 2/2 DRAIN.`,
		`<189>Health check for server be/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 2/2 UP.`,
		`<189>Health check for server be/s2 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms, status: 0/2 DOWN.`,
		`<185>Server be/s2 is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
	}
	sort.Strings(want)
	onOracles(t, func(t *testing.T, bin string) {
		sink := startSyslog(t)
		ss := nameServers(t, 2)
		refused := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		_, _ = e2eCfg{
			global:   []string{"log " + sink.addr() + " local7"},
			defaults: []string{"log global"},
			backend:  []string{"option log-health-checks", "default-server check inter 200ms rise 2 fall 2"},
			servers: []string{
				"server s1 " + ss[0].addr(),
				"server s2 " + refused,
				"server s3 " + ss[1].addr() + " backup weight 0",
			},
		}.runWith(t, bin)
		var lines []string
		deadline := time.After(5 * time.Second)
		for len(lines) < len(want) {
			select {
			case m := <-sink.msgs:
				m = strings.TrimRight(m, "\n\x00")
				if sm := header.FindStringSubmatch(m); sm != nil {
					lines = append(lines, "<"+sm[1]+">"+duration.ReplaceAllString(m[len(sm[0]):], "check duration: Nms"))
				}
			case <-deadline:
				t.Fatalf("got %d lines: %q", len(lines), lines)
			}
		}
		// The failed check comes before the state change it causes.
		failedAt, downAt := -1, -1
		for i, l := range lines {
			switch {
			case strings.HasPrefix(l, "<189>Health check for server be/s2 failed"):
				failedAt = i
			case strings.HasPrefix(l, "<185>Server be/s2 is DOWN"):
				downAt = i
			}
		}
		if failedAt < 0 || downAt < failedAt {
			t.Errorf("the failed check is not logged before the state change: %q", lines)
		}
		sort.Strings(lines)
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
	})
}
