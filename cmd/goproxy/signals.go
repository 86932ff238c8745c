package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// handledSignals are the signals a serving process reacts to, as HAProxy:
// SIGUSR1 soft stop, SIGTERM/SIGINT hard stop, SIGTTOU pause the
// listeners, SIGTTIN resume them, SIGHUP dump the servers' states,
// SIGQUIT dump the pools and release free memory (Go's default for SIGQUIT
// would end the process with a goroutine dump).
var handledSignals = []os.Signal{syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT, syscall.SIGTTOU, syscall.SIGTTIN, syscall.SIGHUP, syscall.SIGQUIT}

// serveSignals runs the process until the graph is done: it owns the signal
// channel and the hard-stop timer and returns once g has stopped. sigs must
// already be registered with signal.Notify, before the listeners were
// bound, so that no signal is missed. It returns the signal that closed
// every session (SIGTERM, SIGINT), or 0.
func serveSignals(g graph, sigs <-chan os.Signal, hardStopAfter, grace time.Duration, log logrus.FieldLogger) syscall.Signal {
	var hardStop, graceOver <-chan time.Time
	stopping := false
	softStop := func() {
		log.Info("Soft stop on SIGUSR1: listeners closed, waiting for the sessions to end.")
		g.StopListening()
		if hardStopAfter > 0 {
			hardStop = time.After(hardStopAfter)
		}
	}
	for {
		select {
		case <-g.Done():
			return 0
		case <-graceOver:
			graceOver = nil
			softStop()
		case <-hardStop:
			log.Warn("Hard-stop-after reached: closing the remaining sessions.")
			g.Close()
			<-g.Done()
			return 0
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR1:
				if stopping {
					continue
				}
				stopping = true
				if grace > 0 {
					// As HAProxy's grace: the listeners go on accepting.
					graceOver = time.After(grace)
					continue
				}
				softStop()
			case syscall.SIGTERM, syscall.SIGINT:
				log.Debug("Exiting on " + sigName(s) + ": closing every session.")
				g.Close()
				<-g.Done()
				return s.(syscall.Signal)
			case syscall.SIGHUP:
				if d, ok := g.(interface{ DumpServerStates() []string }); ok {
					log.Warn("SIGHUP received, dumping servers states.")
					for _, l := range d.DumpServerStates() {
						log.Warn(l)
					}
				}
			case syscall.SIGQUIT:
				// As HAProxy: the pools' usage on stderr, then a flush.
				// goproxy keeps no fixed-size pools; the flush returns
				// the heap's free memory to the system.
				fmt.Fprint(os.Stderr, "Dumping pools usage. Use SIGQUIT to flush them.\nTotal: 0 pools, 0 bytes allocated, 0 used (~0 by thread caches).\n")
				debug.FreeOSMemory()
			case syscall.SIGTTOU:
				g.Pause()
			case syscall.SIGTTIN:
				g.Resume()
			}
		}
	}
}

func sigName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return s.String()
}

// notifySignals registers the handled signals and returns their channel
// and a function that unregisters them. SIGPIPE is ignored, as HAProxy
// does: a closed log pipe must not kill the proxy; SIGHUP dumps the
// servers' states, as HAProxy's.
func notifySignals() (<-chan os.Signal, func()) {
	signal.Ignore(syscall.SIGPIPE)
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, handledSignals...)
	return ch, func() { signal.Stop(ch) }
}

// tellOldPids sends sig to the pids of -sf/-st. A pid that is already gone
// is not an error: the old process may have exited on its own.
func tellOldPids(pids []int, sig syscall.Signal, log logrus.FieldLogger) {
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			log.Warnf("Failed to send signal %d to old pid %d: %v.", int(sig), pid, err)
		}
	}
}

// startWithHandoff binds the graph's listeners. When the addresses are held
// by the old processes of -sf/-st (EADDRINUSE despite SO_REUSEPORT), it asks
// them to pause (SIGTTOU), retries for a short while, and if it still fails
// tells them to resume (SIGTTIN) and returns the error, as HAProxy does.
func startWithHandoff(g graph, oldPids []int, log logrus.FieldLogger) error {
	err := g.Start()
	if err == nil || len(oldPids) == 0 || !addrInUse(err) {
		return err
	}
	tellOldPids(oldPids, syscall.SIGTTOU, log)
	const tries, pause = 20, 50 * time.Millisecond
	for i := 0; i < tries; i++ {
		time.Sleep(pause)
		if err = g.Start(); err == nil || !addrInUse(err) {
			break
		}
	}
	if err != nil {
		tellOldPids(oldPids, syscall.SIGTTIN, log)
	}
	return err
}

// addrInUse reports whether a start error is a bind on an address in use
// (every bind error of the runtime wraps its errno).
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}
