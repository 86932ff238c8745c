package resolver

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"goproxy/internal/dnsmsg"
)

// This file applies valid answers to the servers, as HAProxy's
// snr_resolution_cb (addresses) and resolv_check_response (SRV records).

// refresh records the items of an answer (new ones appended in answer
// order), drops those unseen for longer than hold obsolete, and returns
// the requesters that lost their item.
func (sec *Section) refresh(res *resolution, keys []string, recs []dnsmsg.Record, now time.Time) []*requester {
	for i, k := range keys {
		found := false
		for _, it := range res.items {
			if it.key == k {
				it.rec, it.lastSeen, found = recs[i], now, true
				break
			}
		}
		if !found {
			res.items = append(res.items, &item{key: k, rec: recs[i], lastSeen: now})
		}
	}
	var lost []*requester
	kept := res.items[:0]
	for _, it := range res.items {
		if it.lastSeen.Add(sec.cfg.Hold.Obsolete).Before(now) {
			lost = append(lost, it.owners...)
			continue
		}
		kept = append(kept, it)
	}
	res.items = kept
	return lost
}

// applyIPs gives each server of res an address of the answer, as HAProxy.
func (sec *Section) applyIPs(res *resolution, ips []netip.Addr, now time.Time, updater string, c *counters) {
	keys := make([]string, len(ips))
	recs := make([]dnsmsg.Record, len(ips))
	for i, ip := range ips {
		keys[i], recs[i] = ip.String(), dnsmsg.Record{IP: ip}
	}
	for _, r := range sec.refresh(res, keys, recs, now) {
		r.item = nil
	}
	// The requester the answer came for is updated by the nameserver,
	// the others from the cache, as HAProxy names them.
	first := true
	for _, r := range res.reqs {
		if r.res != res {
			continue
		}
		if first {
			sec.assignIP(res, r, updater, c)
			first = false
			continue
		}
		sec.assignIP(res, r, "DNS cache", nil)
	}
}

// pickIP is HAProxy's resolv_get_ip_from_response: the record with the
// best score (8: preferred family, 4: in a resolve-net network, 2: used
// by no other server of the backend, 1: the current address); a record
// another server of the backend uses is skipped unless allow-dup-ip.
func pickIP(res *resolution, r *requester, cur netip.Addr) *item {
	var best *item
	bestScore := -1
	for _, it := range res.items {
		ip := it.rec.IP
		score := 0
		if ip.Is4() == r.Params.PreferIPv4 {
			score += 8
		}
		for _, n := range r.Params.ResolveNet {
			if n.Contains(ip) {
				score += 4
				break
			}
		}
		used := false
		for _, o := range it.owners {
			if o != r && o.Backend == r.Backend {
				used = true
				break
			}
		}
		if used && !r.Params.AllowDupIP {
			continue
		}
		if !used {
			score += 2
		}
		if ip == cur {
			score++
		}
		if score > bestScore {
			best, bestScore = it, score
		}
	}
	return best
}

// assignIP gives r an address of res: it keeps the one it has while its
// record lives, else takes the best free one, else goes into resolution
// maintenance ("No IP for server ").
func (sec *Section) assignIP(res *resolution, r *requester, updater string, c *counters) {
	if r.item != nil {
		return
	}
	t := r.Target
	cur, _ := t.Dest()
	it := pickIP(res, r, cur)
	if it == nil {
		if t.SetResolutionMaint(true, "No IP for server ", sec.log) {
			t.ClearAddr(false)
		}
		return
	}
	r.item = it
	it.owners = append(it.owners, r)
	if ip := it.rec.IP; ip != cur {
		if c != nil {
			c.update.Add(1)
		}
		t.LogNotice(fmt.Sprintf("%s changed its IP from %s to %s by %s", t.Label(), ipText(cur), ip, updater), sec.log)
		t.SetAddr(ip, 0)
	}
	if t.ResolutionMaint() {
		t.SetResolutionMaint(false, "", sec.log)
		if r.SRVRecord == "" {
			t.LogNotice(fmt.Sprintf("Server %s administratively READY thanks to valid DNS answer", t.Label()), sec.log)
		}
	}
}

