// Command goproxy is a TCP load balancer that reads HAProxy 2.6
// configuration files and takes HAProxy's command line:
//
//	goproxy -c -f /etc/haproxy/haproxy.cfg          # check, exit 0/1/2
//	goproxy -db -f haproxy.cfg                      # foreground
//	goproxy -D -p /run/haproxy.pid -f haproxy.cfg   # daemon + pidfile
//	goproxy -D -p /run/haproxy.pid -f haproxy.cfg -sf $(cat /run/haproxy.pid)
//	goproxy -Ws -f haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock
//
// It owns the process: argv, daemon mode, pidfile, fd limits, signals
// (SIGUSR1 soft stop, SIGTERM/SIGINT hard stop, SIGTTOU/SIGTTIN pause and
// resume), the -sf/-st handoff to the old process, and master-worker
// mode (master.go, mcli.go, worker.go: a master that starts workers,
// reloads on SIGUSR2 and serves the master CLI; sd_notify with -Ws).
//
// It wires parser, proxy, health and stats (and the internal packages),
// and owns the process-wide
// settings (GOMAXPROCS, the CPUs the event loops use: procs.go); nothing
// imports it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"goproxy/internal/hatext"
	"goproxy/parser"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, productionSeams()))
}

// progName is the name the usage text shows.
func progName() string {
	return filepath.Base(os.Args[0])
}

// run is the whole program; it returns the exit status.
func run(argv []string, stdout, stderr io.Writer, s seams) int {
	status := daemonChild()
	currentWorker = masterWorkerChild()
	act, o, err := parseArgs(argv)
	o.seams = s
	out := newOutWriter(stderr)
	if status != nil {
		out = newOutWriter(status)
	}
	c := newConsole(out, o.quiet && !o.verbose)
	finish := func(code int) int {
		status.report(code)
		return code
	}

	switch act {
	case actUsage:
		if err != nil {
			c.alert("%v", err)
			var ae *argError
			if !errors.As(err, &ae) || !ae.withUsage {
				return finish(exitError)
			}
			fmt.Fprintln(stderr)
		}
		printVersion(stdout)
		fmt.Fprintf(stderr, usageText, progName())
		return finish(exitError)
	case actVersion:
		printVersion(stdout)
		return exitOK
	case actBuildOpts:
		printVersion(stdout)
		printBuildOptions(stdout)
		return exitOK
	case actCheckCond:
		// As HAProxy: 0 when the condition holds, 1 when it does not, 2
		// when it cannot be evaluated.
		v, err := parser.EvalCondition(o.checkCond, nil, FeatureList())
		var syntax *parser.CondSyntaxError
		switch {
		case errors.As(err, &syntax):
			c.alert("config : Syntax Error in condition: %s", syntax.Msg)
			return exitNoListener
		case err != nil:
			c.alert("config : Failed to evaluate condition: %v", err)
			return exitNoListener
		case v:
			return exitOK
		}
		return exitError
	}
	if len(o.unbuilt) > 0 {
		for _, f := range o.unbuilt {
			c.alert("%s is not supported by goproxy.", f)
		}
		return finish(exitError)
	}
	// A daemon child inherited its launcher's working directory, -C included.
	if o.chdir != "" && status == nil {
		if err := os.Chdir(o.chdir); err != nil {
			c.alert("Could not change to directory %s : %s", o.chdir, hatext.Strerror(err))
			return exitError
		}
	}
	setStartupEnv(o)
	if act == actCheck {
		return runCheck(o, stdout, c)
	}
	if currentWorker != nil {
		// A master-worker worker: serve in the foreground.
		cfg, err := o.loadConfig(o.files, loadOptionsFor(o))
		if !reportLoad(c, cfg, err) {
			return exitError
		}
		setMWorkerEnv(o)
		return serveConfig(o, c, out, cfg, nil)
	}
	if os.Getenv(masterStateEnv) != "" {
		// A master executed again by its reload.
		return runMaster(argv, o, c, out, nil, nil)
	}
	if status != nil {
		return finish(serve(o, c, out, status))
	}
	return launch(argv, o, c, out, stderr)
}

// launch loads the configuration in the process started from the shell;
// it serves it in the foreground, or starts the daemon child and exits
// once that child listens.
func launch(argv []string, o *options, c *console, out *outWriter, stderr io.Writer) int {
	// Hold messages back until we know whether this process or its
	// daemon child will print them.
	out.hold()
	cfg, err := o.loadConfig(o.files, loadOptionsFor(o))
	ok := reportLoad(c, cfg, err) && checkPrograms(o, cfg, c)
	if !ok || cfg == nil || !wantDaemon(o, cfg) {
		out.release(stderr, false)
		if !ok {
			return exitError
		}
		if masterWorker(o, cfg) {
			return runMaster(argv, o, c, out, cfg, nil)
		}
		return serveConfig(o, c, out, cfg, nil)
	}
	out.release(stderr, true)
	code, err := daemonize(argv, stderr)
	if err != nil {
		c.alert("[haproxy.main()] %v", err)
	}
	return code
}

// serve is the daemon child: load, start, report to the launcher, serve.
func serve(o *options, c *console, out *outWriter, status *statusPipe) int {
	cfg, err := o.loadConfig(o.files, loadOptionsFor(o))
	if !reportLoad(c, cfg, err) || !checkPrograms(o, cfg, c) {
		return exitError
	}
	if masterWorker(o, cfg) {
		return runMaster(os.Args[1:], o, c, out, cfg, status)
	}
	return serveConfig(o, c, out, cfg, status)
}

// currentWorker is the channel to the master when this process is a
// master-worker worker.
var currentWorker *workerChannel

// masterWorker reports whether to run as a master: -W, -Ws or
// "master-worker".
func masterWorker(o *options, cfg *parser.Config) bool {
	return o.masterWorker || cfg.Global.MasterWorker
}

// wantDaemon reports whether to run in the background: -D or "daemon",
// unless -db or -d keeps the process in the foreground.
func wantDaemon(o *options, cfg *parser.Config) bool {
	return (o.daemon || cfg.Global.Daemon) && !o.foreground && !o.debug
}
