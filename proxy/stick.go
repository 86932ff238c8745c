package proxy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"goproxy/internal/srvstate"
	"goproxy/internal/stktable"
	"goproxy/parser"
)

// Stick tables at run time: the tables of the proxies (stktable does the
// storage), the sticky counters a session tracks (track-sc0..2), and the
// sticking rules of the backends. A session without either never
// allocates stickState and pays one nil check where counters change.

// maxStickCtr is HAProxy's MAX_SESS_STKCTR.
const maxStickCtr = 3

// buildTables builds the stick table of every proxy that declares one,
// in declaration order, then the tables of the peers sections.
func (g *Graph) buildTables(cfg *parser.Config) map[string]*stktable.Table {
	by := make(map[string]*stktable.Table)
	var list []*parser.StickTable
	for _, p := range cfg.Proxies {
		if p.Table != nil && !p.Disabled {
			list = append(list, p.Table)
		}
	}
	for _, s := range cfg.Peers {
		list = append(list, s.Tables...)
	}
	for _, pt := range list {
		kt, _ := stktable.ParseKeyType(pt.Type)
		c := stktable.Config{Name: pt.Name, Type: kt, KeyLen: pt.KeyLen, Size: pt.Size,
			Expire: pt.Expire, NoPurge: pt.NoPurge, ServerKeyAddr: pt.SrvKeyAddr}
		for _, d := range pt.Store {
			if dt, ok := stktable.ParseDataType(d.Type); ok {
				c.Stored = append(c.Stored, stktable.Stored{Type: dt, Period: d.Period})
			}
		}
		t := stktable.New(c)
		by[pt.Name] = t
		g.tables = append(g.tables, t)
	}
	return by
}

// expireTables removes the expired entries of the tables every second
// until the graph is done, as HAProxy's table expiry task, so that
// table_cnt and "show table" do not count them.
func (g *Graph) expireTables() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-tick.C:
			for _, t := range g.tables {
				t.Sweep()
			}
		}
	}
}

// expiringTables reports whether a table's entries expire.
func (g *Graph) expiringTables() bool {
	for _, t := range g.tables {
		if t.Expires() {
			return true
		}
	}
	return false
}

// Tables are the stick tables, in declaration order.
func (g *Graph) Tables() []*stktable.Table { return g.tables }

// Table is the stick table of proxy name, nil when it has none.
func (g *Graph) Table(name string) *stktable.Table { return g.mapBy.table(name) }

// stickCtr is one tracked entry.
type stickCtr struct {
	t *stktable.Table
	e *stktable.Entry
}

// pendingStore is an entry a stick store rule will give the chosen
// server to.
type pendingStore struct {
	t   *stktable.Table
	key string
}

// stickState is a session's sticky counters and pending stores.
type stickState struct {
	ctr    [maxStickCtr]stickCtr
	store  [8]pendingStore // HAProxy keeps 8 per stream
	nstore int
}

func (s *session) stick() *stickState {
	if s.stk == nil {
		s.stk = &stickState{}
	}
	return s.stk
}

// tableKey casts a sample to the key of table t; false when it cannot.
func tableKey(t *stktable.Table, smp *sample) (string, bool) {
	switch t.Type {
	case stktable.IP, stktable.IPv6:
		if !castSample(smp, castAddr) {
			return "", false
		}
		return t.KeyAddr(smp.ip)
	case stktable.Integer:
		if !castSample(smp, castInt) {
			return "", false
		}
		return t.KeyInt(smp.i), true
	case stktable.String:
		if !castSample(smp, castStr) {
			return "", false
		}
		return t.KeyBytes(smp.b), true
	}
	if !castSample(smp, castBin) {
		return "", false
	}
	return t.KeyBytes(smp.b), true
}

