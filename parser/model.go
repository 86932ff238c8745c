package parser

import (
	"regexp"
	"time"
)

// Pos is a position in a configuration file.
type Pos struct {
	File string
	Line int
}

// Config is the parsed and validated configuration: plain data, no behaviour.
type Config struct {
	Global Global
	// Proxies holds the frontend, backend and listen sections in declaration
	// order, with defaults already applied. Defaults sections are not in it.
	Proxies []*Proxy
	// Userlists holds the userlist sections in declaration order.
	Userlists []*Userlist `json:",omitempty"`
	// Resolvers holds the resolvers sections in declaration order
	// (model_resolvers.go); AllResolvers adds HAProxy's implicit one.
	Resolvers []*Resolvers `json:",omitempty"`
	// DefaultResolvers is the "default" section HAProxy builds from
	// /etc/resolv.conf when the configuration has none of that name.
	DefaultResolvers *Resolvers `json:"-"`
	// Programs holds the program sections, the external commands a
	// master-worker master runs beside its worker.
	Programs []*Program `json:",omitempty"`
	// Peers holds the peers sections in declaration order (model_peers.go).
	Peers []*PeersSection `json:",omitempty"`
	// LocalPeerName is the name of this process among its peers: -L, else
	// the global localpeer, else the host name.
	LocalPeerName string `json:"-"`
	// Files lists the configuration files read, in order.
	Files []string
	// Maps holds the map files the converters (and -M ACLs) use, by id.
	Maps []*MapFile `json:",omitempty"`
	// Diags holds every diagnostic in the order HAProxy prints them:
	// alerts, warnings, notices and the closing lines.
	Diags []*Error
}

// Warnings returns the warnings among Diags.
func (c *Config) Warnings() []*Error {
	var out []*Error
	for _, d := range c.Diags {
		if d.Sev == SevWarning {
			out = append(out, d)
		}
	}
	return out
}

// Frontends returns the proxies with the frontend capability.
func (c *Config) Frontends() []*Proxy {
	var out []*Proxy
	for _, p := range c.Proxies {
		if p.Cap&CapFrontend != 0 {
			out = append(out, p)
		}
	}
	return out
}

// Backend returns the proxy with the backend capability named name, or nil.
func (c *Config) Backend(name string) *Proxy {
	for _, p := range c.Proxies {
		if p.Cap&CapBackend != 0 && p.Name == name {
			return p
		}
	}
	return nil
}

// Global is the global section (several global sections merge into one).
type Global struct {
	// Env are the environment directives, in order (env.go).
	Env             []EnvOp `json:",omitempty"`
	Logs            []LogTarget
	LogSendHostname string // empty when log-send-hostname is not set
	LogTag          string // empty means the program name
	MaxConn         int    // 0 = computed from the fd limit
	MaxConnSet      bool
	MaxConnRate     int // connections accepted per second, 0 = unlimited
	Daemon          bool
	SessionHandoff  bool `json:",omitzero"` // goproxy extension: hand sessions over on reload
	MasterWorker    bool
	// NoExitOnFailure is "master-worker no-exit-on-failure": a worker
	// that fails does not make the master stop the others and exit.
	NoExitOnFailure bool
	NbThread        int
	PidFile         string
	StatsSockets    []StatsSocket
	StatsTimeout    time.Duration // default 10s
	StatsMaxConn    int           // default 10
	HardStopAfter   time.Duration // 0 = never
	Grace           time.Duration `json:",omitzero"` // listeners accept this long after SIGUSR1
	UlimitN         int
	LocalPeer       string
	ZeroWarning     bool
	StrictLimits    bool // HAProxy 2.6 default: true
	StrictLimitsSet bool // strict-limits or no strict-limits was written
	SpreadChecks    int  // percent, 0..50
	// MaxSpreadChecks caps the window over which first checks are spread
	// (0: the shortest check interval).
	MaxSpreadChecks time.Duration `json:",omitzero"`
	// UnixBind holds the unix-bind defaults (kw_global_unixbind.go).
	UnixBind UnixBind `json:",omitzero"`
	// TuneBufSize is tune.bufsize, 0 when unset (see BufSize);
	// TuneMaxRewrite tune.maxrewrite, nil when unset (see MaxRewrite).
	TuneBufSize    int  `json:",omitzero"`
	TuneMaxRewrite *int `json:",omitempty"`
	// TuneMaxAccept is tune.maxaccept: connections a listener accepts in
	// a row (-1: no limit, 0: goproxy's default).
	TuneMaxAccept   int `json:",omitzero"`
	ServerStateFile string
	ServerStateBase string
	// The privilege drop once everything is open: user/uid, group/gid,
	// chroot ("" and 0: none).
	User, Group string
	UID, GID    int
	Chroot      string
	// Node and Description are shown by "show info" (node defaults to
	// the host name).
	Node        string `json:",omitempty"`
	Description string `json:",omitempty"`
	// SSL holds ca-base, crt-base, the ssl-default-* defaults and the
	// TLS tuning (model_ssl.go).
	SSL GlobalSSL `json:",omitzero"`
}

