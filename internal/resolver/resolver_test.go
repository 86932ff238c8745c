package resolver

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/dnsmsg"
)

// fakeTarget records what the resolver does to a server.
type fakeTarget struct {
	mu     sync.Mutex
	label  string
	ip     netip.Addr
	port   int
	maint  bool
	weight int
	fqdn   string
	logs   []string
}

func (f *fakeTarget) Dest() (netip.Addr, int) { f.mu.Lock(); defer f.mu.Unlock(); return f.ip, f.port }
func (f *fakeTarget) SetAddr(ip netip.Addr, port int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ip = ip
	if port > 0 {
		f.port = port
	}
}
func (f *fakeTarget) ClearAddr(clearPort bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ip = netip.Addr{}
	if clearPort {
		f.port = 0
	}
}
func (f *fakeTarget) SetResolutionMaint(on bool, cause string, _ logrus.FieldLogger) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maint == on {
		return false
	}
	f.maint = on
	if on {
		f.logs = append(f.logs, "maint: "+cause)
	} else {
		f.logs = append(f.logs, "ready")
	}
	return true
}
func (f *fakeTarget) ResolutionMaint() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.maint }
func (f *fakeTarget) SetWeight(w int, _ logrus.FieldLogger) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.weight = w
	return nil
}
func (f *fakeTarget) FQDN() string { f.mu.Lock(); defer f.mu.Unlock(); return f.fqdn }
func (f *fakeTarget) SetFQDN(n string, _ bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fqdn = n
}
func (f *fakeTarget) Label() string { return f.label }
func (f *fakeTarget) LogNotice(msg string, _ logrus.FieldLogger) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, msg)
}

func testConfig() *Config {
	return &Config{Name: "dns", ResolveRetries: 3, TimeoutResolve: time.Second, TimeoutRetry: time.Second,
		AcceptedPayloadSize: 512, Hold: Hold{NX: 30 * time.Second, Timeout: 30 * time.Second,
			Refused: 30 * time.Second, Other: 30 * time.Second}}
}

// templateSection is a section with n servers of one backend resolving
// name, starting without an address, in resolution maintenance.
func templateSection(cfg *Config, n int, p Params) (*Section, []*fakeTarget) {
	sec := newSection(cfg, logrus.New())
	var ts []*fakeTarget
	for i := range n {
		t := &fakeTarget{label: "be/w" + string(rune('1'+i)), maint: true, fqdn: "web.test", port: 80}
		ts = append(ts, t)
		sec.addServer(Server{Backend: "be", Resolvers: "dns", Params: p, FQDN: "web.test", Target: t})
	}
	return sec, ts
}

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

func addrOf(t *fakeTarget) string {
	ip, _ := t.Dest()
	if !ip.IsValid() {
		return "-"
	}
	return ip.String()
}

func TestApplyIPsOneAddressPerServer(t *testing.T) {
	cfg := testConfig()
	sec, ts := templateSection(cfg, 3, Params{PreferIPv4: true})
	res := sec.res[0]
	now := time.Now()
	var c counters
	sec.applyIPs(res, ips("10.0.0.1", "10.0.0.2"), now, "dns/ns1", &c)
	if got := addrOf(ts[0]) + " " + addrOf(ts[1]) + " " + addrOf(ts[2]); got != "10.0.0.1 10.0.0.2 -" {
		t.Fatalf("addresses %s", got)
	}
	if ts[0].maint || ts[1].maint || !ts[2].maint {
		t.Fatalf("maintenance: %v %v %v", ts[0].maint, ts[1].maint, ts[2].maint)
	}
	want := []string{"be/w1 changed its IP from (none) to 10.0.0.1 by dns/ns1", "ready",
		"Server be/w1 administratively READY thanks to valid DNS answer"}
	if strings.Join(ts[0].logs, "|") != strings.Join(want, "|") {
		t.Errorf("w1 logs %q", ts[0].logs)
	}
	if !strings.HasSuffix(ts[1].logs[0], "by DNS cache") {
		t.Errorf("w2 logs %q", ts[1].logs)
	}
	if c.update.Load() != 1 {
		t.Errorf("update counter %d, want 1 (the others come from the cache)", c.update.Load())
	}

	// Same answer: nothing changes, nothing is logged.
	n0 := len(ts[0].logs)
	sec.applyIPs(res, ips("10.0.0.2", "10.0.0.1"), now.Add(time.Second), "dns/ns1", &c)
	if addrOf(ts[0]) != "10.0.0.1" || addrOf(ts[1]) != "10.0.0.2" || len(ts[0].logs) != n0 {
		t.Fatalf("a reordered answer moved servers: %s %s %q", addrOf(ts[0]), addrOf(ts[1]), ts[0].logs)
	}

	// 10.0.0.2 goes, 10.0.0.3 comes: the spare server takes the new
	// record at once; w2 keeps its address for hold obsolete, then goes
	// into maintenance.
	cfg.Hold.Obsolete = 2 * time.Second
	sec.applyIPs(res, ips("10.0.0.1", "10.0.0.3"), now.Add(2*time.Second), "dns/ns1", &c)
	if addrOf(ts[1]) != "10.0.0.2" || addrOf(ts[2]) != "10.0.0.3" || ts[2].maint {
		t.Fatalf("within hold obsolete: w2 %s w3 %s", addrOf(ts[1]), addrOf(ts[2]))
	}
	sec.applyIPs(res, ips("10.0.0.1", "10.0.0.3"), now.Add(4*time.Second), "dns/ns1", &c)
	if addrOf(ts[1]) != "-" || !ts[1].maint || ts[1].logs[len(ts[1].logs)-1] != "maint: No IP for server " {
		t.Fatalf("after hold obsolete: w2 %s %v %q", addrOf(ts[1]), ts[1].maint, ts[1].logs)
	}
	if addrOf(ts[0]) != "10.0.0.1" || ts[0].maint {
		t.Fatalf("w1 changed: %s", addrOf(ts[0]))
	}
}

