package proxy

import "errors"

// staticWeights is implemented by the map-based balancers, whose weights
// HAProxy divides by the gcd of the configured weights and which accept no
// runtime weight other than 0 and the configured one.
type staticWeights interface {
	weightDivisor() int
}

func (lb *staticRRBalancer) weightDivisor() int  { return lb.wmult }
func (lb *mapSourceBalancer) weightDivisor() int { return lb.wmult }

// DynamicWeights reports whether the backend's algorithm accepts any runtime
// weight (HAProxy's BE_LB_PROP_DYN): false for static-rr and map-based
// hashing.
func (b *Backend) DynamicWeights() bool {
	_, static := b.lb.(staticWeights)
	return !static
}

// SetWeight sets the server's user weight (0..256), as the stats socket's
// "set weight" and "set server ... weight" do, and rebuilds the backend's
// balancer. With a static algorithm only 0 and the configured weight are
// accepted; the error texts are HAProxy's.
func (s *Server) SetWeight(w int) error {
	if w < 0 || w > uweightRange {
		return errors.New("Absolute weight can only be between 0 and 256 inclusive.")
	}
	if b := s.Backend; b != nil && w != 0 && w != s.Config.Weight && !b.DynamicWeights() {
		return errors.New("Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.")
	}
	if s.uweight.Swap(int32(w)) != int32(w) && s.Backend != nil && s.Backend.lb != nil {
		s.Backend.lb.update()
	}
	return nil
}

// LBWeight is the backend's current total weight as HAProxy's stats report
// it ("weight" column of a backend): the sum of the user weights of the
// servers in use (active ones, else the backups, else the first backup).
func (b *Backend) LBWeight() int {
	p := choosePool(b, b.Config != nil && b.Config.Options.AllBackups, func(s *Server) int { return s.UWeight() })
	return p.tot
}
