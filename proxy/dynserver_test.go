package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// dynServer is a parsed "add server" line for the tests.
func dynServer(t testing.TB, name string, weight int) *parser.Server {
	t.Helper()
	ps, msg := parser.ParseDynamicServer(&parser.Config{}, &parser.Proxy{Name: "be", Cap: parser.CapBackend}, nil,
		[]string{name, "127.0.0.1:9", "weight", fmt.Sprint(weight)})
	if msg != "" {
		t.Fatalf("parse %s: %s", name, msg)
	}
	return ps
}

// addReady adds a server and takes it out of maintenance.
func addReady(t testing.TB, b *Backend, name string, weight int) *Server {
	t.Helper()
	s, err := b.AddServer(dynServer(t, name, weight))
	if err != nil {
		t.Fatalf("AddServer %s: %v", name, err)
	}
	if s.usable() {
		t.Fatalf("%s usable right after add: a dynamic server starts in maintenance", name)
	}
	s.SetAdminMode(ModeReady, quietLog())
	return s
}

func TestAddServerStartsInMaintenanceWithLowestFreeID(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "roundrobin"}, srvSpec{weight: 1, id: 1}, srvSpec{weight: 1, id: 3})
	s, err := b.AddServer(dynServer(t, "d1", 5))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != 2 {
		t.Errorf("id %d, want 2 (the lowest free one)", s.ID)
	}
	if s.Admin()&srvstate.AdminForcedMaint == 0 || s.Running() {
		t.Errorf("admin %v running %v: want forced maintenance, stopped", s.Admin(), s.Running())
	}
	if s.UWeight() != 5 || s.ShownWeight() != 1 {
		t.Errorf("uweight %d shown %d, want 5 and 1 (HAProxy's weight before the options)", s.UWeight(), s.ShownWeight())
	}
	if got := counts(b, 100, nil); got["d1"] != 0 {
		t.Errorf("picks %v: the server in maintenance took traffic", got)
	}
	if _, err := b.AddServer(dynServer(t, "d1", 1)); !errors.Is(err, ErrServerExists) {
		t.Errorf("second d1: %v, want ErrServerExists", err)
	}
	s.SetAdminMode(ModeReady, quietLog())
	if got := counts(b, 70, nil); got["d1"] != 50 || got["s1"] != 10 || got["s2"] != 10 {
		t.Errorf("picks %v, want d1 50, s1 10, s2 10 (weights 5:1:1)", got)
	}
	d2, _ := b.AddServer(dynServer(t, "d2", 1))
	if d2.ID != 4 {
		t.Errorf("d2 id %d, want 4", d2.ID)
	}
}

func TestAddServerRefusedByStaticAlgorithms(t *testing.T) {
	for _, c := range []lbConf{{algo: "static-rr"}, {algo: "source"}} {
		b := newTestBackend(t, c, weights(1)...)
		if _, err := b.AddServer(dynServer(t, "d1", 1)); !errors.Is(err, ErrStaticLB) {
			t.Errorf("%s: %v, want ErrStaticLB", c.algo, err)
		}
	}
	for _, c := range []lbConf{{algo: "roundrobin"}, {algo: "leastconn"}, {algo: "first"}, {algo: "random"},
		{algo: "source", consistent: true}} {
		b := newTestBackend(t, c, weights(1)...)
		if _, err := b.AddServer(dynServer(t, "d1", 1)); err != nil {
			t.Errorf("%s consistent=%v: %v", c.algo, c.consistent, err)
		}
	}
}

// Every dynamic algorithm sends traffic to a server once it is added and
// ready, and none once it is deleted.
func TestDynamicServerPickedByEveryAlgorithm(t *testing.T) {
	for _, c := range []lbConf{{algo: "roundrobin"}, {algo: "leastconn"}, {algo: "random"},
		{algo: "source", consistent: true}, {algo: "first"}} {
		t.Run(fmt.Sprintf("%s-%v", c.algo, c.consistent), func(t *testing.T) {
			b := newTestBackend(t, c, weights(1, 1)...)
			d := addReady(t, b, "d1", 1)
			if c.algo == "first" {
				// first takes the lowest id that is free: make the others full.
				for _, s := range b.Servers {
					s.maxConnR.Store(1)
					take(b, s)
				}
			}
			got := counts(b, 3000, ip4)
			if c.algo == "leastconn" {
				// leastconn spreads sessions that stay: hold each one.
				got = map[string]int{}
				var held []*Server
				for i := 0; i < 3000; i++ {
					s := b.lb.pick(ip4(i), nil)
					take(b, s)
					held = append(held, s)
					got[name(s)]++
				}
				for _, s := range held {
					release(b, s)
				}
			}
			if got["d1"] == 0 {
				t.Fatalf("picks %v: the added server got nothing", got)
			}
			if c.algo != "first" && (got["d1"] < 600 || got["d1"] > 1400) {
				t.Errorf("picks %v: d1 should get about a third", got)
			}
			d.SetAdminMode(ModeMaint, quietLog())
			if _, err := b.DeleteServer("d1"); err != nil {
				t.Fatal(err)
			}
			if c.algo == "first" {
				for _, s := range b.Servers {
					release(b, s)
				}
			}
			if got := counts(b, 1000, ip4); got["d1"] != 0 {
				t.Errorf("picks after delete %v", got)
			}
			if slices.Contains(b.ServerList(), d) {
				t.Error("deleted server still listed")
			}
		})
	}
}

