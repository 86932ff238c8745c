package peers

import "errors"

// ErrTruncated is returned when a message ends inside a field.
var ErrTruncated = errors.New("peers: truncated message")

// ErrOverflow is returned for an integer encoded on more than 10 bytes.
var ErrOverflow = errors.New("peers: integer too long")

// The encoding of HAProxy's intencode: below 240 one byte; above, the
// first byte carries the low 4 bits with 0xf0 set, then 7 bits a byte,
// the high bit set on all but the last.
const (
	enc2BytesMin = 0xf0
	encStopByte  = 0x80
)

// AppendVarint appends v encoded as HAProxy's intencode does.
func AppendVarint(b []byte, v uint64) []byte {
	if v < enc2BytesMin {
		return append(b, byte(v))
	}
	b = append(b, byte(v)|enc2BytesMin)
	v = (v - enc2BytesMin) >> 4
	for v >= encStopByte {
		b = append(b, byte(v)|encStopByte)
		v = (v - encStopByte) >> 7
	}
	return append(b, byte(v))
}

// ReadVarint decodes an integer at the start of b (intdecode) and returns
// it with the number of bytes it took.
func ReadVarint(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	v := uint64(b[0])
	n := 1
	if v < enc2BytesMin {
		return v, 1, nil
	}
	shift := uint(4)
	for {
		if n >= len(b) {
			return 0, 0, ErrTruncated
		}
		if n >= 10 {
			return 0, 0, ErrOverflow
		}
		c := b[n]
		n++
		v += uint64(c) << shift
		shift += 7
		if c < encStopByte {
			return v, n, nil
		}
	}
}

// reader walks a message body.
type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n, err := ReadVarint(r.b)
	if err != nil {
		r.err = err
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = ErrTruncated
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u32() uint32 {
	v := r.bytes(4)
	if v == nil {
		return 0
	}
	return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
