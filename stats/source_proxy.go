package stats

import (
	"errors"
	"net/netip"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"goproxy/internal/srvstate"
	"goproxy/parser"
	"goproxy/proxy"
)

// ProxySource is the Source (and Admin) of a running *proxy.Graph: it turns
// the graph's counters and server states into rows, and applies admin
// commands to the graph with their real effects.
type ProxySource struct {
	// MaxSock is the Maxsock of show info, the descriptors the process
	// sized itself for; 0 shows the open files limit. Set it before use.
	MaxSock int

	g     *proxy.Graph
	cfg   *parser.Config
	log   logrus.FieldLogger
	start time.Time
	hard  int                                      // maxconn when the process started
	http  map[string]func(globalMaxConn int) []Row // HTTP frontends served by the process
}

// AddHTTPFrontend registers the rows of an HTTP frontend the process
// serves itself (statistics page, exporter), shown in configuration order
// as HAProxy lists them. Call it before the source is used.
func (p *ProxySource) AddHTTPFrontend(name string, rows func(globalMaxConn int) []Row) {
	if p.http == nil {
		p.http = map[string]func(int) []Row{}
	}
	p.http[name] = rows
}

// NewProxySource returns the Source of g, built from cfg. State changes
// made by admin commands are logged on log (nil discards them).
func NewProxySource(g *proxy.Graph, cfg *parser.Config, log logrus.FieldLogger) *ProxySource {
	if log == nil {
		nl := logrus.New()
		nl.Out = nilWriter{}
		log = nl
	}
	now := time.Now()
	return &ProxySource{g: g, cfg: cfg, log: log, start: now, hard: int(g.MaxConn())}
}

// Admin returns the write side.
func (p *ProxySource) Admin() Admin { return (*proxyAdmin)(p) }

