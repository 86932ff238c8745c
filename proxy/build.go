package proxy

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/sirupsen/logrus"

	"goproxy/parser"
)

// Options are the process-level inputs of Build that are not in the
// configuration.
type Options struct {
	// Log receives the process messages (bind errors are returned, not
	// logged). Nil means a logger that discards everything.
	Log logrus.FieldLogger
	// InheritedFDs are the listening sockets given by the parent process,
	// by number, for fd@N binds. A bind on a number missing here uses the
	// descriptor of that number as inherited.
	InheritedFDs map[int]*os.File
	// DefaultMaxConn is the per-proxy maxconn of -N (0: global maxconn).
	DefaultMaxConn int
	// LogStdout and LogStderr are where "log stdout" and "log stderr"
	// write; nil means the process's descriptors 1 and 2. The graph uses
	// their descriptors; the caller keeps them open while it runs.
	LogStdout, LogStderr *os.File
	// Takeover is set when the process replaces older ones (-sf/-st):
	// each listener it binds beside an older process's socket takes every
	// new connection of its port at once (see steerToNewest), so that the
	// older process's accept queues only drain.
	Takeover bool
	// Transferred are the listening sockets received from an older
	// process (-x): binds that match one use it instead of binding. The
	// graph closes them once started.
	Transferred []TransferredSocket
	// CPUs is the number of CPUs the process may use: the number of event
	// loops when nbthread is not set, and the nbthread show info reports.
	// The process reads it before anything raises GOMAXPROCS; 0 means
	// GOMAXPROCS at Build.
	CPUs int
}

// maxRetries bounds the retries of a session (HAProxy takes any int; more
// than this makes no sense with a turn-around of up to one second each).
const maxRetries = 10000

// burstBacklog is the listen backlog of a bind that sets none. HAProxy
// uses the frontend's maxconn, so that a burst of clients beyond it
// overflows the kernel's queue: their SYNs and final ACKs are dropped and
// they fall into TCP's retransmission back-off (1, 3, 7, 15, 31 s). goproxy
// keeps them queued instead, with a backlog of at least min(somaxconn,
// 4096): they wait in the kernel and are served in order as sessions end,
// while maxconn still bounds the sessions served at once.
func burstBacklog(maxconn int64) int {
	floor := int64(min(somaxconn(), 4096))
	return int(max(min(maxconn, 1<<20), floor))
}

// somaxconn is the kernel's cap on a listen backlog (4096 when it cannot
// be read).
func somaxconn() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 4096
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 4096
	}
	return n
}

// Build turns a validated configuration into a runtime graph. It checks what
// only the runtime can (balancing algorithms, address kinds it cannot
// serve), binds nothing and resolves nothing. All errors are returned at
// once.
func Build(cfg *parser.Config, opts Options) (*Graph, error) {
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.Out = nopWriter{}
		log = l
	}
	if opts.CPUs <= 0 {
		opts.CPUs = max(runtime.GOMAXPROCS(0), 1)
	}
	g := &Graph{cfg: cfg, log: log, opts: opts, done: make(chan struct{}), transferred: opts.Transferred,
		certs: newCertStore(cfg.Global.SSL.Extra())}
	g.bufSize = cfg.Global.BufSize()
	g.inspectLimit = g.bufSize - cfg.Global.MaxRewrite()
	var files map[*parser.MapFile]*MapRef
	g.maps, files = buildMaps(cfg.Maps)
	g.mapBy = &compileEnv{files: files, tables: g.buildTables(cfg)}
	if err := g.buildPeers(cfg, g.mapBy.tables); err != nil {
		return nil, err
	}
	g.maxConn.Store(int64(cfg.Global.MaxConn))
	g.rate.limit.Store(int64(cfg.Global.MaxConnRate))
	var errs *multierror.Error
	byName := map[string]*Backend{}
	for _, p := range cfg.Proxies {
		// HTTP services (statistics page, Prometheus exporter) are served
		// by the process on their own, outside the graph.
		if p.Cap&parser.CapBackend == 0 || p.Disabled || p.ServesHTTP() {
			continue
		}
		b, err := g.buildBackend(p)
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		byName[p.Name] = b
		g.backends = append(g.backends, b)
	}
	for _, p := range cfg.Proxies {
		// Disabled frontends do not listen; the Prometheus exporter
		// frontend is an HTTP service the process serves on its own.
		if p.Cap&parser.CapFrontend == 0 || p.Disabled || p.PromExporter || p.ServesHTTP() {
			continue
		}
		f, err := g.buildFrontend(p, byName)
		if err != nil {
			errs = multierror.Append(errs, err)
			continue
		}
		g.frontends = append(g.frontends, f)
	}
	if errs != nil {
		errs.ErrorFormat = oneLinePerError
		return nil, errs.ErrorOrNil()
	}
	g.computeFullConn()
	return g, nil
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func oneLinePerError(es []error) string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}

