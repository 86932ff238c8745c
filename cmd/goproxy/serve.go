package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/sockxfer"
	"goproxy/parser"
	"goproxy/proxy"
)

// serveConfig runs a loaded configuration: size the fd limit, build and
// start the graph (taking over from -sf/-st pids), write the pidfile, tell
// the launcher (status, for a daemon child) and serve until stopped.
func serveConfig(o *options, c *console, out *outWriter, cfg *parser.Config, status *statusPipe) int {
	wk := currentWorker
	if wk == nil && len(o.masterCLI) > 0 {
		c.warning("config : a master CLI socket was defined, but master-worker mode (-W) is not enabled.")
	}
	if zeroWarning(o, cfg) && c.warned() > 0 {
		c.alert("config : Some warnings were found and 'zero-warning' is set. Aborting.")
		return exitError
	}
	// As HAProxy, once loaded: the files read, for the processes it starts.
	os.Setenv("HAPROXY_CFGFILES", strings.Join(cfg.Files, ";"))
	if !hasListener(cfg) {
		c.alert("[haproxy.main()] No enabled listener found (check for 'bind' directives) ! Exiting.")
		return exitError
	}

	cur, hard, err := getNoFile()
	if err != nil {
		c.alert("[haproxy.main()] %v", err)
		return exitError
	}
	plan := planLimits(cfg, o.maxConn, cur, hard)
	for _, w := range plan.Warnings {
		c.warning("%s", w)
	}
	if plan.Fatal != "" {
		c.alert("%s", plan.Fatal)
		return exitError
	}
	if plan.NoFile > cur {
		if err := setNoFile(plan.NoFile, hard); err != nil {
			c.warning("[haproxy.main()] %v", err)
		}
	}
	cfg.Global.MaxConn = plan.MaxConn

	log := newLogger(c, o.debug)
	var transferred []proxy.TransferredSocket
	if o.xferSocket != "" {
		socks, err := fetchSockets(o.xferSocket)
		if err != nil {
			var fe *sockxfer.FetchError
			if errors.As(err, &fe) {
				c.warning("%s", fe.Msg)
			}
			c.alert("[haproxy.main()] Failed to get the sockets from the old process!")
			return exitError
		}
		for _, s := range socks {
			transferred = append(transferred, proxy.TransferredSocket{FD: s.FD, Namespace: s.Namespace, Interface: s.Interface})
		}
	}
	g, err := o.build(cfg, buildOptions{CPUs: startCPUs, Log: log, DefaultMaxConn: o.maxPConn, Takeover: len(o.oldPids) > 0, StateLog: configLog(c), MaxSock: plan.MaxSock, Transferred: transferred})
	if err != nil {
		alertLines(c, err)
		return exitError
	}
	sigs, stopSignals := notifySignals()
	defer stopSignals()
	if err := startWithHandoff(g, o.oldPids, log); err != nil {
		alertLines(c, err)
		c.alert("[haproxy.main()] Some protocols failed to start their listeners! Exiting.")
		g.Close()
		return exitError
	}
	pidFile := o.pidFile
	if pidFile == "" {
		pidFile = cfg.Global.PidFile
	}
	if pidFile != "" && wk == nil { // a worker's pidfile is its master's
		if err := writePidFile(pidFile, os.Getpid()); err != nil {
			c.alert("[haproxy.main()] %v", err)
			g.Close()
			return exitError
		}
	}
	if alert := dropPrivileges(cfg.Global, c); alert != "" {
		c.alert("%s", alert)
		g.Close()
		return exitError
	}
	tellOldPids(o.oldPids, o.oldSignal, log)
	if p, ok := g.(interface{ PullSessions([]int) }); ok && o.oldSignal == syscall.SIGUSR1 && len(o.oldPids) > 0 {
		go p.PullSessions(o.oldPids)
	}
	c.doneStarting()
	if wk != nil {
		go wk.serve(g)
		wk.ready()
	}
	if status != nil {
		// Listening: release the launcher; later messages go to our own
		// stderr (/dev/null for a daemon).
		out.release(os.Stderr, false)
		status.report(exitOK)
	}
	// From now on the loops may log: never on their goroutine.
	flush := out.queue()
	defer flush(time.Second)
	sig := serveSignals(g, sigs, cfg.Global.HardStopAfter, cfg.Global.Grace, log)
	if wk != nil && sig != 0 {
		// A worker stopped by SIGTERM or SIGINT reports it to its master
		// as HAProxy's do: "exited with code 143 (Terminated)".
		return 128 + int(sig)
	}
	return exitOK
}

// fetchSockets is -x: a stats socket path, or sockpair@<fd> (a master's
// channel to the old worker, closed once used).
func fetchSockets(x string) ([]sockxfer.Socket, error) {
	if n, ok := strings.CutPrefix(x, "sockpair@"); ok {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 0 {
			return nil, &sockxfer.FetchError{Msg: fmt.Sprintf("Failed to connect to the old process socket '%s'", x)}
		}
		defer unix.Close(fd)
		return sockxfer.FetchSockpair(fd)
	}
	return sockxfer.Fetch(x)
}

// alertLines prints an error as one alert per line (a multierror from the
// runtime renders one line per listener).
func alertLines(c *console, err error) {
	for _, l := range strings.Split(strings.TrimSuffix(err.Error(), "\n"), "\n") {
		c.alert("%s", l)
	}
}
