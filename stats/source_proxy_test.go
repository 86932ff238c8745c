package stats

import (
	"strings"
	"testing"

	"goproxy/internal/srvstate"
	"goproxy/proxy"
)

func buildSource(t *testing.T, text string) (*ProxySource, *proxy.Graph) {
	t.Helper()
	cfg := parseConfig(t, text)
	g, err := proxy.Build(cfg, proxy.Options{})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return NewProxySource(g, cfg, nil), g
}

const sourceCfg = `global
  maxconn 500
defaults
  mode tcp
  timeout connect 1s
  timeout client 1s
  timeout server 1s
listen li
  bind 127.0.0.1:1 name first
  bind 127.0.0.1:2
  option socket-stats
  balance source
  server a 127.0.0.1:10 check
  server b 127.0.0.1:11 disabled weight 3
frontend fe
  bind 127.0.0.1:3
  default_backend be
backend be
  balance static-rr
  server c 127.0.0.1:12 backup
`

func TestProxySourceRows(t *testing.T) {
	src, _ := buildSource(t, sourceCfg)
	var got []string
	rows := src.Stats()
	for _, r := range rows {
		got = append(got, r.Proxy+"/"+map[ObjType]string{TypeFrontend: "FRONTEND", TypeBackend: "BACKEND"}[r.Type]+r.Name)
	}
	want := "li/FRONTEND li/first li/sock-2 li/a li/b li/BACKEND fe/FRONTEND be/c be/BACKEND"
	if strings.Join(got, " ") != want {
		t.Fatalf("rows %v\nwant %s", got, want)
	}
	byName := map[string]Row{}
	for _, r := range rows {
		byName[r.Proxy+"/"+r.Name+"/"+string(rune('0'+r.Type))] = r
	}
	a, b := byName["li/a/2"], byName["li/b/2"]
	if a.LastSess != -1 || a.Server.Op != srvstate.OpRunning || !a.Server.Check.Enabled || a.Server.Check.Rise != 2 {
		t.Errorf("server a: %+v", a)
	}
	if b.Server.Admin != srvstate.AdminConfigMaint|srvstate.AdminForcedMaint || b.Server.Op != srvstate.OpStopped || b.Server.IWeight != 3 {
		t.Errorf("server b admin %v op %v iweight %d", b.Server.Admin, b.Server.Op, b.Server.IWeight)
	}
	if be := byName["li//1"]; !be.StaticLB || be.Algo != "source" || be.LastSess != -1 {
		t.Errorf("li backend: static %v algo %q lastsess %d", be.StaticLB, be.Algo, be.LastSess)
	}
	if be := byName["be//1"]; !be.StaticLB || be.Algo != "static-rr" {
		t.Errorf("be backend: static %v algo %q", be.StaticLB, be.Algo)
	}
	if c := byName["be/c/2"]; !c.Server.Backup || c.Server.Host != "127.0.0.1" || c.Server.Port != 12 {
		t.Errorf("server c: %+v", c.Server)
	}
	if ln := byName["li/first/3"]; ln.SID != 1 || ln.Addr != "127.0.0.1:1" || ln.ListenerStatus != "OPEN" {
		t.Errorf("listener: sid %d addr %q status %q", ln.SID, ln.Addr, ln.ListenerStatus)
	}
	in := src.Info()
	if in.Maxconn != 500 || in.HardMaxconn != 500 || in.Listeners != 0 || in.CurrConns != 0 {
		t.Errorf("info: %+v", in)
	}
}

func TestProxySourceAdmin(t *testing.T) {
	src, g := buildSource(t, sourceCfg)
	adm := src.Admin()
	a := g.Backend("li").Servers[0]
	for _, tc := range []struct {
		name  string
		do    func() error
		check func() bool
	}{
		{"maint", func() error { return adm.SetServerState("li", "a", proxy.ModeMaint) }, func() bool { return a.Admin()&srvstate.AdminMaint != 0 }},
		{"drain leaves maint", func() error { return adm.SetServerState("li", "a", proxy.ModeDrain) }, func() bool { return a.Admin() == srvstate.AdminForcedDrain }},
		{"ready", func() error { return adm.SetServerState("li", "a", proxy.ModeReady) }, func() bool { return a.Admin() == 0 }},
		{"health down", func() error { return adm.SetServerHealth("li", "a", srvstate.OpStopped) }, func() bool { return !a.Running() }},
		{"health up", func() error { return adm.SetServerHealth("li", "a", srvstate.OpRunning) }, func() bool { return a.Running() }},
		{"maint then health down", func() error {
			if err := adm.SetServerState("li", "a", proxy.ModeMaint); err != nil {
				return err
			}
			return adm.SetServerHealth("li", "a", srvstate.OpStopped)
		}, func() bool { return a.Admin()&srvstate.AdminMaint != 0 }},
		{"weight", func() error { return adm.SetServerWeight("be", "c", 1) }, func() bool { return g.Backend("be").Servers[0].UWeight() == 1 }},
		{"maxconn", func() error { return adm.SetServerMaxConn("li", "a", 7) }, func() bool { return a.MaxConn() == 7 }},
		{"global maxconn", func() error { return adm.SetGlobalMaxConn(100) }, func() bool { return g.MaxConn() == 100 }},
		{"frontend maxconn", func() error { return adm.SetFrontendMaxConn("fe", 9) }, func() bool { return g.Frontend("fe").MaxConn() == 9 }},
		{"disable health", func() error { return adm.SetServerCheck("li", "a", false) }, func() bool { return !a.HealthCheckEnabled() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err != nil {
				t.Fatalf("error %v", err)
			}
			if !tc.check() {
				t.Fatal("no effect")
			}
		})
	}
	if err := adm.SetServerWeight("li", "a", 5); err == nil || !strings.Contains(answer(err), "static LB") {
		t.Errorf("weight 5 on a static backend: %v", err)
	}
	if err := adm.SetRateLimit("connections", 10); err != nil {
		t.Errorf("SetRateLimit connections: %v", err)
	}
	if err := adm.SetRateLimit("sessions", 10); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("SetRateLimit sessions: %v", err)
	}
	if err := adm.SetServerState("li", "nosuch", proxy.ModeMaint); err == nil {
		t.Error("unknown server accepted")
	}
}

func TestProxySourceBackendDown(t *testing.T) {
	src, _ := buildSource(t, sourceCfg)
	adm := src.Admin()
	be := func() Row {
		for _, r := range src.Stats() {
			if r.Type == TypeBackend && r.Proxy == "li" {
				return r
			}
		}
		t.Fatal("no li backend row")
		return Row{}
	}
	if r := be(); r.ChkDown != 0 {
		t.Fatalf("chkdown %d at start", r.ChkDown)
	}
	if err := adm.SetServerState("li", "a", proxy.ModeMaint); err != nil {
		t.Fatal(err)
	}
	if r := be(); r.ChkDown != 1 || r.LastChg != 0 {
		t.Fatalf("after the last server left: chkdown %d lastchg %d", r.ChkDown, r.LastChg)
	}
	if err := adm.SetServerState("li", "a", proxy.ModeReady); err != nil {
		t.Fatal(err)
	}
	if r := be(); r.ChkDown != 1 {
		t.Fatalf("after coming back: chkdown %d", r.ChkDown)
	}
}
