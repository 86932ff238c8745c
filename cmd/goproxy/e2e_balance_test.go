package main

import (
	"fmt"
	"testing"
	"time"
)

// srvLines renders "server sN ADDR weight W EXTRA" for each backend.
func srvLines(ss []*nameServer, weights []int, extra ...string) []string {
	var out []string
	for i, s := range ss {
		l := fmt.Sprintf("server %s %s weight %d", s.name, s.addr(), weights[i])
		for _, e := range extra {
			l += " " + e
		}
		out = append(out, l)
	}
	return out
}

func TestE2EBalanceWeighted(t *testing.T) {
	t.Parallel()
	onOracles(t, testBalanceWeighted)
}

func testBalanceWeighted(t *testing.T, bin string) {
	for _, algo := range []string{"roundrobin", "static-rr"} {
		t.Run(algo, func(t *testing.T) {
			ss := nameServers(t, 3)
			addr, _ := e2eCfg{backend: []string{"balance " + algo}, servers: srvLines(ss, []int{1, 2, 3})}.runWith(t, bin)
			got := counts(askN(t, addr, "127.0.0.2", 60))
			want := map[string]int{"s1": 10, "s2": 20, "s3": 30}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("60 connections with weights 1/2/3: %v, want %v", got, want)
			}
		})
	}

	t.Run("leastconn", func(t *testing.T) {
		ss := nameServers(t, 3, holding)
		addr, _ := e2eCfg{backend: []string{"balance leastconn"}, servers: srvLines(ss, []int{1, 2, 3})}.runWith(t, bin)
		var names []string
		for i := 0; i < 30; i++ {
			_, n := openName(t, srcIP(i), addr)
			names = append(names, n)
		}
		got := counts(names)
		want := map[string]int{"s1": 5, "s2": 10, "s3": 15}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("30 held connections with weights 1/2/3: %v, want %v", got, want)
		}
	})

	t.Run("first", func(t *testing.T) {
		ss := nameServers(t, 3, holding)
		addr, _ := e2eCfg{backend: []string{"balance first"}, servers: srvLines(ss, []int{1, 1, 1}, "maxconn 3")}.runWith(t, bin)
		var names []string
		for i := 0; i < 7; i++ {
			_, n := openName(t, srcIP(i), addr)
			names = append(names, n)
		}
		want := "[s1 s1 s1 s2 s2 s2 s3]"
		if fmt.Sprint(names) != want {
			t.Errorf("held connections went to %v, want %v", names, want)
		}
	})

	for _, hash := range []string{"map-based", "consistent"} {
		t.Run("source "+hash, func(t *testing.T) {
			ss := nameServers(t, 3)
			addr, _ := e2eCfg{backend: []string{"balance source", "hash-type " + hash}, servers: srvLines(ss, []int{1, 1, 4})}.runWith(t, bin)
			first := askN(t, addr, "", 200)
			again := askN(t, addr, "", 200)
			for i := range first {
				if first[i] != again[i] {
					t.Fatalf("source %s went to %s then %s", srcIP(i), first[i], again[i])
				}
			}
			got := counts(first)
			if got["s1"] == 0 || got["s2"] == 0 || got["s3"] <= got["s1"] || got["s3"] <= got["s2"] {
				t.Errorf("200 sources over weights 1/1/4: %v", got)
			}
		})
	}

	t.Run("random", func(t *testing.T) {
		ss := nameServers(t, 2)
		addr, _ := e2eCfg{backend: []string{"balance random"}, servers: srvLines(ss, []int{1, 4})}.runWith(t, bin)
		got := counts(askN(t, addr, "127.0.0.2", 200))
		if got["s1"] == 0 || got["s2"] < 2*got["s1"] {
			t.Errorf("200 connections over weights 1/4: %v", got)
		}
	})
}

func TestE2EBackupTakeover(t *testing.T) {
	onOracles(t, testBackupTakeover)
}

