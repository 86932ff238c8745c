package peersync

import (
	"encoding/binary"

	"goproxy/internal/peers"
	"goproxy/internal/stktable"
)

// maxPerRound bounds the updates one writer pass builds, so that a large
// table goes out in slices and the section lock is not held for long.
const maxPerRound = 256

// dictEntries is the size of the server keys' dictionary caches
// (PEER_STKT_CACHE_MAX_ENTRIES).
const dictEntries = 128

// treat handles one received message (peer_treat_awaited_msg); false is
// a protocol error. Called with mu held.
func (s *Section) treat(x *session, m peers.Msg) bool {
	p := x.p
	switch m.Class {
	case peers.ClassControl:
		s.treatControl(x, m.Type)
	case peers.ClassStickTable:
		switch m.Type {
		case peers.StktDefine:
			return s.treatDefine(p, m.Body)
		case peers.StktSwitch:
			id, err := peers.DecodeSwitch(m.Body)
			if err != nil {
				return false
			}
			p.remoteTable = nil
			for _, st := range p.tables {
				if st.remoteID == id {
					p.remoteTable = st
					break
				}
			}
		case peers.StktUpdate, peers.StktIncUpdate, peers.StktUpdateTimed, peers.StktIncUpdateTimed:
			return s.treatUpdate(x, m)
		case peers.StktAck:
			if p.flags&pTeachProcess != 0 {
				return true // acks are ignored while teaching
			}
			id, upd, err := peers.DecodeAck(m.Body)
			if err != nil {
				return false
			}
			for _, st := range p.tables {
				if st.localID == id {
					st.update = upd
					break
				}
			}
		}
	case peers.ClassReserved:
		return false
	}
	return true
}

// treatControl handles the control messages.
func (s *Section) treatControl(x *session, typ byte) {
	p := x.p
	switch typ {
	case peers.CtrlResyncReq:
		for _, st := range p.tables {
			st.teachingOrigin = st.update
			st.lastPushed = st.update
			st.flags = 0
			st.lesson = nil
		}
		p.flags &= pTeachReset
		p.flags |= pTeachProcess
		s.flags |= fResyncRequested
	case peers.CtrlResyncFinished:
		if p.flags&pLearnAssign != 0 {
			p.flags &^= pLearnAssign
			s.flags &^= fResyncAssign | fResyncProcess
			s.flags |= fResyncLocal | fResyncRemote
			if p.Local {
				s.flags |= fResyncLocalFinished
			} else {
				s.flags |= fResyncRemoteFinished
			}
		}
		p.confirm++
	case peers.CtrlResyncPartial:
		if p.flags&pLearnAssign != 0 {
			p.flags &^= pLearnAssign
			s.flags &^= fResyncAssign | fResyncProcess
			if p.Local {
				s.flags |= fResyncLocalPartial
			} else {
				s.flags |= fResyncRemotePartial
			}
			p.flags |= pLearnNotUp2
			s.resyncTimeout = s.now() + resyncTimeout
			s.kick()
		}
		p.confirm++
	case peers.CtrlResyncConfirm:
		if s.stopping {
			p.flags |= pTeachComplete
			x.st0 = stEnd
			s.deinit(p)
			x.close()
			return
		}
		for _, st := range p.tables {
			st.update = st.teachingOrigin
			st.lastPushed = st.teachingOrigin
			st.flags = 0
			st.lesson = nil
		}
		p.flags &= pTeachReset
	case peers.CtrlHeartbeat:
		p.reconnect = s.now() + reconnectTimeout
		p.rxHbt++
	}
}

// keyType is a table's key type on the wire.
func keyType(t *stktable.Table) uint64 {
	switch t.Type {
	case stktable.IP:
		return peers.KeyIPv4
	case stktable.IPv6:
		return peers.KeyIPv6
	case stktable.Integer:
		return peers.KeySInt
	case stktable.String:
		return peers.KeyStr
	}
	return peers.KeyBin
}

// define is our definition of a shared table.
func define(st *shared) *peers.Define {
	t := st.t
	d := &peers.Define{ID: st.localID, Name: st.nid, KeyType: keyType(t), KeyLen: uint64(t.KeyLen),
		Expire: uint64(t.ExpireMs()), HasParams: true}
	for dt := stktable.DataType(0); dt < stktable.NumData; dt++ {
		if t.Stores(dt) {
			d.Data |= 1 << uint(dt)
			if dt.IsRate() {
				d.Period[dt] = uint64(t.Period(dt))
			}
		}
	}
	return d
}

