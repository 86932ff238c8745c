package stats

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"goproxy/internal/srvstate"
	"goproxy/proxy"
)

// fakeSource reproduces the state of HAProxy when golden/show-stat.csv was
// captured: seed config, 19 sessions, one live on server2, server3 down.
type fakeSource struct {
	mu       sync.Mutex
	rows     []Row
	info     Info
	sessions []Session
	calls    []string // admin calls, in order
}

func seedServer(name string, sid, port int) Row {
	return Row{
		Type: TypeServer, Proxy: "persistent_connection_backend", Name: name, IID: 3, SID: sid, Mode: "tcp",
		SMax: 1, STot: 9, BIn: 162, BOut: 162, LbTot: 9, Connect: 9, RateMax: 1, LastSess: 19,
		TTime: 1, TTimeMax: 1, LastChg: 41,
		Addr: "127.0.0.1:" + itoa(port),
		Server: ServerState{
			Op: srvstate.OpRunning, Weight: 1, UWeight: 1, IWeight: 1, NeedConnEst: 1,
			UsedConnMax: 1, Host: "127.0.0.1", Port: port,
			Check: Check{Configured: true, Enabled: true, Status: srvstate.CheckL4OK, Health: 4, Rise: 2, Fall: 3,
				Result: srvstate.ResultPassed},
			Agent: Check{Duration: -1},
		},
	}
}

func itoa(n int) string { return string(numi(n).String()) }

func newFakeSource() *fakeSource {
	fe := Row{
		Type: TypeFrontend, Proxy: "persistent_connection_frontend", IID: 2, Mode: "tcp",
		SCur: 1, SMax: 2, SLim: 50000, STot: 19, BIn: 324, BOut: 324, RateMax: 1,
		ConnRateMax: 1, ConnTot: 19,
	}
	s1 := seedServer("server1", 1, 19315)
	s2 := seedServer("server2", 2, 19316)
	s2.SCur, s2.STot, s2.LbTot, s2.Connect, s2.LastSess = 1, 10, 10, 10, 15
	s3 := seedServer("server3", 3, 19317)
	s3.SMax, s3.STot, s3.BIn, s3.BOut, s3.LbTot, s3.Connect, s3.RateMax, s3.LastSess = 0, 0, 0, 0, 0, 0, 0, -1
	s3.TTime, s3.TTimeMax, s3.LastChg, s3.Downtime, s3.ChkDown = 0, 0, 38, 38, 1
	s3.Server.Op = srvstate.OpStopped
	s3.Server.ChkFail = 1
	s3.Server.Check.Status = srvstate.CheckL4Con
	s3.Server.Check.Health = 0
	s3.Server.Check.Result = srvstate.ResultFailed
	s3.Server.Check.Info = "Connection refused at initial connection step of tcp-check"
	be := Row{
		Type: TypeBackend, Proxy: "persistent_connection_backend", IID: 3, Mode: "tcp",
		SCur: 1, SMax: 1, SLim: 5000, STot: 19, BIn: 324, BOut: 324, LbTot: 19, Connect: 19,
		RateMax: 1, LastSess: 15, TTime: 1, TTimeMax: 1, LastChg: 41, Algo: "source", StaticLB: true,
	}
	start := time.Unix(1795622014, 0)
	return &fakeSource{
		rows: []Row{fe, s1, s2, s3, be},
		info: Info{
			Nbthread: 2, Pid: 12183, Start: start, Now: start.Add(81 * time.Second),
			UlimitN: 20000, Maxsock: 100031, Maxconn: 50000, HardMaxconn: 50000,
			CumConns: 196, CumReq: 147, Tasks: 16, IdlePct: 100, Node: "vm", Jobs: 3, Listeners: 2,
			TotalBytesOut: 224855, BytesOutRate: 8224, PoolAllocBytes: 146680, PoolUsedBytes: 146680,
		},
		sessions: []Session{{ID: 0x55c143e7ca00, Proto: "tcpv4", Src: "127.0.0.5:39121",
			Frontend: "persistent_connection_frontend", Backend: "persistent_connection_backend",
			Server: "server2", Age: 50 * time.Second}},
	}
}

func (f *fakeSource) Info() Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

func (f *fakeSource) Stats() []Row {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Row(nil), f.rows...)
}

func (f *fakeSource) Sessions() []Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Session(nil), f.sessions...)
}

func (f *fakeSource) Admin() Admin { return (*fakeAdmin)(f) }

// fakeAdmin applies admin commands to the fake rows roughly as HAProxy
// changes its state.
type fakeAdmin fakeSource

func (a *fakeAdmin) server(be, sv string) *Row {
	for i := range a.rows {
		r := &a.rows[i]
		if r.Type == TypeServer && r.Proxy == be && r.Name == sv {
			return r
		}
	}
	return nil
}

func (a *fakeAdmin) record(call string) {
	a.calls = append(a.calls, call)
}

