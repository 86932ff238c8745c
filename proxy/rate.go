package proxy

import "time"

// Rate counts events per second over a sliding window, as the proxies'
// own rates (HAProxy's freq_ctr), for the parts of the process that count
// outside the graph (the HTTP frontends served by the process itself).
// The zero value is ready; it is safe for concurrent use.
type Rate struct{ f freqCtr }

// Inc counts one event at now and returns the current rate.
func (r *Rate) Inc(now time.Time) int64 { return r.f.inc(now) }

// Read returns the events over the last second.
func (r *Rate) Read(now time.Time) int64 { return r.f.read(now) }
