package proxy

import (
	"net/netip"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// rrBalancer is balance roundrobin, HAProxy's fast weighted round robin
// (lb_fwrr) with dynamic weights (eweight = uweight*16).
//
// HAProxy schedules servers on a position line under a lock: each pick
// takes the server with the lowest next position and advances it by
// total_weight/eweight, which spreads a heavy server's picks evenly; equal
// weights give a strict rotation in declaration order. Between two changes
// of state or weight that schedule is a fixed sequence which, once a window
// repeats, cycles forever. So update runs HAProxy's scheduler (fwrrGroup, a
// port of its state and of its up/down/weight transitions) to record the
// sequence, and pick walks it with an atomic cursor: no lock and no
// allocation on the hot path. On the next change, update replays the
// scheduler up to the cursor, applies the change as HAProxy does (a server
// coming up is inserted into the running window) and records again.
//
// A full server's turn is consumed and skipped, as in HAProxy, except that
// HAProxy ends a window early when the skipped server was the last one of
// the window; a few picks then differ around that window's end.
type rrBalancer struct {
	b          *Backend
	allBackups bool

	mu     sync.Mutex      // serializes update
	groups [2]*fwrrGroup   // active and backup schedulers, at tab's start
	cur    []fwrrCommitted // state each server had at the last update
	known  []*Server       // the servers groups and cur are indexed by

	tab atomic.Pointer[rrTable]
}

// fwrrCommitted is what the scheduler knows of a server (HAProxy's
// cur_state/cur_eweight).
type fwrrCommitted struct {
	usable bool
	ew     uint32
}

// rrTable is one recorded schedule: prefix once, then cycle forever, as
// indexes into the backend's servers.
type rrTable struct {
	srvs   []*Server // the backend's servers when recorded: what the indexes mean
	pool   lbPool
	grp    int // 0 active, 1 backup, -1 none (single backup or nothing)
	prefix []uint16
	cycle  []uint16
	// start and cycleStart are the scheduler's state at the first entry
	// of prefix and of cycle, to replay it up to the cursor.
	start, cycleStart *fwrrGroup
	cursor            atomic.Uint64
}

func (t *rrTable) at(c uint64) uint16 {
	if c < uint64(len(t.prefix)) {
		return t.prefix[c]
	}
	c -= uint64(len(t.prefix))
	return t.cycle[c%uint64(len(t.cycle))]
}

// stateAt returns the scheduler's state after c picks of this table.
func (t *rrTable) stateAt(c uint64) *fwrrGroup {
	var g *fwrrGroup
	var n uint64
	if c < uint64(len(t.prefix)) || len(t.cycle) == 0 {
		g, n = t.start.clone(), min(c, uint64(len(t.prefix)))
	} else {
		g, n = t.cycleStart.clone(), (c-uint64(len(t.prefix)))%uint64(len(t.cycle))
	}
	for ; n > 0; n-- {
		g.step()
	}
	return g
}

func (lb *rrBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	srvs := lb.b.ServerList()
	if lb.groups[0] != nil {
		if old := lb.tab.Load(); old != nil && old.grp >= 0 {
			lb.groups[old.grp] = old.stateAt(old.cursor.Load())
		}
		if !slices.Equal(lb.known, srvs) && !lb.reindex(srvs) {
			lb.groups = [2]*fwrrGroup{} // not a plain add or delete: start over
		}
	}
	next := make([]fwrrCommitted, len(srvs))
	for i, s := range srvs {
		next[i] = fwrrCommitted{usable: s.usable(), ew: uint32(dynamicEWeight(s))}
	}
	if lb.groups[0] == nil {
		// fwrr_init_server_groups
		for gi := range lb.groups {
			lb.groups[gi] = newFwrrGroup(len(srvs))
		}
		for i, s := range srvs {
			if next[i].usable {
				lb.groups[groupOf(s)].nextWeight += int32(next[i].ew)
			}
		}
		for _, g := range lb.groups {
			g.currPos, g.currWeight = g.nextWeight, g.nextWeight
		}
		for i, s := range srvs {
			if next[i].usable {
				g := lb.groups[groupOf(s)]
				g.ew[i] = next[i].ew
				g.queueByWeight(g.init, i)
			}
		}
	} else {
		for i, s := range srvs {
			was, now := lb.cur[i], next[i]
			g := lb.groups[groupOf(s)]
			switch {
			case was.usable && !now.usable:
				g.serverDown(i, was.ew)
			case !was.usable && now.usable:
				g.serverUp(i, now.ew)
			case was.usable && now.usable && was.ew != now.ew:
				g.serverWeight(i, was.ew, now.ew)
			}
		}
	}
	lb.cur = next
	lb.known = srvs

	t := &rrTable{srvs: srvs, pool: choosePool(lb.b, lb.allBackups, dynamicEWeight), grp: -1}
	if t.pool.single == nil && len(t.pool.srvs) > 0 {
		t.grp = groupOf(t.pool.srvs[0])
		t.start, t.prefix, t.cycleStart, t.cycle = recordFwrr(lb.groups[t.grp])
	}
	lb.tab.Store(t)
}

// reindex moves the schedulers from the servers they know to srvs when
// srvs is that list without some servers that are not scheduled (deleted
// in maintenance) and with servers appended (added at run time): indexes
// shift, positions stay, so the running windows go on undisturbed. It
// reports false for any other change.
func (lb *rrBalancer) reindex(srvs []*Server) bool {
	in := make(map[*Server]bool, len(srvs))
	for _, s := range srvs {
		in[s] = true
	}
	known, cur := slices.Clone(lb.known), slices.Clone(lb.cur)
	groups := [2]*fwrrGroup{lb.groups[0].clone(), lb.groups[1].clone()}
	for i := len(known) - 1; i >= 0; i-- {
		if in[known[i]] {
			continue
		}
		if cur[i].usable {
			return false
		}
		for _, g := range groups {
			if !g.remove(i) {
				return false
			}
		}
		known = slices.Delete(known, i, i+1)
		cur = slices.Delete(cur, i, i+1)
	}
	if len(known) > len(srvs) || !slices.Equal(known, srvs[:len(known)]) {
		return false
	}
	for range srvs[len(known):] {
		for _, g := range groups {
			g.grow()
		}
		cur = append(cur, fwrrCommitted{})
	}
	lb.groups, lb.cur, lb.known = groups, cur, srvs
	return true
}

func groupOf(s *Server) int {
	if s.Backup {
		return 1
	}
	return 0
}

func (lb *rrBalancer) pick(_ netip.Addr, avoid *Server) *Server {
	t := lb.tab.Load()
	if t.pool.single != nil {
		return t.pool.single
	}
	n := len(t.prefix) + len(t.cycle)
	if n == 0 {
		return nil
	}
	other, avoidFree := anyFree(t.pool.srvs, avoid)
	if !other {
		if avoidFree {
			return avoid
		}
		return nil
	}
	for i := 0; i < n; i++ {
		s := t.srvs[t.at(t.cursor.Add(1)-1)]
		if s != avoid && !lbSaturated(s) {
			return s
		}
	}
	return nil // every other server became full meanwhile
}

func (lb *rrBalancer) taken(*Server)    {}
func (lb *rrBalancer) released(*Server) {}

// Bounds of a recorded schedule.
const (
	fwrrMaxWindows = 16
	fwrrMaxEntries = 1 << 22
)

// recordFwrr runs a copy of g and returns the picks it makes as a prefix
// followed by a cycle that repeats forever, with the states at their
// starts. A window ends when every server went past its end; the scheduler
// then starts again from the "init" tree, whose order (by weight, ties in
// the order servers left the previous window) is the whole state carried
// over, so when that order repeats, so does the sequence.
func recordFwrr(g *fwrrGroup) (start *fwrrGroup, prefix []uint16, cycleStart *fwrrGroup, cycle []uint16) {
	start = g.clone()
	sim := g.clone()
	var seq []uint16
	type boundary struct {
		order []int
		next  int32
		pos   int
		state *fwrrGroup
	}
	var bounds []boundary
	for len(seq) < fwrrMaxEntries {
		if sim.currWeight == 0 {
			sim.currPos, sim.currWeight = sim.nextWeight, sim.nextWeight
		}
		if sim.empty() {
			sim.switchTrees()
			if sim.empty() {
				break // no server left in the group
			}
			b := boundary{order: sim.order(sim.init), next: sim.nextWeight, pos: len(seq)}
			for _, pb := range bounds {
				if pb.next == b.next && slices.Equal(pb.order, b.order) {
					return start, seq[:pb.pos], pb.state, seq[pb.pos:]
				}
			}
			if len(bounds) > fwrrMaxWindows {
				break
			}
			b.state = sim.clone()
			bounds = append(bounds, b)
		}
		seq = append(seq, uint16(sim.step()))
	}
	// No repetition within bounds: repeat what was recorded.
	if len(bounds) > 0 {
		return start, seq[:bounds[0].pos], bounds[0].state, seq[bounds[0].pos:]
	}
	return start, nil, start.clone(), seq
}

// fwrrGroup is a port of HAProxy's struct fwrr_group together with the
// servers' scheduling fields (eweight, npos, lpos, rweight, tree), indexed
// like the backend's servers. Arithmetic follows the C types: positions,
// weights of servers and remainders are unsigned 32-bit, the group's
// positions and weights signed 32-bit.
type fwrrGroup struct {
	ew, npos, lpos, rweight []uint32
	where                   []int8 // tree holding each server, -1 for none

	trees      [3][]fwrrNode // 0: curr; 1, 2: t0, t1
	init, next int8

	currPos, currWeight, nextWeight int32
}

// fwrrNode is a tree entry; equal keys keep insertion order, as duplicates
// in HAProxy's eb32 trees.
type fwrrNode struct {
	key uint32
	srv int
}

func newFwrrGroup(n int) *fwrrGroup {
	g := &fwrrGroup{
		ew:      make([]uint32, n),
		npos:    make([]uint32, n),
		lpos:    make([]uint32, n),
		rweight: make([]uint32, n),
		where:   make([]int8, n),
		init:    1,
		next:    2,
	}
	for i := range g.where {
		g.where[i] = -1
	}
	return g
}

// grow appends a server that is in no tree.
func (g *fwrrGroup) grow() {
	g.ew, g.npos, g.lpos, g.rweight = append(g.ew, 0), append(g.npos, 0), append(g.lpos, 0), append(g.rweight, 0)
	g.where = append(g.where, -1)
}

// remove takes out server i, which must be in no tree, and renumbers the
// servers after it; false if i is scheduled.
func (g *fwrrGroup) remove(i int) bool {
	if i >= len(g.where) || g.where[i] >= 0 {
		return false
	}
	g.ew, g.npos = slices.Delete(g.ew, i, i+1), slices.Delete(g.npos, i, i+1)
	g.lpos, g.rweight = slices.Delete(g.lpos, i, i+1), slices.Delete(g.rweight, i, i+1)
	g.where = slices.Delete(g.where, i, i+1)
	for t := range g.trees {
		for k := range g.trees[t] {
			if g.trees[t][k].srv > i {
				g.trees[t][k].srv--
			}
		}
	}
	return true
}

func (g *fwrrGroup) clone() *fwrrGroup {
	c := *g
	c.ew, c.npos, c.lpos, c.rweight = slices.Clone(g.ew), slices.Clone(g.npos), slices.Clone(g.lpos), slices.Clone(g.rweight)
	c.where = slices.Clone(g.where)
	for i := range g.trees {
		c.trees[i] = slices.Clone(g.trees[i])
	}
	return &c
}

func (g *fwrrGroup) insert(t int8, key uint32, srv int) {
	tr := g.trees[t]
	i := sort.Search(len(tr), func(i int) bool { return tr[i].key > key })
	g.trees[t] = slices.Insert(tr, i, fwrrNode{key, srv})
	g.where[srv] = t
}

// dequeue removes srv from its tree (fwrr_dequeue_srv and
// fwrr_remove_from_tree).
func (g *fwrrGroup) dequeue(srv int) {
	t := g.where[srv]
	if t < 0 {
		return
	}
	tr := g.trees[t]
	for i := range tr {
		if tr[i].srv == srv {
			g.trees[t] = slices.Delete(tr, i, i+1)
			break
		}
	}
	g.where[srv] = -1
}

func (g *fwrrGroup) order(t int8) []int {
	out := make([]int, len(g.trees[t]))
	for i, n := range g.trees[t] {
		out[i] = n.srv
	}
	return out
}

func (g *fwrrGroup) empty() bool { return len(g.trees[0]) == 0 && len(g.trees[g.init]) == 0 }

// switchTrees is fwrr_switch_trees: the next window begins.
func (g *fwrrGroup) switchTrees() {
	g.init, g.next = g.next, g.init
	g.currWeight = g.nextWeight
	g.currPos = g.currWeight
}

// queueByWeight puts srv in tree t, heaviest first (fwrr_queue_by_weight).
func (g *fwrrGroup) queueByWeight(t int8, srv int) {
	g.insert(t, eweightMax-g.ew[srv], srv)
}

// queue places srv by its next position (fwrr_queue_srv): into the current
// tree, or into the next one when past the window.
func (g *fwrrGroup) queue(srv int) {
	cw, nw := uint32(g.currWeight), uint32(g.nextWeight)
	if g.ew[srv] == 0 || g.npos[srv] >= 2*cw || g.npos[srv] >= cw+nw {
		g.npos[srv] -= cw
		g.queueByWeight(g.next, srv)
		return
	}
	key := uweightRange*g.npos[srv] + (eweightMax+g.rweight[srv]-g.ew[srv])/weightScale
	g.insert(0, key, srv)
}

// getSrv prepares srv for being moved (fwrr_get_srv).
func (g *fwrrGroup) getSrv(srv int) {
	switch g.where[srv] {
	case g.init:
		g.npos[srv], g.rweight[srv] = 0, 0
	case g.next:
		g.npos[srv] += uint32(g.currWeight)
	case -1:
		g.npos[srv] = uint32(g.currPos)
	}
}

// fromGroup is fwrr_get_server_from_group: the head of the current tree if
// its turn has come, else the heaviest server waiting in init, else the
// head of the current tree anyway; -1 when both trees are empty.
func (g *fwrrGroup) fromGroup() int {
	curr := g.trees[0]
	if len(curr) > 0 && g.npos[curr[0].srv] <= uint32(g.currPos) {
		return curr[0].srv
	}
	if in := g.trees[g.init]; len(in) > 0 {
		s := in[0].srv
		g.npos[s], g.rweight[s] = 0, 0
		return s
	}
	if len(curr) > 0 {
		return curr[0].srv
	}
	return -1
}

// updatePosition is fwrr_update_position.
func (g *fwrrGroup) updatePosition(s int) {
	e := g.ew[s]
	if g.npos[s] == 0 {
		g.npos[s] = uint32(g.currPos)
	}
	g.lpos[s] = g.npos[s]
	nw := uint32(g.nextWeight)
	g.npos[s] += nw / e
	g.rweight[s] += nw % e
	if g.rweight[s] >= e {
		g.rweight[s] -= e
		g.npos[s]++
	}
}

// step is one fwrr_get_next_server with no saturated server: it returns the
// server picked, or -1 when the group is empty.
func (g *fwrrGroup) step() int {
	if g.currWeight == 0 {
		g.currPos, g.currWeight = g.nextWeight, g.nextWeight
	}
	s := g.fromGroup()
	if s < 0 {
		g.switchTrees()
		if s = g.fromGroup(); s < 0 {
			return -1
		}
	}
	g.updatePosition(s)
	g.dequeue(s)
	g.currPos++
	g.queue(s)
	return s
}

// serverDown is fwrr_set_server_status_down for a server that was usable
// with effective weight ew.
func (g *fwrrGroup) serverDown(srv int, ew uint32) {
	g.nextWeight -= int32(ew)
	g.dequeue(srv)
}

// serverUp is fwrr_set_server_status_up for a server that becomes usable
// with effective weight ew: it joins the running window.
func (g *fwrrGroup) serverUp(srv int, ew uint32) {
	g.nextWeight += int32(ew)
	g.ew[srv] = ew
	g.getSrv(srv)
	g.npos[srv] = uint32(g.currPos) + uint32(g.nextWeight+g.currWeight-g.currPos)/ew
	g.queue(srv)
}

// serverWeight is fwrr_update_server_weight for a server that stays usable
// while its effective weight changes from was to ew.
func (g *fwrrGroup) serverWeight(srv int, was, ew uint32) {
	g.nextWeight = g.nextWeight - int32(was) + int32(ew)
	switch g.where[srv] {
	case g.init:
		g.dequeue(srv)
		g.ew[srv] = ew
		g.queueByWeight(g.init, srv)
	case -1:
		g.getSrv(srv)
		g.ew[srv] = ew
		g.npos[srv] = uint32(g.currPos) + uint32(g.nextWeight+g.currWeight-g.currPos)/ew
		g.queue(srv)
	default:
		g.getSrv(srv)
		prevNext := g.npos[srv]
		step := uint32(g.nextWeight) / ew
		g.npos[srv] = g.lpos[srv] + step
		g.rweight[srv] = 0
		if g.npos[srv] > prevNext {
			g.npos[srv] = prevNext
		}
		if g.npos[srv] < uint32(g.currPos+2) {
			g.npos[srv] = uint32(g.currPos) + step
		}
		g.dequeue(srv)
		g.ew[srv] = ew
		g.queue(srv)
	}
}
