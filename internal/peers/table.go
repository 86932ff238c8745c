package peers

import (
	"errors"
	"fmt"
)

// Key types on the wire (PEER_KT_*).
const (
	KeySInt = 2
	KeyIPv4 = 4
	KeyIPv6 = 5
	KeyStr  = 6
	KeyBin  = 7
)

// StdType is how a data type's value is encoded.
type StdType uint8

// Standard types of HAProxy's data types.
const (
	StdSInt StdType = iota // signed 32 bits
	StdUInt                // unsigned 32 bits
	StdULL                 // unsigned 64 bits
	StdFreq                // a frequency counter: age of its period, current and previous counts
	StdDict                // a dictionary entry (server_key)
)

// dataType is one of HAProxy 2.6's data types by its wire id (the
// position in its enum, the bit in a definition's bitfield).
type dataType struct {
	std   StdType
	array bool
	local bool // never applied from a peer (conn_cur)
}

// NumDataTypes is the number of HAProxy 2.6's data types.
const NumDataTypes = 25

var dataTypes = [NumDataTypes]dataType{
	{std: StdSInt},              // server_id
	{std: StdUInt},              // gpt0
	{std: StdUInt},              // gpc0
	{std: StdFreq},              // gpc0_rate
	{std: StdUInt},              // conn_cnt
	{std: StdFreq},              // conn_rate
	{std: StdUInt, local: true}, // conn_cur
	{std: StdUInt},              // sess_cnt
	{std: StdFreq},              // sess_rate
	{std: StdUInt},              // http_req_cnt
	{std: StdFreq},              // http_req_rate
	{std: StdUInt},              // http_err_cnt
	{std: StdFreq},              // http_err_rate
	{std: StdULL},               // bytes_in_cnt
	{std: StdFreq},              // bytes_in_rate
	{std: StdULL},               // bytes_out_cnt
	{std: StdFreq},              // bytes_out_rate
	{std: StdUInt},              // gpc1
	{std: StdFreq},              // gpc1_rate
	{std: StdDict},              // server_key
	{std: StdUInt},              // http_fail_cnt
	{std: StdFreq},              // http_fail_rate
	{std: StdUInt, array: true}, // gpt
	{std: StdUInt, array: true}, // gpc
	{std: StdFreq, array: true}, // gpc_rate
}

// Std is the standard type of data type d.
func Std(d int) StdType { return dataTypes[d].std }

// IsLocal reports whether data type d stays local (a peer's value is
// ignored).
func IsLocal(d int) bool { return dataTypes[d].local }

// Define is a table definition: the sender's id for the table, its name,
// key type and size, the data types it stores (bit d for data type d),
// its expiry in ms and each stored type's parameters.
type Define struct {
	ID      uint64
	Name    string
	KeyType uint64
	KeyLen  uint64
	Data    uint64
	Expire  uint64
	// Period is each frequency counter's period in ms; NbElem each
	// array's number of elements.
	Period [NumDataTypes]uint64
	NbElem [NumDataTypes]uint64
	// HasParams is false for an old peer's definition without the
	// expiry and parameters.
	HasParams bool
}

// Has reports whether the table stores data type d.
func (d *Define) Has(t int) bool { return d.Data&(1<<uint(t)) != 0 }

// AppendDefine appends a table definition message.
func AppendDefine(b []byte, d *Define) []byte {
	body := AppendVarint(nil, d.ID)
	body = AppendVarint(body, uint64(len(d.Name)))
	body = append(body, d.Name...)
	body = AppendVarint(body, d.KeyType)
	body = AppendVarint(body, d.KeyLen)
	body = AppendVarint(body, d.Data)
	body = AppendVarint(body, d.Expire)
	for t := 0; t < NumDataTypes; t++ {
		if !d.Has(t) {
			continue
		}
		switch dt := dataTypes[t]; {
		case dt.array:
			body = AppendVarint(body, uint64(t))
			body = AppendVarint(body, d.NbElem[t])
			if dt.std == StdFreq {
				body = AppendVarint(body, d.Period[t])
			}
		case dt.std == StdFreq:
			body = AppendVarint(body, uint64(t))
			body = AppendVarint(body, d.Period[t])
		}
	}
	return AppendMsg(b, ClassStickTable, StktDefine, body)
}

// ErrIgnored is returned for a definition HAProxy ignores: its parameters
// do not match its data types (the table is then not synchronised).
var ErrIgnored = errors.New("peers: table definition ignored")

// DecodeDefine decodes a table definition as peer_treat_definemsg does.
// A malformed message returns ErrTruncated (a protocol error); a
// definition with inconsistent parameters, ErrIgnored with its name.
func DecodeDefine(body []byte) (*Define, error) {
	r := reader{b: body}
	d := &Define{ID: r.varint()}
	n := r.varint()
	if r.err != nil {
		return nil, r.err
	}
	if n == 0 || n >= uint64(len(r.b)) {
		return nil, ErrTruncated
	}
	d.Name = string(r.bytes(int(n)))
	d.KeyType = r.varint()
	d.KeyLen = r.varint()
	d.Data = r.varint()
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) == 0 {
		for t := 0; t < NumDataTypes; t++ {
			if d.Has(t) && dataTypes[t].array {
				return d, ErrIgnored
			}
		}
		return d, nil
	}
	d.HasParams = true
	d.Expire = r.varint()
	for t := 0; t < NumDataTypes && r.err == nil; t++ {
		if !d.Has(t) {
			continue
		}
		dt := dataTypes[t]
		if !dt.array && dt.std != StdFreq {
			continue
		}
		if r.varint() != uint64(t) || r.err != nil {
			return d, ErrIgnored
		}
		if dt.array {
			d.NbElem[t] = r.varint()
			if r.err == nil && d.NbElem[t] > 100 {
				return d, fmt.Errorf("peers: array of %d elements: %w", d.NbElem[t], ErrIgnored)
			}
		}
		if dt.std == StdFreq {
			d.Period[t] = r.varint()
		}
		if r.err != nil {
			return d, ErrIgnored
		}
	}
	if d.Data>>NumDataTypes != 0 {
		return d, fmt.Errorf("peers: unknown data type in 0x%x: %w", d.Data, ErrIgnored)
	}
	return d, nil
}