func TestPickIPScores(t *testing.T) {
	cfg := testConfig()
	mk := func(p Params, cur string, answer ...string) string {
		sec, ts := templateSection(cfg, 1, p)
		if cur != "" {
			ts[0].ip = netip.MustParseAddr(cur)
		}
		res := sec.res[0]
		sec.refresh(res, answer, func() []dnsmsg.Record {
			var out []dnsmsg.Record
			for _, a := range answer {
				out = append(out, dnsmsg.Record{IP: netip.MustParseAddr(a)})
			}
			return out
		}(), time.Now())
		it := pickIP(res, sec.reqs[0], ts[0].ip)
		if it == nil {
			return "-"
		}
		return it.rec.IP.String()
	}
	if got := mk(Params{}, "", "10.0.0.1", "fd00::1"); got != "fd00::1" {
		t.Errorf("IPv6 is preferred by default: %s", got)
	}
	if got := mk(Params{PreferIPv4: true}, "", "fd00::1", "10.0.0.1"); got != "10.0.0.1" {
		t.Errorf("resolve-prefer ipv4: %s", got)
	}
	if got := mk(Params{PreferIPv4: true, ResolveNet: []netip.Prefix{netip.MustParsePrefix("10.2.0.0/16")}}, "", "10.1.0.1", "10.2.0.1"); got != "10.2.0.1" {
		t.Errorf("resolve-net: %s", got)
	}
	if got := mk(Params{PreferIPv4: true}, "10.0.0.2", "10.0.0.1", "10.0.0.2"); got != "10.0.0.2" {
		t.Errorf("the current address wins a tie: %s", got)
	}
}

func TestDuplicateAddresses(t *testing.T) {
	cfg := testConfig()
	sec, ts := templateSection(cfg, 2, Params{PreferIPv4: true})
	sec.applyIPs(sec.res[0], ips("10.0.0.1"), time.Now(), "dns/ns1", nil)
	if addrOf(ts[0]) != "10.0.0.1" || addrOf(ts[1]) != "-" {
		t.Fatalf("prevent-dup-ip: %s %s", addrOf(ts[0]), addrOf(ts[1]))
	}
	sec, ts = templateSection(cfg, 2, Params{PreferIPv4: true, AllowDupIP: true})
	sec.applyIPs(sec.res[0], ips("10.0.0.1"), time.Now(), "dns/ns1", nil)
	if addrOf(ts[0]) != "10.0.0.1" || addrOf(ts[1]) != "10.0.0.1" {
		t.Fatalf("allow-dup-ip: %s %s", addrOf(ts[0]), addrOf(ts[1]))
	}
}

func TestFailureHolds(t *testing.T) {
	cfg := testConfig()
	cfg.Hold.NX = 5 * time.Second
	sec, ts := templateSection(cfg, 1, Params{PreferIPv4: true})
	res := sec.res[0]
	start := time.Now()
	sec.applyIPs(res, ips("10.0.0.1"), start, "dns/ns1", nil)
	sec.answered(res, start)
	sec.failed(res, statusNX, start.Add(4*time.Second))
	if ts[0].maint || addrOf(ts[0]) != "10.0.0.1" {
		t.Fatal("NX within hold nx took the server down")
	}
	sec.failed(res, statusNX, start.Add(6*time.Second))
	if !ts[0].maint || addrOf(ts[0]) != "-" || ts[0].logs[len(ts[0].logs)-1] != "maint: DNS NX status" {
		t.Fatalf("NX after hold nx: %v %s %q", ts[0].maint, addrOf(ts[0]), ts[0].logs)
	}
	// A valid answer brings it back.
	sec.applyIPs(res, ips("10.0.0.1"), start.Add(7*time.Second), "dns/ns1", nil)
	if ts[0].maint || addrOf(ts[0]) != "10.0.0.1" {
		t.Fatal("a valid answer did not bring the server back")
	}
}

