package proxy

import (
	"os"
	"runtime"
	"sync/atomic"
)

// UsableCPUs is the number of CPUs the process may use, as GOMAXPROCS
// reported when the program started: the default number of event loops and
// the nbthread the stats socket shows. Start may raise GOMAXPROCS above it.
var UsableCPUs = max(runtime.GOMAXPROCS(0), 1)

// liveLoops counts the event loops running in the process, across graphs
// (a reload runs the old and the new graph's loops side by side).
var liveLoops atomic.Int32

// reserveSpareProc raises GOMAXPROCS to loops+1, unless the GOMAXPROCS
// environment variable fixes it: a loop then sleeps in epoll_wait without
// handing its P back to the scheduler (see loop.wait) while the spare P
// runs the other goroutines (checks, stats socket, signals, timers).
func reserveSpareProc(loops int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if runtime.GOMAXPROCS(0) <= loops {
		runtime.GOMAXPROCS(loops + 1)
	}
}
