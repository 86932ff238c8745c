package proxy

// buildMap computes HAProxy's server map (recalc_server_map) for pool p: tot
// slots, each given to the server whose accumulated score is highest, ties
// to the earliest declared. Equal weights give declaration order; weights
// 2,1 give [s1 s2 s1]. Every usable server of the pool takes part even when
// tot is only the first backup's weight, as in HAProxy.
func buildMap(p *lbPool) []*Server {
	tot := p.tot
	if p.used == 0 || tot <= 0 {
		return nil
	}
	m := make([]*Server, tot)
	if tot == 1 {
		m[0] = p.srvs[0]
		return m
	}
	score := make([]int, len(p.srvs))
	for o := range m {
		best, max := -1, 0
		for i := range p.srvs {
			score[i] += p.ew[i]
			v := (score[i] + tot) / tot
			if best < 0 || v > max {
				best, max = i, v
			}
		}
		m[o] = p.srvs[best]
		score[best] -= tot
	}
	return m
}