// Info returns the process values (the CLI adds its own connections and
// sockets).
func (p *ProxySource) Info() Info {
	gi := p.g.Info()
	in := Info{
		Nbthread:       p.nbthread(),
		Pid:            os.Getpid(),
		Start:          p.start,
		Maxconn:        int(gi.MaxConn),
		HardMaxconn:    p.hard,
		CurrConns:      uint64(max(gi.CurrConns, 0)),
		CumConns:       uint64(max(gi.CumConns, 0)),
		ConnRate:       uint64(max(gi.ConnRate, 0)),
		MaxConnRate:    uint64(max(gi.MaxConnRate, 0)),
		ConnRateLimit:  uint64(max(p.g.ConnRateLimit(), 0)),
		SessRate:       uint64(max(gi.SessRate, 0)),
		MaxSessRate:    uint64(max(gi.MaxSessRate, 0)),
		Stopping:       gi.Stopping,
		Jobs:           uint64(max(gi.Jobs, 0)),
		Listeners:      uint64(max(gi.Listeners, 0)),
		TotalBytesOut:  uint64(max(gi.TotalBytesOut, 0)),
		DroppedLogs:    gi.DroppedLogs,
		ActivePeers:    uint64(gi.ActivePeers),
		ConnectedPeers: uint64(gi.ConnectedPeers),
		IdlePct:        100,
	}
	// The binds of the HTTP frontends (promex, statistics page) are
	// listeners too (served by Exporter from start to soft stop).
	if !gi.Stopping && gi.Listeners > 0 {
		for _, px := range p.cfg.Proxies {
			if px.ServesHTTP() && !px.Disabled {
				in.Listeners += uint64(len(px.Binds))
				in.Jobs += uint64(len(px.Binds))
			}
		}
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil {
		in.UlimitN = int(min(rl.Cur, 1<<31-1))
		in.Maxsock = in.UlimitN
	}
	if p.MaxSock > 0 {
		in.Maxsock = p.MaxSock
	}
	if h, err := os.Hostname(); err == nil {
		in.Node = h
	}
	if n := p.cfg.Global.Node; n != "" {
		in.Node = n
	}
	in.Description = p.cfg.Global.Description
	return in
}

func (p *ProxySource) nbthread() int {
	if n := p.cfg.Global.NbThread; n > 0 {
		return n
	}
	return p.g.CPUs()
}

// Sessions lists the client sessions.
func (p *ProxySource) Sessions() []Session {
	list := p.g.Sessions()
	out := make([]Session, 0, len(list))
	for _, si := range list {
		proto := "tcpv4"
		if si.Source.Addr().Is6() && !si.Source.Addr().Is4In6() {
			proto = "tcpv6"
		}
		out = append(out, Session{ID: si.ID, Proto: proto, Src: si.Source.String(),
			Frontend: si.Frontend, Backend: si.Backend, Server: si.Server, Age: si.Age})
	}
	return out
}

// Stats returns the rows in HAProxy's order: per proxy in configuration
// order, FRONTEND, listeners (option socket-stats), servers, BACKEND.
func (p *ProxySource) Stats() []Row {
	now := time.Now()
	var rows []Row
	for _, px := range p.cfg.Proxies {
		if fn := p.http[px.Name]; fn != nil && px.ServesHTTP() && !px.Disabled {
			rows = append(rows, fn(int(p.g.MaxConn()))...)
			continue
		}
		var f *proxy.Frontend
		var b *proxy.Backend
		if px.Cap&parser.CapFrontend != 0 {
			f = p.g.Frontend(px.Name)
		}
		if px.Cap&parser.CapBackend != 0 {
			b = p.g.Backend(px.Name)
		}
		if f != nil {
			rows = append(rows, frontendRow(f))
			for _, ln := range f.Listeners {
				if ln.SocketStats() {
					rows = append(rows, listenerRow(f, ln))
				}
			}
		}
		if b != nil {
			for _, s := range b.ServerList() {
				rows = append(rows, serverRow(b, s, now))
			}
			rows = append(rows, p.backendRow(b, now))
		}
	}
	return rows
}

func u(n int64) uint64 { return uint64(max(n, 0)) }

func frontendRow(f *proxy.Frontend) Row {
	st := f.Stats()
	r := Row{
		Type: TypeFrontend, Proxy: f.Name, IID: f.ID, Mode: "tcp",
		SCur: u(st.Scur), SMax: u(st.Smax), SLim: u(st.Slim), STot: u(st.Stot),
		BIn: u(st.Bin), BOut: u(st.Bout), DReq: u(st.Dreq), EReq: u(st.Ereq),
		Rate: u(st.Rate), RateMax: u(st.RateMax),
		ConnRate: u(st.ConnRate), ConnRateMax: u(st.ConnMax), ConnTot: u(st.ConnTot),
		DCon: u(st.Dcon), DSes: u(st.Dses),
	}
	switch {
	case f.Stopped():
		r.FrontState = FrontStopped
	case f.Paused():
		r.FrontState = FrontPaused
	}
	return r
}

func listenerRow(f *proxy.Frontend, ln *proxy.Listener) Row {
	st := ln.Stats()
	r := Row{
		Type: TypeListener, Proxy: f.Name, Name: ln.Name, IID: f.ID, SID: ln.ID, Mode: "tcp",
		SCur: u(st.Scur), SMax: u(st.Smax), SLim: u(st.Slim), STot: u(st.Stot),
		BIn: u(st.Bin), BOut: u(st.Bout), DReq: u(st.Dreq), EReq: u(st.Ereq),
		DCon: u(st.Dcon), DSes: u(st.Dses), Addr: listenerAddr(ln),
	}
	// HAProxy's get_li_status: FULL at the bind's maxconn (the frontend's
	// when the bind has none), WAITING while a process-wide limit holds it
	// back, OPEN otherwise, paused or not.
	limit := st.Slim
	if limit <= 0 {
		limit = f.MaxConn()
	}
	switch {
	case limit > 0 && st.Scur >= limit:
		r.ListenerStatus = "FULL"
	case ln.Listening() && ln.Full():
		r.ListenerStatus = "WAITING"
	default:
		r.ListenerStatus = "OPEN"
	}
	return r
}

// counterFields fills the counters servers and backends share.
func counterFields(r *Row, st proxy.Stats) {
	r.QCur, r.QMax = u(st.Qcur), u(st.Qmax)
	r.SCur, r.SMax, r.SLim, r.STot = u(st.Scur), u(st.Smax), u(st.Slim), u(st.Stot)
	r.BIn, r.BOut = u(st.Bin), u(st.Bout)
	r.DReq, r.EReq = u(st.Dreq), u(st.Ereq)
	r.ECon, r.EResp, r.WRetr, r.WRedis = u(st.Econ), u(st.Eresp), u(st.Wretr), u(st.Wredis)
	r.Rate, r.RateMax = u(st.Rate), u(st.RateMax)
	r.CliAbrt, r.SrvAbrt = u(st.CliAbrt), u(st.SrvAbrt)
	r.QTime, r.CTime, r.TTime = u(st.Qtime), u(st.Ctime), u(st.Ttime)
	r.QTimeMax, r.CTimeMax, r.TTimeMax = u(st.QtimeMax), u(st.CtimeMax), u(st.TtimeMax)
	r.Connect, r.LbTot = u(st.Connect), u(st.Lbtot)
	r.LastSess = st.LastSess
	r.DCon = u(st.Dcon)
}

func probeCheck(ps proxy.ProbeSnapshot) Check {
	c := Check{
		Configured: ps.StateBits&srvstate.ProbeConfigured != 0,
		Enabled:    ps.StateBits&srvstate.ProbeEnabled != 0,
		Paused:     ps.StateBits&srvstate.ProbePaused != 0,
		InProgress: ps.StateBits&srvstate.ProbeInProgress != 0,
		Status:     ps.StatusCode,
		Code:       ps.Code,
		Duration:   -1,
		Info:       ps.LastChk,
		Health:     ps.Health,
		Rise:       ps.Rise,
		Fall:       ps.Fall,
		Result:     ps.Result,
	}
	if ps.HasDuration {
		c.Duration = time.Duration(ps.DurationMS) * time.Millisecond
	}
	return c
}

func serverRow(b *proxy.Backend, s *proxy.Server, now time.Time) Row {
	st := s.Stats()
	snap := s.CheckSnapshot(now)
	r := Row{Type: TypeServer, Proxy: b.Name, Name: s.Name, IID: b.ID, SID: s.ID, Mode: "tcp"}
	counterFields(&r, st)
	r.LastChg = u(snap.LastChg)
	r.Downtime = u(snap.DownTime)
	r.ChkDown = u(snap.ChkDown)

	ip, port := s.Dest()
	uw := s.UWeight()
	w := s.ShownWeight()
	if snap.Throttle >= 0 {
		w = (uw*snap.Throttle + 99) / 100
	}
	host := ""
	if ip.IsValid() {
		host = ip.String()
	}
	if s.IsUnix() {
		r.Addr = "unix" // HAProxy's addr_to_str; servers state shows "-" and port 0
	}
	r.Server = ServerState{
		Op:          snap.OpState,
		Admin:       s.Admin(),
		Backup:      s.Backup,
		Weight:      w,
		UWeight:     uw,
		IWeight:     min(max(s.Config.Weight, 0), 256),
		MaxQueue:    uint64(max(s.Config.MaxQueue, 0)),
		Throttle:    max(snap.Throttle, 0),
		ThrottleSet: snap.Throttle >= 0,
		ChkFail:     u(snap.ChkFail),
		SrvICur:     0,
		// TCP sessions do not use the connection pools HAProxy counts
		// here; its estimate of needed connections stays at 1.
		NeedConnEst: 1,
		UsedConnMax: 1,
		Check:       probeCheck(snap.Check),
		Agent:       probeCheck(snap.Agent),
		Host:        host,
		Port:        port,
		FQDN:        s.FQDN(),
		SRVRecord:   s.DNS.SRVRecord,
		ForcedID:    s.Config.IDForced,
		CheckPort:   snap.CheckPort,
		CheckAddr:   snap.CheckAddr,
		AgentAddr:   snap.AgentAddr,
		AgentPort:   snap.AgentPort,
		Tracked:     s.Config.Track,
		Dynamic:     s.Dynamic,
		UseSSL:      s.UsesSSL(),
	}
	if s.Dynamic {
		// A dynamic server never counted a connection estimate: HAProxy
		// shows 0 where a configured server shows 1.
		r.Server.NeedConnEst, r.Server.UsedConnMax = 0, 0
	}
	if s.Addr.HasOffset && port == 0 {
		r.Server.Port = s.Addr.PortOffset // HAProxy's svc_port: the offset
	}
	return r
}

func (p *ProxySource) backendRow(b *proxy.Backend, now time.Time) Row {
	st := b.Stats()
	r := Row{Type: TypeBackend, Proxy: b.Name, IID: b.ID, Mode: "tcp"}
	counterFields(&r, st)
	r.QCur = u(b.Queued())
	bs := b.State(now)
	r.LastChg, r.ChkDown, r.Downtime = u(bs.LastChg), u(bs.ChkDown), u(bs.DownTime)
	r.Algo = b.Config.Balance.Algo
	if r.Algo == "" {
		r.Algo = "roundrobin"
	}
	r.StaticLB = b.StaticLB()
	r.AllBackups = b.Config.Options.AllBackups
	return r
}

// proxyAdmin applies admin commands to the graph.
type proxyAdmin ProxySource

func (a *proxyAdmin) server(backend, server string) (*proxy.Server, error) {
	b := a.g.Backend(backend)
	if b == nil {
		return nil, errors.New("No such backend.\n")
	}
	for _, s := range b.ServerList() {
		if s.Name == server {
			return s, nil
		}
	}
	return nil, errors.New("No such server.\n")
}

func (a *proxyAdmin) frontend(name string) (*proxy.Frontend, error) {
	if f := a.g.Frontend(name); f != nil {
		return f, nil
	}
	return nil, errors.New("No such frontend.\n")
}

// SetServerState is disable/enable server and set server state, applied
// as one change.
func (a *proxyAdmin) SetServerState(backend, server string, st proxy.AdminMode) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	s.SetAdminMode(st, a.log)
	return nil
}

