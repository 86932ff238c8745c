package proxy

// The counter fetches of backends and servers HAProxy's backend.c
// defines beside be_conn and queue: be_id, be_sess_rate, avg_queue,
// srv_conn, srv_queue and srv_sess_rate.

func init() {
	fetchTable["be_id"] = fetchDef{fn: fetchBeID, match: "int"}
	fetchTable["be_sess_rate"] = fetchDef{fn: fetchBeSessRate, match: "int"}
	fetchTable["avg_queue"] = fetchDef{fn: fetchAvgQueue, match: "int"}
	fetchTable["srv_conn"] = fetchDef{fn: fetchSrvConn, match: "int"}
	fetchTable["srv_queue"] = fetchDef{fn: fetchSrvQueue, match: "int"}
	fetchTable["srv_sess_rate"] = fetchDef{fn: fetchSrvSessRate, match: "int"}
}

// fetchBeID is the id of the session's backend: the frontend's until a
// backend is chosen, as HAProxy's stream starts with its frontend as
// backend.
func fetchBeID(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil {
		return sample{}, false
	}
	if c.s.be != nil {
		return intSample(int64(c.s.be.ID))
	}
	return intSample(int64(c.s.fe.ID))
}

// fetchBeSessRate is the backend's sessions per second.
func fetchBeSessRate(fa *fetchArgs, c *connInfo) (sample, bool) {
	b := backendOf(fa, c)
	if b == nil {
		return intSample(0)
	}
	return intSample(b.ctr.rate.read(c.s.l.wall))
}

// fetchAvgQueue is the backend's queued sessions per usable server,
// rounded up; twice the queue when no server is usable, as HAProxy.
func fetchAvgQueue(fa *fetchArgs, c *connInfo) (sample, bool) {
	b := backendOf(fa, c)
	if b == nil {
		return intSample(0)
	}
	q, _ := fetchQueue(fa, c)
	n := int64(b.usableCount(len(b.ServerList()) + 1))
	if n > 0 {
		return intSample((q.i + n - 1) / n)
	}
	return intSample(q.i * 2)
}

// serverOf is the server a "[<backend>/]<server>" argument names (the
// proxy's own without a backend).
func serverOf(fa *fetchArgs, c *connInfo) *Server {
	b := backendOf(fa, c)
	if b == nil {
		return nil
	}
	for _, s := range b.ServerList() {
		if s.Name == fa.srv {
			return s
		}
	}
	return nil
}

func fetchSrvConn(fa *fetchArgs, c *connInfo) (sample, bool) {
	s := serverOf(fa, c)
	if s == nil {
		return sample{}, false
	}
	return intSample(s.ctr.cur.Load())
}

func fetchSrvQueue(fa *fetchArgs, c *connInfo) (sample, bool) {
	s := serverOf(fa, c)
	if s == nil {
		return sample{}, false
	}
	return intSample(s.Queued())
}

func fetchSrvSessRate(fa *fetchArgs, c *connInfo) (sample, bool) {
	s := serverOf(fa, c)
	if s == nil {
		return sample{}, false
	}
	return intSample(s.ctr.rate.read(c.s.l.wall))
}
