package stats

import "goproxy/proxy"

// setServerProbe answers "set server <b>/<s> check-addr|check-port|
// agent-addr|agent-port|agent-send" with HAProxy 2.6's texts: a missing
// argument, then a server whose check (or agent) is not configured, are
// refused as HAProxy refuses them. Changing a configured check's address
// or port at run time is not supported by goproxy.
func setServerProbe(r *Row, args []string) string {
	sub, arg := argAt(args, 3), argAt(args, 4)
	if arg == "" {
		switch sub {
		case "check-addr", "agent-addr":
			return "set server <b>/<s> " + sub + " requires an address and optionally a port.\n"
		case "check-port", "agent-port":
			return "set server <b>/<s> " + sub + " requires a port.\n"
		}
	}
	switch sub {
	case "check-addr", "check-port":
		if !r.Server.Check.Configured {
			// A warning without a newline of its own, as HAProxy's.
			return checksNotEnabled
		}
	case "agent-send":
		if !r.Server.Agent.Configured {
			return answer(proxy.ErrAgentDisabled)
		}
	default:
		if !r.Server.Agent.Configured {
			return agentNotEnabled
		}
	}
	return notSupported
}

const (
	checksNotEnabled = "health checks are not enabled on this server"
	agentNotEnabled  = "agent checks are not enabled on this server"
)
