package dnsmsg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Record types and the class this package uses.
const (
	TypeA     uint16 = 1
	TypeCNAME uint16 = 5
	TypeAAAA  uint16 = 28
	TypeSRV   uint16 = 33
	TypeOPT   uint16 = 41
	ClassINET uint16 = 1
)

// Response codes.
const (
	RCodeSuccess  = 0
	RCodeFormErr  = 1
	RCodeServFail = 2
	RCodeNXDomain = 3
	RCodeRefused  = 5
)

const headerLen = 12

// Errors of Parse.
var (
	ErrShort   = errors.New("dns message truncated")
	ErrPointer = errors.New("dns name pointer loops or points forward")
	ErrName    = errors.New("dns name invalid")
)

// Message is a parsed DNS message.
type Message struct {
	ID        uint16
	Response  bool
	Truncated bool
	RCode     int
	Questions []Question
	Answers   []Record
	// Additional holds the additional records but the OPT one.
	Additional []Record
}

// Question is one entry of the question section.
type Question struct {
	Name        string // lower case, without the final dot
	Type, Class uint16
}

// Record is one resource record; the fields beyond the header are those
// of its type.
type Record struct {
	Name  string // lower case, without the final dot
	Type  uint16
	Class uint16
	TTL   uint32
	IP    netip.Addr // A, AAAA
	// SRV
	Priority, Weight, Port uint16
	// Target is the SRV target or the CNAME's canonical name.
	Target string
}

// Query builds a recursive query for name and qtype with message id id.
// A payload above 512 is announced in an EDNS0 OPT record, as HAProxy
// announces its accepted_payload_size.
func Query(id uint16, name string, qtype uint16, payload int) ([]byte, error) {
	b := make([]byte, headerLen, 64)
	binary.BigEndian.PutUint16(b[0:], id)
	b[2] = 0x01 // RD
	binary.BigEndian.PutUint16(b[4:], 1)
	var err error
	if b, err = appendName(b, name); err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint16(b, qtype)
	b = binary.BigEndian.AppendUint16(b, ClassINET)
	if payload > 512 {
		binary.BigEndian.PutUint16(b[10:], 1)
		b = append(b, 0) // root name
		b = binary.BigEndian.AppendUint16(b, TypeOPT)
		b = binary.BigEndian.AppendUint16(b, uint16(min(payload, 65535)))
		b = append(b, 0, 0, 0, 0, 0, 0) // extended rcode, version, flags, rdlen
	}
	return b, nil
}

// appendName appends name in wire format.
func appendName(b []byte, name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return nil, fmt.Errorf("%w: %q", ErrName, name)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return nil, fmt.Errorf("%w: %q", ErrName, name)
		}
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0), nil
}

// Parse parses a DNS message.
func Parse(b []byte) (*Message, error) {
	if len(b) < headerLen {
		return nil, ErrShort
	}
	m := &Message{
		ID:        binary.BigEndian.Uint16(b[0:]),
		Response:  b[2]&0x80 != 0,
		Truncated: b[2]&0x02 != 0,
		RCode:     int(b[3] & 0x0f),
	}
	qd := int(binary.BigEndian.Uint16(b[4:]))
	an := int(binary.BigEndian.Uint16(b[6:]))
	ns := int(binary.BigEndian.Uint16(b[8:]))
	ar := int(binary.BigEndian.Uint16(b[10:]))
	off := headerLen
	for range qd {
		name, n, err := readName(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		if off+4 > len(b) {
			return nil, ErrShort
		}
		m.Questions = append(m.Questions, Question{Name: name,
			Type: binary.BigEndian.Uint16(b[off:]), Class: binary.BigEndian.Uint16(b[off+2:])})
		off += 4
	}
	for i := range an + ns + ar {
		rr, n, err := readRecord(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		switch {
		case i < an:
			m.Answers = append(m.Answers, rr)
		case i >= an+ns && rr.Type != TypeOPT:
			m.Additional = append(m.Additional, rr)
		}
	}
	return m, nil
}

// readRecord reads the resource record at off.
func readRecord(b []byte, off int) (Record, int, error) {
	var rr Record
	name, off, err := readName(b, off)
	if err != nil {
		return rr, 0, err
	}
	if off+10 > len(b) {
		return rr, 0, ErrShort
	}
	rr.Name = name
	rr.Type = binary.BigEndian.Uint16(b[off:])
	rr.Class = binary.BigEndian.Uint16(b[off+2:])
	rr.TTL = binary.BigEndian.Uint32(b[off+4:])
	rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
	off += 10
	if off+rdlen > len(b) {
		return rr, 0, ErrShort
	}
	rd := b[off : off+rdlen]
	switch rr.Type {
	case TypeA:
		if rdlen != 4 {
			return rr, 0, fmt.Errorf("dns A record of %d bytes", rdlen)
		}
		rr.IP = netip.AddrFrom4([4]byte(rd))
	case TypeAAAA:
		if rdlen != 16 {
			return rr, 0, fmt.Errorf("dns AAAA record of %d bytes", rdlen)
		}
		rr.IP = netip.AddrFrom16([16]byte(rd))
	case TypeSRV:
		if rdlen < 7 {
			return rr, 0, fmt.Errorf("dns SRV record of %d bytes", rdlen)
		}
		rr.Priority = binary.BigEndian.Uint16(rd[0:])
		rr.Weight = binary.BigEndian.Uint16(rd[2:])
		rr.Port = binary.BigEndian.Uint16(rd[4:])
		t, end, err := readName(b, off+6)
		if err != nil {
			return rr, 0, err
		}
		if end > off+rdlen {
			return rr, 0, ErrShort
		}
		rr.Target = t
	case TypeCNAME:
		t, end, err := readName(b, off)
		if err != nil {
			return rr, 0, err
		}
		if end > off+rdlen {
			return rr, 0, ErrShort
		}
		rr.Target = t
	}
	return rr, off + rdlen, nil
}

// readName reads the possibly compressed name at off and returns it with
// the offset just after it. Pointers must point before the label that
// holds them, which bounds the walk.
func readName(b []byte, off int) (string, int, error) {
	var sb strings.Builder
	end := -1
	limit := off // a pointer must go below this
	for {
		if off >= len(b) {
			return "", 0, ErrShort
		}
		c := int(b[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				return strings.ToLower(sb.String()), end, nil
			}
			if off+1+c > len(b) {
				return "", 0, ErrShort
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.Write(b[off+1 : off+1+c])
			if sb.Len() > 255 {
				return "", 0, ErrName
			}
			off += 1 + c
		case 0xc0:
			if off+2 > len(b) {
				return "", 0, ErrShort
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if ptr >= limit {
				return "", 0, ErrPointer
			}
			if end < 0 {
				end = off + 2
			}
			off, limit = ptr, ptr
		default:
			return "", 0, ErrName
		}
	}
}
