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
// weights give a strict rotation in declaration order. With a stable set of
// servers that schedule is a fixed sequence that repeats window after window,
// so update replays HAProxy's scheduler once to record the sequence, and
// pick walks it with an atomic cursor: no lock and no allocation on the hot
// path. A full server's turn is consumed and skipped, as in HAProxy. After a
// state or weight change the sequence restarts from the beginning of a
// window (HAProxy instead inserts the server into the running window).
type rrBalancer struct {
	b          *Backend
	allBackups bool

	mu  sync.Mutex
	tab atomic.Pointer[rrTable]
}

// rrTable is the recorded schedule: prefix once, then cycle forever, as
// indexes into pool.srvs.
type rrTable struct {
	pool   lbPool
	prefix []uint16
	cycle  []uint16
	cursor atomic.Uint64
}

func (t *rrTable) at(c uint64) *Server {
	if c < uint64(len(t.prefix)) {
		return t.pool.srvs[t.prefix[c]]
	}
	c -= uint64(len(t.prefix))
	return t.pool.srvs[t.cycle[c%uint64(len(t.cycle))]]
}

func (lb *rrBalancer) update() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	t := &rrTable{pool: choosePool(lb.b, lb.allBackups, dynamicEWeight)}
	if t.pool.single == nil && len(t.pool.srvs) > 0 {
		t.prefix, t.cycle = fwrrSequence(t.pool.ew)
	}
	lb.tab.Store(t)
}

func (lb *rrBalancer) pick(_ netip.Addr, avoid *Server) *Server {
	t := lb.tab.Load()
	if t.pool.single != nil {
		return t.pool.single
	}
	if len(t.cycle) == 0 {
		return nil
	}
	other, avoidFree := anyFree(t.pool.srvs, avoid)
	if !other {
		if avoidFree {
			return avoid
		}
		return nil
	}
	n := len(t.prefix) + len(t.cycle)
	for i := 0; i < n; i++ {
		s := t.at(t.cursor.Add(1) - 1)
		if s != avoid && !lbSaturated(s) {
			return s
		}
	}
	return nil // every other server became full meanwhile
}

func (lb *rrBalancer) taken(*Server)    {}
func (lb *rrBalancer) released(*Server) {}

// Bounds of the recorded schedule.
const (
	fwrrMaxWindows = 16
	fwrrMaxEntries = 1 << 22
)

// fwrrSequence replays HAProxy's fwrr scheduler for servers of effective
// weights ew (all > 0, at most 65535 servers) and returns the sequence of
// picks as a prefix followed by a cycle that repeats forever.
//
// A window ends when every server went past twice the total weight; the
// scheduler then starts again from the "init" tree, whose order (by weight,
// ties in the order servers left the previous window) is the whole state
// carried over. When that order repeats, so does the sequence.
func fwrrSequence(ew []int) (prefix, cycle []uint16) {
	f := newFwrrSim(ew)
	states := [][]int{f.order(f.init)}
	var windows [][]uint16
	var cur []uint16
	total := 0
	for total < fwrrMaxEntries {
		s, switched := f.step()
		if s < 0 {
			break
		}
		if switched {
			windows = append(windows, cur)
			cur = nil
			for j, st := range states {
				if slices.Equal(st, f.switchOrder) {
					return slices.Concat(windows[:j]...), slices.Concat(windows[j:]...)
				}
			}
			if len(windows) >= fwrrMaxWindows {
				break
			}
			states = append(states, f.switchOrder)
		}
		cur = append(cur, uint16(s))
		total++
	}
	// No repetition within bounds: repeat what was recorded.
	if len(windows) > 0 {
		return nil, slices.Concat(windows...)
	}
	return nil, cur
}

// fwrrSim is one fwrr group (lb_fwrr.c's struct fwrr_group and the per
// server npos/rweight) with trees as sorted slices.
type fwrrSim struct {
	ew      []int64
	npos    []int64
	rweight []int64
	where   []int // tree holding each server, -1 for none

	trees      [3][]fwrrNode // 0: curr; 1, 2: t0, t1
	init, next int

	currPos, currWeight, nextWeight int64
	switchOrder                     []int // init order at the last switch
}

