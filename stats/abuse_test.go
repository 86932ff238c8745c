package stats

import (
	"testing"
	"time"

	"goproxy/internal/nettest"
	"goproxy/parser"
)

// TestOperatorAnswersUnderAbuse: with the seed's stats timeout 2m and the
// default stats maxconn, 200 misbehaving local clients (random binary,
// 1 MB lines, endless lines, one byte every 200 ms) must not keep "show
// stat" from answering within a second, every time, while they run; and
// it answers at once when they leave.
func TestOperatorAnswersUnderAbuse(t *testing.T) {
	if testing.Short() {
		t.Skip("abuse test skipped in -short mode")
	}
	srv, path := startServer(t, parser.Global{StatsTimeout: 2 * time.Minute}, newFakeSource())
	want := golden(t, "show-stat.csv")
	ab := nettest.StartCLIAbuse(t, path, 200)
	// Let the abusers settle in: the slow ones would hold every slot of a
	// CLI that gives one per connection.
	deadline := time.Now().Add(5 * time.Second)
	for ab.Connects() < 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	var during nettest.Timing
	for i := 0; i < 20; i++ {
		got, took, err := nettest.AskUnix(path, "show stat\n", 2*time.Second)
		if err != nil || got != want {
			t.Fatalf("try %d under abuse: %v after %v (got %.80q)", i, err, took, got)
		}
		if took > time.Second {
			t.Errorf("try %d under abuse: answered after %v", i, took)
		}
		during = append(during, took)
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("show stat under abuse: max %v, median %v over %d tries; %d abuser connections, %d evictions",
		during.Max(), during.Median(), len(during), ab.Connects(), srv.evictions.Load())
	ab.Stop()
	got, took, err := nettest.AskUnix(path, "show stat\n", 2*time.Second)
	if err != nil || got != want {
		t.Fatalf("after abuse: %v after %v (got %.80q)", err, took, got)
	}
	if took > time.Second {
		t.Errorf("after abuse: answered after %v", took)
	}
	t.Logf("show stat after the abusers left: %v", took)
}
