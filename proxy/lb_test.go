package proxy

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

func TestLBFullHash(t *testing.T) {
	// Values worked out independently from HAProxy's full_hash formula
	// (config.md §4.3), e.g. for 0: a = 0x7ed55d16 after the first step,
	// 0xb9b490f0 after the second, ..., times 3221225473 mod 2^32.
	cases := []struct{ in, want uint32 }{
		{0, 0xab4ed927},
		{1, 0x348681b6},
		{0x7f000001, 0x8a1b584b},
		{4096, 0x49c2008b},
		{4097, 0xa4972c87},
		{8192, 0x405afe73},
		{0xffffffff, 0x7e64c182},
	}
	for _, c := range cases {
		if got := fullHash(c.in); got != c.want {
			t.Errorf("fullHash(%#x) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

func TestLBSourceFold(t *testing.T) {
	cases := []struct {
		addr string
		want uint32
		ok   bool
	}{
		{"127.0.0.1", 0x7f000001, true},
		{"10.1.2.3", 0x0a010203, true},
		{"::1", 1, true},
		{"2001:db8::1", 0x20010db8 ^ 1, true},
		{"2001:db8:1:2:3:4:5:6", 0x20010db8 ^ 0x00010002 ^ 0x00030004 ^ 0x00050006, true},
		{"::ffff:127.0.0.1", 0x0000ffff ^ 0x7f000001, true},
		{"", 0, false},
	}
	for _, c := range cases {
		var a netip.Addr
		if c.addr != "" {
			a = netip.MustParseAddr(c.addr)
		}
		got, ok := sourceFold(a)
		if got != c.want || ok != c.ok {
			t.Errorf("sourceFold(%s) = %#x,%v, want %#x,%v", c.addr, got, ok, c.want, c.ok)
		}
	}
}

// TestLBSourceVectors checks the worked example of config.md §4.3, verified
// against haproxy 2.6.
func TestLBSourceVectors(t *testing.T) {
	up := srvSpec{weight: 1}
	down := srvSpec{weight: 1, down: true}
	cases := []struct {
		name  string
		specs []srvSpec
		want  map[string]string // last octet of 127.0.0.x -> server
	}{
		{"all up", []srvSpec{up, up, up}, map[string]string{"1": "s3", "2": "s1", "3": "s2", "4": "s3"}},
		{"s3 down", []srvSpec{up, up, down}, map[string]string{"1": "s2", "2": "s1", "3": "s2"}},
		{"s2 down", []srvSpec{up, down, up}, map[string]string{"1": "s3", "2": "s1", "3": "s3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBackend(t, lbConf{algo: "source"}, c.specs...)
			for oct, want := range c.want {
				src := netip.MustParseAddr("127.0.0." + oct)
				if got := name(b.lb.pick(src, nil)); got != want {
					t.Errorf("%s -> %s, want %s", src, got, want)
				}
			}
		})
	}
}

func TestLBBuildMap(t *testing.T) {
	cases := []struct {
		weights []int
		want    string
	}{
		{[]int{1, 1, 1}, "s1 s2 s3"},
		// slot 0: scores 2,1 -> v 1,1 -> s1 (tie to the first); slot 1:
		// scores 1,2 -> v 1,1 -> s1; slot 2: scores 0,3 -> v 1,2 -> s2.
		{[]int{2, 1}, "s1 s1 s2"},
		{[]int{1, 2}, "s1 s2 s2"},
		{[]int{10, 20}, "s1 s2 s2"}, // gcd 10: eweights 1,2
		{[]int{3, 0, 1}, "s1 s1 s1 s3"},
		{[]int{256}, "s1"},
	}
	for _, c := range cases {
		b := newTestBackend(t, lbConf{algo: "static-rr"}, weights(c.weights...)...)
		m := *b.lb.(*staticRRBalancer).tab.Load()
		var got []string
		for _, s := range m {
			got = append(got, s.Name)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("weights %v: map %v, want %s", c.weights, got, c.want)
		}
	}
}

// TestLBRoundRobinOrder checks orders observed on haproxy 2.6 (see also the
// differential test).
func TestLBRoundRobinOrder(t *testing.T) {
	cases := []struct {
		algo    string
		weights []int
		want    string // repeats
	}{
		{"roundrobin", []int{1, 1, 1}, "s1 s2 s3"},
		{"roundrobin", []int{2, 1}, "s1 s1 s2"},
		{"roundrobin", []int{3, 1}, "s1 s1 s1 s2"},
		{"roundrobin", []int{1, 3}, "s2 s2 s2 s1"},
		{"roundrobin", []int{3, 1, 2}, "s1 s3 s1 s2 s1 s3"},
		{"", []int{1, 1}, "s1 s2"},
		{"static-rr", []int{1, 1, 1}, "s1 s2 s3"},
		{"static-rr", []int{2, 1}, "s1 s1 s2"},
		{"static-rr", []int{3, 1, 2}, "s1 s1 s3 s1 s2 s3"},
	}
	for _, c := range cases {
		b := newTestBackend(t, lbConf{algo: c.algo}, weights(c.weights...)...)
		period := strings.Fields(c.want)
		got := picks(b, netip.Addr{}, 20*len(period))
		for i, g := range got {
			if g != period[i%len(period)] {
				t.Errorf("%s %v: pick %d = %s, want period %q; got %v", c.algo, c.weights, i, g, c.want, got[:min(len(got), 24)])
				break
			}
		}
	}
}

// TestLBWeightedDistribution checks that each algorithm shares picks in
// proportion to the weights 1,2,3: exactly for the schedules and the map,
// and for the ring-based ones as the ring's arcs say (HAProxy's ring with
// 16 points per weight unit is itself only roughly proportional).
func TestLBWeightedDistribution(t *testing.T) {
	ws := weights(1, 2, 3)
	seqSrc := func(i int) netip.Addr { return ip4(i + 1) }
	cases := []struct {
		name string
		conf lbConf
		n    int
		src  func(int) netip.Addr
		hold bool    // keep every session (leastconn)
		ring bool    // expect the ring's shares
		tol  float64 // relative tolerance
	}{
		{"roundrobin", lbConf{algo: "roundrobin"}, 9600, nil, false, false, 0}, // 100 windows of 96
		{"static-rr", lbConf{algo: "static-rr"}, 6000, nil, false, false, 0},
		{"source map", lbConf{algo: "source"}, 6000, seqSrc, false, false, 0},
		{"leastconn held", lbConf{algo: "leastconn"}, 6000, nil, true, false, 0.005},
		{"source consistent", lbConf{algo: "source", consistent: true}, 30000, seqSrc, false, true, 0.05},
		{"random", lbConf{algo: "random", draws: 1}, 30000, nil, false, true, 0.05},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBackend(t, c.conf, ws...)
			got := map[string]int{}
			for i := 0; i < c.n; i++ {
				var src netip.Addr
				if c.src != nil {
					src = c.src(i)
				}
				s := b.lb.pick(src, nil)
				if s == nil {
					t.Fatal("no server")
				}
				if c.hold {
					take(b, s)
				}
				got[s.Name]++
			}
			var shares []float64
			if c.ring {
				var tab *chashTable
				switch lb := b.lb.(type) {
				case *chashSourceBalancer:
					tab = lb.tab.Load()
				case *randomBalancer:
					tab = lb.tab.Load()
				}
				shares = ringShares(&tab.ring, len(ws))
			}
			for i, sp := range ws {
				want := float64(c.n) * float64(sp.weight) / 6
				if c.ring {
					want = float64(c.n) * shares[i]
				}
				g := float64(got[b.Servers[i].Name])
				if g < want*(1-c.tol) || g > want*(1+c.tol) {
					t.Errorf("%s: %v picks, want %.0f ±%.1f%% (all: %v)", b.Servers[i].Name, g, want, c.tol*100, got)
				}
			}
		})
	}
}

// ringShares returns the fraction of the 32-bit hash space that the ring
// sends to each of n servers (closest point, predecessor on ties).
func ringShares(r *chashRing, n int) []float64 {
	span := make([]float64, n)
	k := len(r.keys)
	for i := 0; i < k; i++ {
		prev, next := r.keys[i], r.keys[(i+1)%k]
		gap := uint64(next - prev) // wraps for the last arc
		if k == 1 {
			gap = 1 << 32
		}
		// hashes in (prev, next]: distance to prev <= distance to next
		// goes to prev's server.
		toPrev := gap / 2
		span[r.srv[i]] += float64(toPrev)
		span[r.srv[(i+1)%k]] += float64(gap - toPrev)
	}
	for i := range span {
		span[i] /= 1 << 32
	}
	return span
}

// TestLBConsistentMoves checks that with hash-type consistent only the
// clients of a server that goes down move, and that they come back.
func TestLBConsistentMoves(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "source", consistent: true}, weights(1, 1, 1, 1)...)
	const clients = 4000
	before := make([]*Server, clients)
	for i := range before {
		before[i] = b.lb.pick(ip4(i+1), nil)
	}
	s2 := b.Servers[1]
	s2.setRunning(false)
	moved := 0
	for i := range before {
		got := b.lb.pick(ip4(i+1), nil)
		switch {
		case before[i] == s2 && got == s2:
			t.Fatalf("client %d still on the down server", i)
		case before[i] == s2:
			moved++
		case got != before[i]:
			t.Fatalf("client %d moved from %s to %s though its server stayed up", i, before[i].Name, got.Name)
		}
	}
	if moved == 0 || moved > clients/2 {
		t.Errorf("%d clients moved, want those of s2 only (about a quarter)", moved)
	}
	s2.setRunning(true)
	for i := range before {
		if got := b.lb.pick(ip4(i+1), nil); got != before[i] {
			t.Fatalf("client %d on %s after s2 came back, was on %s", i, got.Name, before[i].Name)
		}
	}

	// A map-based hash moves most clients instead.
	m := newTestBackend(t, lbConf{algo: "source"}, weights(1, 1, 1, 1)...)
	for i := range before {
		before[i] = m.lb.pick(ip4(i+1), nil)
	}
	m.Servers[1].setRunning(false)
	moved = 0
	for i := range before {
		if m.lb.pick(ip4(i+1), nil) != before[i] {
			moved++
		}
	}
	if moved < clients/2 {
		t.Errorf("map-based: only %d clients moved", moved)
	}
}

