package stats

import (
	"strings"
)

// handler runs one command and returns its answer without the final empty
// line, which the session adds. args holds every word of the command.
type handler func(s *session, args []string) string

// command is one entry of the dispatch table: the keyword words the command
// line must start with, the minimum level, and the handler.
type command struct {
	words []string
	level Level
	run   handler
}

const permissionDenied = "Permission denied\n"

// commandTable is built once; lookups take the longest keyword match.
var commandTable []command

func init() {
	add := func(kw string, level Level, h handler) {
		commandTable = append(commandTable, command{words: strings.Fields(kw), level: level, run: h})
	}
	add("help", LevelUser, cmdHelp)
	add("show cli level", LevelUser, cmdShowCLILevel)
	add("show version", LevelUser, cmdShowVersion)
	add("operator", LevelUser, cmdOperator)
	add("user", LevelUser, cmdUser)
	add("set timeout", LevelUser, cmdSetTimeout)

	add("show info", LevelUser, cmdShowInfo)
	add("show stat", LevelUser, cmdShowStat)
	add("show backend", LevelUser, cmdShowBackend)
	add("show servers state", LevelUser, cmdShowServersState)
	add("show servers conn", LevelUser, cmdShowServersConn)
	add("show resolvers", LevelUser, cmdShowResolvers)
	add("get weight", LevelUser, cmdGetWeight)
	add("show sess", LevelOperator, cmdShowSess)
	add("show errors", LevelOperator, cmdShowErrors)
	add("show env", LevelOperator, cmdShowEnv)
	add("clear counters", LevelOperator, cmdClearCounters)
	add("show schema", LevelUser, cmdShowSchema)
	add("show cli sockets", LevelUser, cmdShowCLISockets)
	add("show map", LevelUser, cmdShowMap)
	add("show acl", LevelUser, cmdEmptyList("# id (file) description\n"))
	add("show peers", LevelUser, cmdShowPeers)
	add("show cache", LevelAdmin, cmdEmptyList(""))
	add("show startup-logs", LevelOperator, cmdEmptyList("\n"))
	add("get var", LevelOperator, cmdGetVar)

	add("disable server", LevelAdmin, cmdDisableServer)
	add("enable server", LevelAdmin, cmdEnableServer)
	add("disable health", LevelAdmin, cmdHealth(false))
	add("enable health", LevelAdmin, cmdHealth(true))
	add("disable agent", LevelAdmin, cmdAgent(false))
	add("enable agent", LevelAdmin, cmdAgent(true))
	add("set server", LevelAdmin, cmdSetServer)
	add("set weight", LevelAdmin, cmdSetWeight)
	add("set maxconn server", LevelAdmin, cmdSetMaxconnServer)
	add("set maxconn frontend", LevelAdmin, cmdSetMaxconnFrontend)
	add("set maxconn global", LevelAdmin, cmdSetMaxconnGlobal)
	add("set rate-limit", LevelAdmin, cmdSetRateLimit)
	add("disable frontend", LevelAdmin, cmdDisableFrontend)
	add("enable frontend", LevelAdmin, cmdEnableFrontend)
	add("shutdown frontend", LevelAdmin, cmdShutdownFrontend)
	add("shutdown session", LevelAdmin, cmdShutdownSession)
	add("shutdown sessions server", LevelAdmin, cmdShutdownSessionsServer)
	add("add server", LevelAdmin, cmdAddServer)
	add("del server", LevelAdmin, cmdDelServer)
}

// findCommand returns the command whose keyword words all match the first
// words of args, preferring the longest keyword.
func findCommand(args []string) *command {
	var best *command
	for i := range commandTable {
		c := &commandTable[i]
		if len(c.words) > len(args) {
			continue
		}
		ok := true
		for j, w := range c.words {
			if args[j] != w {
				ok = false
				break
			}
		}
		if ok && (best == nil || len(c.words) > len(best.words)) {
			best = c
		}
	}
	return best
}

// notSupported answers HAProxy commands that goproxy lists in its help (to
// keep HAProxy's listing) but does not implement.
const notSupported = "This command is not supported by goproxy.\n"

// isKnownKeyword reports whether args start with one of HAProxy's listed
// keywords.
func isKnownKeyword(args []string) bool {
	for _, kw := range keywords {
		if kw.usage == "" || len(kw.words) == 0 || len(kw.words) > len(args) {
			continue
		}
		ok := true
		for j, w := range kw.words {
			if args[j] != w {
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

func cmdHelp(s *session, args []string) string {
	return usageMessage(args[1:], true)
}

func cmdShowCLILevel(s *session, args []string) string {
	return s.level.String() + "\n"
}

func cmdShowVersion(s *session, args []string) string {
	return s.srv.version() + "\n"
}

func cmdOperator(s *session, args []string) string {
	if s.level > LevelOperator {
		s.level = LevelOperator
	}
	return ""
}

func cmdUser(s *session, args []string) string {
	s.level = LevelUser
	return ""
}
