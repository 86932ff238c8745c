package health

import (
	"fmt"
	"time"

	"goproxy/internal/uxsock"
	"goproxy/parser"
)

// rulesetFor compiles the check rule set of a backend.
func rulesetFor(px *parser.Proxy) (*ruleset, error) {
	switch px.CheckKind {
	case parser.CheckL4:
		rs := &ruleset{proto: protoNone}
		rs.finalize()
		return rs, nil
	case parser.CheckTCP:
		return compileTCPChecks(px.TCPChecks)
	case parser.CheckRedis:
		return redisRules(), nil
	case parser.CheckMySQL:
		return mysqlRules(px.CheckArgs.User != ""), nil
	case parser.CheckPgSQL:
		return pgsqlRules(), nil
	case parser.CheckSMTP:
		return smtpRules(), nil
	case parser.CheckLDAP:
		return ldapRules(), nil
	case parser.CheckSSLHello:
		return sslHelloRules(), nil
	case parser.CheckHTTP:
		return httpRules(px)
	}
	return nil, fmt.Errorf("check kind %d is not supported", px.CheckKind)
}

// baseSpec fills what health and agent checks share.
func baseSpec(px *parser.Proxy, addr parser.Addr, inter time.Duration) *probeSpec {
	sp := &probeSpec{
		network:  "tcp",
		host:     addr.Host,
		port:     addr.Port,
		inter:    inter,
		tConnect: px.Timeouts.Connect,
		tCheck:   px.Timeouts.Check,
	}
	switch addr.Family {
	case parser.FamilyUnix:
		sp.network, sp.host = "unix", addr.Path
	case parser.FamilyAbns:
		// Padded to the whole sun_path, as HAProxy connects.
		sp.network, sp.host = "unix", uxsock.Addr{Path: addr.Path, Abstract: true}.Name()
	}
	if addr.HasOffset {
		sp.port = 0 // relative ports cannot be checked without "port"
	}
	return sp
}

// healthSpec prepares the health check of one server.
func healthSpec(px *parser.Proxy, rs *ruleset, addr parser.Addr, p parser.ServerParams) (*probeSpec, error) {
	sp := baseSpec(px, addr, p.CheckInter())
	sp.rs = rs
	sp.checkAddr = p.CheckAddr
	sp.checkPort = p.CheckPort
	sp.proxyV2 = p.SendProxyV2
	sp.sendProxy = p.CheckSendProxy
	if p.CheckPort == 0 && p.CheckAddr == "" && (p.SendProxy || p.SendProxyV2) {
		sp.sendProxy = true
	}
	sp.smtpCmd = "HELO localhost"
	if a := px.CheckArgs; (a.Verb == "EHLO" || a.Verb == "HELO") && a.Domain != "" {
		sp.smtpCmd = a.Verb + " " + a.Domain
	}
	sp.pgUser = px.CheckArgs.User
	sp.mysqlUser = px.CheckArgs.User
	sp.mysqlPre41 = px.CheckArgs.Pre41
	sp.checkSSL = p.CheckSSL
	sp.checkSNI = p.CheckSNI
	if sp.checkSNI == "" {
		sp.checkSNI = literalSNI(p.SNI)
	}
	sp.checkALPN = p.CheckALPN
	if p.CheckSSL || usesTLS(rs) {
		conf, err := checkTLSConfig(p)
		if err != nil {
			return nil, err
		}
		sp.tlsConf = conf
	}
	return sp, nil
}

// agentSpec prepares the agent check of one server.
func agentSpec(px *parser.Proxy, addr parser.Addr, p parser.ServerParams) *probeSpec {
	sp := baseSpec(px, addr, p.AgentCheckInter())
	sp.rs = agentRules()
	sp.checkAddr = p.AgentAddr
	sp.checkPort = p.AgentPort
	sp.agentString = []byte(p.AgentSend)
	return sp
}

// usesTLS reports whether a connect rule asks for TLS.
func usesTLS(rs *ruleset) bool {
	for _, r := range rs.rules {
		if r.action == actConnect && r.ssl {
			return true
		}
	}
	return false
}