var allAlgos = []lbConf{
	{algo: "roundrobin"},
	{algo: "static-rr"},
	{algo: "leastconn"},
	{algo: "first"},
	{algo: "source"},
	{algo: "source", consistent: true},
	{algo: "random"},
	{algo: "random", draws: 5},
}

func confName(c lbConf) string {
	n := c.algo
	if c.consistent {
		n += "-consistent"
	}
	if c.draws > 0 {
		n += "-draws"
	}
	return n
}

// distinctPicks picks n times (from varied sources, each session ending at
// once) and returns the set of servers chosen, sorted by name.
func distinctPicks(b *Backend, n int, avoid *Server) []string {
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		s := b.lb.pick(ip4(i+1), avoid)
		seen[name(s)] = true
		if s != nil {
			take(b, s)
			release(b, s)
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestLBUnusableServers(t *testing.T) {
	specs := []srvSpec{
		{weight: 1, down: true},
		{weight: 1, maint: true},
		{weight: 1, drain: true},
		{weight: 0},
		{weight: 2},
		{weight: 1},
	}
	for _, c := range allAlgos {
		t.Run(confName(c), func(t *testing.T) {
			b := newTestBackend(t, c, specs...)
			got := distinctPicks(b, 300, nil)
			if !slices.Equal(got, []string{"s5", "s6"}) && !(c.algo == "first" && slices.Equal(got, []string{"s5"})) {
				t.Errorf("picked %v, want only the usable s5 and s6", got)
			}
			b.Servers[4].setRunning(false)
			b.Servers[5].admin.Store(srvstate.AdminForcedMaint)
			b.lb.update()
			if s := b.lb.pick(ip4(1), nil); s != nil {
				t.Errorf("picked %s with no usable server", s.Name)
			}
			// Back in service.
			b.Servers[0].setRunning(true)
			if got := distinctPicks(b, 50, nil); !slices.Equal(got, []string{"s1"}) {
				t.Errorf("after s1 came up: picked %v", got)
			}
		})
	}
}

func TestLBBackups(t *testing.T) {
	specs := []srvSpec{
		{weight: 1},
		{weight: 1},
		{weight: 1, backup: true},
		{weight: 1, backup: true},
	}
	for _, all := range []bool{false, true} {
		for _, c := range allAlgos {
			c.allBackups = all
			nm := confName(c)
			if all {
				nm += "-allbackups"
			}
			t.Run(nm, func(t *testing.T) {
				b := newTestBackend(t, c, specs...)
				want := []string{"s1", "s2"}
				if c.algo == "first" {
					want = []string{"s1"}
				}
				if got := distinctPicks(b, 300, nil); !slices.Equal(got, want) {
					t.Fatalf("actives up: picked %v, want %v", got, want)
				}
				b.Servers[0].setRunning(false)
				if got := distinctPicks(b, 300, nil); !slices.Equal(got, []string{"s2"}) {
					t.Fatalf("one active up: picked %v", got)
				}
				b.Servers[1].admin.Store(srvstate.AdminForcedMaint)
				b.lb.update()
				want = []string{"s3"}
				if all && c.algo != "first" {
					want = []string{"s3", "s4"}
				}
				if got := distinctPicks(b, 300, nil); !slices.Equal(got, want) {
					t.Fatalf("no active: picked %v, want %v", got, want)
				}
				b.Servers[2].setRunning(false)
				if got := distinctPicks(b, 300, nil); !slices.Equal(got, []string{"s4"}) {
					t.Fatalf("first backup down: picked %v, want s4", got)
				}
				b.Servers[2].setRunning(true)
				b.Servers[1].admin.Store(0)
				b.lb.update()
				if got := distinctPicks(b, 300, nil); !slices.Equal(got, []string{"s2"}) {
					t.Fatalf("active back: picked %v, want s2", got)
				}
			})
		}
	}
}

func TestLBAvoid(t *testing.T) {
	for _, c := range allAlgos {
		t.Run(confName(c), func(t *testing.T) {
			b := newTestBackend(t, c, weights(1, 1, 1)...)
			s1 := b.Servers[0]
			for i := 0; i < 300; i++ {
				src := ip4(i + 1)
				first := b.lb.pick(src, nil)
				got := b.lb.pick(src, first)
				if c.algo == "source" && !c.consistent {
					// HAProxy's map-based hash ignores redispatch.
					if got != first {
						t.Fatalf("%s: redispatch moved %s to %s", src, first.Name, got.Name)
					}
					continue
				}
				if got == nil || got == first {
					t.Fatalf("%s: avoid %s gave %s", src, first.Name, name(got))
				}
			}
			b.Servers[1].setRunning(false)
			b.Servers[2].setRunning(false)
			if got := b.lb.pick(ip4(1), s1); got != s1 {
				t.Errorf("only s1 usable: avoid s1 gave %s, want s1", name(got))
			}
		})
	}
}

func TestLBLeastconn(t *testing.T) {
	t.Run("equal weights rotate", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "leastconn"}, weights(1, 1, 1)...)
		var got []string
		for i := 0; i < 6; i++ {
			s := b.lb.pick(netip.Addr{}, nil)
			take(b, s)
			got = append(got, s.Name)
		}
		if strings.Join(got, " ") != "s1 s2 s3 s1 s2 s3" {
			t.Errorf("held picks %v", got)
		}
		// s2 drops both sessions: it is the least loaded.
		release(b, b.Servers[1])
		release(b, b.Servers[1])
		if s := b.lb.pick(netip.Addr{}, nil); s != b.Servers[1] {
			t.Errorf("after s2 emptied: %s", name(s))
		}
	})
	t.Run("short sessions rotate", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "leastconn"}, weights(1, 1, 1)...)
		var got []string
		for i := 0; i < 6; i++ {
			s := b.lb.pick(netip.Addr{}, nil)
			take(b, s)
			release(b, s)
			got = append(got, s.Name)
		}
		if strings.Join(got, " ") != "s1 s2 s3 s1 s2 s3" {
			t.Errorf("picks %v", got)
		}
	})
	t.Run("weights", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "leastconn"}, weights(1, 3)...)
		for i := 0; i < 40; i++ {
			take(b, b.lb.pick(netip.Addr{}, nil))
		}
		if a, c := b.Servers[0].Served(), b.Servers[1].Served(); a != 10 || c != 30 {
			t.Errorf("served %d/%d, want 10/30", a, c)
		}
	})
	t.Run("maxconn and maxqueue", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "leastconn"},
			srvSpec{weight: 100, maxconn: 2, maxqueue: 1}, srvSpec{weight: 1})
		var got []string
		for i := 0; i < 5; i++ {
			s := b.lb.pick(netip.Addr{}, nil)
			take(b, s)
			got = append(got, s.Name)
		}
		// s1 takes served+queued up to maxconn+maxqueue = 3.
		if n := b.Servers[0].Served(); n != 3 {
			t.Errorf("s1 served %d, want 3 (%v)", n, got)
		}
	})
}

