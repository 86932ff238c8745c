package main

import (
	"os"
	"runtime"
)

// startCPUs is the number of CPUs the process may use, as GOMAXPROCS
// reported when the program started, before reserveSpareProc raised it:
// the default number of event loops and the nbthread show info reports.
var startCPUs = max(runtime.GOMAXPROCS(0), 1)

// reserveSpareProc raises GOMAXPROCS to loops+1, unless the GOMAXPROCS
// environment variable fixes it: an event loop then sleeps in epoll_wait
// without handing its P back to the scheduler while the spare P runs the
// other goroutines (checks, stats socket, signals, timers).
func reserveSpareProc(loops int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if runtime.GOMAXPROCS(0) <= loops {
		runtime.GOMAXPROCS(loops + 1)
	}
}