// treatDefine handles a table definition (peer_treat_definemsg).
func (s *Section) treatDefine(p *peer, body []byte) bool {
	d, err := peers.DecodeDefine(body)
	if d == nil {
		return false // malformed
	}
	p.remoteTable = nil
	var st *shared
	for _, o := range p.tables {
		if o.remoteID == d.ID {
			o.remoteID = 0
		}
		if st == nil && o.nid == d.Name {
			st = o
		}
	}
	if st == nil || err != nil {
		return true // an unknown table, or one HAProxy ignores
	}
	if keyType(st.t) != d.KeyType || uint64(st.t.KeyLen) != d.KeyLen {
		return true
	}
	st.remoteData, st.remoteID, st.def = d.Data, d.ID, d
	p.remoteTable = st
	return true
}

// treatUpdate applies an update to the table the peer switched to.
func (s *Section) treatUpdate(x *session, m peers.Msg) bool {
	st := x.p.remoteTable
	if st == nil || st.def == nil {
		return true
	}
	u, err := peers.DecodeUpdate(m.Type, m.Body, st.def, st.t.KeyLen)
	if err != nil {
		return false
	}
	if u.HasID {
		st.lastGet = u.ID
	} else {
		st.lastGet++
	}
	t := st.t
	expire := t.ExpireMs()
	if u.Timed {
		expire = u.Expire
	}
	key := string(u.Key)
	if t.Type == stktable.Integer {
		if len(u.Key) != 4 {
			return false
		}
		key = t.KeyInt(int64(binary.BigEndian.Uint32(u.Key)))
	} else if t.Type == stktable.String {
		key = t.KeyBytes(u.Key)
	}
	var raw stktable.Raw
	var set [stktable.NumData]bool
	now := t.Now()
	for _, v := range u.Values {
		if v.Type >= int(stktable.NumData) || peers.IsLocal(v.Type) {
			continue
		}
		d := stktable.DataType(v.Type)
		switch peers.Std(v.Type) {
		case peers.StdFreq:
			raw.Tick[d], raw.Curr[d], raw.Prev[d] = now-v.Ago, v.Curr, v.Prev
		case peers.StdDict:
			if v.DictID == 0 {
				continue
			}
			if v.DictID > dictEntries {
				return false // beyond the cache: malformed
			}
			if v.HasStr {
				x.p.rxDict[v.DictID] = v.Str
			}
			name, ok := x.p.rxDict[v.DictID]
			if !ok {
				continue
			}
			raw.Skey = name
		default:
			raw.Val[d] = v.U
		}
		set[d] = true
	}
	t.Import(key, &raw, &set, expire)
	return true
}

// wireKey is an entry's key as updates carry it.
func wireKey(t *stktable.Table, k string) []byte {
	switch t.Type {
	case stktable.Integer:
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], binary.LittleEndian.Uint32([]byte(k)))
		return b[:]
	case stktable.String:
		return []byte(k)
	}
	return []byte(k)
}

// appendEntry appends the update of one entry.
func (s *Section) appendEntry(b []byte, x *session, st *shared, d *peers.Define, e *stktable.Entry, id uint32, withID, timed bool) []byte {
	t := st.t
	r := t.Export(e)
	now := t.Now()
	u := peers.Update{ID: id, HasID: withID, Timed: timed, Expire: r.Remaining, Key: wireKey(t, e.Key())}
	for dt := stktable.DataType(0); dt < stktable.NumData; dt++ {
		if !t.Stores(dt) {
			continue
		}
		v := peers.Value{Type: int(dt)}
		switch {
		case dt.IsRate():
			v.Ago, v.Curr, v.Prev = now-r.Tick[dt], r.Curr[dt], r.Prev[dt]
		case dt == stktable.ServerKey:
			if r.Skey != "" {
				if id, ok := x.p.txDict[r.Skey]; ok {
					v.DictID = id
				} else {
					x.p.txNext = x.p.txNext%dictEntries + 1
					for k, o := range x.p.txDict {
						if o == x.p.txNext {
							delete(x.p.txDict, k)
						}
					}
					x.p.txDict[r.Skey] = x.p.txNext
					v.DictID, v.Str, v.HasStr = x.p.txNext, r.Skey, true
				}
			}
		default:
			v.U = r.Val[dt]
		}
		u.Values = append(u.Values, v)
	}
	out, err := peers.AppendUpdate(b, d, &u)
	if err != nil {
		return b
	}
	return out
}

