package stktable

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// KeyAddr is the key of an address in an ip or ipv6 table; false when
// the address does not fit (an IPv6 address in an ip table that is not
// IPv4-mapped), as HAProxy's cast fails.
func (t *Table) KeyAddr(a netip.Addr) (string, bool) {
	switch t.Type {
	case IP:
		a = a.Unmap()
		if !a.Is4() {
			return "", false
		}
		b := a.As4()
		return string(b[:]), true
	case IPv6:
		b := a.As16() // an IPv4 address becomes IPv4-mapped
		return string(b[:]), true
	case Integer:
		a = a.Unmap()
		if !a.Is4() {
			return "", false
		}
		b := a.As4()
		return t.KeyInt(int64(binary.BigEndian.Uint32(b[:]))), true
	}
	return t.KeyBytes([]byte(a.String())), true
}

// KeyInt is the key of an integer: its low 32 bits in little-endian
// order, as HAProxy stores them on x86, so that "show table" lists integer
// keys in HAProxy's (byte-wise) order.
func (t *Table) KeyInt(v int64) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return string(b[:])
}

// KeyBytes is the key of a string or binary sample: a string is cut to
// the key size less its NUL, binary is cut or padded with zeros.
func (t *Table) KeyBytes(b []byte) string {
	switch t.Type {
	case String:
		if n := t.KeyLen - 1; len(b) > n {
			b = b[:n]
		}
		return string(b)
	case Binary:
		k := make([]byte, t.KeyLen)
		copy(k, b)
		return string(k)
	}
	return string(b)
}

// ParseKey reads a key as the CLI writes it ("key 127.0.0.1").
func (t *Table) ParseKey(s string) (string, error) {
	switch t.Type {
	case IP, IPv6:
		a, err := netip.ParseAddr(s)
		if err != nil || (t.Type == IP && !a.Is4()) || (t.Type == IPv6 && !a.Is6()) {
			return "", fmt.Errorf("bad address")
		}
		k, _ := t.KeyAddr(a)
		return k, nil
	case Integer:
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return "", err
		}
		return t.KeyInt(int64(v)), nil
	case Binary:
		b, err := hex.DecodeString(s)
		if err != nil || len(b) > t.KeyLen {
			return "", fmt.Errorf("bad binary key")
		}
		return t.KeyBytes(b), nil
	}
	return t.KeyBytes([]byte(s)), nil
}

// FormatKey writes a key as "show table" does.
func (t *Table) FormatKey(k string) string {
	switch t.Type {
	case IP:
		return netip.AddrFrom4([4]byte([]byte(k))).String()
	case IPv6:
		a := netip.AddrFrom16([16]byte([]byte(k)))
		return a.String()
	case Integer:
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint32([]byte(k))), 10)
	case Binary:
		return strings.ToUpper(hex.EncodeToString([]byte(k)))
	}
	return dumpText(k)
}

// dumpText is HAProxy's dump_text: printable bytes as they are, the
// others escaped.
func dumpText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			return b.String()
		case c == ' ':
			b.WriteString("\\ ")
		case c == '\t':
			b.WriteString("\\t")
		case c == '\n':
			b.WriteString("\\n")
		case c == '\r':
			b.WriteString("\\r")
		case c == '\\':
			b.WriteString("\\\\")
		case c == '=':
			b.WriteString("\\=")
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