// srvAnswer builds a parsed SRV answer with additional A records.
func srvAnswer(name string, recs []dnsmsg.Record, ar map[string]string) *dnsmsg.Message {
	m := &dnsmsg.Message{Response: true}
	for _, r := range recs {
		r.Name, r.Type = name, dnsmsg.TypeSRV
		m.Answers = append(m.Answers, r)
	}
	for host, ip := range ar {
		m.Additional = append(m.Additional, dnsmsg.Record{Name: host, Type: dnsmsg.TypeA, IP: netip.MustParseAddr(ip)})
	}
	return m
}

func TestApplySRV(t *testing.T) {
	cfg := testConfig()
	sec := newSection(cfg, logrus.New())
	var ts []*fakeTarget
	for i := range 3 {
		ft := &fakeTarget{label: "be/s" + string(rune('1'+i)), maint: true, weight: 1}
		ts = append(ts, ft)
		sec.addServer(Server{Backend: "be", Resolvers: "dns", Params: Params{PreferIPv4: true, IgnoreWeight: i == 2}, SRVRecord: "_app._tcp.svc.test", Target: ft})
	}
	res := sec.res[0]
	now := time.Now()
	sec.applySRV(res, srvAnswer("_app._tcp.svc.test", []dnsmsg.Record{
		{Target: "h1.svc.test", Port: 7001, Weight: 100},
		{Target: "h2.svc.test", Port: 7002, Weight: 512},
	}, map[string]string{"h1.svc.test": "10.0.0.1", "h2.svc.test": "10.0.0.2"}), now)
	if addrOf(ts[0]) != "10.0.0.1" || ts[0].port != 7001 || ts[0].weight != 1 || ts[0].fqdn != "h1.svc.test" || ts[0].maint {
		t.Errorf("s1: %s:%d w%d %s maint %v", addrOf(ts[0]), ts[0].port, ts[0].weight, ts[0].fqdn, ts[0].maint)
	}
	if addrOf(ts[1]) != "10.0.0.2" || ts[1].port != 7002 || ts[1].weight != 2 {
		t.Errorf("s2: %s:%d w%d", addrOf(ts[1]), ts[1].port, ts[1].weight)
	}
	if !ts[2].maint || addrOf(ts[2]) != "-" {
		t.Errorf("s3 should wait for a record: %s %v", addrOf(ts[2]), ts[2].maint)
	}
	if ts[0].logs[0] != "be/s1 changed its FQDN from (null) to h1.svc.test by 'SRV record'" ||
		ts[0].logs[1] != "be/s1 changed its IP from (none) to 10.0.0.1 by DNS additional record" {
		t.Errorf("s1 logs %q", ts[0].logs)
	}
	// h2 disappears (hold obsolete 0), h3 appears without an additional
	// record: s2 goes into maintenance; a free server takes h3 and waits
	// for the resolution of its target.
	sec.applySRV(res, srvAnswer("_app._tcp.svc.test", []dnsmsg.Record{
		{Target: "h1.svc.test", Port: 7001, Weight: 100},
		{Target: "h3.svc.test", Port: 7003, Weight: 256},
	}, map[string]string{"h1.svc.test": "10.0.0.1"}), now.Add(time.Second))
	if !ts[1].maint || addrOf(ts[1]) != "-" || ts[1].port != 0 || ts[1].fqdn != "" {
		t.Errorf("s2 after its record went: %s:%d %q maint %v", addrOf(ts[1]), ts[1].port, ts[1].fqdn, ts[1].maint)
	}
	if ts[1].logs[len(ts[1].logs)-1] != "maint: entry removed from SRV record" {
		t.Errorf("s2 logs %q", ts[1].logs)
	}
	var h3 *fakeTarget
	for _, x := range ts {
		if x.fqdn == "h3.svc.test" {
			h3 = x
		}
	}
	if h3 == nil || h3.port != 7003 || !h3.maint {
		t.Fatalf("h3 not taken by a free server: %+v", ts)
	}
	var child *resolution
	for _, r := range sec.res {
		if r.name == "h3.svc.test" && r.prefer == dnsmsg.TypeA {
			child = r
		}
	}
	if child == nil {
		t.Fatal("no resolution of the SRV target without an additional record")
	}
	sec.applyIPs(child, ips("10.0.0.3"), now.Add(2*time.Second), "dns/ns1", nil)
	if addrOf(h3) != "10.0.0.3" || h3.port != 7003 || h3.maint {
		t.Errorf("h3 after its target resolved: %s:%d maint %v", addrOf(h3), h3.port, h3.maint)
	}
	if h3 == ts[2] && h3.weight != 1 {
		t.Errorf("ignore-weight changed the weight to %d", h3.weight)
	}
}

