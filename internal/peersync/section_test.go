package peersync

import (
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"goproxy/internal/stktable"
)

func newTable() *stktable.Table {
	return stktable.New(stktable.Config{Name: "be", Type: stktable.IP, KeyLen: 4, Size: 5000, Expire: time.Minute,
		Stored: []stktable.Stored{{Type: stktable.ServerID}, {Type: stktable.ConnCnt}, {Type: stktable.ConnRate, Period: 10 * time.Second},
			{Type: stktable.ConnCur}, {Type: stktable.ServerKey}}})
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func addrOf(ln net.Listener) netip.AddrPort { return netip.MustParseAddrPort(ln.Addr().String()) }

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestTwoSectionsSync(t *testing.T) {
	la, lb := listen(t), listen(t)
	ta, tb := newTable(), newTable()
	peersOf := func(local string) []PeerConfig {
		return []PeerConfig{{Name: "a", Addr: addrOf(la), Local: local == "a"}, {Name: "b", Addr: addrOf(lb), Local: local == "b"}}
	}
	a, err := New(Config{Name: "mesh", Local: "a", Peers: peersOf("a"), Tables: []Table{{ta, "be"}}, Listener: la})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(Config{Name: "mesh", Local: "b", Peers: peersOf("b"), Tables: []Table{{tb, "be"}}, Listener: lb})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	// An entry made before b runs comes with the resync b asks for.
	k1, _ := ta.KeyAddr(netip.MustParseAddr("10.0.0.1"))
	e := ta.Track(k1)
	ta.Counts(e, stktable.ConnCnt, stktable.ConnRate, 1)
	ta.SetServer(e, 2, "s2")
	ta.Release(e)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	waitFor(t, "the first entry on b", func() bool {
		e := tb.Lookup(k1)
		return e != nil && tb.Server(e) == 2
	})
	// Then the other way, pushed as it changes.
	k2, _ := tb.KeyAddr(netip.MustParseAddr("10.0.0.2"))
	for i := 0; i < 3; i++ {
		e := tb.Track(k2)
		tb.Counts(e, stktable.ConnCnt, stktable.ConnRate, 1)
		tb.SetServer(e, 1, "s1")
		tb.Release(e)
	}
	waitFor(t, "three connections of 10.0.0.2 on a", func() bool {
		e := ta.Lookup(k2)
		if e == nil {
			return false
		}
		v, _ := ta.Get(e, stktable.ConnCnt)
		s := ta.Read(e)
		return v == 3 && s.Skey == "s1" && ta.Server(e) == 1
	})
	var out strings.Builder
	a.Show(&out, false)
	for _, want := range []string{"id=mesh disabled=0", "id=b(remote,active)", "last_status=ESTA", "id=a(local,inactive)",
		"shared tables:", "table:0x", "id=be update="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show peers lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSoftStopTeaches: the old process's local peer teaches the new one.
func TestSoftStopTeaches(t *testing.T) {
	lOld, err := listenReuse(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := addrOf(lOld)
	told, tnew := newTable(), newTable()
	pc := []PeerConfig{{Name: "me", Addr: addr, Local: true}}
	old, _ := New(Config{Name: "p", Local: "me", Peers: pc, Tables: []Table{{told, "be"}}, Listener: lOld})
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(old.Close)
	// More entries than one writer pass sends: the lesson goes in parts.
	const n = 3*maxPerRound + 17
	for i := 1; i <= n; i++ {
		ka, _ := told.KeyAddr(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}))
		e := told.Track(ka)
		told.Counts(e, stktable.ConnCnt, stktable.ConnRate, uint64(i))
		told.Release(e)
	}
	nw, _ := New(Config{Name: "p", Local: "me", Bind: addr, Peers: pc, Tables: []Table{{tnew, "be"}}, Reload: true})
	if err := nw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	old.SoftStop()
	select {
	case <-old.Stopped():
	case <-time.After(10 * time.Second):
		t.Fatal("the old section did not finish teaching")
	}
	waitFor(t, "every entry in the new process", func() bool { return tnew.Used() == n })
	ka, _ := tnew.KeyAddr(netip.MustParseAddr("10.1.0.7"))
	if v, _ := tnew.Get(tnew.Lookup(ka), stktable.ConnCnt); v != 7 {
		t.Errorf("conn_cnt of 10.1.0.7: %d", v)
	}
	nw.mu.Lock()
	flags := nw.flags
	nw.mu.Unlock()
	// The old process was not itself up to date (it ran for less than
	// the resync timeout, with no remote peer): it says so, as HAProxy.
	if flags&(fResyncLocalPartial|fResyncLocalAssign) != fResyncLocalPartial|fResyncLocalAssign {
		t.Errorf("the new process did not learn from the local peer: flags 0x%x", flags)
	}
}

// handshake dials the section, sends lines and returns the status line.
func handshake(t *testing.T, addr netip.AddrPort, lines string) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(lines)); err != nil {
		t.Fatal(err)
	}
	// The status line, byte by byte: what follows it is the session's.
	var line []byte
	for len(line) < 64 {
		var b [1]byte
		if n, err := c.Read(b[:]); n == 0 || err != nil {
			break
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			break
		}
	}
	return c, string(line)
}

