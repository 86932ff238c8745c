package parser

import "strings"

// knownGlobalKeywords are HAProxy 2.6's global keywords, in the order of its
// manual; they feed "did you mean" and tell an unsupported keyword from a
// misspelled one.
var knownGlobalKeywords = strings.Fields(`
ca-base chroot cluster-secret cpu-map crt-base daemon default-path description
expose-experimental-directives external-check fd-hard-limit gid grace group
h1-accept-payload-with-any-method h1-case-adjust h1-case-adjust-file
h2-workaround-bogus-websocket-clients hard-stop-after httpclient.resolvers.id
httpclient.resolvers.prefer httpclient.ssl.ca-file httpclient.ssl.verify
insecure-fork-wanted insecure-setuid-wanted issuers-chain-path localpeer log
log-send-hostname log-tag lua-load lua-load-per-thread lua-prepend-path
mworker-max-reloads nbthread node numa-cpu-mapping pidfile pp2-never-send-local
presetenv resetenv set-dumpable set-var setenv ssl-default-bind-ciphers
ssl-default-bind-ciphersuites ssl-default-bind-curves ssl-default-bind-options
ssl-default-server-ciphers ssl-default-server-ciphersuites
ssl-default-server-options ssl-dh-param-file ssl-propquery ssl-provider
ssl-provider-path ssl-server-verify ssl-skip-self-issued-ca stats strict-limits
uid ulimit-n unix-bind unsetenv user busy-polling max-spread-checks
maxcompcpuusage maxcomprate maxconn maxconnrate maxpipes maxsessrate maxsslconn
maxsslrate maxzlibmem no-memory-trimming noepoll noevports nogetaddrinfo
nokqueue nopoll noreuseport nosplice profiling.tasks server-state-base
server-state-file spread-checks ssl-engine ssl-mode-async quiet zero-warning
master-worker nbproc debug thread-groups 51degrees-data-file
deviceatlas-json-file wurfl-data-file`)

// notYetGlobal are global keywords goproxy knows but does not act on yet.
var notYetGlobal = map[string]string{
	"maxsessrate":    "rate limits are not implemented",
	"cpu-map":        "goproxy schedules its event loops itself",
	"set-var":        "variables are not implemented",
	"external-check": "external checks are not implemented",
	"default-path":   "not implemented",
	"fd-hard-limit":  "not implemented",
	"noreuseport":    "goproxy's reload needs SO_REUSEPORT",
	"busy-polling":   "not implemented",
	"quiet":          "use -q",
	"debug":          "use -d",
}

// unsupportedGlobal tells whether kw is an HAProxy global keyword goproxy
// rejects, and why.
func unsupportedGlobal(kw string) (string, bool) {
	if r, ok := notYetGlobal[kw]; ok {
		return r, true
	}
	switch {
	case strings.HasPrefix(kw, "ssl-"), strings.HasPrefix(kw, "httpclient.ssl"), kw == "ca-base", kw == "crt-base", kw == "issuers-chain-path", kw == "maxsslconn", kw == "maxsslrate":
		return "goproxy's TLS (Go's crypto/tls) does not implement it", true
	case strings.HasPrefix(kw, "lua-"), strings.HasPrefix(kw, "tune.lua"):
		return "Lua is not implemented", true
	case strings.HasPrefix(kw, "tune."):
		return "tuning knobs are HAProxy internals", true
	case strings.HasPrefix(kw, "h1-"), strings.HasPrefix(kw, "h2-"), strings.HasPrefix(kw, "httpclient."), strings.HasPrefix(kw, "maxcomp"), kw == "maxzlibmem":
		return "HTTP mode only", true
	case strings.HasPrefix(kw, "51degrees-"), strings.HasPrefix(kw, "deviceatlas-"), strings.HasPrefix(kw, "wurfl-"):
		return "device detection is not implemented", true
	}
	for _, k := range knownGlobalKeywords {
		if k == kw {
			return "not implemented", true
		}
	}
	return "", false
}