// buildBackend builds a backend with its servers and balancer.
func (g *Graph) buildBackend(p *parser.Proxy) (*Backend, error) {
	if p.Mode != parser.ModeTCP {
		return nil, fmt.Errorf("proxy '%s': only mode tcp is supported", p.Name)
	}
	b := &Backend{Name: p.Name, ID: p.ID, Config: p}
	b.g = g
	t := p.Timeouts
	b.timeoutConnect, b.timeoutServer, b.timeoutServerFin = t.Connect, t.Server, t.ServerFin
	b.timeoutTunnel, b.timeoutQueue = t.Tunnel, t.Queue
	if b.timeoutQueue == 0 {
		b.timeoutQueue = t.Connect
	}
	b.retry = min(max(p.Retries, 0), maxRetries)
	b.keepalive = p.Options.TCPKA || p.Options.SrvTCPKA
	b.hash = p.Balance.Algo == "source"
	used := map[int]bool{}
	for _, ps := range p.Servers {
		if ps.ID > 0 {
			used[ps.ID] = true
		}
	}
	next := 1
	for _, ps := range p.Servers {
		s := &Server{Name: ps.Name, ID: ps.ID, Backend: b, Addr: ps.Addr, Config: ps.ServerParams, Backup: ps.Backup, Pos: ps.Pos,
			DNS: ServerDNS{FQDN: ps.FQDN, SRVRecord: ps.SRVRecord, Unresolved: ps.Unresolved}}
		if s.ID == 0 {
			for used[next] {
				next++
			}
			s.ID = next
			used[next] = true
		}
		if err := s.setAddr(); err != nil {
			return nil, fmt.Errorf("[%s:%d] : 'server %s/%s' : %w", ps.File, ps.Line, p.Name, ps.Name, err)
		}
		if err := g.setupServerTLS(s, ps); err != nil {
			return nil, err
		}
		s.uweight.Store(int32(min(max(ps.Weight, 0), 256)))
		s.maxConnR.Store(int64(max(ps.MaxConn, 0)))
		s.initCheckState() // running, or stopped in maintenance if disabled
		b.Servers = append(b.Servers, s)
	}
	b.publishServers(b.Servers)
	named, err := compileACLs(p.ACLs, g.mapBy)
	if err != nil {
		return nil, err
	}
	if b.content, err = compileTCPRules(p, p.TCPReqContent, named, g.mapBy); err != nil {
		return nil, err
	}
	if err := b.compileServerRules(p, named, g.mapBy); err != nil {
		return nil, err
	}
	if err := b.compileStickRules(p, named, g.mapBy); err != nil {
		return nil, err
	}
	b.inspectDelay = p.InspectDelay
	for i := range b.content {
		b.needDst = b.needDst || b.content[i].needsDst()
		b.inspects = b.inspects || b.content[i].usesContent()
	}
	lb, err := newBalancer(b)
	if err != nil {
		return nil, err
	}
	b.lb = lb
	b.initState(time.Now())
	return b, nil
}