// Adding and deleting servers in maintenance leaves the roundrobin
// schedule of the others exactly where it was: HAProxy's fwrr does not
// touch the tree for a server that is not in it.
func TestRoundRobinScheduleUndisturbedByAddAndDelete(t *testing.T) {
	ref := newTestBackend(t, lbConf{algo: "roundrobin"}, weights(3, 2, 1)...)
	b := newTestBackend(t, lbConf{algo: "roundrobin"}, weights(3, 2, 1)...)
	want := picks(ref, netip.Addr{}, 40)
	var got []string
	got = append(got, picks(b, netip.Addr{}, 7)...)
	if _, err := b.AddServer(dynServer(t, "d1", 4)); err != nil {
		t.Fatal(err)
	}
	got = append(got, picks(b, netip.Addr{}, 9)...)
	if _, err := b.AddServer(dynServer(t, "d2", 4)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeleteServer("d1"); err != nil {
		t.Fatal(err)
	}
	got = append(got, picks(b, netip.Addr{}, 24)...)
	if !slices.Equal(got, want) {
		t.Errorf("schedule with adds and deletes\n got %v\nwant %v", got, want)
	}
	// A static server deleted in maintenance leaves the others' rotation.
	b.Servers[1].SetAdminMode(ModeMaint, quietLog())
	if _, err := b.DeleteServer("s2"); err != nil {
		t.Fatal(err)
	}
	// (The window in progress ends first: a pick or two off the ratio.)
	near := func(got, want int) bool { return got >= want-2 && got <= want+2 }
	c := counts(b, 400, nil)
	if c["s2"] != 0 || !near(c["s1"], 300) || !near(c["s3"], 100) {
		t.Errorf("after deleting s2: %v, want s1 300, s3 100", c)
	}
	// The server added then enabled joins the schedule.
	b.ServerByName("d2").SetAdminMode(ModeReady, quietLog())
	if c := counts(b, 800, nil); !near(c["d2"], 400) || !near(c["s1"], 300) || !near(c["s3"], 100) {
		t.Errorf("with d2 ready: %v, want d2 400, s1 300, s3 100", c)
	}
}

func TestDeleteServerRefusals(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "roundrobin"}, weights(1, 1)...)
	d := addReady(t, b, "d1", 1)
	if _, err := b.DeleteServer("nope"); !errors.Is(err, ErrNoServer) {
		t.Errorf("unknown: %v", err)
	}
	if _, err := b.DeleteServer("d1"); !errors.Is(err, ErrServerNotMaint) {
		t.Errorf("ready: %v", err)
	}
	d.SetAdminMode(ModeDrain, quietLog())
	if _, err := b.DeleteServer("d1"); !errors.Is(err, ErrServerNotMaint) {
		t.Errorf("drain: %v", err)
	}
	d.SetAdminMode(ModeMaint, quietLog())
	d.served.Add(1)
	if _, err := b.DeleteServer("d1"); !errors.Is(err, ErrServerBusy) {
		t.Errorf("with a session: %v", err)
	}
	if d.Deleted() {
		t.Error("refused delete left the server marked deleted")
	}
	d.served.Add(-1)
	d.queued.Add(1)
	if _, err := b.DeleteServer("d1"); !errors.Is(err, ErrServerBusy) {
		t.Errorf("with a queued session: %v", err)
	}
	d.queued.Add(-1)
	b.Servers[0].pinned = true
	b.Servers[0].SetAdminMode(ModeMaint, quietLog())
	if _, err := b.DeleteServer("s1"); !errors.Is(err, ErrServerPinned) {
		t.Errorf("use-server target: %v", err)
	}
	if _, err := b.DeleteServer("d1"); err != nil {
		t.Errorf("in maintenance, idle: %v", err)
	}
	if !d.tryTake() || d.tryTakeLive() {
		t.Error("tryTakeLive took a slot on a deleted server")
	}
}

// Picks, slot takes and state changes run on several goroutines while
// servers come and go: the race detector watches the server list, the
// balancer tables and the counters; no pick may return a deleted server
// after its deletion returned and no slot may stay taken on one.
func TestDynamicServersConcurrentWithPicks(t *testing.T) {
	for _, c := range []lbConf{{algo: "roundrobin"}, {algo: "leastconn"}, {algo: "random"}, {algo: "source", consistent: true}, {algo: "first"}} {
		t.Run(fmt.Sprintf("%s-%v", c.algo, c.consistent), func(t *testing.T) {
			b := newTestBackend(t, c, weights(1, 2)...)
			var stop atomic.Bool
			var wg sync.WaitGroup
			var leaked atomic.Int64
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; !stop.Load() && i < 1_000_000; i++ {
						s := b.lb.pick(ip4(i+1), nil)
						if s == nil {
							continue
						}
						if s.tryTakeLive() {
							b.lb.taken(s)
							if s.Deleted() {
								leaked.Add(1)
							}
							s.served.Add(-1)
							b.lb.released(s)
						}
					}
				}()
			}
			deadline := time.Now().Add(300 * time.Millisecond)
			for n := 0; time.Now().Before(deadline) && n < 2000; n++ {
				name := fmt.Sprintf("d%d", n)
				s := addReady(t, b, name, 1+n%3)
				s.SetAdminMode(ModeMaint, quietLog())
				for k := 0; ; k++ {
					_, err := b.DeleteServer(name)
					if err == nil {
						break
					}
					if !errors.Is(err, ErrServerBusy) || k > 10000 {
						t.Fatalf("delete %s: %v", name, err)
					}
				}
			}
			stop.Store(true)
			wg.Wait()
			if leaked.Load() > 0 {
				t.Errorf("%d sessions kept a slot on a deleted server", leaked.Load())
			}
			if n := len(b.ServerList()); n != 2 {
				t.Errorf("%d servers left, want 2", n)
			}
		})
	}
}