func TestLBFirst(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "first"},
		srvSpec{weight: 1, maxconn: 2, id: 3},
		srvSpec{weight: 1, maxconn: 2, id: 1},
		srvSpec{weight: 5, maxconn: 2, id: 2})
	var got []string
	for i := 0; i < 6; i++ {
		s := b.lb.pick(netip.Addr{}, nil)
		take(b, s)
		got = append(got, s.Name)
	}
	// Lowest id first: s2 (id 1), s3 (id 2), s1 (id 3).
	if strings.Join(got, " ") != "s2 s2 s3 s3 s1 s1" {
		t.Errorf("picks %v", got)
	}
	if s := b.lb.pick(netip.Addr{}, nil); s != nil {
		t.Errorf("all full: picked %s", s.Name)
	}
	release(b, b.Servers[2])
	if s := b.lb.pick(netip.Addr{}, nil); s != b.Servers[2] {
		t.Errorf("after s3 freed a slot: %s", name(s))
	}
	b.Servers[2].queued.Store(1) // a queue means full
	if s := b.lb.pick(netip.Addr{}, nil); s != nil {
		t.Errorf("s3 has a queue: picked %s", s.Name)
	}
}

// TestLBSkipFull checks that the round-robin walkers skip full servers and
// return nil only when every server is full.
func TestLBSkipFull(t *testing.T) {
	for _, algo := range []string{"roundrobin", "static-rr"} {
		t.Run(algo, func(t *testing.T) {
			b := newTestBackend(t, lbConf{algo: algo},
				srvSpec{weight: 1, maxconn: 1}, srvSpec{weight: 1, maxconn: 1}, srvSpec{weight: 1, maxconn: 1})
			take(b, b.Servers[1])
			got := picks(b, netip.Addr{}, 6)
			if strings.Join(got, " ") != "s1 s3 s1 s3 s1 s3" {
				t.Errorf("s2 full: picks %v", got)
			}
			take(b, b.Servers[0])
			take(b, b.Servers[2])
			if s := b.lb.pick(netip.Addr{}, nil); s != nil {
				t.Errorf("all full: picked %s", s.Name)
			}
		})
	}
	t.Run("random full winner", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "random"}, srvSpec{weight: 1, maxconn: 1})
		take(b, b.Servers[0])
		if s := b.lb.pick(netip.Addr{}, nil); s != nil {
			t.Errorf("picked full %s", s.Name)
		}
	})
	t.Run("source keeps full server", func(t *testing.T) {
		for _, cons := range []bool{false, true} {
			b := newTestBackend(t, lbConf{algo: "source", consistent: cons},
				srvSpec{weight: 1, maxconn: 1}, srvSpec{weight: 1, maxconn: 1})
			src := ip4(7)
			s := b.lb.pick(src, nil)
			take(b, s)
			if again := b.lb.pick(src, nil); again != s {
				t.Errorf("consistent=%v: full %s replaced by %s", cons, s.Name, name(again))
			}
		}
	})
}

