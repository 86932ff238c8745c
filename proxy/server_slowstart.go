package proxy

import (
	"time"

	"goproxy/internal/srvstate"
)

// This file holds slowstart: the weight of a server warming up after it
// came up (src/server.c server_warmup, server_recalc_eweight).

// effectiveWeightPercent returns the share (1..100) of the user weight the
// server should get now: below 100 only while it warms up after coming up
// with "slowstart". Lock-free: balancers may call it from update.
func (s *Server) effectiveWeightPercent() int {
	if v := s.check.eweightPct.Load(); v > 0 {
		return int(v)
	}
	return 100
}

// slowStartSeconds is the slowstart in whole seconds, rounded up as HAProxy
// stores it.
func (c *checkState) slowStartSeconds() int64 {
	return int64((c.slowStart + time.Second - time.Millisecond) / time.Second)
}

// warmupPercent is HAProxy's server_recalc_eweight ratio during a
// slowstart, expressed as a percentage of the user weight (scale 16, as
// BE_WEIGHT_SCALE).
func warmupPercent(elapsed, ss int64) int32 {
	if ss <= 0 || elapsed >= ss {
		return 100
	}
	if elapsed < 0 {
		elapsed = 0
	}
	w := (16*elapsed + ss) / ss
	return int32(min((100*w+15)/16, 100))
}

func (c *checkState) warmupStep() time.Duration {
	return max(time.Second, c.slowStart/20)
}

func (s *Server) startWarmupLocked(now time.Time) {
	c := &s.check
	c.eweightPct.Store(warmupPercent(0, c.slowStartSeconds()))
	if c.warmup != nil {
		c.warmup.Stop()
	}
	c.warmup = time.AfterFunc(c.warmupStep(), s.warmupTick)
}

func (s *Server) stopWarmupLocked() {
	c := &s.check
	if c.warmup != nil {
		c.warmup.Stop()
		c.warmup = nil
	}
	c.eweightPct.Store(100)
}

// warmupTick raises the weight of a server warming up (HAProxy's
// server_warmup task) and ends the warmup when the slowstart has elapsed.
func (s *Server) warmupTick() {
	s.change(nil, func(now time.Time, c *checkState, pd *pending) error {
		if c.warmup == nil || c.op != srvstate.OpStarting {
			return nil
		}
		pct := warmupPercent(now.Unix()-c.lastChange, c.slowStartSeconds())
		c.eweightPct.Store(pct)
		if pct >= 100 {
			c.op = srvstate.OpRunning
			c.warmup = nil
		} else {
			c.warmup.Reset(c.warmupStep())
		}
		pd.updateBalance = true
		return nil
	})
}

// stopCheckTimers stops the slowstart timer of the server, if any. The
// runtime calls it at shutdown.
func (s *Server) stopCheckTimers() {
	c := s.lockCheck()
	if c.warmup != nil {
		c.warmup.Stop()
		c.warmup = nil
	}
	c.mu.Unlock()
}