// TestHandshakeAndProtocolErrors: HAProxy's status codes for a wrong
// version, a wrong host name and an unknown peer, and a protocol error
// (answered with an error message, counted in show peers) for a
// malformed update.
func TestHandshakeAndProtocolErrors(t *testing.T) {
	ln := listen(t)
	tb := newTable()
	s, _ := New(Config{Name: "p", Local: "me", Peers: []PeerConfig{{Name: "me", Addr: addrOf(ln), Local: true},
		{Name: "other", Addr: netip.MustParseAddrPort("127.0.0.1:1")}}, Tables: []Table{{tb, "be"}}, Listener: ln})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	a := addrOf(ln)
	for lines, want := range map[string]string{
		"HAProxyS 3.0\nme\nother 1 1\n":  "502\n",
		"HAProxyS 2.1\nyou\nother 1 1\n": "503\n",
		"HAProxyS 2.1\nme\nnobody 1 1\n": "504\n",
		"GET / HTTP/1.0\n":               "501\n",
	} {
		if _, got := handshake(t, a, lines); got != want {
			t.Errorf("%q: status %q, want %q", lines, got, want)
		}
	}
	c, got := handshake(t, a, "HAProxyS 2.1\nme\nother 1 1\n")
	if got != "200\n" {
		t.Fatalf("status %q", got)
	}
	// A definition of table be (ip, 4 bytes, conn_cnt), then an update
	// cut in its key.
	def := []byte{10, 0x82, 7, 1, 2, 'b', 'e', 4, 4, 16}
	c.Write(append(def, 10, 0x80, 6, 0, 0, 0, 1, 127, 0))
	var b [64]byte
	n := 0
	for n < 64 {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			break
		}
	}
	if !strings.Contains(string(b[:n]), "\x01\x00") {
		t.Errorf("no protocol error message in % x", b[:n])
	}
	waitFor(t, "proto_err=1", func() bool {
		var out strings.Builder
		s.Show(&out, false)
		return strings.Contains(out.String(), "proto_err=1")
	})
}

// TestHeartbeats: an idle session sends a heartbeat every 3 s and stays
// up.
func TestHeartbeats(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for heartbeats")
	}
	la, lb := listen(t), listen(t)
	peersOf := func(local string) []PeerConfig {
		return []PeerConfig{{Name: "a", Addr: addrOf(la), Local: local == "a"}, {Name: "b", Addr: addrOf(lb), Local: local == "b"}}
	}
	a, _ := New(Config{Name: "mesh", Local: "a", Peers: peersOf("a"), Tables: []Table{{newTable(), "be"}}, Listener: la})
	b, _ := New(Config{Name: "mesh", Local: "b", Peers: peersOf("b"), Tables: []Table{{newTable(), "be"}}, Listener: lb})
	a.Start()
	t.Cleanup(a.Close)
	b.Start()
	t.Cleanup(b.Close)
	// Past the first collision and its random delay, two heartbeat
	// periods each way, and no session cut for want of one.
	re := regexp.MustCompile(`tx_hbt=([2-9]|\d\d+) rx_hbt=([2-9]|\d\d+) no_hbt=0 `)
	waitFor(t, "two heartbeats each way", func() bool {
		for _, s := range []*Section{a, b} {
			var out strings.Builder
			s.Show(&out, false)
			if !re.MatchString(out.String()) {
				return false
			}
		}
		return true
	})
	for _, s := range []*Section{a, b} {
		var out strings.Builder
		s.Show(&out, false)
		if !regexp.MustCompile(`tx_hbt=[1-9]\d* rx_hbt=[1-9]\d* no_hbt=0 new_conn=\d+ `).MatchString(out.String()) {
			t.Errorf("after 7 s idle:\n%s", out.String())
		}
	}
}
