package proxy

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"goproxy/parser"
)

func TestHooks(t *testing.T) {
	srv := startServer(t, echo)
	p := listenProxy(srv.port(), deadPort(t))
	p.Servers[1].Disabled = true
	p.Servers[0].MaxConn = 1
	p.Timeouts.Queue = 100 * time.Millisecond
	g, err := Build(config(p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	accepts := make(chan AcceptRecord, 10)
	ends := make(chan SessionRecord, 10)
	g.SetHooks(Hooks{
		Accept: func(r *AcceptRecord) { accepts <- *r },
		End:    func(r *SessionRecord) { ends <- *r },
	})
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	addr := feAddr(t, g, "li")
	c := dial(t, addr)
	roundTrip(t, c, "12345")
	queued := dial(t, addr)
	expectClosed(t, queued, 2*time.Second)
	_ = c.CloseWrite()
	expectClosed(t, c, 2*time.Second)

	for i := 0; i < 2; i++ {
		select {
		case a := <-accepts:
			if a.Frontend != "li" || a.Local.String() != addr {
				t.Errorf("accept record %+v", a)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no accept record")
		}
	}
	got := map[string]SessionRecord{}
	for i := 0; i < 2; i++ {
		select {
		case r := <-ends:
			got[r.Term] = r
		case <-time.After(2 * time.Second):
			t.Fatal("no end record")
		}
	}
	// Values as haproxy 2.6 logs them ("queue/<NOSRV> 202/-1/201 0 sQ 2/2/1/0/0 0/1").
	if r, ok := got["sQ"]; !ok || r.Server != nil || r.Tw < 90 || r.SrvQueue != 0 || r.BeQueue != 1 || r.Tc != -1 ||
		r.BeConn != 1 || r.SrvConn != 0 || r.FeConn != 2 {
		t.Errorf("queue timeout record %+v", r)
	}
	r, ok := got["--"]
	if !ok || r.Server == nil || r.Server.Name != "s1" || r.BytesIn != 5 || r.BytesOut != 5 ||
		r.Tc < 0 || r.Tw != 0 || r.Retries != 0 || r.ActConn < 1 || r.FeConn < 1 || r.BeConn != 0 || r.SrvConn != 0 {
		t.Errorf("normal record %+v", r)
	}
}

func TestTrafficLogs(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	target := parser.LogTarget{Addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1",
		Port: udp.LocalAddr().(*net.UDPAddr).Port}, Facility: 18, Level: 7}
	srv := startServer(t, echo)
	tcplog := listenProxy(srv.port())
	tcplog.Logs = []parser.LogTarget{target}
	tcplog.Options.TCPLog = true
	tcplog.Options.DontLogNull = true
	plain := listenProxy(srv.port())
	plain.Name, plain.ID = "plain", 3
	plain.LogGlobal = true
	cfg := config(tcplog, plain)
	cfg.Global.Logs = []parser.LogTarget{target}
	g := startGraph(t, cfg)

	c := dial(t, feAddr(t, g, "li"))
	roundTrip(t, c, "hello")
	c.Close()
	null := dial(t, feAddr(t, g, "li")) // no data: not logged (dontlognull)
	null.Close()
	p := dial(t, feAddr(t, g, "plain"))
	p.Close()

	var lines []string
	buf := make([]byte, 2048)
	for len(lines) < 2 {
		_ = udp.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err := udp.ReadFrom(buf)
		if err != nil {
			t.Fatalf("got %d lines: %q (%v)", len(lines), lines, err)
		}
		lines = append(lines, string(buf[:n]))
	}
	var sawTCP, sawConnect bool
	tcpRe := regexp.MustCompile(`^<150>.* haproxy\[\d+\]: 127\.0\.0\.1:\d+ \[\d\d/\w+/\d{4}:[\d:.]+\] li li/s1 0/\d+/\d+ 5 -- \d+/\d+/\d+/\d+/0 0/0\n$`)
	for _, l := range lines {
		switch {
		case tcpRe.MatchString(l):
			sawTCP = true
		case strings.Contains(l, "Connect from 127.0.0.1:") && strings.HasSuffix(l, "(plain/TCP)\n"):
			sawConnect = true
		}
	}
	if !sawTCP || !sawConnect {
		t.Errorf("lines %q", lines)
	}
	_ = udp.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := udp.ReadFrom(buf); err == nil {
		t.Errorf("unexpected extra line %q", buf[:n])
	}
}

// TestEndRecordsLikeHAProxy checks the log values of failed sessions against
// what haproxy 2.6 logs for the same cases.
func TestEndRecordsLikeHAProxy(t *testing.T) {
	srv := startServer(t, echo)
	run := func(t *testing.T, p *parser.Proxy, traffic func(addr string)) SessionRecord {
		t.Helper()
		g, err := Build(config(p), Options{})
		if err != nil {
			t.Fatal(err)
		}
		ends := make(chan SessionRecord, 4)
		g.SetHooks(Hooks{End: func(r *SessionRecord) {
			if r.Term != "--" {
				ends <- *r
			}
		}})
		if err := g.Start(); err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		traffic(feAddr(t, g, "li"))
		select {
		case r := <-ends:
			return r
		case <-time.After(3 * time.Second):
			t.Fatal("no record")
		}
		return SessionRecord{}
	}
	t.Run("server queue timeout", func(t *testing.T) {
		// haproxy: "squeue/s1 203/-1/202 0 sQ 2/2/1/1/0 1/0"
		p := listenProxy(srv.port())
		p.Balance.Algo = "source"
		p.Servers[0].MaxConn = 1
		p.Timeouts.Queue = 200 * time.Millisecond
		r := run(t, p, func(addr string) {
			a := dial(t, addr)
			roundTrip(t, a, "x")
			expectClosed(t, dial(t, addr), 2*time.Second)
		})
		if r.Term != "sQ" || r.Server == nil || r.Tw < 190 || r.Tc != -1 || r.ActConn != 2 || r.FeConn != 2 ||
			r.BeConn != 1 || r.SrvConn != 1 || r.SrvQueue != 1 || r.BeQueue != 0 {
			t.Errorf("record %+v", r)
		}
	})
	t.Run("refused with retries", func(t *testing.T) {
		// haproxy: "refused/s1 1/-1/202 0 SC 1/1/0/0/2 0/0"
		p := listenProxy(deadPort(t))
		p.Retries = 2
		p.Timeouts.Connect = 100 * time.Millisecond
		r := run(t, p, func(addr string) { expectClosed(t, dial(t, addr), 2*time.Second) })
		if r.Term != "SC" || r.Server == nil || r.Tw != 0 || r.Tc != -1 || r.Tt < 190 || r.Retries != 2 ||
			r.ActConn != 1 || r.FeConn != 1 || r.BeConn != 0 || r.SrvConn != 0 {
			t.Errorf("record %+v", r)
		}
	})
	t.Run("no server", func(t *testing.T) {
		// haproxy: "nosrv/<NOSRV> -1/-1/0 0 SC 1/1/0/0/0 0/0"
		p := listenProxy(srv.port())
		p.Servers[0].Disabled = true
		r := run(t, p, func(addr string) { expectClosed(t, dial(t, addr), 2*time.Second) })
		if r.Term != "SC" || r.Server != nil || r.Tw != -1 || r.Tc != -1 || r.Retries != 0 ||
			r.ActConn != 1 || r.FeConn != 1 || r.BeConn != 0 {
			t.Errorf("record %+v", r)
		}
	})
}