// Capability bits of a proxy section.
type Cap uint8

// Proxy capabilities.
const (
	CapFrontend Cap = 1 << iota
	CapBackend
	CapDefaults
)

// Mode is a proxy mode.
type Mode int

// Proxy modes.
const (
	ModeTCP Mode = iota
	ModeHTTP
)

// Proxy is a frontend, backend, listen or defaults section.
type Proxy struct {
	Pos
	Kind string // "frontend", "backend", "listen" or "defaults"
	Name string
	Cap  Cap
	From string // explicit defaults section, if any
	ID   int    // HAProxy's proxy id (iid): 1, 2, ... in declaration order
	Mode Mode

	Binds          []*Bind
	DefaultBackend string
	DefaultBackPos Pos
	UseBackends    []*UseBackend
	UseServers     []*UseServer   `json:",omitempty"`
	ReqCaptures    []int          `json:",omitempty"` // lengths of tcp-request content capture slots
	PersistRules   []*PersistRule `json:",omitempty"`
	// Table is the proxy's stick-table, named after the proxy; StickRules
	// its stick on|match|store-request rules.
	Table         *StickTable  `json:",omitempty"`
	StickRules    []*StickRule `json:",omitempty"`
	ACLs          []*ACL
	TCPReqConn    []*TCPRule
	TCPReqSession []*TCPRule `json:",omitempty"` // tcp-request session
	TCPReqContent []*TCPRule
	InspectDelay  time.Duration

	Balance   Balance
	HashType  HashType
	Servers   []*Server
	DefServer ServerParams // default-server values, applied to each server

	Options  ProxyOptions
	Retries  int // default 3
	Timeouts Timeouts

	Logs      []LogTarget
	LogGlobal bool
	// LogFormat and LogFormatSD are the frontend's log-format and
	// log-format-sd, compiled by Validate (nil: none; option tcplog keeps
	// LogFormat nil). LogTag is log-tag (empty: the global one).
	LogFormat   *LogFormat `json:",omitempty"`
	LogFormatSD *LogFormat `json:",omitempty"`
	LogTag      string     `json:",omitempty"`
	// UniqueIDFormat is unique-id-format, compiled by Validate (nil: none).
	UniqueIDFormat *LogFormat `json:",omitempty"`
	// ErrorLogFormat is error-log-format, compiled by Validate (nil: none):
	// the line of a connection that fails before becoming a session.
	ErrorLogFormat *LogFormat `json:",omitempty"`
	MaxConn        int
	FullConn       int
	Disabled       bool

	// LoadServerState is load-server-state-from-file: "global", "local",
	// "none", or empty when not set (same as none).
	LoadServerState string
	// ServerStateFileName is server-state-file-name; empty means the
	// backend's name.
	ServerStateFileName string

	// PromExporter is set on an HTTP frontend whose only job is HAProxy's
	// built-in Prometheus exporter ("http-request use-service
	// prometheus-exporter"); PromPath is the path of its condition, or "" to
	// answer every request.
	PromExporter bool
	PromPath     string
	PromPos      Pos
	// PromRule is how many HTTPRules come before the exporter's rule (they
	// are evaluated first).
	PromRule int `json:"-"`

	// Stats is the HTTP statistics page ("stats ..." keywords), nil when
	// the proxy has none.
	Stats *StatsPage `json:",omitempty"`
	// HTTPRules are the http-request auth/allow/deny rules of an HTTP
	// frontend, in order (the prometheus-exporter rule is PromExporter).
	HTTPRules []*HTTPRule `json:",omitempty"`
	// HTTPRulesPos is where the first http-request line is, for the
	// warning of a TCP proxy that ignores them.
	HTTPRulesPos Pos `json:"-"`
	hasHTTPRules bool
	// httpRulesSkipped: http-request rules came before 'mode http'.
	httpRulesSkipped bool
	// statsInherited: Stats is the defaults section's, shared until the
	// proxy's own stats keyword copies it.
	statsInherited bool

	// Checks.
	CheckKind CheckKind
	CheckArgs CheckArgs
	TCPChecks []*TCPCheckRule
	// HTTPCheck holds option httpchk and the http-check switches;
	// HTTPChecks the http-check connect/send/expect/comment rules.
	HTTPCheck  HTTPCheck        `json:",omitzero"`
	HTTPChecks []*HTTPCheckRule `json:",omitzero"`

	inheritedChecks bool        // TCPChecks came from defaults; own rules replace them
	ownHTTPCheck    bool        // this section has its own option httpchk or http-check rules
	httpCheckSteps  []checkStep // the own http-check rules, in HAProxy's parse-time order

	// Description is the proxy's "description" text.
	Description string `json:",omitempty"`

	// HTTP-mode settings HAProxy accepts in a TCP proxy and ignores (or
	// warns about) once the proxy's mode is known; see kw_http.go.
	modePos   Pos        // where the mode was set (this section or its defaults)
	logFmt    string     // "option tcplog", "option httplog", ... as HAProxy names it
	logFmtPos Pos        // HAProxy's conf.args position, printed with the httplog fallback
	lfText    *LogFormat // log-format as written, compiled at check time
	lfsdText  *LogFormat // log-format-sd as written
	uifText   *LogFormat // unique-id-format as written
	elfText   *LogFormat // error-log-format as written
	argUses   []argUse   // fetches of its rules and ACLs naming a proxy or server (fetchargs.go)
	httpOpts  uint32     // bits of httpOnlyOptions set on this proxy
	httpRules []string   // "http-request", "http-response", ... written in this section
	hasRules  bool       // a defaults section with tcp-request/http-* rules
	rulesCap  Cap        // the capabilities of the proxies using a defaults section with rules
	// ownSession, ownContent count the proxy's own tcp-request session
	// and content rules (not its defaults section's), for HAProxy's
	// warnings about rules placed after them.
	ownSession, ownContent int
	monitorURI             bool // monitor-uri is set (HTTP mode only)
	cookie                 bool // "cookie" is set (HTTP persistence, ignored in TCP)
}

