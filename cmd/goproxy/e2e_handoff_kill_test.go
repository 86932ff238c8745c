package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestE2EHandoffNewProcessKilled kills the new process in the middle of a
// session handoff (once it holds the descriptors of a first batch): the
// sessions it had taken end with it, closed at once by the kernel; every
// other one stays with the old process and goes on exchanging; none hangs.
func TestE2EHandoffNewProcessKilled(t *testing.T) {
	t.Parallel()
	const sessions = 600
	var dials atomic.Int64
	srv := startSpeaker(t, echoLines(&dials))
	addr := loopAddr(t)
	// One event loop: each pass of the handoff then freezes at most one
	// batch, so the sessions a killed process took are whole batches.
	hc := handoffConfig(srv.addr())
	hc.global = append(hc.global, "nbthread 1")
	text := hc.render(addr)
	cfg := writeFile(t, t.TempDir(), "handoff.cfg", text)
	old := startServing(t, goproxyBin, text, addr)

	conns := make([]*net.TCPConn, sessions)
	readers := make([]*bufio.Reader, sessions)
	exchange := func(i, seq int) error {
		c := conns[i]
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		want := strconv.Itoa(i) + ":" + strconv.Itoa(seq) + "\n"
		if _, err := c.Write([]byte(want)); err != nil {
			return err
		}
		got, err := readers[i].ReadString('\n')
		if err == nil && got != want {
			t.Errorf("session %d: got %q, want %q", i, got, want)
		}
		return err
	}
	for i := range conns {
		c, err := dialFrom(srcIP(i), addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i], readers[i] = c, bufio.NewReader(c)
		if err := exchange(i, 0); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}

	nu := startBin(t, goproxyBin, cfg, "-sf", strconv.Itoa(old.pid()))
	base := -1
	killed := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && nu.running(); {
		n := openFDs(nu.pid())
		if base < 0 && n > 0 {
			base = n
		}
		// A batch is 100 sessions, two descriptors each.
		if base >= 0 && n >= base+150 {
			_ = syscall.Kill(nu.pid(), syscall.SIGKILL)
			killed = true
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	if !killed {
		t.Skip("SKIP: the handoff ended before the new process could be killed in its middle")
	}
	nu.waitExit(t, 5*time.Second)

	var alive, closed atomic.Int64
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for seq := 1; seq <= 3; seq++ {
				err := exchange(i, seq)
				var ne net.Error
				switch {
				case err == nil:
					continue
				case errors.As(err, &ne) && ne.Timeout():
					t.Errorf("session %d hangs: %v", i, err)
				default:
					closed.Add(1)
				}
				return
			}
			alive.Add(1)
		}(i)
	}
	wg.Wait()
	t.Logf("%d sessions: %d went on with the old process, %d ended with the killed new one", sessions, alive.Load(), closed.Load())
	if alive.Load() == 0 {
		t.Errorf("no session stayed with the old process")
	}
	if alive.Load() > 0 && !old.running() {
		t.Errorf("the old process is gone but sessions still answer")
	}
	if closed.Load()%100 != 0 {
		t.Errorf("%d sessions ended: not whole batches of 100", closed.Load())
	}
	if dials.Load() != sessions {
		t.Errorf("%d server connections for %d sessions: a session was re-dialled", dials.Load(), sessions)
	}
}

// openFDs counts the open descriptors of process pid, or -1.
func openFDs(pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}
