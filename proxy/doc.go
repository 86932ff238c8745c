// Package proxy is goproxy's runtime: it turns one parser.Config into one
// immutable Graph per process (frontends with their listeners, backends with
// their servers and balancers) and serves it: accept, pick a server, dial,
// copy bytes both ways, count.
//
// Topology never changes after Build, except a backend's server list, which
// "add server" and "del server" replace copy-on-write (dynserver.go); server
// state, weights and counters are atomics, and each balancer keeps its lookup
// table (with the servers it was built from) behind an atomic pointer that a
// state, weight or server list change rebuilds.
//
// Server and backend state has one owner, this package: every change of a
// server's state (a check result, an agent reply, an admin call) runs
// through one transition (Server.change, in the manner of HAProxy's
// srv_update_status), which records lastchg, downtime and chkdown for the
// server and for its backend and writes the log lines at their syslog
// levels. Package health reports through the health.Target methods (Report
// takes a srvstate.Report); package stats reads CheckSnapshot and
// Backend.State and calls the typed admin methods (SetAdminMode,
// SetHealth, SetWeight), whose errors it turns into HAProxy's answers.
//
//	g, err := proxy.Build(cfg, proxy.Options{Log: log})
//	if err != nil { ... }            // runtime-only checks (balance, address kinds)
//	if err := g.Start(); err != nil { // binds; HAProxy's "Binding [f:l] for ..." text
//		...
//	}
//	g.StopListening() // SIGUSR1: close listeners, keep sessions
//	<-g.Done()        // listeners closed and no session left
//
// # Data path
//
// Start runs one event loop per usable CPU (Options.CPUs). Each loop owns an
// epoll set, a 32 KiB scratch buffer, a timer heap and the sessions it
// accepted; listening sockets are shared by all loops (EPOLLEXCLUSIVE). A
// session is two raw non-blocking descriptors registered edge-triggered and
// one small record: no goroutine, no buffer while idle. Bytes are read into
// the scratch buffer and written straight to the other side; only what the
// receiver cannot take is copied into a pooled buffer (2, 16 or 64 KiB), and
// the source is not read again until it drained (back-pressure). End of
// input on one side becomes a write shutdown of the other once pending bytes
// are written; the session ends when both directions ended, or at once on an
// error or reset (counted as cli_abrt or srv_abrt).
//
// The loop's system calls on its sockets (package internal/rawsys) bypass
// the Go scheduler: none of them waits, so sysmon never finds the loop's P
// "in a syscall" to hand off (after which it would poll every 20µs on the
// loop's CPU). Under traffic a loop sleeps in a raw epoll_wait that keeps
// its P, for at most 20 ms, when GOMAXPROCS exceeds the running loops (the
// process sets it to LoopCount+1, so that health checks, the stats socket
// and signal handling run on the spare P); an idle loop sleeps in the
// scheduler-aware epoll_wait.
//
// Timeouts (connect, queue, client, server, tunnel, client-fin, server-fin,
// and the turn-around between retries) are deadlines in the session record,
// kept in the loop's heap lazily: activity only moves a deadline later.
// Anything from outside a loop (shutdown of a session, of a server's
// sessions, soft and hard stop, pause, a queue slot given to a session)
// reaches it as a command through a queue and an eventfd in its epoll set.
//
// # TLS
//
// Sessions of an ssl bind, and connections to ssl servers, run Go's
// crypto/tls, which needs a goroutine blocked on a net.Conn: the loop
// cannot drive it. Such a connection is handed, once accepted (and its
// PROXY header read) or once connected, to goroutines beside the loop,
// and the loop's side of the session gets one end of a socket pair in
// its place: everything else (rules, balancing, queues, retries,
// timeouts, counters, logs, show sess) stays the plain session's, with
// no second implementation. The handshake runs in one goroutine, then
// two copy between the TLS connection and the pair, waiting in Go's
// poller without a buffer while idle. The price, measured by make bench:
// two goroutines and two descriptors more per TLS connection
// (tls_session.go, tls_origin.go). Certificates live in a CertStore
// that handshakes read through atomic pointers, so that the runtime API
// replaces one without a reload (tls_certs.go, tls_runtime.go).
//
// Counters are atomics in Frontend, Backend, Server and Listener, updated as
// bytes flow; Stats methods copy them into plain Stats values with the names
// of HAProxy's "show stat" columns.
//
// It imports parser (the configuration model), the internal packages
// (rawsys, cnum, sockxfer, tlshello, hatext), logrus, go-multierror and
// x/sys; never health, stats or cmd, which drive a Graph from outside.
package proxy