// ProxyOptions are the boolean and small-valued `option` keywords.
type ProxyOptions struct {
	DontLogNull        bool
	Redispatch         bool
	RedispatchInterval int // default -1 (last retry)
	TCPLog             bool
	TCPKA              bool
	CliTCPKA           bool
	SrvTCPKA           bool
	SpliceAuto         bool
	LogASAP            bool
	AbortOnClose       bool
	LogHealthChecks    bool
	AllBackups         bool
	SocketStats        bool
	DontLogNormal      bool `json:",omitempty"`
	LogSeparateErrors  bool `json:",omitempty"`
	Transparent        bool
}

// Timeouts of a proxy; zero means unset (infinite).
type Timeouts struct {
	Connect, Client, Server, Queue, Check, Tunnel, ClientFin, ServerFin time.Duration
}

// Balance is the load-balancing algorithm of a backend.
type Balance struct {
	Algo  string // roundrobin, static-rr, leastconn, first, source, random
	Draws int    // random(N): number of draws, default 2
}

// HashType is the hash-type keyword.
type HashType struct {
	Consistent bool   // false = map-based
	Function   string // sdbm, djb2, wt6, crc32 (unused by balance source)
	Avalanche  bool
}

// Bind is one address of a bind line (a bind line with a port range or a
// comma list yields several Binds sharing the same options).
type Bind struct {
	Pos
	Addr Addr
	BindOptions
}