// track runs track-sc<n>: the first tracking of a counter wins, as in
// HAProxy. Tracking counts a connection (conn_cnt, conn_rate, conn_cur).
func (r *tcpRule) track(ci *connInfo) {
	s := ci.s
	if s == nil || r.table == nil {
		return
	}
	st := s.stick()
	if st.ctr[r.sc].e != nil {
		return
	}
	smp, ok := r.expr.eval(ci)
	if !ok {
		return
	}
	key, ok := tableKey(r.table, &smp)
	if !ok {
		return
	}
	t := r.table
	e := t.Track(key)
	if e == nil {
		return
	}
	st.ctr[r.sc] = stickCtr{t, e}
	t.Add(e, stktable.ConnCur, 1)
	t.Counts(e, stktable.ConnCnt, stktable.ConnRate, 1)
	if t.Shared() {
		t.Touch(e) // schedules the change for the peers, as stktable_touch_local
	}
}

// counterAction runs sc-inc-gpc0, sc-inc-gpc1 and sc-set-gpt0 on the
// entry counter r.sc tracks, if any.
func (r *tcpRule) counterAction(ci *connInfo) {
	if ci.s == nil || ci.s.stk == nil {
		return
	}
	c := ci.s.stk.ctr[r.sc]
	if c.e == nil {
		return
	}
	switch r.act {
	case actIncGPC0:
		c.t.Counts(c.e, stktable.GPC0, stktable.GPC0Rate, 1)
	case actIncGPC1:
		c.t.Counts(c.e, stktable.GPC1, stktable.GPC1Rate, 1)
	case actSetGPT0:
		v := r.value
		if r.expr != nil {
			smp, ok := r.expr.eval(ci)
			if !ok || !castSample(&smp, castInt) {
				return
			}
			v = smp.i
		}
		c.t.Set(c.e, stktable.GPT0, uint64(uint32(v)))
	}
	if c.t.Shared() {
		c.t.Touch(c.e)
	}
}

// countStickSession counts the session on the entries tracked so far
// (sess_cnt, sess_rate), as HAProxy's session_count_new.
func (s *session) countStickSession() {
	if s.stk == nil {
		return
	}
	for _, c := range s.stk.ctr {
		if c.e != nil {
			c.t.Counts(c.e, stktable.SessCnt, stktable.SessRate, 1)
		}
	}
}

// countStickBytes adds bytes that flowed in direction d to the tracked
// entries.
func (s *session) countStickBytes(d int, n int64) {
	cnt, rate := stktable.BytesInCnt, stktable.BytesInRate
	if d != 0 {
		cnt, rate = stktable.BytesOutCnt, stktable.BytesOutRate
	}
	for _, c := range s.stk.ctr {
		if c.e != nil {
			c.t.Counts(c.e, cnt, rate, uint64(n))
		}
	}
}

// endStick lets the tracked entries go at the session's end: conn_cur
// goes down and the entries' expiry starts again.
func (s *session) endStick() {
	st := s.stk
	if st == nil {
		return
	}
	s.stk = nil
	for i, c := range st.ctr {
		if c.e != nil {
			c.t.Dec(c.e, stktable.ConnCur)
			c.t.Release(c.e)
			st.ctr[i] = stickCtr{}
		}
	}
}

// stickRule is a compiled stick on|match|store-request rule.
type stickRule struct {
	match, store bool
	expr         *sampleExpr
	t            *stktable.Table
	cond         *cond
}

// compileStickRules compiles the backend's sticking rules.
func (b *Backend) compileStickRules(p *parser.Proxy, named map[string][]*acl, env *compileEnv) error {
	for _, r := range p.StickRules {
		c, err := compileCond(r.Cond, named, env)
		if err != nil {
			return err
		}
		e, err := compileSampleExpr(r.Expr.Fetch, r.Expr.Args, r.Expr.Conv, env)
		if err != nil {
			return err
		}
		name := r.Table
		if name == "" {
			name = p.Name
		}
		b.stick = append(b.stick, stickRule{match: r.Match, store: r.Store, expr: e, t: env.table(name), cond: c})
	}
	return nil
}