// knownProxyKeywords are HAProxy 2.6's proxy keywords (first word).
var knownProxyKeywords = strings.Fields(`
acl backlog balance bind bind-process capture compression cookie declare
default-server default_backend description disabled dispatch email-alert
enabled error-log-format errorfile errorfiles errorloc errorloc302 errorloc303
external-check filter force-persist fullconn hash-type http-after-response
http-check http-error http-request http-response http-reuse
http-send-name-header id ignore-persist load-server-state-from-file log
log-format log-format-sd log-tag max-keep-alive-queue maxconn mode monitor
monitor-uri option persist rate-limit redirect retries retry-on server
server-state-file-name server-template source stats stick stick-table
tcp-check tcp-request tcp-response timeout transparent unique-id-format
unique-id-header use-fcgi-app use-server use_backend clitcpka-cnt clitcpka-idle
clitcpka-intvl srvtcpka-cnt srvtcpka-idle srvtcpka-intvl`)

// notYetProxy are proxy keywords goproxy knows but rejects.
var notYetProxy = map[string]string{
	"backlog":        "use the 'backlog' option of 'bind'",
	"bind-process":   "goproxy runs one process",
	"capture":        "HTTP mode only",
	"declare":        "HTTP mode only",
	"dispatch":       "not implemented",
	"email-alert":    "email alerts are not implemented",
	"errorfiles":     "HTTP mode only",
	"external-check": "external checks are not implemented",
	"filter":         "filters are not implemented",
	"http-error":     "HTTP mode only",
	"monitor":        "HTTP mode only",
	"persist":        "RDP cookie persistence is not implemented",
	"rate-limit":     "rate limits are not implemented",
	"redirect":       "HTTP mode only",
	"source":         "source address selection is not implemented",
	"tcp-response":   "tcp-response rules are not implemented",
	"transparent":    "not implemented",
	"use-fcgi-app":   "HTTP mode only",
	"id":             "forced proxy ids are not implemented",
	"clitcpka-cnt":   "keep-alive tuning is not implemented",
	"clitcpka-idle":  "keep-alive tuning is not implemented",
	"clitcpka-intvl": "keep-alive tuning is not implemented",
	"srvtcpka-cnt":   "keep-alive tuning is not implemented",
	"srvtcpka-idle":  "keep-alive tuning is not implemented",
	"srvtcpka-intvl": "keep-alive tuning is not implemented",
}

// knownOptions are HAProxy 2.6's "option" names.
var knownOptions = strings.Fields(`
abortonclose accept-invalid-http-request accept-invalid-http-response
allbackups checkcache clitcpka contstats disable-h2-upgrade dontlog-normal
dontlognull external-check forwardfor h1-case-adjust-bogus-client
h1-case-adjust-bogus-server http-buffer-request http-ignore-probes
http-keep-alive http-no-delay http-pretend-keepalive http-restrict-req-hdr-names
http-server-close http-use-proxy-header httpchk httpclose httplog httpslog
idle-close-on-response independent-streams ldap-check log-health-checks
log-separate-errors logasap mysql-check nolinger originalto persist pgsql-check
prefer-last-server redis-check redispatch smtpchk socket-stats splice-auto
splice-request splice-response spop-check srvtcpka ssl-hello-chk tcp-check
tcp-smart-accept tcp-smart-connect tcpka tcplog transparent`)

// notYetOptions are options goproxy knows but rejects.
var notYetOptions = map[string]string{
	"spop-check":          "SPOE is not implemented",
	"external-check":      "external checks are not implemented",
	"transparent":         "transparent proxying is not implemented",
	"nolinger":            "not implemented",
	"independent-streams": "not implemented",
	"contstats":           "not implemented",
	"persist":             "not implemented",
	"prefer-last-server":  "not implemented",
	"tcp-smart-accept":    "not implemented",
	"tcp-smart-connect":   "not implemented",
	"splice-request":      "not implemented",
	"splice-response":     "not implemented",
}