// BindOptions are the options that follow a bind address.
type BindOptions struct {
	Name        string
	Backlog     int
	MaxConn     int
	V4V6        bool
	V6Only      bool
	AcceptProxy bool
	Interface   string
	Transparent bool
	DeferAccept bool
	TFO         bool
	ID          int
	Mode        uint32 // unix socket permissions, 0 = default
	ModeSet     bool
	// UID and GID own a UNIX socket when set (bind lines: from unix-bind,
	// uid/gid or the user/group names looked up at parse time).
	UID, GID       int
	UIDSet, GIDSet bool
	User, Group    string // stats sockets: names looked up when binding
	Level          string // stats sockets: user, operator (default), admin
	ExposeFD       bool   // stats sockets: expose-fd listeners
	// SeverityOutput is the stats socket's severity-output: none (""),
	// number or string.
	SeverityOutput string
	SSL            *BindSSL `json:",omitzero"` // ssl and its options (model_ssl.go)
}

// AddrFamily says what kind of socket an address is.
type AddrFamily int

// Address families.
const (
	FamilyTCP4 AddrFamily = iota + 1
	FamilyTCP6
	FamilyUnix
	FamilyAbns
	FamilyFD
)

// Addr is a parsed socket address.
type Addr struct {
	Family AddrFamily
	Host   string // IP literal; empty = any address of the family
	Port   int    // for servers: 0 = client's destination port
	// PortOffset is set for server addresses written :+N or :-N.
	PortOffset int
	HasOffset  bool
	Path       string // unix path or abns name
	FD         int    // fd@N
	Text       string // the address as written
}

// StatsSocket is a `stats socket` line.
type StatsSocket struct {
	Pos
	Addr Addr
	BindOptions
}

// LogTarget is a `log` line.
type LogTarget struct {
	Pos
	Addr     Addr   // UDP address or unix datagram socket; Family 0 for stdout/stderr
	Stream   string // "stdout" or "stderr", or empty
	Facility int    // 0..23
	Level    int    // max level, 0..7 (default 7)
	MinLevel int
	Len      int
	Format   string // rfc3164 (default), rfc5424, short, raw, ...
	// Sample is "sample <ranges>:<size>": of each SampleSize lines, the
	// target takes those whose number (from 1) is in a range.
	Sample     []LogRange `json:",omitempty"`
	SampleSize int        `json:",omitempty"`
}

// LogRange is one range of "log ... sample", bounds included.
type LogRange struct{ Low, High int }

// DefaultInter is HAProxy's default check interval (DEF_CHKINTR): the
// inter of a server line that sets none.
const DefaultInter = 2 * time.Second

// CheckInter returns the health check interval: inter, or DefaultInter
// when it is unset (a model built by hand; the parser sets it).
func (p *ServerParams) CheckInter() time.Duration {
	if p.Inter <= 0 {
		return DefaultInter
	}
	return p.Inter
}

