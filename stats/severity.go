package stats

import "strings"

// Severity output, as HAProxy's "set severity-output" and the
// severity-output bind option of a stats socket: messages (errors, notices,
// usage texts) are prefixed with their syslog severity, "[3]: " or
// "[err]: "; data (show stat, show info, show servers state, ...) and empty
// answers never are. The Data Plane API sends "set severity-output number"
// before each command and takes an answer for an error by its "[3]: ".
type severityMode uint8

const (
	severityNone severityMode = iota
	severityNumber
	severityString
)

// parseSeverityMode reads none, number or string.
func parseSeverityMode(s string) (severityMode, bool) {
	switch s {
	case "none", "":
		return severityNone, true
	case "number":
		return severityNumber, true
	case "string":
		return severityString, true
	}
	return severityNone, false
}

// Syslog severities HAProxy gives its CLI messages.
const (
	sevErr     = 3 // cli_err
	sevWarning = 4 // set server addr's report
	sevNotice  = 5 // "All sockets are already enabled."
	sevInfo    = 6 // cli_msg(LOG_INFO): show version, usage texts
)

var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// severityPrefix renders the prefix of a message of severity sev.
func (m severityMode) prefix(sev int) string {
	switch m {
	case severityNumber:
		return "[" + string(rune('0'+sev)) + "]: "
	case severityString:
		return "[" + severityNames[sev] + "]: "
	}
	return ""
}

const severityUsage = "one of 'none', 'number', 'string' is a required argument\n"

func init() {
	commandTable = append(commandTable, command{
		words: []string{"set", "severity-output"},
		level: LevelUser,
		run:   cmdSetSeverityOutput,
	})
}

func cmdSetSeverityOutput(s *session, args []string) string {
	m, ok := parseSeverityMode(argAt(args, 2))
	if !ok || argAt(args, 2) == "" {
		return severityUsage
	}
	s.severity = m
	return ""
}

// dataCommands answer with data (HAProxy's I/O handlers, never prefixed)
// unless the answer is one of dataErrors.
var dataCommands = [][]string{
	{"show", "stat"}, {"show", "info"}, {"show", "servers"}, {"show", "backend"},
	{"get", "weight"}, {"show", "sess"}, {"show", "errors"}, {"show", "env"},
	{"show", "schema"}, {"show", "cli", "sockets"}, {"show", "map"}, {"show", "acl"},
	{"show", "table"}, {"show", "peers"}, {"show", "cache"}, {"show", "ssl"},
	{"show", "activity"}, {"show", "pools"}, {"show", "fd"},
	{"_getsocks"},
}

// dataErrors are the errors the data commands answer (cli_err in HAProxy).
var dataErrors = map[string]bool{
	"Can't find backend.\n":        true,
	"No such proxy.\n":             true,
	"Invalid statistics domain.\n": true,
	"No such backend.\n":           true,
	"No such server.\n":            true,
	"Require 'backend/server'.\n":  true,
	"Variable not found\n":         true,
	permissionDenied:               true,
	notSupported:                   true,
}

// infoCommands answer with cli_msg(LOG_INFO).
var infoCommands = [][]string{{"show", "version"}, {"show", "cli", "level"}, {"show", "startup-logs"}}

// answerSeverity returns the severity HAProxy 2.6 gives the answer of
// args, or 0 when the answer is data or empty.
func answerSeverity(args []string, answer string) int {
	switch {
	case answer == "":
		return 0
	case strings.HasPrefix(answer, "Unknown command") ||
		strings.HasPrefix(answer, "The following commands are valid"):
		return sevInfo
	case dataErrors[answer]:
		return sevErr
	case hasPrefixWords(args, infoCommands):
		return sevInfo
	case hasPrefixWords(args, dataCommands):
		return 0
	case answer == ocspUpdated:
		return sevInfo
	case answer == "All sockets are already enabled.\n" || answer == "All sockets are already disabled.\n":
		return sevNotice
	case (hasPrefixWords(args, [][]string{{"add", "server"}}) && answer == ansServerRegistered) ||
		(hasPrefixWords(args, [][]string{{"del", "server"}}) && answer == ansServerDeleted):
		return sevInfo // cli_msg(LOG_INFO)
	case answer == checksNotEnabled || answer == agentNotEnabled:
		return sevWarning
	case argAt(args, 0) == "set" && argAt(args, 1) == "server" && argAt(args, 3) == "addr" &&
		strings.HasSuffix(answer, " by 'stats socket command'\n"):
		// srv_update_addr_port's report, success or not, is a warning.
		return sevWarning
	}
	return sevErr
}

func hasPrefixWords(args []string, set [][]string) bool {
	for _, words := range set {
		if len(words) > len(args) {
			continue
		}
		ok := true
		for i, w := range words {
			if args[i] != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// withSeverity prefixes answer as the session's severity output asks.
func (s *session) withSeverity(args []string, answer string) string {
	if s.severity == severityNone {
		return answer
	}
	sev := answerSeverity(args, answer)
	if sev == 0 {
		return answer
	}
	return s.severity.prefix(sev) + answer
}