// setAddr prepares the server's connect address.
func (s *Server) setAddr() error {
	a := s.Addr
	if ua, ok := unixAddr(a); ok {
		s.dest.Store(&serverDest{ux: &ua})
		return nil
	}
	switch a.Family {
	case parser.FamilyTCP4, parser.FamilyTCP6:
	default:
		return fmt.Errorf("address '%s' : only IPv4 and IPv6 server addresses are supported", a.Text)
	}
	ip, err := hostIP(a)
	if err != nil {
		return err
	}
	d := &serverDest{ip: ip, port: a.Port}
	if a.Port == 0 || a.HasOffset {
		d.portMap = true
		d.offset = a.PortOffset
	}
	s.dest.Store(d)
	return nil
}

// buildFrontend builds a frontend with its listeners and rules.
func (g *Graph) buildFrontend(p *parser.Proxy, backends map[string]*Backend) (*Frontend, error) {
	if p.Mode != parser.ModeTCP {
		return nil, fmt.Errorf("proxy '%s': only mode tcp is supported", p.Name)
	}
	f := &Frontend{Name: p.Name, ID: p.ID, Config: p, g: g}
	mc := int64(p.MaxConn)
	if mc == 0 && g.opts.DefaultMaxConn > 0 {
		mc = int64(g.opts.DefaultMaxConn)
	}
	if mc == 0 {
		mc = g.maxConn.Load()
	}
	f.maxConn.Store(mc)
	f.timeoutClient, f.timeoutClientFin = p.Timeouts.Client, p.Timeouts.ClientFin
	f.keepalive = p.Options.TCPKA || p.Options.CliTCPKA
	var errs *multierror.Error
	named, err := compileACLs(p.ACLs, g.mapBy)
	if err != nil {
		errs = multierror.Append(errs, err)
	}
	for _, r := range p.TCPReqConn {
		rule, err := compileTCPRule(p, r, named, g.mapBy)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("parsing [%s:%d] : %w", r.File, r.Line, err))
			continue
		}
		f.tcpRules = append(f.tcpRules, rule)
		f.needDst = f.needDst || rule.needsDst()
	}
	for _, r := range p.TCPReqSession {
		rule, err := compileTCPRule(p, r, named, g.mapBy)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("parsing [%s:%d] : %w", r.File, r.Line, err))
			continue
		}
		f.sessRules = append(f.sessRules, rule)
		f.needDst = f.needDst || rule.needsDst()
	}
	f.captures = p.ReqCaptures
	f.logAddrs = logsAddrs(p)
	if f.logExprs, err = compileLogExprs(p, g.mapBy); err != nil {
		errs = multierror.Append(errs, err)
	}
	f.content, err = compileTCPRules(p, p.TCPReqContent, named, g.mapBy)
	if err != nil {
		errs = multierror.Append(errs, err)
	}
	f.inspectDelay = p.InspectDelay
	for i := range f.content {
		f.needDst = f.needDst || f.content[i].needsDst()
		f.inspects = f.inspects || f.content[i].usesContent()
	}
	for _, r := range p.UseBackends {
		be := backends[r.Backend]
		if r.Dynamic != nil {
			c, err := compileCond(r.Cond, named, g.mapBy)
			d, err2 := compileDynName(r.Dynamic, backends, g.mapBy)
			if err = errors.Join(err, err2); err != nil {
				errs = multierror.Append(errs, fmt.Errorf("parsing [%s:%d] : %w", r.File, r.Line, err))
				continue
			}
			f.rules = append(f.rules, useRule{dyn: d, cond: c})
			f.needDst = f.needDst || c.needsDst() || d.needsDst()
			f.inspects = f.inspects || c.usesContent() || d.usesContent()
			continue
		}
		if be == nil {
			errs = multierror.Append(errs, fmt.Errorf("Proxy '%s': unable to find required use_backend: '%s'.", p.Name, r.Backend))
			continue
		}
		c, err := compileCond(r.Cond, named, g.mapBy)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("parsing [%s:%d] : %w", r.File, r.Line, err))
			continue
		}
		f.rules = append(f.rules, useRule{be: be, cond: c})
		f.needDst = f.needDst || c.needsDst()
		f.inspects = f.inspects || c.usesContent()
	}
	switch {
	case p.DefaultBackend != "":
		f.defBE = backends[p.DefaultBackend]
		if f.defBE == nil {
			errs = multierror.Append(errs, fmt.Errorf("Proxy '%s': unable to find required default_backend: '%s'.", p.Name, p.DefaultBackend))
		}
	case p.Cap&parser.CapBackend != 0:
		f.defBE = backends[p.Name]
	}
	for i, b := range p.Binds {
		ln := &Listener{Frontend: f, Bind: b, Addr: bindText(b.Addr), fd: -1, stats: p.Options.SocketStats}
		ln.ID = b.ID
		if ln.ID == 0 {
			ln.ID = i + 1
		}
		ln.Name = b.Name
		if ln.Name == "" {
			ln.Name = "sock-" + strconv.Itoa(ln.ID)
		}
		if err := g.setupListenerTLS(ln); err != nil {
			errs = multierror.Append(errs, err)
		}
		ln.maxConn = int64(b.MaxConn)
		ln.backlog = b.Backlog
		if ln.backlog <= 0 {
			ln.backlog = burstBacklog(mc)
		}
		switch b.Addr.Family {
		case parser.FamilyTCP4, parser.FamilyTCP6, parser.FamilyFD:
		case parser.FamilyUnix, parser.FamilyAbns:
			ln.unix = true
		default:
			errs = multierror.Append(errs, fmt.Errorf("parsing [%s:%d] : 'bind %s' : only TCP and fd@ addresses are supported", b.File, b.Line, b.Addr.Text))
			continue
		}
		f.Listeners = append(f.Listeners, ln)
	}
	if errs != nil {
		errs.ErrorFormat = oneLinePerError
		return nil, errs
	}
	return f, nil
}

