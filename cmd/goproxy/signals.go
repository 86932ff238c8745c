package main

import (
	"errors"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// handledSignals are the signals a serving process reacts to, as HAProxy:
// SIGUSR1 soft stop, SIGTERM/SIGINT hard stop, SIGTTOU pause the
// listeners, SIGTTIN resume them.
var handledSignals = []os.Signal{syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT, syscall.SIGTTOU, syscall.SIGTTIN}

// serveSignals runs the process until the graph is done: it owns the signal
// channel and the hard-stop timer and returns once g has stopped. sigs must
// already be registered with signal.Notify, before the listeners were
// bound, so that no signal is missed. It returns the signal that closed
// every session (SIGTERM, SIGINT), or 0.
func serveSignals(g graph, sigs <-chan os.Signal, hardStopAfter time.Duration, log logrus.FieldLogger) syscall.Signal {
	var hardStop <-chan time.Time
	stopping := false
	for {
		select {
		case <-g.Done():
			return 0
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
				log.Info("Soft stop on SIGUSR1: listeners closed, waiting for the sessions to end.")
				g.StopListening()
				if hardStopAfter > 0 {
					t := time.NewTimer(hardStopAfter)
					defer t.Stop()
					hardStop = t.C
				}
			case syscall.SIGTERM, syscall.SIGINT:
				log.Debug("Exiting on " + sigName(s) + ": closing every session.")
				g.Close()
				<-g.Done()
				return s.(syscall.Signal)
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
// and a function that unregisters them. SIGPIPE and SIGHUP are ignored, as
// HAProxy does: a closed log pipe or terminal must not kill the proxy.
func notifySignals() (<-chan os.Signal, func()) {
	signal.Ignore(syscall.SIGPIPE, syscall.SIGHUP)
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

// addrInUse reports whether a start error is a bind on an address in use:
// the wrapped errno, or HAProxy's message text ("cannot bind socket
// (Address already in use)") when the runtime does not wrap it.
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "(Address already in use)")
}
