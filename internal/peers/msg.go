package peers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Message classes.
const (
	ClassControl    = 0
	ClassError      = 1
	ClassStickTable = 10
	ClassReserved   = 255
)

// Control messages.
const (
	CtrlResyncReq      = 0
	CtrlResyncFinished = 1
	CtrlResyncPartial  = 2
	CtrlResyncConfirm  = 3
	CtrlHeartbeat      = 4
)

// Error messages.
const (
	ErrProtocol  = 0
	ErrSizeLimit = 1
)

// Stick-table messages. A type with its high bit set has a length and a
// payload.
const (
	StktUpdate         = 0x80
	StktIncUpdate      = 0x81
	StktDefine         = 0x82
	StktSwitch         = 0x83
	StktAck            = 0x84
	StktUpdateTimed    = 0x85
	StktIncUpdateTimed = 0x86
)

// MaxBody is the largest payload accepted: HAProxy's trash buffer
// (tune.bufsize, 16384 by default); a longer one is a size-limit error.
const MaxBody = 16384

// ErrTooLarge is returned by ReadMsg for a payload above MaxBody.
var ErrTooLarge = errors.New("peers: message too large")

// Msg is one message: its class, its type and, for the types with the
// high bit set, its payload.
type Msg struct {
	Class, Type byte
	Body        []byte
}

// HasBody reports whether messages of type t carry a length and payload.
func HasBody(t byte) bool { return t&0x80 != 0 }

// ReadMsg reads one message. Body aliases buf when it fits in it.
func ReadMsg(r *bufio.Reader, buf []byte) (Msg, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Msg{}, err
	}
	m := Msg{Class: h[0], Type: h[1]}
	if !HasBody(m.Type) {
		return m, nil
	}
	n, err := readLen(r)
	if err != nil {
		return m, err
	}
	if n > MaxBody {
		return m, ErrTooLarge
	}
	if cap(buf) >= int(n) {
		m.Body = buf[:n]
	} else {
		m.Body = make([]byte, n)
	}
	if _, err := io.ReadFull(r, m.Body); err != nil {
		return m, err
	}
	return m, nil
}

// readLen reads the varint length of a payload, at most 5 bytes long as
// HAProxy reads it.
func readLen(r *bufio.Reader) (uint64, error) {
	var b [5]byte
	for i := range b {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		b[i] = c
		v, _, err := ReadVarint(b[:i+1])
		if err == nil {
			return v, nil
		}
	}
	return 0, fmt.Errorf("peers: length encoding too long")
}

// AppendMsg appends a message with its header (and length, when its type
// has a payload).
func AppendMsg(b []byte, class, typ byte, body []byte) []byte {
	b = append(b, class, typ)
	if HasBody(typ) {
		b = AppendVarint(b, uint64(len(body)))
		b = append(b, body...)
	}
	return b
}

// AppendControl appends a control message (resync request, finished,
// partial, confirm, heartbeat).
func AppendControl(b []byte, typ byte) []byte { return append(b, ClassControl, typ) }

// AppendAck appends the acknowledgement of the updates of the table the
// peer numbers tableID, up to update.
func AppendAck(b []byte, tableID uint64, update uint32) []byte {
	var body [16]byte
	p := AppendVarint(body[:0], tableID)
	p = appendU32(p, update)
	return AppendMsg(b, ClassStickTable, StktAck, p)
}

// DecodeAck decodes an acknowledgement.
func DecodeAck(body []byte) (tableID uint64, update uint32, err error) {
	r := reader{b: body}
	tableID = r.varint()
	update = r.u32()
	return tableID, update, r.err
}

// AppendSwitch appends a switch to the table numbered id.
func AppendSwitch(b []byte, id uint64) []byte {
	var body [10]byte
	return AppendMsg(b, ClassStickTable, StktSwitch, AppendVarint(body[:0], id))
}

// DecodeSwitch decodes a switch message.
func DecodeSwitch(body []byte) (uint64, error) {
	r := reader{b: body}
	id := r.varint()
	return id, r.err
}
