// Package stats serves HAProxy's runtime API (the "stats socket") and exports
// the same numbers to Prometheus.
//
// It owns the CLI: listening sockets (unix paths with mode/owner, ipv4@/ipv6@
// TCP addresses), the line protocol (non-interactive and prompt modes, ';'
// separated commands, levels), the answers of the read commands (show stat,
// show info, show servers state, ...) byte for byte as HAProxy 2.6 prints
// them, and the parsing and answer texts of the admin commands.
//
// It knows nothing of the running proxy: everything it shows comes from a
// Source, a plain-data view the caller implements, and every admin command
// goes through the Admin interface the Source returns.
//
//	srv, err := stats.NewServer(cfg.Global, src, log)
//	if err != nil { ... }
//	if err := srv.Start(); err != nil { ... }
//	defer srv.Close()
//
// Close stops the listeners, ends the CLI sessions, waits for their
// goroutines and removes the socket files the server created.
package stats
