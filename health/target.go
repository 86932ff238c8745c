package health

import (
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// Target is what a checker needs of a server. *proxy.Server implements it;
// the state machine behind it is the server's, never the checker's.
type Target interface {
	// CheckSettings returns the backend's configuration (check kind,
	// tcp-check rules, timeouts), the server's name, address and
	// parameters. It is called once, by New.
	CheckSettings() (backend *parser.Proxy, name string, addr parser.Addr, params parser.ServerParams)
	// CheckConfigured reports whether the server has health checks.
	CheckConfigured() bool
	// CheckInterval returns the delay before the next check; it depends
	// on the server's current health (inter, fastinter, downinter).
	CheckInterval() time.Duration
	// CheckRunnable reports whether a check should run now (enabled, not
	// paused by maintenance).
	CheckRunnable() bool
	// CheckStarted tells the server a check is in progress.
	CheckStarted()
	// ReportCheck hands over the outcome of one check: status is one of
	// the srvstate.CheckStatus codes, code the layer 7 code, desc the text shown as
	// last_chk, took the check's duration. State changes are logged on log.
	ReportCheck(status srvstate.CheckStatus, code int, desc string, took time.Duration, log logrus.FieldLogger)
}

// AgentTarget is implemented by targets that support agent checks
// ("agent-check", "agent-port", "agent-inter", "agent-send").
type AgentTarget interface {
	AgentConfigured() bool
	AgentInterval() time.Duration
	AgentRunnable() bool
	AgentStarted()
	// ReportAgent records an agent check that got no usable reply; a
	// negative status keeps the previous one.
	ReportAgent(status srvstate.CheckStatus, code int, desc string, took time.Duration, log logrus.FieldLogger)
	// ReportAgentReply applies an agent's reply line, split into words:
	// health (up, down, stopped, fail), admin (ready, drain, maint),
	// weight ("75%"), maxconn (the word, "maxconn:10"), the first unknown word and
	// the description after '#'.
	ReportAgentReply(health, admin, weight, maxconn, errWord, desc string, took time.Duration, log logrus.FieldLogger)
}

// statusKeep, reported by an agent check, keeps the previous status.
const statusKeep srvstate.CheckStatus = -1

// Options are the process-wide check settings.
type Options struct {
	// Log receives state changes and check errors. Nil discards them.
	Log logrus.FieldLogger
	// SpreadChecks is the global spread-checks percentage (0..50): each
	// interval is randomly moved by up to this share, in both directions.
	SpreadChecks int
	// MaxSpreadChecks caps the window over which first checks are spread
	// (global max-spread-checks); 0 means the shortest check interval.
	MaxSpreadChecks time.Duration
}
