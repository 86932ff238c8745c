package main

import (
	"fmt"
	"io"
	"strings"

	"goproxy/parser"
	"goproxy/stats"
)

// Exit statuses of -c, as HAProxy's.
const (
	exitOK         = 0
	exitError      = 1
	exitNoListener = 2
)

// runCheck implements -c: load the files, print the diagnostics as
// HAProxy does on stderr, the verdict on stdout, and return the exit status.
func runCheck(o *options, stdout io.Writer, c *console) int {
	cfg, err := o.loadConfig(o.files, loadOptionsFor(o))
	if !reportLoad(c, cfg, err) || !checkPrograms(o, cfg, c) {
		return exitError
	}
	// As HAProxy, -c reads the server state files and warns about them.
	stats.LoadServerState(cfg, nil, configLog(c))
	if zeroWarning(o, cfg) && c.warned() > 0 {
		c.alert("config : Some warnings were found and 'zero-warning' is set. Aborting.")
		return exitError
	}
	quiet := o.quiet && !o.verbose
	if c.warned() > 0 && !quiet {
		fmt.Fprintln(stdout, "Warnings were found.")
	}
	// A master (and the programs it runs) counts as something that runs.
	if !hasListener(cfg) && !masterWorker(o, cfg) {
		if !quiet {
			fmt.Fprintln(stdout, "Configuration file has no error but will not start (no listener) => exit(2).")
		}
		return exitNoListener
	}
	if !quiet {
		fmt.Fprintln(stdout, "Configuration file is valid")
	}
	return exitOK
}

// zeroWarning reports whether warnings are fatal (-dW or global zero-warning).
func zeroWarning(o *options, cfg *parser.Config) bool {
	return o.zeroWarning || (cfg != nil && cfg.Global.ZeroWarning)
}

// hasListener reports whether the configuration would listen anywhere: an
// enabled proxy with the frontend capability and at least one bind, or a
// stats socket (HAProxy counts its CLI listeners too).
func hasListener(cfg *parser.Config) bool {
	if cfg == nil {
		return false
	}
	if len(cfg.Global.StatsSockets) > 0 {
		return true
	}
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapFrontend != 0 && !p.Disabled && len(p.Binds) > 0 {
			return true
		}
	}
	return false
}

// sevTag is the message tag of a diagnostic.
func sevTag(e *parser.Error) string {
	switch {
	case e.Trailer:
		return tagAlert
	case e.Sev == parser.SevWarning:
		return tagWarning
	case e.Sev == parser.SevNotice:
		return tagNotice
	case e.Sev == parser.SevDiag:
		return tagDiag
	default:
		return tagAlert
	}
}

// reportLoad prints the diagnostics of a load and reports whether the
// configuration is usable (no error). The parser gives every message in
// the order HAProxy prints it, closing lines included ("Error(s) found in
// configuration file : f", "Fatal errors found in configuration.",
// "Failed to initialize server(s) addr."), in cfg.Diags; each is printed
// with its level's prefix and "config : ". Without a Config (a loader that
// failed outright) the errors inside err are printed as alerts.
func reportLoad(c *console, cfg *parser.Config, err error) bool {
	if cfg != nil && len(cfg.Diags) > 0 {
		for _, d := range cfg.Diags {
			printDiag(c, sevTag(d), d)
		}
		return err == nil
	}
	if err == nil {
		return true
	}
	errs := parser.Errors(err)
	if len(errs) == 0 {
		c.alert("config : %v", err)
		return false
	}
	for _, e := range errs {
		printDiag(c, tagAlert, e)
	}
	return false
}

// printDiag prints one config message. Continuation lines that carry no
// layout of their own get HAProxy's "   | " margin.
func printDiag(c *console, tag string, e *parser.Error) {
	// A message ending in a newline prints a blank line after it, as in
	// HAProxy.
	lines := strings.Split(e.Error(), "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] != "" && !strings.HasPrefix(lines[i], " ") {
			lines[i] = "   | " + lines[i]
		}
	}
	c.print(tag, "config : "+strings.Join(lines, "\n"))
}