func TestLBRandomDraws(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "random", draws: 40}, weights(1, 1)...)
	for i := 0; i < 100; i++ {
		take(b, b.Servers[0])
	}
	for i := 0; i < 200; i++ {
		// 40 draws all landing on s1 has probability ~2^-40 per pick.
		if s := b.lb.pick(netip.Addr{}, nil); s != b.Servers[1] {
			t.Fatalf("pick %d: %s, want the idle s2", i, name(s))
		}
	}
}

func TestLBNewBalancer(t *testing.T) {
	cases := []struct {
		algo    string
		wantErr string
		draws   int
	}{
		{"", "", 0},
		{"roundrobin", "", 0},
		{"random", "", 2},
		{"random(3)", "", 3},
		{"random()", "", 2},
		{"random(0)", "at least 1", 0},
		{"random(2", "parenthesis", 0},
		{"uri", "unsupported balance algorithm", 0},
		{"hdr(host)", "unsupported balance algorithm", 0},
	}
	for _, c := range cases {
		t.Run(c.algo, func(t *testing.T) {
			b := &Backend{Name: "be", Config: nil}
			if c.algo != "" {
				b = newTestBackendConfOnly(c.algo)
			}
			lb, err := newBalancer(b)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.draws > 0 {
				r, ok := lb.(*randomBalancer)
				if !ok || r.draws != c.draws {
					t.Errorf("got %T %+v, want random with %d draws", lb, lb, c.draws)
				}
			} else if _, ok := lb.(*rrBalancer); !ok {
				t.Errorf("got %T, want roundrobin", lb)
			}
		})
	}
}