// SetServerHealth forces the operational state; in maintenance it only
// sets the health counter, as HAProxy.
func (a *proxyAdmin) SetServerHealth(backend, server string, h srvstate.Op) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	return s.SetHealth(h, a.log)
}

// SetServerAgentHealth is set server ... agent up|down.
func (a *proxyAdmin) SetServerAgentHealth(backend, server string, up bool) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	return s.SetAgentHealth(up, a.log)
}

// SetServerWeight sets the user weight; the balancer follows at once.
func (a *proxyAdmin) SetServerWeight(backend, server string, weight int) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	return s.SetWeight(weight, a.log)
}

// SetServerMaxConn is set maxconn server.
func (a *proxyAdmin) SetServerMaxConn(backend, server string, maxconn int) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	s.SetMaxConn(int64(maxconn))
	return nil
}

// SetServerAddr changes where new sessions connect.
func (a *proxyAdmin) SetServerAddr(backend, server string, addr netip.Addr, port int) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	s.SetAddr(addr, port)
	return nil
}

// SetServerCheck is enable/disable health.
func (a *proxyAdmin) SetServerCheck(backend, server string, enabled bool) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	s.SetHealthCheckEnabled(enabled)
	return nil
}

// SetServerAgent is enable/disable agent.
func (a *proxyAdmin) SetServerAgent(backend, server string, enabled bool) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	s.SetAgentCheckEnabled(enabled)
	return nil
}

