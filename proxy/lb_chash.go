package proxy

import "sort"

// chashRing is HAProxy's consistent-hash tree as a sorted array: each usable
// server of the pool owns eweight points at keys fullHash(id*4096 + i).
// Points with equal keys keep insertion order (declaration order, then i).
type chashRing struct {
	keys []uint32
	srv  []int32 // index into the pool's servers, parallel to keys
}

// buildRing places the points of every server of p.
func buildRing(p *lbPool) chashRing {
	n := 0
	for _, w := range p.ew {
		n += w
	}
	type point struct {
		key uint32
		srv int32
	}
	pts := make([]point, 0, n)
	for i, s := range p.srvs {
		base := uint32(s.ID) * eweightMax
		for j := 0; j < p.ew[i]; j++ {
			pts = append(pts, point{fullHash(base + uint32(j)), int32(i)})
		}
	}
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].key < pts[b].key })
	r := chashRing{keys: make([]uint32, len(pts)), srv: make([]int32, len(pts))}
	for i, pt := range pts {
		r.keys[i], r.srv[i] = pt.key, pt.srv
	}
	return r
}

// lookup returns the index (into the pool) of the server owning the point
// closest to h, the predecessor on a tie, as chash_get_server_hash does. When
// that server is avoid (an index, or -1), the following points are walked
// until one of another server is found, wrapping once. It returns -1 on an
// empty ring.
func (r *chashRing) lookup(h uint32, avoid int32) int32 {
	n := len(r.keys)
	if n == 0 {
		return -1
	}
	// first point >= h (lower bound), wrapping to the first point
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if r.keys[mid] < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	next := lo
	if next == n {
		next = 0
	}
	prev := next - 1
	if prev < 0 {
		prev = n - 1
	}
	// HAProxy's eb32_prev of the first of several equal keys is the last
	// point before them, which is what prev is here.
	i := next
	if h-r.keys[prev] <= r.keys[next]-h {
		i = prev
	}
	if avoid < 0 || r.srv[i] != avoid {
		return r.srv[i]
	}
	for k := 0; k < n; k++ {
		i++
		if i == n {
			i = 0
		}
		if r.srv[i] != avoid {
			return r.srv[i]
		}
	}
	return avoid
}