func newTestBackendConfOnly(algo string) *Backend {
	return &Backend{Name: "be", Config: &parser.Proxy{Name: "be", Balance: parser.Balance{Algo: algo}}}
}

func TestLBWeightChange(t *testing.T) {
	t.Run("dynamic", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "roundrobin"}, weights(1, 1)...)
		setWeight(b.Servers[0], 3)
		got := counts(b, 64*4, nil)
		if got["s1"] != 192 || got["s2"] != 64 {
			t.Errorf("weights 3,1: %v", got)
		}
		if b.LBWeight() != 4 {
			t.Errorf("LBWeight %d, want 4", b.LBWeight())
		}
		setWeight(b.Servers[0], 0)
		if got := distinctPicks(b, 20, nil); !slices.Equal(got, []string{"s2"}) {
			t.Errorf("s1 weight 0: picked %v", got)
		}
		if b.LBWeight() != 1 {
			t.Errorf("LBWeight %d, want 1", b.LBWeight())
		}
	})
	t.Run("static", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "source"}, weights(2, 2)...)
		setWeight(b.Servers[0], 0)
		if got := distinctPicks(b, 50, nil); !slices.Equal(got, []string{"s2"}) {
			t.Errorf("s1 weight 0: picked %v", got)
		}
		setWeight(b.Servers[0], 2)
		if got := distinctPicks(b, 50, nil); !slices.Equal(got, []string{"s1", "s2"}) {
			t.Errorf("s1 weight back: picked %v", got)
		}
	})
	t.Run("backup weight", func(t *testing.T) {
		b := newTestBackend(t, lbConf{algo: "roundrobin"},
			srvSpec{weight: 5, down: true}, srvSpec{weight: 2, backup: true}, srvSpec{weight: 3, backup: true})
		if b.LBWeight() != 2 {
			t.Errorf("first backup only: LBWeight %d, want 2", b.LBWeight())
		}
		b.Config.Options.AllBackups = true
		if b.LBWeight() != 5 {
			t.Errorf("allbackups: LBWeight %d, want 5", b.LBWeight())
		}
	})
}