// fwrrNode is a tree entry; equal keys keep insertion order, as duplicates
// in HAProxy's eb32 trees.
type fwrrNode struct {
	key uint32
	srv int
}

func newFwrrSim(ew []int) *fwrrSim {
	n := len(ew)
	f := &fwrrSim{
		ew:      make([]int64, n),
		npos:    make([]int64, n),
		rweight: make([]int64, n),
		where:   make([]int, n),
		init:    1,
		next:    2,
	}
	var w int64
	for i, e := range ew {
		f.ew[i] = int64(e)
		w += int64(e)
	}
	f.currPos, f.currWeight, f.nextWeight = w, w, w
	for i := range ew {
		f.queueByWeight(f.init, i)
	}
	return f
}

func (f *fwrrSim) insert(t int, key uint32, srv int) {
	tr := f.trees[t]
	i := sort.Search(len(tr), func(i int) bool { return tr[i].key > key })
	tr = slices.Insert(tr, i, fwrrNode{key, srv})
	f.trees[t] = tr
	f.where[srv] = t
}

func (f *fwrrSim) remove(srv int) {
	t := f.where[srv]
	if t < 0 {
		return
	}
	tr := f.trees[t]
	for i := range tr {
		if tr[i].srv == srv {
			f.trees[t] = slices.Delete(tr, i, i+1)
			break
		}
	}
	f.where[srv] = -1
}

func (f *fwrrSim) order(t int) []int {
	out := make([]int, len(f.trees[t]))
	for i, n := range f.trees[t] {
		out[i] = n.srv
	}
	return out
}

// queueByWeight puts srv in tree t, heaviest first (fwrr_queue_by_weight).
func (f *fwrrSim) queueByWeight(t, srv int) {
	f.insert(t, uint32(eweightMax-f.ew[srv]), srv)
}

// queue places srv after a pick (fwrr_queue_srv): into the current tree at
// its next position, or into the next tree when past the window.
func (f *fwrrSim) queue(srv int) {
	if f.npos[srv] >= 2*f.currWeight || f.npos[srv] >= f.currWeight+f.nextWeight {
		f.npos[srv] -= f.currWeight
		f.queueByWeight(f.next, srv)
		return
	}
	key := uint32(uweightRange*f.npos[srv] + (eweightMax+f.rweight[srv]-f.ew[srv])/weightScale)
	f.insert(0, key, srv)
}

// fromGroup is fwrr_get_server_from_group: the head of the current tree if
// its turn has come, else the heaviest server waiting in init, else the
// head of the current tree anyway; -1 when both trees are empty.
func (f *fwrrSim) fromGroup() int {
	curr := f.trees[0]
	if len(curr) > 0 && f.npos[curr[0].srv] <= f.currPos {
		return curr[0].srv
	}
	if in := f.trees[f.init]; len(in) > 0 {
		s := in[0].srv
		f.npos[s], f.rweight[s] = 0, 0
		return s
	}
	if len(curr) > 0 {
		return curr[0].srv
	}
	return -1
}

// updatePosition is fwrr_update_position.
func (f *fwrrSim) updatePosition(s int) {
	e := f.ew[s]
	if f.npos[s] == 0 {
		f.npos[s] = f.currPos
	}
	f.npos[s] += f.nextWeight / e
	f.rweight[s] += f.nextWeight % e
	if f.rweight[s] >= e {
		f.rweight[s] -= e
		f.npos[s]++
	}
}

// step is one fwrr_get_next_server with no saturated server. It reports
// whether the trees were switched (a new window began) before the pick.
func (f *fwrrSim) step() (int, bool) {
	switched := false
	var s int
	for {
		if s = f.fromGroup(); s >= 0 {
			break
		}
		if switched {
			return -1, true
		}
		switched = true
		f.init, f.next = f.next, f.init
		f.currWeight = f.nextWeight
		f.currPos = f.currWeight
		f.switchOrder = f.order(f.init)
	}
	f.updatePosition(s)
	f.remove(s)
	f.currPos++
	f.queue(s)
	return s, switched
}