// fakeDNS answers A queries on loopback UDP with answer (nil: silence).
type fakeDNS struct {
	conn    *net.UDPConn
	answer  func(q *dnsmsg.Message, raw []byte) []byte
	queries chan struct{}
	wg      sync.WaitGroup
}

func startFakeDNS(t *testing.T, answer func(q *dnsmsg.Message, raw []byte) []byte) *fakeDNS {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{conn: c, answer: answer, queries: make(chan struct{}, 100)}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			select {
			case f.queries <- struct{}{}:
			default:
			}
			q, err := dnsmsg.Parse(buf[:n])
			if err != nil {
				continue
			}
			if out := f.answer(q, buf[:n]); out != nil {
				_, _ = c.WriteToUDP(out, from)
			}
		}
	}()
	t.Cleanup(func() { c.Close(); f.wg.Wait() })
	return f
}

// aResponse answers raw with one A record.
func aResponse(raw []byte, ip [4]byte) []byte {
	b := append([]byte(nil), raw...)
	b[2] |= 0x80
	binary.BigEndian.PutUint16(b[6:], 1)
	binary.BigEndian.PutUint16(b[10:], 0)
	end := 12
	for b[end] != 0 {
		end += int(b[end]) + 1
	}
	b = b[:end+5]
	b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4)
	return append(b, ip[:]...)
}

func TestSectionRetriesAndTimeout(t *testing.T) {
	dns := startFakeDNS(t, func(*dnsmsg.Message, []byte) []byte { return nil })
	cfg := testConfig()
	cfg.ResolveRetries, cfg.TimeoutRetry, cfg.TimeoutResolve = 3, 30*time.Millisecond, 10*time.Second
	cfg.Hold.Timeout = 0
	cfg.Nameservers = []Nameserver{{Name: "ns1", Addr: dns.conn.LocalAddr().(*net.UDPAddr).AddrPort()}}
	ft := &fakeTarget{label: "be/s1", ip: netip.MustParseAddr("10.9.9.9"), port: 80, fqdn: "web.test"}
	m := New([]Config{*cfg}, []Server{{Backend: "be", Resolvers: "dns", Params: Params{PreferIPv4: true}, FQDN: "web.test", Target: ft}}, Options{})
	m.Start(context.Background())
	defer m.Stop()
	deadline := time.Now().Add(3 * time.Second)
	for !ft.ResolutionMaint() {
		if time.Now().After(deadline) {
			t.Fatalf("no timeout: %+v", m.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := m.Stats()[0].Nameservers[0]
	if st.Sent != 3 || st.Timeout != 1 || st.Valid != 0 {
		t.Errorf("counters %+v, want 3 sent, 1 timeout", st)
	}
	if ft.logs[len(ft.logs)-1] != "maint: DNS timeout status" {
		t.Errorf("logs %q", ft.logs)
	}
}

func TestSectionResolvesAndCounts(t *testing.T) {
	dns := startFakeDNS(t, func(q *dnsmsg.Message, raw []byte) []byte {
		if q.Questions[0].Type != dnsmsg.TypeA {
			return nil
		}
		return aResponse(raw, [4]byte{10, 1, 2, 3})
	})
	cfg := testConfig()
	cfg.TimeoutResolve, cfg.TimeoutRetry = 20*time.Millisecond, 20*time.Millisecond
	addr := dns.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	cfg.Nameservers = []Nameserver{{Name: "ns1", Addr: addr}, {Name: "ns2", Addr: addr}}
	ft := &fakeTarget{label: "be/s1", maint: true, port: 80, fqdn: "web.test"}
	m := New([]Config{*cfg}, []Server{{Backend: "be", Resolvers: "dns", Params: Params{PreferIPv4: true}, FQDN: "web.test", Target: ft}}, Options{})
	m.Start(context.Background())
	defer m.Stop()
	deadline := time.Now().Add(3 * time.Second)
	for {
		st := m.Stats()[0].Nameservers
		if addrOf(ft) == "10.1.2.3" && st[0].Valid+st[1].Valid >= 3 {
			// Both nameservers are asked; the slower answer of each
			// query is outdated.
			if st[0].Sent != st[1].Sent || st[0].Outdated+st[1].Outdated == 0 {
				t.Errorf("counters %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not resolved: %s %+v", addrOf(ft), st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := m.SetFQDN("be/s1", "other.test"); err != nil || ft.FQDN() != "other.test" {
		t.Errorf("SetFQDN: %v %s", err, ft.FQDN())
	}
	if err := m.SetFQDN("be/nope", "x.test"); err != ErrNoResolution {
		t.Errorf("SetFQDN of an unknown server: %v", err)
	}
}