func ipText(ip netip.Addr) string {
	if !ip.IsValid() {
		return "(none)"
	}
	return ip.String()
}

// applySRV hands the SRV records of an answer to the servers of the
// template: a server keeps its record while it lives; a new record goes to
// the first server without one; the address comes from the additional
// section, else from a resolution of the target; the port always, and the
// weight unless ignore-weight, from the record.
func (sec *Section) applySRV(res *resolution, m *dnsmsg.Message, now time.Time) {
	var keys []string
	var recs []dnsmsg.Record
	for _, rr := range m.Answers {
		if rr.Type == dnsmsg.TypeSRV && rr.Name == res.name {
			keys = append(keys, rr.Target+":"+strconv.Itoa(int(rr.Port)))
			recs = append(recs, rr)
		}
	}
	for _, r := range sec.refresh(res, keys, recs, now) {
		sec.dropSRV(r)
	}
	for _, it := range res.items {
		it.ar = netip.Addr{}
		for _, ar := range m.Additional {
			if ar.Name == it.rec.Target && (ar.Type == dnsmsg.TypeA || ar.Type == dnsmsg.TypeAAAA) {
				if !it.ar.IsValid() || (len(res.reqs) > 0 && ar.IP.Is4() == res.reqs[0].Params.PreferIPv4) {
					it.ar = ar.IP
				}
			}
		}
		var r *requester
		if len(it.owners) > 0 {
			r = it.owners[0]
		} else {
			for _, x := range res.reqs {
				if x.srvItem == nil && (r == nil || x.freeRank < r.freeRank) {
					r = x
				}
			}
		}
		if r == nil {
			continue
		}
		sec.useSRV(r, it)
	}
}

// useSRV applies SRV record it to r.
func (sec *Section) useSRV(r *requester, it *item) {
	t := r.Target
	if r.srvItem == nil {
		r.srvItem = it
		it.owners = append(it.owners, r)
	}
	cur, port := t.Dest()
	if t.FQDN() != it.rec.Target {
		old := t.FQDN()
		if old == "" {
			old = "(null)"
		}
		// HAProxy sends this one to the logs only.
		t.LogNotice(fmt.Sprintf("%s changed its FQDN from %s to %s by 'SRV record'", t.Label(), old, it.rec.Target), nil)
		t.SetFQDN(it.rec.Target, true)
	}
	if it.ar.IsValid() {
		sec.detach(r, r.res)
		r.res, r.item = nil, nil
		if it.ar != cur {
			t.LogNotice(fmt.Sprintf("%s changed its IP from %s to %s by DNS additional record", t.Label(), ipText(cur), it.ar), sec.log)
		}
		cur = it.ar
	} else if r.res == nil || r.res.name != it.rec.Target {
		sec.detach(r, r.res)
		r.item = nil
		sec.attach(r, it.rec.Target, preferType(r.Params))
		select {
		case sec.wake <- struct{}{}:
		default:
		}
	}
	if int(it.rec.Port) != port || cur != func() netip.Addr { a, _ := t.Dest(); return a }() {
		t.SetAddr(cur, int(it.rec.Port))
	}
	if !r.Params.IgnoreWeight {
		_ = t.SetWeight((int(it.rec.Weight)+255)/256, sec.log)
	}
	if cur.IsValid() && t.ResolutionMaint() {
		t.SetResolutionMaint(false, "", sec.log)
	}
}

// dropSRV is HAProxy's resolv_srvrq_cleanup_srv: the server's record is
// gone, so it goes into resolution maintenance and loses its name,
// address and port.
func (sec *Section) dropSRV(r *requester) {
	if r.srvItem != nil {
		r.srvItem.owners = without(r.srvItem.owners, r)
		r.srvItem = nil
	}
	sec.detach(r, r.res)
	r.res, r.item = nil, nil
	sec.ranks++
	r.freeRank = sec.ranks
	t := r.Target
	t.SetResolutionMaint(true, "entry removed from SRV record", sec.log)
	t.ClearAddr(true)
	t.SetFQDN("", true)
}
