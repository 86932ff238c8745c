package peers

import "errors"

// Value is one data type's value in an update. Freq counters use Ago (ms
// since their current period began), Curr and Prev; server keys use
// DictID and, when the entry is sent in full, Str; arrays use Elems.
type Value struct {
	Type       int
	U          uint64
	Ago        uint32
	Curr, Prev uint32
	DictID     uint64 // 0: no entry
	Str        string
	HasStr     bool
	Elems      []Value `json:",omitempty"`
}

// Update is a stick-table update: an entry's key and the values of the
// data types the table definition announced, in their order.
type Update struct {
	// ID is the update's number; with HasID false it is the previous
	// update's plus one (an incremental update).
	ID    uint32
	HasID bool
	// Expire is the entry's remaining life in ms (timed updates).
	Expire uint32
	Timed  bool
	Key    []byte
	Values []Value
}

// msgType is the message type of an update.
func (u *Update) msgType() byte {
	switch {
	case u.Timed && u.HasID:
		return StktUpdateTimed
	case u.Timed:
		return StktIncUpdateTimed
	case u.HasID:
		return StktUpdate
	}
	return StktIncUpdate
}

// ErrKey is returned for a key that does not fit its table.
var ErrKey = errors.New("peers: bad key size")

// AppendUpdate appends an update for the table d defines (its key type
// and size, its data types): u.Values holds a value for each data type
// of d.Data, in order.
func AppendUpdate(b []byte, d *Define, u *Update) ([]byte, error) {
	body := make([]byte, 0, 64)
	if u.HasID {
		body = appendU32(body, u.ID)
	}
	if u.Timed {
		body = appendU32(body, u.Expire)
	}
	switch d.KeyType {
	case KeyStr:
		body = AppendVarint(body, uint64(len(u.Key)))
		body = append(body, u.Key...)
	default:
		if uint64(len(u.Key)) != d.KeyLen {
			return b, ErrKey
		}
		body = append(body, u.Key...)
	}
	i := 0
	for t := 0; t < NumDataTypes; t++ {
		if !d.Has(t) {
			continue
		}
		if i >= len(u.Values) {
			return b, errors.New("peers: missing value")
		}
		v := u.Values[i]
		i++
		if dataTypes[t].array {
			for _, e := range v.Elems {
				body = appendValue(body, dataTypes[t].std, e)
			}
			continue
		}
		body = appendValue(body, dataTypes[t].std, v)
	}
	return AppendMsg(b, ClassStickTable, u.msgType(), body), nil
}

func appendValue(b []byte, std StdType, v Value) []byte {
	switch std {
	case StdSInt:
		return AppendVarint(b, uint64(int64(int32(v.U)))) // as HAProxy's (int) to uint64
	case StdUInt:
		return AppendVarint(b, uint64(uint32(v.U)))
	case StdULL:
		return AppendVarint(b, v.U)
	case StdFreq:
		b = AppendVarint(b, uint64(v.Ago))
		b = AppendVarint(b, uint64(v.Curr))
		return AppendVarint(b, uint64(v.Prev))
	}
	// StdDict: the length of what follows, the cache id (from 1) and, the
	// first time, the value.
	if v.DictID == 0 {
		return AppendVarint(b, 0)
	}
	if !v.HasStr {
		id := AppendVarint(nil, v.DictID)
		b = AppendVarint(b, uint64(len(id)))
		return append(b, id...)
	}
	p := AppendVarint(nil, v.DictID)
	p = AppendVarint(p, uint64(len(v.Str)))
	p = append(p, v.Str...)
	b = AppendVarint(b, uint64(len(p)))
	return append(b, p...)
}

// DecodeUpdate decodes an update of message type typ for a table the peer
// defined as d, whose key is stored in keyLen bytes here (a string key is
// cut to keyLen-1 as HAProxy cuts it).
func DecodeUpdate(typ byte, body []byte, d *Define, keyLen int) (*Update, error) {
	r := reader{b: body}
	u := &Update{HasID: typ == StktUpdate || typ == StktUpdateTimed,
		Timed: typ == StktUpdateTimed || typ == StktIncUpdateTimed}
	if u.HasID {
		u.ID = r.u32()
	}
	if u.Timed {
		u.Expire = r.u32()
	}
	switch d.KeyType {
	case KeyStr:
		n := r.varint()
		if r.err != nil {
			return nil, r.err
		}
		keep := n
		if keyLen > 0 && keep > uint64(keyLen-1) {
			keep = uint64(keyLen - 1)
		}
		if n > uint64(len(r.b)) {
			return nil, ErrTruncated
		}
		u.Key = r.bytes(int(n))[:keep]
	default:
		u.Key = r.bytes(int(min(d.KeyLen, MaxBody+1)))
	}
	for t := 0; t < NumDataTypes && r.err == nil; t++ {
		if !d.Has(t) {
			continue
		}
		dt := dataTypes[t]
		v := Value{Type: t}
		if dt.array {
			for j := uint64(0); j < d.NbElem[t] && r.err == nil; j++ {
				v.Elems = append(v.Elems, r.value(dt.std))
			}
		} else {
			v = r.value(dt.std)
		}
		v.Type = t
		u.Values = append(u.Values, v)
	}
	if r.err != nil {
		return nil, r.err
	}
	return u, nil
}

// value reads one value of standard type std.
func (r *reader) value(std StdType) Value {
	var v Value
	switch std {
	case StdSInt, StdUInt, StdULL:
		v.U = r.varint()
	case StdFreq:
		v.Ago = uint32(r.varint())
		v.Curr = uint32(r.varint())
		v.Prev = uint32(r.varint())
	case StdDict:
		n := r.varint()
		if n == 0 || r.err != nil {
			return v
		}
		sub := reader{b: r.bytes(int(min(n, MaxBody+1)))}
		if r.err != nil {
			return v
		}
		v.DictID = sub.varint()
		if sub.err == nil && v.DictID == 0 {
			sub.err = ErrTruncated
		}
		if sub.err == nil && len(sub.b) > 0 {
			l := sub.varint()
			v.Str = string(sub.bytes(int(min(l, MaxBody+1))))
			v.HasStr = true
		}
		if sub.err != nil {
			r.err = sub.err
		}
	}
	return v
}
