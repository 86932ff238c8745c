package srvstate

import "time"

// CheckKind tells a server's health check from its agent check.
type CheckKind int

// Check kinds.
const (
	HealthCheck CheckKind = iota // "check"
	AgentCheck                   // "agent-check"
)

// Report is the outcome of one check as a checker hands it to its server;
// the server applies it (rise/fall, the agent's requests) and records it.
type Report struct {
	Kind CheckKind
	// Status is the check's outcome; with KeepStatus it stays as it was
	// (an incomplete agent line).
	Status     CheckStatus
	KeepStatus bool
	Code       int    // layer 5-7 code, for statuses that carry one
	Desc       string // the text shown as last_chk
	Took       time.Duration
	// Twice: the check passed twice in one run (HAProxy's protocol checks
	// on their last rule), so health climbs by two.
	Twice bool
	// Agent is the agent's reply line, parsed; nil when it sent none.
	Agent *AgentReply
}

// AgentHealth is the health an agent reports.
type AgentHealth int

// Agent health words.
const (
	AgentHealthNone AgentHealth = iota
	AgentUp                     // "up"
	AgentDown                   // "down", "stopped", "fail"
)

// AgentAdmin is the administrative state an agent asks for.
type AgentAdmin int

// Agent admin words.
const (
	AgentAdminNone AgentAdmin = iota
	AgentReady                // "ready"
	AgentDrain                // "drain"
	AgentMaint                // "maint"
)

// AgentReply is an agent's reply line, parsed as HAProxy's
// tcpcheck_agent_expect_reply does.
type AgentReply struct {
	Health     AgentHealth
	HealthWord string // the health word as sent ("UP", "stopped"), for the check's text
	Admin      AgentAdmin
	// Weight, with HasWeight, is the weight the agent asks for: with
	// WeightRelative a percentage of the configured one ("75%"), else
	// absolute; WeightWarning is HAProxy's text for a weight word it
	// refused.
	Weight         int64
	WeightRelative bool
	HasWeight      bool
	WeightWarning  string
	// MaxConn, with HasMaxConn, is the maxconn the agent asks for
	// ("maxconn:10"); MaxConnWarning is HAProxy's text for a maxconn word
	// it refused.
	MaxConn        int64
	HasMaxConn     bool
	MaxConnWarning string
	ErrWord        string // the first word the agent protocol does not know
	Desc           string // the text after '#'
}
