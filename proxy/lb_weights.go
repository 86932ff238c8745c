package proxy

// LBWeight is the backend's current total weight as HAProxy's stats report
// it (the "weight" column of a backend row): the sum of the user weights of
// the servers the balancer draws from now (the usable active servers, else
// the usable backups, or only the first of them without allbackups).
func (b *Backend) LBWeight() int {
	allBackups := b.Config != nil && b.Config.Options.AllBackups
	p := choosePool(b, allBackups, func(s *Server) int { return s.UWeight() })
	return p.tot
}