// AgentCheckInter returns the agent check interval: agent-inter, else the
// health check interval.
func (p *ServerParams) AgentCheckInter() time.Duration {
	if p.AgentInter <= 0 {
		return p.CheckInter()
	}
	return p.AgentInter
}

// ServerParams are the options of a server or default-server line.
type ServerParams struct {
	cookie         string // the HTTP persistence cookie value (ignored in TCP)
	Check          bool
	Inter          time.Duration // default DefaultInter
	FastInter      time.Duration // 0 = inter
	DownInter      time.Duration // 0 = inter
	Rise           int           // default 2
	Fall           int           // default 3
	Weight         int           // default 1
	Backup         bool
	Disabled       bool
	MaxConn        int
	MaxQueue       int
	MinConn        int
	SendProxy      bool
	SendProxyV2    bool
	PPv2           PPv2Options `json:",omitzero"` // proxy-v2-options (kw_ppopts.go)
	CheckSendProxy bool
	SlowStart      time.Duration
	CheckPort      int
	CheckAddr      string
	AgentCheck     bool
	AgentPort      int
	AgentInter     time.Duration
	AgentAddr      string
	AgentSend      string
	OnMarkedDown   string // "" or "shutdown-sessions"
	OnMarkedUp     string // "" or "shutdown-backup-sessions"
	OnError        string
	ErrorLimit     int
	Observe        string
	InitAddr       []string
	ID             int
	IDForced       bool // ID comes from an `id` keyword, not from numbering
	TCPKA          bool
	Redir          string
	Track          string
	// TLS settings of health checks only (the proxied traffic stays plain).
	CheckSSL bool   `json:",omitzero"` // check-ssl
	Verify   string `json:",omitzero"` // "none", "required", or "" (required by default)
	CAFile   string `json:",omitzero"` // ca-file (ca-base applied)
	CRLFile  string `json:",omitzero"` // crl-file (ca-base applied), when verify is required
	// VerifyHost is verifyhost: the name a verified server certificate
	// must carry when no SNI is sent.
	VerifyHost string     `json:",omitzero"`
	SNI        string     `json:",omitzero"` // sni (a sample expression; checks use str(...) only)
	CheckSNI   string     `json:",omitzero"` // check-sni
	CheckALPN  string     `json:",omitzero"` // check-alpn, comma-separated
	SSL        *ServerSSL `json:",omitzero"` // ssl on the proxied traffic (model_ssl.go)
	// Resolve are the runtime DNS settings (resolvers, resolve-prefer,
	// resolve-opts, resolve-net; model_resolvers.go).
	Resolve ResolveParams `json:",omitzero"`
}

// Server is a server line.
type Server struct {
	Pos
	Name string
	Addr Addr
	ServerParams
	// Unresolved is set when the host name did not resolve and init-addr
	// allowed starting without an address (the server starts in MAINT).
	Unresolved bool
	// FQDN is the host name of the address as written, kept for runtime
	// resolution ("" for an IP address).
	FQDN string `json:",omitempty"`
	// SRVRecord is the SRV name (_service._proto.name) a server-template
	// takes its addresses and ports from; its servers have no FQDN until
	// a record gives them one.
	SRVRecord string `json:",omitempty"`
}

// UseBackend is a use_backend rule.
type UseBackend struct {
	Pos
	Backend string
	Cond    *Condition // nil = always
	// Dynamic is the compiled name of a rule naming its backend with a
	// log format (Backend holds "%[...]"): the backend is looked up by the
	// name it gives for each session.
	Dynamic []LogNode `json:",omitempty"`
}

