package health

import (
	"bytes"
	"strings"

	"goproxy/internal/cnum"
	"goproxy/internal/srvstate"
)

// agentReply is an agent's line split as HAProxy's
// tcpcheck_agent_expect_reply does.
type agentReply struct {
	health, admin, weight, maxconn, errWord, desc string
	warning                                       string // set when the line was incomplete
}

// statusKeep, the outcome of an incomplete agent line, keeps the previous
// status (Report.KeepStatus).
const statusKeep srvstate.CheckStatus = -1

// agentRules is the "*agent-check" ruleset: an implicit connect to the
// agent address, send "agent-send" if any, read one line.
func agentRules() *ruleset {
	rs := &ruleset{proto: protoAgent, rules: []*rule{
		{action: actSend, index: 0, minRecv: -1, dataFn: func(r *run) []byte { return r.spec.agentString }},
		{action: actExpect, index: 1, minRecv: -1, kind: expCustom, custom: expectAgentReply},
	}}
	rs.finalize()
	return rs
}

// parseAgentLine splits one agent reply line.
func parseAgentLine(line string) agentReply {
	var a agentReply
	cmd := line
	for len(cmd) > 0 {
		c := cmd[0]
		if c == ' ' || c == '\t' || c == ',' {
			cmd = cmd[1:]
			continue
		}
		if c == '#' {
			a.desc = strings.TrimLeft(cmd[1:], " \t")
			break
		}
		end := strings.IndexAny(cmd[1:], " \t,\n")
		word := cmd
		rest := ""
		if end >= 0 {
			word = cmd[:end+1]
			rest = cmd[end+2:]
		}
		lw := strings.ToLower(word)
		switch {
		case lw == "up" || lw == "down" || lw == "stopped" || lw == "fail":
			a.health = word
		case lw == "ready" || lw == "drain" || lw == "maint":
			a.admin = word
		case word[0] >= '0' && word[0] <= '9' && strings.Contains(word, "%"):
			a.weight = word
		case strings.HasPrefix(lw, "maxconn:"):
			a.maxconn = word
		default:
			if a.errWord == "" {
				a.errWord = word
			}
		}
		cmd = rest
	}
	a.desc = strings.TrimLeft(a.desc, " \n")
	return a
}

// typed returns the reply with its words parsed: health and admin words
// as values, the weight and maxconn as numbers (or HAProxy's text for a
// word it refuses, as server_parse_weight_change_request and
// server_parse_maxconn_change_request answer).
func (a agentReply) typed() *srvstate.AgentReply {
	t := &srvstate.AgentReply{HealthWord: a.health, ErrWord: a.errWord, Desc: a.desc}
	switch strings.ToLower(a.health) {
	case "up":
		t.Health = srvstate.AgentUp
	case "down", "stopped", "fail":
		t.Health = srvstate.AgentDown
	}
	switch strings.ToLower(a.admin) {
	case "ready":
		t.Admin = srvstate.AgentReady
	case "drain":
		t.Admin = srvstate.AgentDrain
	case "maint":
		t.Admin = srvstate.AgentMaint
	}
	if a.weight != "" {
		t.Weight, t.WeightRelative, t.WeightWarning = cnum.Weight(a.weight)
		t.HasWeight = t.WeightWarning == ""
	}
	if a.maxconn != "" {
		n := a.maxconn
		if len(n) >= len("maxconn:") && strings.EqualFold(n[:len("maxconn:")], "maxconn:") {
			n = n[len("maxconn:"):]
		}
		t.MaxConn, t.MaxConnWarning = cnum.Maxconn(n)
		t.HasMaxConn = t.MaxConnWarning == ""
	}
	return t
}

// expectAgentReply waits for a full line (CR or LF terminated) and hands
// it over; an agent reply never fails the check by itself.
func expectAgentReply(r *run, rl *rule, lastRead bool) evalRet {
	i := bytes.IndexAny(r.buf, "\r\n")
	nul := bytes.IndexByte(r.buf, 0)
	if nul >= 0 && (i < 0 || nul < i) {
		i = -1
		r.buf = r.buf[:nul]
	}
	if i < 0 {
		if !lastRead && nul < 0 {
			return evalWait
		}
		r.out.agent = &agentReply{warning: "Ignoring incomplete line from agent"}
		r.finish(statusKeep, "Ignoring incomplete line from agent")
		return evalStop
	}
	a := parseAgentLine(string(r.buf[:i]))
	r.out.agent = &a
	r.finish(srvstate.CheckChecked, "")
	return evalStop
}