// initFwrr returns a scheduler with servers of weights ws all usable, as
// HAProxy starts one.
func initFwrr(ws []int) *fwrrGroup {
	g := newFwrrGroup(len(ws))
	for i, w := range ws {
		g.ew[i] = uint32(w * weightScale)
		g.nextWeight += int32(g.ew[i])
	}
	g.currPos, g.currWeight = g.nextWeight, g.nextWeight
	for i := range ws {
		g.queueByWeight(g.init, i)
	}
	return g
}

// TestLBFwrrSchedule checks that a recorded schedule is exactly what the
// scheduler produces when run on, across many windows, from a fresh start
// and from the middle of a window, and that stateAt replays it.
func TestLBFwrrSchedule(t *testing.T) {
	cases := [][]int{
		{1}, {1, 1, 1}, {2, 1}, {3, 1, 2}, {5, 3, 7, 1}, {1, 1, 2, 2, 3, 3},
		{256, 1, 17}, {4, 4, 4, 1, 1}, {7, 5, 3, 2, 2, 1, 1, 1},
	}
	for _, ws := range cases {
		for _, skip := range []int{0, 5, 77} {
			g := initFwrr(ws)
			for i := 0; i < skip; i++ {
				g.step()
			}
			start, prefix, cycleStart, cycle := recordFwrr(g)
			tab := &rrTable{prefix: prefix, cycle: cycle, start: start, cycleStart: cycleStart}
			sim := g.clone()
			n := len(prefix) + 3*len(cycle) + 1000
			for i := 0; i < n; i++ {
				s := sim.step()
				if want := tab.at(uint64(i)); uint16(s) != want {
					t.Fatalf("weights %v skip %d: pick %d is %d, recorded %d (prefix %d, cycle %d)",
						ws, skip, i, s, want, len(prefix), len(cycle))
				}
			}
			for _, c := range []uint64{0, 1, uint64(len(prefix)), uint64(len(prefix) + len(cycle) + 3), uint64(n)} {
				replay := tab.stateAt(c)
				for i := uint64(0); i < 50; i++ {
					if got, want := uint16(replay.step()), tab.at(c+i); got != want {
						t.Fatalf("weights %v skip %d: stateAt(%d)+%d picks %d, recorded %d", ws, skip, c, i, got, want)
					}
				}
			}
		}
	}
}