// ShutdownServerSessions closes every session on the server.
func (a *proxyAdmin) ShutdownServerSessions(backend, server string) error {
	s, err := a.server(backend, server)
	if err != nil {
		return err
	}
	s.ShutdownSessions()
	return nil
}

// PauseFrontend is disable frontend.
func (a *proxyAdmin) PauseFrontend(name string) error {
	f, err := a.frontend(name)
	if err != nil {
		return err
	}
	if !f.Pause() {
		return errors.New("Failed to pause frontend, check logs for precise cause.\n")
	}
	return nil
}

// ResumeFrontend is enable frontend.
func (a *proxyAdmin) ResumeFrontend(name string) error {
	f, err := a.frontend(name)
	if err != nil {
		return err
	}
	if !f.Resume() {
		return errors.New("Failed to resume frontend, check logs for precise cause (port conflict?).\n")
	}
	return nil
}

// ShutdownFrontend stops a frontend for good.
func (a *proxyAdmin) ShutdownFrontend(name string) error {
	f, err := a.frontend(name)
	if err != nil {
		return err
	}
	f.Shutdown()
	return nil
}

// SetFrontendMaxConn is set maxconn frontend.
func (a *proxyAdmin) SetFrontendMaxConn(name string, maxconn int) error {
	f, err := a.frontend(name)
	if err != nil {
		return err
	}
	f.SetMaxConn(int64(maxconn))
	return nil
}

// SetGlobalMaxConn is set maxconn global.
func (a *proxyAdmin) SetGlobalMaxConn(maxconn int) error {
	a.g.SetMaxConn(int64(maxconn))
	return nil
}

// SetRateLimit sets the global connection rate limit; goproxy has no
// session, SSL or compression rate limiters.
func (a *proxyAdmin) SetRateLimit(kind string, limit int) error {
	if kind == "connections" {
		a.g.SetConnRateLimit(int64(limit))
		return nil
	}
	return errors.New("This command is not supported by goproxy (no global " + kind + " rate limit).\n")
}

// ShutdownSession closes one session.
func (a *proxyAdmin) ShutdownSession(id uint64) error {
	if !a.g.ShutdownSession(id) {
		return errors.New("No such session (use 'show sess').\n")
	}
	return nil
}

// ClearCounters is clear counters [all].
func (a *proxyAdmin) ClearCounters(all bool) error {
	a.g.ClearCounters(all)
	return nil
}

// listenerAddr is a listener's addr column: ip:port, or "unix" for a UNIX
// socket, as HAProxy's addr_to_str.
func listenerAddr(ln *proxy.Listener) string {
	if ln.IsUnix() {
		return "unix"
	}
	return ln.Addr
}
