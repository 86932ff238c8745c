// Package stats serves HAProxy's runtime API (the "stats socket") and exports
// the same numbers to Prometheus.
//
// It owns the CLI: listening sockets (unix paths with mode/owner, ipv4@/ipv6@
// TCP addresses, fd@N sockets inherited from the parent), the line protocol
// (non-interactive and prompt modes, ';' separated commands, levels, the
// severity prefixes of "set severity-output", severity.go), the answers of the read commands (show stat,
// show info, show servers state, ...) byte for byte as HAProxy 2.6 prints
// them, and the parsing and answer texts of the admin commands.
//
// It knows nothing of the running proxy: everything it shows comes from a
// Source, a plain-data view the caller implements, and every admin command
// goes through the Admin interface the Source returns. The certificate
// commands (show/set/commit/abort ssl cert, ssl_cert.go; the same and
// new/del for ssl ca-file and crl-file, ssl_cafile.go) act on the
// graph's proxy.CertStore when the Source has one; their payloads follow
// the command line ("<<", payload.go).
//
//	srv, err := stats.NewServer(cfg.Global, src, log)
//	if err != nil { ... }
//	if err := srv.Start(); err != nil { ... }
//	defer srv.Close()
//
// Close stops the listeners, ends the CLI sessions, waits for their
// goroutines and removes the socket files the server created (unless a
// newer process has replaced them: see Server.Takeover for reloads).
//
// Connections and slots: stats maxconn bounds the commands running at once,
// not the connections. A session takes a slot only while a known command
// runs (session.admit); a request line, once begun, must arrive within
// lineTimeout; stats timeout is the wait for a command. At most
// sessionsPerSlot × stats maxconn connections stay open: one more evicts the
// session that has made no progress for the longest time. Misbehaving local
// clients therefore cannot keep an operator's "show stat" from answering.
//
// What the Source provides, and what this package derives:
//
//   - Rows carry raw state (operational state, admin flags, check state,
//     weights) and counters; the status strings (UP 1/3, DOWN, MAINT, no
//     check, ...), which columns are empty on which kind of row, and the
//     backend's weight, act, bck and uweight (from its server rows) are
//     computed here, with HAProxy's rules, for CSV, typed and JSON output
//     alike (one field table, fieldmeta.go).
//   - Info holds the process values; the CLI adds its own connections to
//     CumConns and Jobs (not CurrConns: as HAProxy's, CLI connections are
//     not limited by maxconn and not counted there), and its sockets to
//     Listeners and Jobs.
//   - show servers state/conn, show backend and get weight are views of the
//     server and backend rows.
//
// Server state across reloads: LoadServerState reads the files named by
// server-state-file / load-server-state-from-file / server-state-file-name
// (the output of "show servers state" saved before the reload) and restores
// each server's maintenance, drain, user weight, disabled checks and port
// through the Admin interface, with HAProxy 2.6's rules (ApplyServerState).
// The caller runs it once the runtime is built, before accepting
// connections:
//
//	stats.LoadServerState(cfg, src, log)
//
// Server.Collector (or NewCollector) exports the same Source to Prometheus
// under the names of HAProxy's built-in exporter (haproxy_process_*,
// haproxy_frontend_*, haproxy_backend_*, haproxy_server_*). The Exporter
// adds goproxy's own series (goproxy_*: timing histograms, cut and
// handed-over sessions) when its Source is also an ExtendedSource, as
// ProxySource is, and honours promex's ?scope= and ?no-maint for both.
//
// The HTTP frontends of a configuration (parser.Proxy.ServesHTTP) are served
// by an Exporter made with NewHTTPService: the promex stanza, and HAProxy's
// HTML statistics page (Page: the report, ;csv and ;json from the same
// field table as show stat, Basic auth, http-request allow/deny/auth rules
// with userlists, and the admin form, applied through the Admin interface).
// Their own counters appear in show stat once registered with
// ProxySource.AddHTTPFrontend:
//
//	e := stats.NewHTTPService(cfg, px, src, log)
//	src.AddHTTPFrontend(px.Name, e.Rows)
//	if err := e.Start(); err != nil { ... }
//	defer e.Close()
//
// It imports proxy (ProxySource is its view of a Graph), parser (the
// settings it serves), the internal packages (cnum, crypt, hatext,
// sockxfer), logrus, client_golang and x/sys; never health or cmd. Its
// field tables are generated from schema/ (generate.go).
package stats
