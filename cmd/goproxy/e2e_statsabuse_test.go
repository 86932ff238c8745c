package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"goproxy/internal/nettest"
)

// TestE2EStatsSocketUnderAbuse runs the seed's stats socket (level admin,
// stats timeout 2m) beside 200 misbehaving local clients (random binary,
// 1 MB lines, endless lines, one byte every 200 ms) and times what an
// operator types, echo "show stat" | socat stdio SOCK, while they run and
// right after they leave. goproxy must answer every time within a second.
// HAProxy 2.6, when installed, is measured the same way and only logged:
// its ten CLI slots are held by the slow clients until the stats timeout.
func TestE2EStatsSocketUnderAbuse(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 5 seconds, 25 more with haproxy")
	}
	ask := askSocat
	if _, err := exec.LookPath("socat"); err != nil {
		t.Log("SKIP socat: not installed; asking with a Go unix-socket client")
		ask = askGo
	}
	bins := oracles(t)
	for _, name := range []string{"goproxy", "haproxy"} {
		bin, ok := bins[name]
		if !ok {
			continue // oracles said SKIP
		}
		if name == "haproxy" && os.Getenv("GOPROXY_SLOW_DIFF") == "" {
			// haproxy holds its slots for the whole stats timeout: the
			// run takes 20 s more and only logs its failure.
			t.Log("SKIP haproxy half: set GOPROXY_SLOW_DIFF=1 to run it (measured: 0 of 5 answers within 1 s)")
			continue
		}
		t.Run(name, func(t *testing.T) { statsUnderAbuse(t, bin, name == "goproxy", ask) })
	}
}

// asker sends "show stat" to the socket as an operator does and returns
// the answer and how long it took.
type asker func(t *testing.T, sock string) (string, time.Duration)

// askSocat runs echo "show stat" | socat stdio SOCK. socat waits half a
// second after its input ends for the answer, then exits with what it got;
// it is killed after 2 s (a unix connect blocks while the listen queue is
// full, as HAProxy's is under this abuse).
func askSocat(t *testing.T, sock string) (string, time.Duration) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "socat", "stdio", sock)
	cmd.Stdin = strings.NewReader("show stat\n")
	start := time.Now()
	out, _ := cmd.Output()
	return string(out), time.Since(start)
}

// askGo does the same with a Go client and socat's half second.
func askGo(t *testing.T, sock string) (string, time.Duration) {
	out, took, _ := nettest.AskUnix(sock, "show stat\n", 500*time.Millisecond)
	return out, took
}

func statsUnderAbuse(t *testing.T, bin string, strict bool, ask asker) {
	be := startNameServer(t, "s1", "127.0.0.1:0")
	sock := filepath.Join(t.TempDir(), "haproxy.sock")
	_, p := e2eCfg{
		global:  []string{"stats socket " + sock + " mode 600 level admin", "stats timeout 2m"},
		servers: []string{"server s1 " + be.addr()},
	}.runWith(t, bin)
	answers := func(out string) bool {
		return strings.HasPrefix(out, "# pxname,svname,") && strings.Contains(out, "\nbe,s1,")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if out, _, err := nettest.AskUnix(sock, "show stat\n", time.Second); err == nil && answers(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats socket %s never answered; output:\n%s", sock, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	baseFDs := fdCount(t, p.pid())
	// The same question without abuse, for scale (the machine may be busy).
	var calm nettest.Timing
	for range 10 {
		_, took := ask(t, sock)
		calm = append(calm, took)
	}
	t.Logf("show stat without abuse: max %v, median %v over %d tries",
		calm.Max().Round(time.Millisecond), calm.Median().Round(time.Millisecond), len(calm))

	ab := nettest.StartCLIAbuse(t, sock, 200)
	deadline = time.Now().Add(5 * time.Second)
	for ab.Connects() < 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	tries := 20
	if !strict {
		tries = 5 // each try costs HAProxy's 2 s
	}
	var during nettest.Timing
	failed := 0
	for i := 0; i < tries; i++ {
		out, took := ask(t, sock)
		during = append(during, took)
		if !answers(out) || took > time.Second {
			failed++
			if strict {
				t.Errorf("try %d under abuse: %d bytes after %v (%.60q)", i, len(out), took, out)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("show stat under abuse: %d/%d answered within 1s; max %v, median %v; %d abuser connections",
		tries-failed, tries, during.Max().Round(time.Millisecond), during.Median().Round(time.Millisecond), ab.Connects())

	ab.Stop()
	left := time.Now()
	out, took := ask(t, sock)
	first := answers(out) && took <= time.Second
	t.Logf("show stat right after the abusers left: answered %v after %v", answers(out), took.Round(time.Millisecond))
	if strict && !first {
		t.Errorf("after the abusers left: %d bytes after %v", len(out), took)
	}
	if !first {
		// How long until the socket answers again (a few more tries).
		for i := 0; i < 5 && !answers(out); i++ {
			out, _ = ask(t, sock)
		}
		if answers(out) {
			t.Logf("first answer %v after the abusers left", time.Since(left).Round(time.Millisecond))
		} else {
			t.Logf("still no answer %v after the abusers left", time.Since(left).Round(time.Millisecond))
		}
	}
	if !strict {
		return
	}
	// Nothing left behind: the abusers' connections are all closed.
	deadline = time.Now().Add(5 * time.Second)
	for fdCount(t, p.pid()) > baseFDs+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := fdCount(t, p.pid()); n > baseFDs+2 {
		t.Errorf("%d fds open after the abusers left, %d before", n, baseFDs)
	}
	if !p.running() {
		t.Fatalf("%s exited: %v", bin, p.err)
	}
}