// ACL is one acl line; lines with the same name are OR-ed.
type ACL struct {
	Pos
	Name      string
	Criterion string // the fetch: src, req.payload, req.ssl_sni... (parser/kw_fetch.go); HTTP: http_auth, http_auth_group, path, path_beg
	Arg       string `json:",omitempty"` // the fetch's argument: the userlist of http_auth(<userlist>)
	Values    []string
	// TCP-mode fetches: the fetch's arguments (req.payload(0,4)), its
	// converters (",lower"), the -m method (empty: the fetch's default),
	// -i, and the -f pattern files whose lines are in Values.
	Args       []string    `json:",omitempty"`
	Conv       []Converter `json:",omitempty"`
	Match      string      `json:",omitempty"`
	IgnoreCase bool        `json:",omitempty"`
	Files      []string    `json:",omitempty"`
}

// Condition is an if/unless condition: OR of AND-ed terms.
type Condition struct {
	Unless bool
	Terms  [][]CondTerm // outer: OR, inner: AND
}

// CondTerm is one ACL reference in a condition, maybe negated, maybe anonymous.
type CondTerm struct {
	Negate bool
	ACL    string // named ACL; empty for an anonymous one
	Anon   *ACL
}

// TCPRule is a tcp-request connection|content rule.
type TCPRule struct {
	Pos
	Action string // accept, reject, set-var, unset-var, set-src, silent-drop, expect-proxy
	Cond   *Condition
	// Var is the variable of set-var and unset-var ("txn.account"); Expr
	// the sample expression of set-var and set-src.
	Var string `json:",omitempty"`
	// VarConds are the conditions of set-var and set-var-fmt
	// ("ifexists", "ifgt"...).
	VarConds []string    `json:",omitempty"`
	Expr     *SampleExpr `json:",omitempty"`
	// Capture and Len are the slot and length of a capture.
	Capture int `json:",omitempty"`
	Len     int `json:",omitempty"`
	// SC is the sticky counter of track-sc<n>, sc-inc-gpc0/1(<n>) and
	// sc-set-gpt0(<n>); Table the table track-sc names ("" for the
	// proxy's own); Value sc-set-gpt0's integer when Expr is nil, the
	// value of set-mark and set-tos, and set-log-level's level plus one
	// (-1: silent).
	SC    int    `json:",omitempty"`
	Table string `json:",omitempty"`
	Value int64  `json:",omitempty"`
	// Format is set-var-fmt's log format.
	Format []LogNode `json:",omitempty"`
	// keyOut is the type of track-sc's key, for the check of its table.
	keyOut string
}

// CheckKind is the kind of health check a backend performs.
type CheckKind int

// Check kinds.
const (
	CheckL4  CheckKind = iota // plain connect (also option tcp-check with no rules)
	CheckTCP                  // option tcp-check
	CheckRedis
	CheckMySQL
	CheckPgSQL
	CheckSMTP
	CheckLDAP
	CheckSSLHello
	CheckHTTP // option httpchk
)

// CheckArgs are the arguments of protocol check options.
type CheckArgs struct {
	User   string // mysql-check, pgsql-check
	Domain string // smtpchk HELO/EHLO domain
	Verb   string // smtpchk: HELO or EHLO
	Post41 bool   // mysql-check post-41
	Pre41  bool   // mysql-check pre-41 (the default with a user is post-41)
}

// TCPCheckRule is one tcp-check line.
type TCPCheckRule struct {
	Pos
	Kind      string // connect, send, send-binary, send-lf, expect, comment
	Port      int
	Addr      string
	SendProxy bool
	// connect: default (the server's check-ssl, check-send-proxy,
	// check-sni and check-alpn), ssl, sni, alpn, linger.
	Default bool   `json:",omitempty"`
	SSL     bool   `json:",omitempty"`
	SNI     string `json:",omitempty"`
	ALPN    string `json:",omitempty"`
	Linger  bool   `json:",omitempty"`
	Data    []byte // send / send-binary payload
	// expect
	Negate  bool
	Match   string // string, rstring, binary, rbinary
	Pattern string // as written (hex for binary; Data holds it decoded)
	// Regex is the compiled Pattern of rstring and rbinary.
	Regex     *regexp.Regexp `json:"-"`
	MinRecv   int            // -1 = unset
	Comment   string
	OnSuccess string
	OnError   string
}

