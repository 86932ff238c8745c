package main

import (
	"bufio"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestE2EConnRateLimitLikeHAProxy opens 12 connections at once through a
// proxy with "maxconnrate 4" and records when each is served (the backend's
// greeting arrives once the proxy accepted and connected). HAProxy's
// estimate of the rate gives a burst of 4, then, from the end of the first
// second, one connection every 250 ms: goproxy and haproxy serve the same
// schedule.
func TestE2EConnRateLimitLikeHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 seconds per proxy")
	}
	got := map[string][]time.Duration{}
	for name, bin := range oracles(t) {
		ss := nameServers(t, 1)
		global := []string{"maxconnrate 4"}
		if name == "haproxy" {
			// HAProxy's threads check the rate and count the connection
			// apart, so two of them sometimes both take the last one of a
			// turn; with one thread its schedule is exact. goproxy keeps
			// its loops (one per CPU): it checks and counts at once.
			global = append(global, "nbthread 1")
		}
		addr, _ := e2eCfg{global: global, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		got[name] = servedTimes(t, addr, 12)
	}
	for name, times := range got {
		t.Logf("%s: %v", name, times)
		// The burst: 4 at once.
		if times[3] > 300*time.Millisecond || times[4] < 800*time.Millisecond {
			t.Errorf("%s: burst %v, then %v; want 4 at once, the 5th after the first second", name, times[:4], times[4])
		}
		// Then one every 250 ms (the first second starts at the first
		// connection).
		for i := 5; i < len(times); i++ {
			if gap := times[i] - times[i-1]; gap < 150*time.Millisecond || gap > 400*time.Millisecond {
				t.Errorf("%s: connection %d served %v after the previous, want ~250ms", name, i+1, gap)
			}
		}
	}
	if h, ok := got["haproxy"]; ok {
		g := got["goproxy"]
		for i := range g {
			if d := g[i] - h[i]; d > 200*time.Millisecond || d < -200*time.Millisecond {
				t.Errorf("connection %d served at %v by goproxy, %v by haproxy", i+1, g[i], h[i])
			}
		}
	}
}

// servedTimes opens n connections at once to addr and returns, sorted, how
// long after the start each one got its greeting.
func servedTimes(t *testing.T, addr string, n int) []time.Duration {
	t.Helper()
	start := time.Now()
	times := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialFrom(srcIP(i), addr)
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(8 * time.Second))
			if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				errs[i] = err
				return
			}
			times[i] = time.Since(start)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
	}
	slices.Sort(times)
	return times
}
