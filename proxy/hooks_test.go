package proxy

import (
	"testing"
	"time"
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
	if r, ok := got["sQ"]; !ok || r.Server != nil || r.Tw < 90 || r.SrvQueue != 0 || r.Tc != -1 {
		t.Errorf("queue timeout record %+v", r)
	}
	r, ok := got["--"]
	if !ok || r.Server == nil || r.Server.Name != "s1" || r.BytesIn != 5 || r.BytesOut != 5 ||
		r.Tc < 0 || r.Tw != 0 || r.Retries != 0 || r.ActConn != 1 || r.FeConn != 1 || r.SrvConn != 1 {
		t.Errorf("normal record %+v", r)
	}
}