// prepare builds what the session sends now (peer_send_msgs, with the
// heartbeat first); more reports that a table has more to push.
func (s *Section) prepare(x *session) (b []byte, more bool) {
	p := x.p
	if p.flags&pHeartbeat != 0 {
		p.flags &^= pHeartbeat
		b = peers.AppendControl(b, peers.CtrlHeartbeat)
		p.txHbt++
	}
	if p.flags&pLearnAssign != 0 && s.flags&fResyncAssign != 0 && s.flags&fResyncProcess == 0 {
		b = peers.AppendControl(b, peers.CtrlResyncReq)
		s.flags |= fResyncProcess
	}
	for _, st := range p.tables {
		if st.lastGet != st.lastAcked && st.remoteID != 0 {
			b = peers.AppendAck(b, st.remoteID, st.lastGet)
			st.lastAcked = st.lastGet
		}
		if p.flags&pTeachProcess == 0 {
			lu := st.t.LocalUpdate()
			if p.flags&pLearnAssign == 0 && st.lastPushed != lu {
				var m bool
				b, m = s.pushChanges(b, x, st, lu)
				more = more || m
			}
		} else if p.flags&pTeachFinished == 0 && st.flags&stTeachStage1 == 0 {
			var m bool
			b, m = s.teach(b, x, st)
			if m {
				return b, true // the rest of the lesson first
			}
		}
	}
	if p.flags&pTeachProcess != 0 && p.flags&pTeachFinished == 0 {
		typ := byte(peers.CtrlResyncPartial)
		if s.flags&resyncStateMask == resyncFinished {
			typ = peers.CtrlResyncFinished
		}
		b = peers.AppendControl(b, typ)
		p.flags |= pTeachFinished
	}
	for ; p.confirm > 0; p.confirm-- {
		b = peers.AppendControl(b, peers.CtrlResyncConfirm)
	}
	return b, more
}

// switchTo announces st before its updates when it is not the table the
// peer is on.
func (s *Section) switchTo(b []byte, x *session, st *shared) ([]byte, *peers.Define) {
	d := define(st)
	if x.p.lastLocalTable != st {
		b = peers.AppendDefine(b, d)
		x.p.lastLocalTable = st
	}
	return b, d
}

// pushChanges pushes the local changes after lastPushed.
func (s *Section) pushChanges(b []byte, x *session, st *shared, lu uint32) ([]byte, bool) {
	ch := st.t.ChangesAfter(st.lastPushed, maxPerRound)
	if len(ch) == 0 {
		st.lastPushed = lu
		return b, false
	}
	b, d := s.switchTo(b, x, st)
	withID := true
	for _, c := range ch {
		if c.ID != st.lastPushed+1 {
			withID = true
		}
		b = s.appendEntry(b, x, st, d, c.Entry, c.ID, withID, false)
		st.lastPushed = c.ID
		withID = false
	}
	if len(ch) < maxPerRound {
		st.lastPushed = lu
		return b, false
	}
	return b, true
}

// teach sends every entry of st (a full resync's answer), timed, each
// with its update id.
//
// The entries are listed when the lesson starts and sent maxPerRound at
// a time (more is then true), so that a large table neither holds the
// section's lock for long nor builds one huge buffer.
func (s *Section) teach(b []byte, x *session, st *shared) ([]byte, bool) {
	if st.lesson == nil {
		st.lesson = st.t.Entries()
		st.lessonAt = 0
		if st.lesson == nil {
			st.lesson = []*stktable.Entry{}
		}
	}
	b, d := s.switchTo(b, x, st)
	timed := x.p.flags&pDowngrade == 0
	lu := st.t.LocalUpdate()
	end := min(st.lessonAt+maxPerRound, len(st.lesson))
	for i := st.lessonAt; i < end; i++ {
		e := st.lesson[i]
		if e.Gone() {
			continue
		}
		id := e.Upd()
		if id == 0 {
			id = lu + 1<<31 + uint32(i)
		}
		b = s.appendEntry(b, x, st, d, e, id, true, timed)
	}
	st.lessonAt = end
	if end < len(st.lesson) {
		return b, true
	}
	st.lesson = nil
	st.flags |= stTeachStage1 | stTeachStage2
	return b, false
}
