package main

import (
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// TestECMPNodesAgree stands for an active/active pair behind ECMP: two
// goproxy nodes (and haproxy as a third, where installed) with the same
// configuration, balance source with hash-type consistent and one server
// DOWN by its health check on every node. Each of 1,000 client addresses
// reaches the same server through every node, so a flow that ECMP moves
// from one node to the other stays on its gateway.
func TestECMPNodesAgree(t *testing.T) {
	t.Parallel()
	const sources = 1000
	ss := nameServers(t, 4)
	servers := srvLines(ss, []int{1, 1, 2, 1}, "check inter 200ms")
	servers = append(servers, "server dead "+loopAddr(t)+" weight 2 check inter 100ms fall 1 rise 1")
	cfg := e2eCfg{backend: []string{"balance source", "hash-type consistent"}, servers: servers}
	nodes := map[string]string{}
	for _, n := range []string{"goproxy-a", "goproxy-b"} {
		addr := loopAddr(t)
		startServing(t, goproxyBin, cfg.render(addr), addr)
		nodes[n] = addr
	}
	if h, err := exec.LookPath("haproxy"); err == nil {
		addr := loopAddr(t)
		startServing(t, h, cfg.render(addr), addr)
		nodes["haproxy"] = addr
	} else {
		t.Log("SKIP: the haproxy node: haproxy is not on PATH")
	}
	// The dead server is marked DOWN within a few of its 100 ms checks.
	time.Sleep(600 * time.Millisecond)

	src := func(i int) string { return fmt.Sprintf("127.30.%d.%d", 1+i/250, 1+i%250) }
	choices := map[string][]string{}
	for name, addr := range nodes {
		got := make([]string, sources)
		var wg sync.WaitGroup
		errs := make(chan error, sources)
		sem := make(chan struct{}, 16)
		for i := 0; i < sources; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				n, err := ask(src(i), addr)
				if err != nil {
					errs <- fmt.Errorf("%s from %s: %w", name, src(i), err)
					return
				}
				got[i] = n
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		choices[name] = got
	}
	ref := choices["goproxy-a"]
	for name, got := range choices {
		differ := 0
		for i := range got {
			if got[i] != ref[i] {
				differ++
			}
		}
		if differ != 0 {
			t.Errorf("%s sends %d of %d sources to another server than goproxy-a", name, differ, sources)
		}
	}
	counts := map[string]int{}
	for _, n := range ref {
		counts[n]++
	}
	t.Logf("%d sources over %d nodes: %v", sources, len(nodes), counts)
	if counts["dead"] != 0 {
		t.Errorf("the DOWN server got %d sources", counts["dead"])
	}
	for _, s := range ss {
		if counts[s.name] < sources/10 {
			t.Errorf("%s got %d of %d sources: the hash does not spread", s.name, counts[s.name], sources)
		}
	}
}