// HTTPCheck is "option httpchk" and the http-check switches of a proxy.
type HTTPCheck struct {
	// Method, URI and Version are the request line of option httpchk;
	// empty means HAProxy's default (OPTIONS, "/", HTTP/1.0).
	Method, URI, Version string
	// Headers and Body are what the deprecated form hides after the
	// version ("HTTP/1.1\r\nHost:\ www").
	Headers    []HTTPHeader
	Body       string
	Disable404 bool // http-check disable-on-404
	SendState  bool // http-check send-state
}

// HTTPHeader is one header of an HTTP check request.
type HTTPHeader struct {
	Name, Value string
}

// HTTPCheckRule is one http-check connect, send, expect or comment line.
type HTTPCheckRule struct {
	Pos
	Kind    string // connect, send, expect, comment
	Comment string
	// connect
	Port      int
	Addr      string
	SendProxy bool
	SSL       bool
	SNI       string
	ALPN      string
	Linger    bool
	Default   bool `json:",omitempty"` // the server's check settings
	// send: empty fields keep the defaults (those of option httpchk for
	// the first send).
	Method, URI, Version string
	Headers              []HTTPHeader
	Body                 string
	HasBody              bool
	// expect
	Negate  bool
	Match   string // status, rstatus, string, rstring, hdr, fhdr
	Pattern string // status list, regex or string
	// StatusRanges is the parsed status list of "status": each range's
	// first and last code (one code is a range of one).
	StatusRanges [][2]int `json:"-"`
	// Regex is the compiled Pattern of rstatus and rstring.
	Regex *regexp.Regexp `json:"-"`
	// hdr/fhdr: name and optional value, each with its method (str, beg,
	// end, sub, reg).
	HdrName, HdrNameMeth   string
	HdrValue, HdrValueMeth string
	HasHdrValue            bool
	// HdrNameRegex (matching case-insensitively, as header names compare)
	// and HdrValueRegex are the compiled patterns of the "reg" method.
	HdrNameRegex       *regexp.Regexp `json:"-"`
	HdrValueRegex      *regexp.Regexp `json:"-"`
	MinRecv            int            // -1 = unset
	OKStatus           string
	ErrorStatus        string
	ToutStatus         string
	OnSuccess, OnError string
}

// Program is a program section: a command the master starts, shows in
// show proc and signals as it does its workers.
type Program struct {
	Pos
	Name    string
	Command []string // the command and its arguments, looked up in PATH
	// UID and GID, when set, are those of user and group.
	User, Group string
	UID, GID    int
	// StartOnReload (the default): a reload starts a new instance, after
	// the old one was sent SIGUSR1.
	StartOnReload bool
}

// HAProxy's buffer defaults: tune.bufsize and tune.maxrewrite.
const (
	DefaultBufSize    = 16384
	DefaultMaxRewrite = 1024
)

// maxTuneBufSize bounds tune.bufsize and tune.maxrewrite: goproxy
// allocates a buffer of that size per event loop and per running check.
const maxTuneBufSize = 1 << 30

// BufSize is the size of HAProxy's buffers: how much of a client's bytes
// content inspection can see, and how much a health check reads.
func (g *Global) BufSize() int {
	if g.TuneBufSize > 0 {
		return g.TuneBufSize
	}
	return DefaultBufSize
}

// MaxRewrite is the part of a buffer kept free for rewrites: content
// inspection waits for at most BufSize()-MaxRewrite() bytes. As HAProxy,
// it is at most half the buffer.
func (g *Global) MaxRewrite() int {
	r := DefaultMaxRewrite
	if g.TuneMaxRewrite != nil {
		r = *g.TuneMaxRewrite
	}
	return min(r, g.BufSize()/2)
}