// stickingRules runs the backend's sticking rules before a server is
// chosen, as HAProxy's process_sticking_rules: a match gives the stored
// server when it is not stopped; a store remembers the key, the first
// per table, for the server the session will use.
func (s *session) stickingRules(ci *connInfo) {
	be := s.be
	for i := range be.stick {
		r := &be.stick[i]
		if r.t == nil {
			continue
		}
		if r.store && s.stk != nil && s.stk.storing(r.t) {
			continue
		}
		if !r.cond.eval(ci) {
			continue
		}
		smp, ok := r.expr.eval(ci)
		if !ok {
			continue
		}
		key, ok := tableKey(r.t, &smp)
		if !ok {
			continue
		}
		if r.match {
			if e := r.t.Lookup(key); e != nil {
				if s.forced == nil {
					if srv := be.stickServer(r.t, e); srv != nil && (srv.stickUsable() || be.forcePersist(ci)) {
						s.forced = srv
					}
				}
				r.t.Touch(e)
			}
		}
		if r.store {
			st := s.stick()
			if st.nstore < len(st.store) {
				st.store[st.nstore] = pendingStore{r.t, key}
				st.nstore++
			}
		}
	}
}

// storing reports whether a store for table t is pending.
func (st *stickState) storing(t *stktable.Table) bool {
	for i := 0; i < st.nstore; i++ {
		if st.store[i].t == t {
			return true
		}
	}
	return false
}

// applyStores gives the pending stores the server the session connected
// to (HAProxy's process_store_rules, once the server answers the connect).
func (s *session) applyStores() {
	st := s.stk
	if st == nil || st.nstore == 0 || s.srv == nil {
		return
	}
	for i := 0; i < st.nstore; i++ {
		p := st.store[i]
		if e := p.t.Track(p.key); e != nil {
			p.t.SetServer(e, s.srv.ID, serverKey(p.t, s.srv))
			p.t.Release(e)
		}
		st.store[i] = pendingStore{}
	}
	st.nstore = 0
}

// stickUsable reports whether a sticking rule may send a session to the
// server: it is not stopped (HAProxy's cur_state != SRV_ST_STOPPED; a
// draining server keeps its sticky clients).
func (s *Server) stickUsable() bool {
	return s.Running() && s.Admin()&srvstate.AdminMaint == 0
}

// serverByID is the backend's server with id, nil when none.
// serverKey is what a table's server_key names a server by: its name,
// or with "srvkey addr" its address as HAProxy writes it ("ip:port",
// sa2str).
func serverKey(t *stktable.Table, srv *Server) string {
	if !t.ServerKeyAddr() {
		return srv.Name
	}
	ip, port := srv.Dest()
	if !ip.IsValid() {
		return ""
	}
	return ip.Unmap().String() + ":" + strconv.Itoa(port)
}

// stickServer is the server an entry sticks to, as HAProxy's
// process_sticking_rules finds it: by server_key (name, or address with
// srvkey addr) when the table stores one, else by server_id.
func (b *Backend) stickServer(t *stktable.Table, e *stktable.Entry) *Server {
	k := t.ServerKey(e)
	switch {
	case k == "":
	case !t.ServerKeyAddr():
		for _, srv := range b.ServerList() {
			if srv.Name == k {
				return srv
			}
		}
	default:
		// "ip:port" read once, compared with each server's address
		// without formatting it (a match runs per connection).
		i := strings.LastIndexByte(k, ':')
		ip, err := netip.ParseAddr(k[:max(i, 0)])
		port, perr := strconv.Atoi(k[i+1:])
		if i < 0 || err != nil || perr != nil {
			break
		}
		for _, srv := range b.ServerList() {
			if sip, sport := srv.Dest(); sport == port && sip.Unmap() == ip.Unmap() {
				return srv
			}
		}
	}
	return b.serverByID(t.Server(e))
}

func (b *Backend) serverByID(id int) *Server {
	if id <= 0 {
		return nil
	}
	for _, srv := range b.Servers {
		if srv.ID == id {
			return srv
		}
	}
	return nil
}
