package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
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
	srv := startSpeaker(t, echoLines(&dials))
	addr := loopAddr(t)
	text := handoffConfig(srv.addr()).render(addr)
	cfg := writeFile(t, t.TempDir(), "handoff.cfg", text)
	if h, err := exec.LookPath("haproxy"); err == nil {
		if out, err := exec.Command(h, "-c", "-f", cfg).CombinedOutput(); err != nil {
			t.Errorf("haproxy -c rejects the configuration: %v\n%s", err, out)
		}
	} else {
		t.Log("SKIP: haproxy -c on the configuration: haproxy is not on PATH")
	}
	cur := startServing(t, goproxyBin, text, addr)

	ex := startExchangers(t, addr, sessions)
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
	ex.finish(t, reloads, dials.Load())
}

// echoLines is a server that echoes lines back, counting its connections.
func echoLines(dials *atomic.Int64) func(c *net.TCPConn) {
	return func(c *net.TCPConn) {
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
	}
}

// handoffConfig is a frontend to server with session-handoff, kept in an
// .if feature(GOPROXY) block so that haproxy accepts the file.
func handoffConfig(server string) e2eCfg {
	return e2eCfg{
		global:   []string{"maxconn 2000", ".if feature(GOPROXY)", "    session-handoff", ".endif"},
		defaults: []string{"timeout client 1m", "timeout server 1m"},
		servers:  []string{"server s1 " + server},
	}
}

// TestE2ESessionHandoffMasterWorker reloads a master-worker goproxy with
// SIGUSR2, as systemd's ExecReload does, while sessions exchange lines:
// the new worker takes every session from the old one, which is gone
// from show proc within seconds, and no session breaks or is re-dialled.
func TestE2ESessionHandoffMasterWorker(t *testing.T) {
	t.Parallel()
	const sessions, reloads = 60, 3
	var dials atomic.Int64
	srv := startSpeaker(t, echoLines(&dials))
	addr := loopAddr(t)
	dir := t.TempDir()
	mcli := filepath.Join(dir, "master.sock")
	cfg := writeFile(t, dir, "handoff.cfg", handoffConfig(srv.addr()).render(addr))
	m := startMW(t, goproxyBin, nil, "-W", "-S", mcli, "-f", cfg)
	waitMaster(t, m, addr)
	_, cur, _ := showProc(t, mcli)
	if len(cur) != 1 {
		t.Fatalf("show proc: %d workers, want 1", len(cur))
	}
	killLater(t, cur[0].pid)
	ex := startExchangers(t, addr, sessions)
	for i := 0; i < reloads; i++ {
		prev := cur[0].pid
		start := time.Now()
		if err := syscall.Kill(m.pid(), syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "a new worker and no old one", func() bool {
			var old []procEntry
			_, cur, old = showProc(t, mcli)
			return len(cur) == 1 && cur[0].pid != prev && len(old) == 0
		})
		killLater(t, cur[0].pid)
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("reload %d: the old worker left after %v", i, took)
		}
		time.Sleep(500 * time.Millisecond)
	}
	ex.finish(t, reloads, dials.Load())
}

// exchangers are client sessions that each send a sequence-numbered line
// every 200 ms and read it back from an echoing server.
type exchangers struct {
	sessions  int
	stop      chan struct{}
	wg        sync.WaitGroup
	exchanged atomic.Int64
	broken    atomic.Int64
	firstErr  atomic.Value
}

// startExchangers opens n sessions to addr, from several source
// addresses, and returns once each has exchanged its first line.
func startExchangers(t *testing.T, addr string, n int) *exchangers {
	t.Helper()
	ex := &exchangers{sessions: n, stop: make(chan struct{})}
	stop, wg, exchanged, broken, firstErr := ex.stop, &ex.wg, &ex.exchanged, &ex.broken, &ex.firstErr
	sessions := n
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
	return ex
}

// finish stops the sessions and checks that none broke and that none was
// re-dialled to the server (dials server connections for the sessions).
func (ex *exchangers) finish(t *testing.T, reloads int, dials int64) {
	t.Helper()
	close(ex.stop)
	ex.wg.Wait()
	e, _ := ex.firstErr.Load().(string)
	t.Logf("%d sessions over %d reloads: %d lines exchanged, %d sessions broken (%s), %d server connections", ex.sessions, reloads, ex.exchanged.Load(), ex.broken.Load(), e, dials)
	if ex.broken.Load() != 0 {
		t.Errorf("%d sessions broken; first: %s", ex.broken.Load(), e)
	}
	if dials != int64(ex.sessions) {
		t.Errorf("%d server connections for %d sessions: a session was re-dialled", dials, ex.sessions)
	}
}
