package health

import (
	"time"

	"github.com/sirupsen/logrus"

	"goproxy/internal/srvstate"
	"goproxy/parser"
)

// Target is all a checker may touch of a server. *proxy.Server implements
// it; the state machine behind it is the server's, never the checker's.
// Each method takes the kind of check: the health check or the agent
// check.
type Target interface {
	// CheckConfigured reports whether the server has a check of kind k.
	// It is called once, by New.
	CheckConfigured(k srvstate.CheckKind) bool
	// CheckInterval returns the delay before the next check of kind k; it
	// depends on the server's current health (inter, fastinter,
	// downinter).
	CheckInterval(k srvstate.CheckKind) time.Duration
	// StartCheck reports whether a check of kind k should run now
	// (enabled, not paused by maintenance) and, if so, marks it in
	// progress.
	StartCheck(k srvstate.CheckKind) bool
	// Report hands over the outcome of the check that StartCheck began.
	// State changes are logged on log.
	Report(r srvstate.Report, log logrus.FieldLogger)
}

// Server is one server to check: its configuration, as the model holds it
// (the backend's check kind, tcp-check rules and timeouts; the server's
// address and parameters), and the live server the results go to.
type Server struct {
	Backend *parser.Proxy
	Name    string
	Addr    parser.Addr
	Params  parser.ServerParams
	Target  Target
}

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
	// BufSize is tune.bufsize: a check reads at most that much of a
	// reply; 0 means HAProxy's default, 16384.
	BufSize int
}
