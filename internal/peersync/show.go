package peersync

import (
	"fmt"
	"strings"

	"goproxy/internal/peers"
)

// Show writes the section as HAProxy's "show peers" does; dict adds the
// dictionary caches ("show peers dict").
func (s *Section) Show(b *strings.Builder, dict bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	lc := s.lastChange
	fmt.Fprintf(b, "%p: [%02d/%s/%04d:%02d:%02d:%02d] id=%s disabled=0 flags=0x%x resync_timeout=%s task_calls=%d\n",
		s, lc.Day(), lc.Month().String()[:3], lc.Year(), lc.Hour(), lc.Minute(), lc.Second(),
		s.cfg.Name, s.flags, timer(s.resyncTimeout, now), s.taskCalls)
	for _, p := range s.peers {
		s.showPeer(b, p, now, dict)
	}
}

// Name is the section's name.
func (s *Section) Name() string { return s.cfg.Name }

// timer is a deadline as "show peers" writes it.
func timer(t, now uint32) string {
	switch {
	case t == 0:
		return "<NEVER>"
	case expired(t, now):
		return "<PAST>"
	}
	return humanTime(int(t-now) / 1000)
}

// humanTime is HAProxy's human_time: the two largest units of t seconds.
func humanTime(t int) string {
	if t < 0 {
		return "?"
	}
	var b strings.Builder
	cnt := 2
	if t >= 86400 {
		fmt.Fprintf(&b, "%dd", t/86400)
		cnt--
	}
	if cnt > 0 && t%86400/3600 != 0 {
		fmt.Fprintf(&b, "%dh", t%86400/3600)
		cnt--
	}
	if cnt > 0 && t%3600/60 != 0 {
		fmt.Fprintf(&b, "%dm", t%3600/60)
		cnt--
	}
	if (cnt > 0 && t%60 != 0) || t == 0 {
		fmt.Fprintf(&b, "%ds", t%60)
	}
	return b.String()
}

func (s *Section) showPeer(b *strings.Builder, p *peer, now uint32, dict bool) {
	kind, act := "remote", "inactive"
	if p.Local {
		kind = "local"
	}
	if p.sess != nil {
		act = "active"
	}
	fmt.Fprintf(b, "  %p: id=%s(%s,%s) addr=%s last_status=%s", p, p.Name, kind, act, p.Addr, statusName(p.statuscode))
	hs := "<NEVER>"
	if p.lastHdshk != 0 {
		hs = humanTime(int(now-p.lastHdshk) / 1000)
	}
	fmt.Fprintf(b, " last_hdshk=%s\n", hs)
	fmt.Fprintf(b, "        reconnect=%s heartbeat=%s confirm=%d tx_hbt=%d rx_hbt=%d no_hbt=%d new_conn=%d proto_err=%d coll=%d\n",
		timer(p.reconnect, now), timer(p.heartbeat, now), p.confirm, p.txHbt, p.rxHbt, p.noHbt, p.newConn, p.protoErr, p.coll)
	fmt.Fprintf(b, "        flags=0x%x", p.flags)
	if x := p.sess; x != nil {
		state := "EST"
		if x.conn == nil {
			state = "CON"
		}
		fmt.Fprintf(b, " appctx:%p st0=%d st1=%d task_calls=%d state=%s", x, x.st0, x.st1, x.calls, state)
		if !x.out && x.conn != nil {
			fmt.Fprintf(b, "\n        xprt=RAW src=%s addr=%s", x.src, x.dst)
		}
	}
	if st := p.remoteTable; st != nil {
		fmt.Fprintf(b, "\n        remote_table:%p id=%s local_id=%d remote_id=%d", st, st.t.Name, st.localID, st.remoteID)
	}
	if st := p.lastLocalTable; st != nil {
		fmt.Fprintf(b, "\n        last_local_table:%p id=%s local_id=%d remote_id=%d", st, st.t.Name, st.localID, st.remoteID)
	}
	if len(p.tables) > 0 {
		b.WriteString("\n        shared tables:")
		for _, st := range p.tables {
			lu := st.t.LocalUpdate()
			fmt.Fprintf(b, "\n          %p local_id=%d remote_id=%d flags=0x%x remote_data=0x%x", st, st.localID, st.remoteID, st.flags, st.remoteData)
			fmt.Fprintf(b, "\n              last_acked=%d last_pushed=%d last_get=%d teaching_origin=%d update=%d",
				st.lastAcked, st.lastPushed, st.lastGet, st.teachingOrigin, st.update)
			fmt.Fprintf(b, "\n              table:%p id=%s update=%d localupdate=%d commitupdate=%d refcnt=%d",
				st.t, st.t.Name, lu, lu, lu, 1)
			if !dict {
				b.WriteString("\n        Dictionary cache not dumped (use \"show peers dict\")")
				continue
			}
			b.WriteString("\n        TX dictionary cache:")
			s.showDict(b, p)
		}
	}
	b.WriteString("\n")
}

// showDict writes the session's dictionary caches.
func (s *Section) showDict(b *strings.Builder, p *peer) {
	names := make([]string, dictEntries+1)
	for k, id := range p.txDict {
		names[id] = k
	}
	count := 0
	for i := 1; i <= dictEntries && names[i] != ""; i++ {
		if count == 0 {
			b.WriteString("\n        ")
		}
		count = (count + 1) & 3
		fmt.Fprintf(b, "  %3d -> %s", i-1, names[i])
	}
	b.WriteString("\n        RX dictionary cache:")
	count = 0
	for i := 1; i <= dictEntries; i++ {
		if count == 0 {
			b.WriteString("\n        ")
		}
		count = (count + 1) & 3
		v := p.rxDict[uint64(i)]
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(b, "  %3d -> %s", i-1, v)
	}
}

// statusName is the name of a peer's last status.
func statusName(code int) string {
	if code == 0 {
		return "NONE"
	}
	return peersStatusName(code)
}

// peersStatusName names a handshake status code.
func peersStatusName(code int) string { return peers.StatusName(code) }

// Counts are the sessions with a peer (active_peers) and those
// established (connected_peers).
func (s *Section) Counts() (active, connected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		if x := p.sess; x != nil {
			active++
			if x.st0 == stWaitMsg {
				connected++
			}
		}
	}
	return active, connected
}