// compileACLs compiles a proxy's acl lines by name.
func compileACLs(acls []*parser.ACL, maps *compileEnv) (map[string][]*acl, error) {
	var errs *multierror.Error
	named := map[string][]*acl{}
	for _, a := range acls {
		c, err := compileACL(a, maps)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("parsing [%s:%d] : %w", a.File, a.Line, err))
			continue
		}
		named[a.Name] = append(named[a.Name], c)
	}
	if errs != nil {
		errs.ErrorFormat = oneLinePerError
	}
	return named, errs.ErrorOrNil()
}

// compileTCPRules compiles tcp-request content rules.
func compileTCPRules(px *parser.Proxy, rules []*parser.TCPRule, named map[string][]*acl, maps *compileEnv) ([]tcpRule, error) {
	var out []tcpRule
	var errs *multierror.Error
	for _, r := range rules {
		rule, err := compileTCPRule(px, r, named, maps)
		if err != nil {
			errs = multierror.Append(errs, fmt.Errorf("parsing [%s:%d] : %w", r.File, r.Line, err))
			continue
		}
		out = append(out, rule)
	}
	if errs != nil {
		errs.ErrorFormat = oneLinePerError
	}
	return out, errs.ErrorOrNil()
}

// computeFullConn sets each backend's session limit (slim): fullconn, or
// 10% of the maxconn sum of the frontends that can use it, as HAProxy.
func (g *Graph) computeFullConn() {
	sum := map[*Backend]int64{}
	for _, f := range g.frontends {
		seen := map[*Backend]bool{}
		add := func(b *Backend) {
			if b != nil && !seen[b] {
				seen[b] = true
				sum[b] += f.maxConn.Load()
			}
		}
		add(f.defBE)
		for _, r := range f.rules {
			add(r.be)
		}
	}
	for _, b := range g.backends {
		if b.Config.FullConn > 0 {
			b.slim = int64(b.Config.FullConn)
			continue
		}
		b.slim = (sum[b] + 9) / 10
		if b.slim == 0 {
			b.slim = 1
		}
	}
}
