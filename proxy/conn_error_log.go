package proxy

import (
	"strconv"
	"time"

	"goproxy/parser"
)

// connFailedEarly ends a session whose client connection failed before
// it became a stream (its PROXY header, its TLS handshake): HAProxy's
// connection error line instead of a tcplog line (session_kill_embryonic).
func (s *session) connFailedEarly(code connErr, term [2]byte) {
	s.cerr = code
	s.logConnError()
	s.flags |= fLogged
	s.finish(term)
}

// logsConnErrors reports whether a frontend logs connection errors: as
// HAProxy's fe->to_log, when it has any log format (option tcplog,
// log-format, log-format-sd, error-log-format, unique-id-format).
func (f *Frontend) logsConnErrors() bool {
	c := f.Config
	return c.Options.TCPLog || c.LogFormatSD != nil || c.ErrorLogFormat != nil || c.UniqueIDFormat != nil
}

// logConnError writes the connection error line of s: the frontend's
// error-log-format, or HAProxy's default
// "<ip>:<port> [<accept date>] <frontend>/<listener>: <reason>".
// option dontlognull drops the closed and aborted ones.
func (s *session) logConnError() {
	f := s.fe
	if f.logs == nil || !f.logsConnErrors() {
		return
	}
	if f.Config.Options.DontLogNull && s.cerr.nullConnErr() {
		return
	}
	level := LogInfo
	if f.Config.Options.LogSeparateErrors {
		level = LogErr
	}
	if !f.logs.Enabled(level) {
		return
	}
	if lf := f.Config.ErrorLogFormat; lf != nil {
		var r SessionRecord
		s.embryonicRecord(&r)
		var sd []parser.LogNode
		if f.Config.LogFormatSD != nil {
			sd = f.Config.LogFormatSD.Nodes
		}
		s.emitLogFormat(level, lf.Nodes, sd, &r)
		return
	}
	// As HAProxy, a listener without a name has its id, or with option
	// socket-stats the name it is shown under ("sock-1").
	name := s.ln.Bind.Name
	if name == "" && s.ln.stats {
		name = s.ln.Name
	}
	if name == "" {
		name = strconv.Itoa(s.ln.ID)
	}
	accept := s.l.g.base.Add(time.Duration(s.tAccept))
	f.logs.Log(level, logAddr(s.src)+" ["+accept.Format("02/Jan/2006:15:04:05.000")+"] "+f.Name+"/"+name+": "+s.cerr.String())
}

// embryonicRecord fills r as HAProxy's sess_build_logline() sees a
// session without a stream: no backend or server, no queue or connect
// time, no bytes, termination "PR".
func (s *session) embryonicRecord(r *SessionRecord) {
	s.record(r)
	r.Backend, r.Server = nil, nil
	r.Tw, r.Tc = -1, -1
	r.BytesIn, r.BytesOut = 0, 0
	r.Term = string(termBadReq[:])
	r.BeConn, r.SrvConn, r.SrvQueue, r.BeQueue, r.Retries = 0, 0, 0, 0, 0
	r.Redispatched = false
}
