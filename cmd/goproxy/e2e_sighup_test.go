package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2ESIGHUPDump sends SIGHUP to goproxy and haproxy on the same
// configuration and traffic: both print the same server state lines.
func TestE2ESIGHUPDump(t *testing.T) {
	t.Parallel()
	sighupLine := regexp.MustCompile(`(?m)^\[WARNING\]  \(\d+\) : (SIGHUP.*)$`)
	got := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 2)
		cfg := e2eCfg{servers: []string{
			"server s1 " + ss[0].addr(),
			"server s2 " + ss[1].addr() + " backup",
			"server gone " + loopAddr(t) + " disabled",
		}}
		addr, p := cfg.runWith(t, bin)
		for i := 0; i < 3; i++ {
			if _, err := ask("127.0.0.2", addr); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(300 * time.Millisecond) // the sessions end in the proxy too
		if err := syscall.Kill(p.pid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		var lines []string
		waitFor(t, 5*time.Second, "the SIGHUP dump", func() bool {
			lines = nil
			for _, m := range sighupLine.FindAllStringSubmatch(p.out.String(), -1) {
				if !strings.Contains(m[1], "<HTTPCLIENT>") { // haproxy's internal proxy
					lines = append(lines, m[1])
				}
			}
			return len(lines) >= 6
		})
		if !p.running() {
			t.Fatal("the process exited on SIGHUP")
		}
		got[bin] = lines
	})
	var all [][]string
	for _, l := range got {
		all = append(all, l)
	}
	if len(all) == 2 && strings.Join(all[0], "\n") != strings.Join(all[1], "\n") {
		t.Errorf("SIGHUP dumps differ:\n%s\n---\n%s", strings.Join(all[0], "\n"), strings.Join(all[1], "\n"))
	}
}
