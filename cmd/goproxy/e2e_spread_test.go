package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EMaxSpreadChecks: four servers checked every 20 s, none
// listening. Their first checks are spread over the 20 s interval (the
// last one 15 s after start), unless max-spread-checks bounds that window:
// with 400 ms, all four are DOWN within the first second, on goproxy as on
// haproxy; without it, only the first is (the next is checked after 5 s).
func TestE2EMaxSpreadChecks(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		for _, tc := range []struct {
			global string
			down   int // servers DOWN 1.5 s after start
		}{
			{"max-spread-checks 400", 4},
			{"", 1},
		} {
			t.Run(strings.ReplaceAll(cmp(tc.global, "default"), " ", "_"), func(t *testing.T) {
				dir := t.TempDir()
				sock := filepath.Join(dir, "s.sock")
				var servers [][2]string
				for i := 1; i <= 4; i++ {
					servers = append(servers, [2]string{fmt.Sprintf("s%d", i), deadPort(t)})
				}
				fe := freePort(t)
				cfg := strings.ReplaceAll(runtimeConfig(dir, fe, sock, servers, tc.global), "inter 100ms", "inter 20s")
				cfg = strings.Replace(cfg, "    load-server-state-from-file global\n", "", 1)
				startServing(t, bin, cfg, fmt.Sprintf("127.0.0.1:%d", fe))
				start := time.Now()
				down := func(rows map[string]statRow) (n int) {
					for _, s := range servers {
						if strings.HasPrefix(rows["be/"+s[0]]["status"], "DOWN") {
							n++
						}
					}
					return n
				}
				rows := waitStat(t, sock, 3*time.Second, fmt.Sprintf("%d servers DOWN", tc.down), func(r map[string]statRow) bool { return down(r) >= tc.down })
				time.Sleep(time.Until(start.Add(1500 * time.Millisecond)))
				rows = showStat(t, sock)
				if n := down(rows); n != tc.down {
					t.Errorf("%d servers DOWN after 1.5 s, want %d", n, tc.down)
				}
			})
		}
	})
}

// cmp returns s, or def when s is empty.
func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