func TestLBNoAllocs(t *testing.T) {
	for _, c := range allAlgos {
		t.Run(confName(c), func(t *testing.T) {
			b := newTestBackend(t, c, srvSpec{weight: 1}, srvSpec{weight: 2, maxconn: 10}, srvSpec{weight: 3})
			src := netip.MustParseAddr("127.0.0.9")
			avoid := b.Servers[0]
			allocs := testing.AllocsPerRun(1000, func() {
				s := b.lb.pick(src, avoid)
				b.lb.taken(s)
				b.lb.released(s)
			})
			if allocs != 0 {
				t.Errorf("%v allocations per pick", allocs)
			}
		})
	}
}

// TestLBConcurrent picks from two goroutines (two event loops) while a third
// flips servers' states; run with -race.
func TestLBConcurrent(t *testing.T) {
	for _, c := range allAlgos {
		t.Run(confName(c), func(t *testing.T) {
			b := newTestBackend(t, c, srvSpec{weight: 1}, srvSpec{weight: 2}, srvSpec{weight: 3, maxconn: 5})
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					b.Servers[i%2].setRunning(i%4 >= 2)
					setWeight(b.Servers[2], 1+i%3)
				}
			}()
			var pickers sync.WaitGroup
			for g := 0; g < 2; g++ {
				pickers.Add(1)
				go func() {
					defer pickers.Done()
					for i := 0; i < 3000; i++ {
						s := b.lb.pick(ip4(i+1), nil)
						if s == nil {
							continue // s3 full and the others down for a moment
						}
						take(b, s)
						release(b, s)
					}
				}()
			}
			pickers.Wait()
			close(stop)
			wg.Wait()
		})
	}
}

// TestLBRoundRobinTransitions pins what haproxy 2.6 does (observed with its
// stats socket) when a server of a running roundrobin schedule is disabled,
// enabled and reweighted: the change applies to the running window.
func TestLBRoundRobinTransitions(t *testing.T) {
	b := newTestBackend(t, lbConf{algo: "roundrobin"}, weights(1, 1, 1)...)
	s2 := b.Servers[1]
	steps := []struct {
		change func()
		n      int
		want   string
	}{
		{func() {}, 4, "s1 s2 s3 s1"},
		{func() { s2.admin.Store(srvstate.AdminForcedMaint); b.lb.update() }, 5, "s3 s1 s3 s1 s3"},
		{func() { s2.admin.Store(0); b.lb.update() }, 6, "s1 s3 s2 s1 s3 s2"},
		{func() { setWeight(s2, 3) }, 10, "s2 s1 s3 s2 s2 s2 s1 s3 s2 s2"},
	}
	for i, st := range steps {
		st.change()
		if got := strings.Join(picks(b, netip.Addr{}, st.n), " "); got != st.want {
			t.Errorf("step %d: %s, want %s", i, got, st.want)
		}
	}
}

func BenchmarkLBPick(b *testing.B) {
	for _, c := range allAlgos {
		b.Run(confName(c), func(b *testing.B) {
			be := newTestBackend(b, c, weights(1, 2, 3, 4, 5, 6, 7, 8)...)
			src := netip.MustParseAddr("127.0.0.9")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s := be.lb.pick(src, nil)
					take(be, s)
					release(be, s)
				}
			})
		})
	}
}