func (a *fakeAdmin) SetServerState(be, sv string, st proxy.AdminMode) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.record("state " + be + "/" + sv)
	r := a.server(be, sv)
	s := &r.Server
	switch st {
	case proxy.ModeMaint:
		if s.Admin&srvstate.AdminForcedMaint == 0 {
			s.Admin |= srvstate.AdminForcedMaint
			s.Admin &^= srvstate.AdminForcedDrain
			if s.Op != srvstate.OpStopped {
				r.ChkDown++
			}
			s.Op = srvstate.OpStopped
			s.Check.Paused = true
			s.Check.Health = 0
			r.LastChg = 0
		}
	case proxy.ModeDrain:
		if s.Admin&srvstate.AdminForcedMaint != 0 {
			s.Admin &^= srvstate.AdminForcedMaint
			s.Op = srvstate.OpRunning
			s.Check.Paused = false
			s.Check.Health = s.Check.Rise
		}
		s.Admin |= srvstate.AdminForcedDrain
		r.LastChg = 0
	case proxy.ModeReady:
		if s.Admin&srvstate.AdminForcedMaint != 0 {
			s.Admin &^= srvstate.AdminForcedMaint
			s.Op = srvstate.OpRunning
			s.Check.Paused = false
			s.Check.Health = s.Check.Rise
			r.LastChg = 0
		}
		s.Admin &^= srvstate.AdminForcedDrain
	}
	return nil
}

func (a *fakeAdmin) SetServerHealth(be, sv string, h srvstate.Op) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.server(be, sv)
	switch h {
	case srvstate.OpRunning:
		r.Server.Op, r.Server.Check.Health = srvstate.OpRunning, r.Server.Check.Rise+r.Server.Check.Fall-1
	case srvstate.OpStopping:
		r.Server.Op = srvstate.OpStopping
	case srvstate.OpStopped:
		r.Server.Op, r.Server.Check.Health = srvstate.OpStopped, 0
		r.ChkDown++
	}
	return nil
}

func (a *fakeAdmin) SetServerAgentHealth(be, sv string, up bool) error { return nil }

func (a *fakeAdmin) SetServerWeight(be, sv string, w int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.server(be, sv)
	r.Server.UWeight, r.Server.Weight = w, w
	return nil
}

func (a *fakeAdmin) SetServerMaxConn(be, sv string, n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.server(be, sv).SLim = uint64(n)
	return nil
}

func (a *fakeAdmin) SetServerAddr(be, sv string, ip netip.Addr, port int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.server(be, sv)
	r.Server.Host = ip.String()
	if port != 0 {
		r.Server.Port = port
	}
	return nil
}

func (a *fakeAdmin) SetServerCheck(be, sv string, on bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.server(be, sv).Server.Check.Enabled = on
	return nil
}

func (a *fakeAdmin) SetServerAgent(be, sv string, on bool) error { return nil }

func (a *fakeAdmin) ShutdownServerSessions(be, sv string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.record("shutdown sessions " + be + "/" + sv)
	kept := a.sessions[:0]
	for _, x := range a.sessions {
		if x.Backend != be || x.Server != sv {
			kept = append(kept, x)
		}
	}
	a.sessions = kept
	return nil
}

func (a *fakeAdmin) frontend(name string) *Row {
	for i := range a.rows {
		if a.rows[i].Type == TypeFrontend && a.rows[i].Proxy == name {
			return &a.rows[i]
		}
	}
	return nil
}

func (a *fakeAdmin) PauseFrontend(fe string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frontend(fe).FrontState = FrontPaused
	return nil
}

func (a *fakeAdmin) ResumeFrontend(fe string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frontend(fe).FrontState = FrontOpen
	return nil
}

func (a *fakeAdmin) ShutdownFrontend(fe string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frontend(fe).FrontState = FrontStopped
	return nil
}

func (a *fakeAdmin) SetFrontendMaxConn(fe string, n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frontend(fe).SLim = uint64(n)
	return nil
}

func (a *fakeAdmin) SetGlobalMaxConn(n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.info.Maxconn = n
	return nil
}

func (a *fakeAdmin) SetRateLimit(kind string, n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if kind == "connections" {
		a.info.ConnRateLimit = uint64(n)
	} else {
		a.info.SessRateLimit = uint64(n)
	}
	return nil
}

func (a *fakeAdmin) ShutdownSession(id uint64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, s := range a.sessions {
		if s.ID == id {
			a.sessions = append(a.sessions[:i], a.sessions[i+1:]...)
			return nil
		}
	}
	return errors.New("No such session (use 'show sess').\n")
}

func (a *fakeAdmin) ClearCounters(all bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.rows {
		r := &a.rows[i]
		r.SMax, r.QMax, r.RateMax, r.ConnRateMax = r.SCur, r.QCur, r.Rate, r.ConnRate
		r.QTimeMax, r.CTimeMax, r.RTimeMax, r.TTimeMax = 0, 0, 0, 0
		if all {
			r.STot, r.BIn, r.BOut, r.LbTot, r.Connect, r.ConnTot, r.ChkDown = 0, 0, 0, 0, 0, 0, 0
			r.Server.ChkFail = 0
		}
	}
	return nil
}