func testBackupTakeover(t *testing.T, bin string) {
	ss := nameServers(t, 3)
	servers := []string{
		"server s1 " + ss[0].addr() + " disabled",
		"server s2 " + ss[1].addr() + " disabled",
		"server s3 " + ss[2].addr() + " backup",
	}
	addr, _ := e2eCfg{servers: servers}.runWith(t, bin)
	got := counts(askN(t, addr, "127.0.0.2", 10))
	if got["s3"] != 10 {
		t.Errorf("with every active server disabled: %v, want all on the backup s3", got)
	}

	// A live active server takes the traffic back from the backup.
	servers[1] = "server s2 " + ss[1].addr()
	addr, _ = e2eCfg{servers: servers}.runWith(t, bin)
	got = counts(askN(t, addr, "127.0.0.2", 10))
	if got["s2"] != 10 {
		t.Errorf("with one active server up: %v, want all on s2", got)
	}
}

func TestE2EBackupTakeoverByChecks(t *testing.T) {
	for name, bin := range oracles(t) {
		t.Run(name, func(t *testing.T) {
			testBackupTakeoverByChecks(t, bin)
		})
	}
}

// testBackupTakeoverByChecks: both active servers have no listener and
// fail their checks; the backup takes over, and the first active server
// takes the traffic back once it listens and passes a check.
func testBackupTakeoverByChecks(t *testing.T, bin string) {
	backup := startNameServer(t, "b1", "127.0.0.1:0")
	a1, a2 := loopAddr(t), loopAddr(t)
	chk := "check inter 100ms fall 1 rise 1"
	cfg := e2eCfg{servers: []string{"server s1 " + a1 + " " + chk, "server s2 " + a2 + " " + chk, "server b1 " + backup.addr() + " backup " + chk}}
	addr, _ := cfg.runWith(t, bin)
	waitFor(t, 5*time.Second, "the backup to take over", func() bool {
		name, err := ask("127.0.0.2", addr)
		return err == nil && name == "b1"
	})
	if got := counts(askN(t, addr, "127.0.0.2", 10)); got["b1"] != 10 {
		t.Errorf("with both active servers DOWN: %v, want all on the backup", got)
	}
	startNameServer(t, "s1", a1)
	waitFor(t, 5*time.Second, "s1 to take the traffic back", func() bool {
		name, err := ask("127.0.0.2", addr)
		return err == nil && name == "s1"
	})
	if got := counts(askN(t, addr, "127.0.0.2", 10)); got["s1"] != 10 {
		t.Errorf("with s1 UP again: %v, want all on s1", got)
	}
}

func TestE2ERetriesRedispatch(t *testing.T) {
	t.Parallel()
	onOracles(t, testRetriesRedispatch)
}

func testRetriesRedispatch(t *testing.T, bin string) {
	ss := nameServers(t, 1)
	dead := loopAddr(t) // nobody listens: connections are refused
	cfg := e2eCfg{
		defaults: []string{"retries 2", "option redispatch"},
		servers:  []string{"server dead " + dead, "server " + ss[0].name + " " + ss[0].addr()},
	}
	addr, _ := cfg.runWith(t, bin)
	start := time.Now()
	got := counts(askN(t, addr, "127.0.0.2", 10))
	if got["s1"] != 10 {
		t.Errorf("with a refusing server and redispatch: %v, want all 10 on s1", got)
	}
	t.Logf("10 sessions, half of them first refused, in %v", time.Since(start))

	// Without redispatch the sessions sent to the refusing server fail
	// (after the turn-around before the retry: 1 s, or timeout connect
	// when shorter).
	cfg.defaults = []string{"retries 1", "timeout connect 200ms"}
	addr, _ = cfg.runWith(t, bin)
	served, failed := 0, 0
	for i := 0; i < 4; i++ {
		if _, err := ask("127.0.0.2", addr); err != nil {
			failed++
		} else {
			served++
		}
	}
	if served != 2 || failed != 2 {
		t.Errorf("roundrobin over a refusing and a live server without redispatch: %d served, %d failed, want 2 and 2", served, failed)
	}
}
