package stats

import (
	"time"

	"goproxy/internal/srvstate"
)

// Source is the view of the running process the CLI and the collector read.
// Every call returns fresh plain data: nothing returned is retained or
// modified by the caller. Calls may come concurrently from several sessions.
type Source interface {
	// Info returns the process-wide values of "show info".
	Info() Info
	// Stats returns one Row per frontend, listener, server and backend, in
	// HAProxy's order: for each proxy in configuration order, its FRONTEND
	// row, its listener rows, its server rows, then its BACKEND row.
	Stats() []Row
	// Sessions returns the established client sessions ("show sess").
	Sessions() []Session
	// Admin returns the write side used by admin commands.
	Admin() Admin
}

// ObjType is the kind of a "show stat" row; the values are HAProxy's `type`
// column.
type ObjType int

// Row kinds.
const (
	TypeFrontend ObjType = iota
	TypeBackend
	TypeServer
	TypeListener
)

// Row holds what one "show stat" line needs. Which columns are printed empty
// depends on Type and on the state fields, as in HAProxy; the numbers are
// given in HAProxy's units (bytes, milliseconds, seconds).
type Row struct {
	Type  ObjType
	Proxy string // pxname
	Name  string // server or listener name; ignored for FRONTEND and BACKEND rows
	IID   int    // proxy id
	SID   int    // server id (servers), listener id (listeners), 0 otherwise
	Mode  string // "tcp" or "http"

	QCur, QMax                             uint64 // B S
	SCur, SMax                             uint64
	SLim                                   uint64 // F: maxconn, B: fullconn, S: maxconn (0 prints empty), L: maxconn
	STot, BIn, BOut                        uint64
	DReq, DResp, EReq                      uint64
	ECon, EResp, WRetr, WRedis             uint64 // B S
	Rate, RateLim, RateMax                 uint64 // RateLim: frontends only
	CliAbrt, SrvAbrt                       uint64 // B S
	QTime, CTime, RTime, TTime             uint64 // B S averages, ms
	QTimeMax, CTimeMax, RTimeMax, TTimeMax uint64
	ConnRate, ConnRateMax, ConnTot         uint64 // F
	DCon, DSes, WRew, EInt                 uint64
	Connect, Reuse, LbTot                  uint64 // B S
	LastChg                                uint64 // B S: seconds since the last state change
	Downtime                               uint64 // B S: seconds spent down
	ChkDown                                uint64 // B S: UP->DOWN transitions
	LastSess                               int64  // B S: seconds since the last session, -1 if never

	// Frontends and listeners.
	FrontState FrontState
	// ListenerStatus is the status word of a listener row (OPEN, FULL, WAITING).
	ListenerStatus string
	// Addr is "ip:port" of a server or listener ("[v6]:port"); for a server
	// it defaults to Server.Host and Server.Port.
	Addr string

	// Backends.
	Algo string // balance algorithm name
	// StaticLB is true when the algorithm cannot change weights at run time
	// (static-rr, map-based hashing, ...).
	StaticLB bool
	// AllBackups is option allbackups: all usable backup servers share the
	// load when no active server is usable.
	AllBackups bool

	// Servers.
	Server ServerState

	// HTTP holds the HTTP counters of the HTTP frontends goproxy serves
	// itself (statistics page, exporter); zero elsewhere.
	HTTP HTTPCounters
}

// HTTPCounters are the HTTP columns of an HTTP-mode row.
type HTTPCounters struct {
	Rsp                 [6]uint64 // 1xx, 2xx, 3xx, 4xx, 5xx, other
	ReqTot, Intercepted uint64
	ReqRate, ReqRateMax uint64
}

// FrontState is the state of a frontend.
type FrontState int

// Frontend states.
const (
	FrontOpen FrontState = iota
	FrontPaused
	FrontStopped
)

// ServerState is the server part of a Row.
type ServerState struct {
	Op    srvstate.Op
	Admin srvstate.Admin
	// Backup is true for a `backup` server.
	Backup bool
	// Weight is the current effective weight on the configuration scale;
	// UWeight the user weight (config or CLI); IWeight the initial one.
	Weight, UWeight, IWeight int
	// MaxQueue is the server's maxqueue (qlimit), 0 = unlimited.
	MaxQueue uint64
	// Throttle is the slowstart ratio in percent while warming up.
	Throttle        int
	ThrottleSet     bool
	Tracked         string // "backend/server" when `track` is used
	ChkFail         uint64 // failed checks while UP
	IdleLimit       int    // pool-max-conn; 0 = unlimited (the default)
	SrvICur         uint64
	IdleConnCur     uint64
	SafeConnCur     uint64
	UsedConnCur     uint64
	UsedConnMax     uint64
	NeedConnEst     uint64
	Check           Check
	Agent           Check
	Host            string // address without port, as in show servers state
	Port            int
	FQDN            string
	SRVRecord       string // the SRV name of a server-template ("srvrecord")
	ForcedID        bool   // server has an explicit `id`
	BackendForcedID bool
	CheckPort       int
	CheckAddr       string
	AgentAddr       string
	AgentPort       int
	// Cookie is the server's cookie value, if any.
	Cookie string
	// Dynamic is set for a server added at run time ("add server").
	Dynamic bool
	// UseSSL is set for a server reached over TLS ("ssl").
	UseSSL bool
}

// Check is the state of a server's health check (or agent check).
type Check struct {
	Configured bool // the server line has `check` (or `agent-check`)
	Enabled    bool // not disabled by "disable health" / "disable agent"
	Paused     bool // paused by maintenance
	InProgress bool
	Status     srvstate.CheckStatus
	// Code is the L5-7 response code; shown only for L7 statuses.
	Code int
	// Duration of the last check, negative if none completed.
	Duration time.Duration
	// Info is the detail text of the last result (last_chk).
	Info   string
	Health int // 0 .. Rise+Fall-1
	Rise   int
	Fall   int
	Result srvstate.CheckResult
}

// Info holds the values of "show info" the process knows; the rest of the
// fields are constants for goproxy.
type Info struct {
	Version, ReleaseDate string
	Nbthread             int
	Pid                  int
	Start                time.Time
	Now                  time.Time // zero means time.Now()
	UlimitN              int
	Maxsock              int
	Maxconn, HardMaxconn int
	CurrConns            uint64
	CumConns             uint64
	CumReq               uint64
	ConnRate             uint64
	ConnRateLimit        uint64
	MaxConnRate          uint64
	SessRate             uint64
	SessRateLimit        uint64
	MaxSessRate          uint64
	Tasks                uint64
	RunQueue             uint64
	IdlePct              uint64
	Node                 string
	Description          string
	Stopping             bool
	Jobs                 uint64
	Listeners            uint64
	DroppedLogs          uint64
	ActivePeers          uint64
	ConnectedPeers       uint64
	TotalBytesOut        uint64
	BytesOutRate         uint64
	PoolAllocBytes       uint64
	PoolUsedBytes        uint64
}

// Session is one client stream for "show sess".
type Session struct {
	ID       uint64 // printed as 0x%x; "shutdown session" takes it back
	Proto    string // "tcpv4", "tcpv6"
	Src      string // "ip:port"
	Frontend string
	Backend  string // empty = <NONE>
	Server   string // empty = <none>
	Age      time.Duration
}
