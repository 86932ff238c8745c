package proxy

import (
	"fmt"

	"goproxy/internal/rawsys"
	"goproxy/parser"
)

// openLogSinks opens one log sink per proxy section that logs (its own
// targets, plus the global ones with "log global") and hands it to the
// frontend and backend built from that section.
func (g *Graph) openLogSinks() error {
	env := logEnv{drops: &g.logDrops, stdout: 1, stderr: 2}
	if f := g.opts.LogStdout; f != nil {
		env.stdout = int(f.Fd())
	}
	if f := g.opts.LogStderr; f != nil {
		env.stderr = int(f.Fd())
	}
	sinks := map[*parser.Proxy]*LogSink{}
	open := func(p *parser.Proxy) (*LogSink, error) {
		if s, ok := sinks[p]; ok {
			return s, nil
		}
		if len(p.Logs) == 0 && (!p.LogGlobal || len(g.cfg.Global.Logs) == 0) {
			sinks[p] = nil
			return nil, nil
		}
		s, err := newLogSink(&g.cfg.Global, p.Logs, p.LogGlobal, p.LogTag, env)
		if err != nil {
			return nil, fmt.Errorf("proxy '%s': opening log targets: %w", p.Name, err)
		}
		sinks[p] = s
		g.sinks = append(g.sinks, s)
		return s, nil
	}
	for _, f := range g.frontends {
		s, err := open(f.Config)
		if err != nil {
			g.closeLogSinks()
			return err
		}
		f.logs = s
	}
	for _, b := range g.backends {
		s, err := open(b.Config)
		if err != nil {
			g.closeLogSinks()
			return err
		}
		b.logs = s
	}
	return nil
}

// closeLogSinks closes every sink opened by openLogSinks: their writers
// write what is queued (for a bounded time) and stop.
func (g *Graph) closeLogSinks() {
	for _, s := range g.sinks {
		s.Close()
	}
	g.sinks = nil
}

// logAccept logs HAProxy's "Connect from" line for frontends without
// option tcplog.
func (s *session) logAccept() {
	f := s.fe
	if f.logs == nil || f.Config.Options.TCPLog || !f.logs.Enabled(LogInfo) {
		return
	}
	f.logs.Log(LogInfo, ConnectLine(s.src, s.dstAddr(), f.Name))
}

// logEnd logs the tcplog line of a finished session. It runs before the
// session's counters are released, as HAProxy logs them.
func (s *session) logEnd() {
	f := s.fe
	if f.logs == nil || !f.Config.Options.TCPLog || s.has(fLogged) {
		return
	}
	if f.Config.Options.DontLogNull && s.bytes[0] == 0 && s.bytes[1] == 0 {
		return
	}
	var r SessionRecord
	s.record(&r)
	s.writeTCPLog(&r)
}

// logConnected logs the tcplog line as soon as the server connection is
// established, for option logasap (HAProxy's back_establish()): the total
// time is the time to connect and the byte count what was sent so far,
// both marked '+'; the session still counts in its backend and server,
// and no line is written at its end. option dontlognull does not apply.
func (s *session) logConnected() {
	f := s.fe
	if f.logs == nil || !f.Config.Options.TCPLog || !f.Config.Options.LogASAP {
		return
	}
	s.flags |= fLogged
	var r SessionRecord
	s.record(&r)
	r.Term = "--"
	if s.be != nil {
		r.BeConn++
	}
	if r.Server != nil && s.has(fSlot) {
		r.SrvConn++
	}
	s.writeTCPLog(&r)
}

// writeTCPLog writes a tcplog line at the level options dontlog-normal
// and log-separate-errors give it.
func (s *session) writeTCPLog(r *SessionRecord) {
	f := s.fe
	level := LogInfo
	if abnormal := abnormalSession(r); !abnormal && f.Config.Options.DontLogNormal {
		return
	} else if abnormal && f.Config.Options.LogSeparateErrors {
		level = LogErr
	}
	if !f.logs.Enabled(level) {
		return
	}
	nodes := tcplogNodes
	var sdNodes []parser.LogNode
	if lf := f.Config.LogFormat; lf != nil {
		nodes = lf.Nodes
	}
	if sd := f.Config.LogFormatSD; sd != nil {
		sdNodes = sd.Nodes
	}
	s.writeLogFormat(level, nodes, sdNodes, r)
}

// tcplogNodes is option tcplog's format, which the formatter writes as
// the former dedicated code did, with fewer allocations.
var tcplogNodes = func() []parser.LogNode {
	nodes, err := parser.ParseLogFormat(parser.TCPLogFormat, false)
	if err != nil {
		panic(err)
	}
	return nodes
}()

// abnormalSession is HAProxy's test in strm_log() for option
// dontlog-normal and log-separate-errors: a redispatch, a termination
// cause other than none or "L" (local), or retries without an error.
func abnormalSession(r *SessionRecord) bool {
	cause := byte('-')
	if r.Term != "" {
		cause = r.Term[0]
	}
	return r.Redispatched || (cause != '-' && cause != 'L') || (cause == '-' && r.Retries > 0)
}

// writeLogFormat writes the line of the frontend's log format (and its
// log-format-sd), as HAProxy's strm_log(): an empty line is not sent.
func (s *session) writeLogFormat(level int, nodes, sdNodes []parser.LogNode, r *SessionRecord) {
	f := s.fe
	x := LogFields{FrontName: f.Name, LogCount: f.logCount.Load(), PID: f.logs.pid, ASAP: f.Config.Options.LogASAP, conv: f.logConv,
		caps: s.caps, nCaps: len(f.captures), SSL: s.ln.tls != nil}
	if s.tls != nil && s.tls.shook.Load() {
		x.TLS = &s.tls.info
	}
	if srv, back := logNeeds(nodes); srv || back || len(sdNodes) > 0 {
		if s.srv != nil && s.tConnStart != 0 {
			x.SrvAddr = s.serverAddr()
			x.SrvUnix = s.srv.dest.Load().ux != nil
		}
		if s.sfd >= 0 {
			if ap, err := rawsys.Getsockname(int(s.sfd)); err == nil {
				x.BackSrc = ap
			}
		}
	}
	line := AppendLogFormat(make([]byte, 0, 256), nodes, r, &x)
	if len(line) == 0 {
		return
	}
	var sd []byte
	if len(sdNodes) > 0 {
		sd = AppendLogFormat(nil, sdNodes, r, &x)
	}
	f.logCount.Add(1)
	f.logs.LogSD(level, string(line), string(sd))
}
