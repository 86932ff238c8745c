package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestE2ESessionHandoff reloads with -sf and session-handoff while
// long-lived sessions exchange sequence-numbered lines: every session
// moves to the new process without losing, duplicating or reordering a
// line, no session is re-dialled to its server, and the old process is
// gone within a second of each reload. The configuration keeps the
// extension inside .if feature(GOPROXY), which haproxy -c accepts.
func TestE2ESessionHandoff(t *testing.T) {
	t.Parallel()
	const sessions, reloads = 200, 5
	var dials atomic.Int64
	srv := startSpeaker(t, func(c *net.TCPConn) {
		dials.Add(1)
		r := bufio.NewReader(c)
		for i := 0; i < 1<<20; i++ {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := c.Write([]byte(line)); err != nil {
				return
			}
		}
	})
	addr := loopAddr(t)
	text := e2eCfg{
		global:   []string{"maxconn 2000", ".if feature(GOPROXY)", "    session-handoff", ".endif"},
		defaults: []string{"timeout client 1m", "timeout server 1m"},
		servers:  []string{"server s1 " + srv.addr()},
	}.render(addr)
	cfg := writeFile(t, t.TempDir(), "handoff.cfg", text)
	if h, err := exec.LookPath("haproxy"); err == nil {
		if out, err := exec.Command(h, "-c", "-f", cfg).CombinedOutput(); err != nil {
			t.Errorf("haproxy -c rejects the configuration: %v\n%s", err, out)
		}
	} else {
		t.Log("SKIP: haproxy -c on the configuration: haproxy is not on PATH")
	}
	cur := startServing(t, goproxyBin, text, addr)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var exchanged, broken atomic.Int64
	var firstErr atomic.Value
	ready := make(chan struct{}, sessions)
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := dialFrom(srcIP(i), addr)
			if err != nil {
				broken.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				ready <- struct{}{}
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			for seq := 0; seq < 1<<20; seq++ {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				want := strconv.Itoa(i) + ":" + strconv.Itoa(seq) + "\n"
				if _, err := c.Write([]byte(want)); err != nil {
					broken.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("session %d, line %d: %v", i, seq, err))
					return
				}
				got, err := r.ReadString('\n')
				if err != nil || got != want {
					broken.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("session %d: got %q (%v), want %q", i, got, err, want))
					return
				}
				exchanged.Add(1)
				if seq == 0 {
					ready <- struct{}{}
				}
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}(i)
	}
	for i := 0; i < sessions; i++ {
		<-ready
	}
	for i := 0; i < reloads; i++ {
		nu := startBin(t, goproxyBin, cfg, "-sf", strconv.Itoa(cur.pid()))
		start := time.Now()
		code := cur.waitExit(t, 10*time.Second)
		if took := time.Since(start); took > 2*time.Second || code != 0 {
			t.Errorf("reload %d: the old process exited %d after %v, want 0 within a second or so:\n%s", i, code, took, cur.out.String())
		}
		if !nu.running() {
			t.Fatalf("reload %d: the new process is gone:\n%s", i, nu.out.String())
		}
		cur = nu
		time.Sleep(1500 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	e, _ := firstErr.Load().(string)
	t.Logf("%d sessions over %d reloads: %d lines exchanged, %d sessions broken (%s), %d server connections", sessions, reloads, exchanged.Load(), broken.Load(), e, dials.Load())
	if broken.Load() != 0 {
		t.Errorf("%d sessions broken; first: %s", broken.Load(), e)
	}
	if dials.Load() != sessions {
		t.Errorf("%d server connections for %d sessions: a session was re-dialled", dials.Load(), sessions)
	}
}
