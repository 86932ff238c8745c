package proxy

import (
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
)

// SetWeight sets the server's user weight (set weight, set server ...
// weight, a saved state): 0..256 on the configuration scale. The balancer
// is updated at once. The error text is HAProxy's answer for a weight the
// backend's algorithm cannot take.
func (s *Server) SetWeight(w int, log logrus.FieldLogger) string {
	if w < 0 || w > 256 {
		return "Absolute weight can only be between 0 and 256 inclusive.\n"
	}
	var msg string
	s.change(log, func(_ time.Time, _ *checkState, pd *pending) error {
		msg = s.applyWeightLocked(strconv.Itoa(w), pd)
		return nil
	})
	return msg
}

// StaticLB reports whether the backend's algorithm cannot change weights
// at run time (static-rr, map-based hashing).
func (b *Backend) StaticLB() bool {
	if len(b.Servers) > 0 {
		return b.Servers[0].staticAlgo()
	}
	sv := &Server{Backend: b}
	return sv.staticAlgo()
}
