// Package health runs goproxy's health checks as HAProxy 2.6 does: plain
// layer 4 connects, "option tcp-check" rule sets (connect, send,
// send-binary, expect string|rstring|binary|rbinary), the protocol checks
// (redis-check, mysql-check, pgsql-check, smtpchk, ldap-check,
// ssl-hello-chk) and agent checks.
//
// The package owns scheduling, probing and the agent protocol. Rise/fall
// arithmetic and the server states live with the servers (package proxy);
// a checker reaches a server only through the Target interface defined
// here (whether a check is configured and may run now, its interval, and
// one typed srvstate.Report per check, an agent's reply already parsed).
// The caller pairs each Target with its configuration:
//
//	servers := []health.Server{{Backend: px, Name: "s1", Addr: addr, Params: params, Target: srv}}
//	m, err := health.New(servers, health.Options{Log: log, SpreadChecks: 0})
//	if err != nil { ... }
//	m.Start(ctx)
//	defer m.Stop() // cancels running checks and waits for every goroutine
//
// One goroutine per check (health or agent) sleeps until its next check,
// runs it and reports the result; first checks are spread over the
// shortest interval as HAProxy's start_checks does, later ones are
// scheduled from the end of the previous check (plus spread-checks
// jitter), so thousands of servers neither burst nor drift together.
//
// It imports parser (the model) and internal/hatext; never proxy (Target is
// the interface *proxy.Server satisfies), stats or cmd.
package health
