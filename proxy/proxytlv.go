package proxy

import (
	"encoding/binary"
	"hash/crc32"

	"goproxy/parser"
)

// PROXY protocol v2 TLVs (type-length-value records after the addresses),
// as HAProxy 2.6 reads and writes them: on accept-proxy, the authority
// (the host name the client asked for) and the unique id are kept for
// fc_pp_authority and fc_pp_unique_id, a CRC32C is verified, the others are
// skipped; toward a server, proxy-v2-options crc32c and authority add
// theirs.

// PROXY v2 TLV types.
const (
	pp2TypeALPN      = 0x01
	pp2TypeAuthority = 0x02
	pp2TypeCRC32C    = 0x03
	pp2TypeUniqueID  = 0x05
)

// HAProxy's bounds of the TLVs it keeps.
const (
	pp2AuthorityMax = 255
	pp2UniqueIDMax  = 128
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ppInfo is what a client's PROXY header carried beyond the addresses.
type ppInfo struct {
	authority, uniqueID []byte
}

// parseTLVs reads the TLVs of a v2 header hdr (the whole header, its
// addresses ending at off). It returns false for a malformed list, a TLV
// too long or a checksum that does not match, as HAProxy rejects them;
// authority and uniqueID slice into hdr.
func parseTLVs(hdr []byte, off int) (authority, uniqueID []byte, ok bool) {
	for off < len(hdr) {
		if off+3 > len(hdr) {
			return nil, nil, false
		}
		typ := hdr[off]
		n := int(binary.BigEndian.Uint16(hdr[off+1 : off+3]))
		v := off + 3
		off = v + n
		if off > len(hdr) {
			return nil, nil, false
		}
		switch typ {
		case pp2TypeCRC32C:
			if n != 4 || !crcMatches(hdr, v) {
				return nil, nil, false
			}
		case pp2TypeAuthority:
			if n > pp2AuthorityMax {
				return nil, nil, false
			}
			authority = hdr[v:off]
		case pp2TypeUniqueID:
			if n > pp2UniqueIDMax {
				return nil, nil, false
			}
			uniqueID = hdr[v:off]
		}
	}
	return authority, uniqueID, true
}

// crcMatches checks the CRC32C of hdr whose checksum field is at v: the
// checksum of the header with that field zeroed.
func crcMatches(hdr []byte, v int) bool {
	want := binary.BigEndian.Uint32(hdr[v : v+4])
	var zero [4]byte
	c := crc32.Update(0, castagnoli, hdr[:v])
	c = crc32.Update(c, castagnoli, zero[:])
	c = crc32.Update(c, castagnoli, hdr[v+4:])
	return c == want
}

// appendTLVs adds the TLVs of a server's proxy-v2-options to the v2
// header h (start: its first byte) and fixes its length; pp is what the
// client's own header carried (nil: nothing); uid is the session's unique
// id, sent with unique-id (empty without unique-id-format, as HAProxy
// sends it); ssl, when not nil, adds the
// SSL TLV, which HAProxy writes after the others and before the CRC32C
// is computed.
func appendTLVs(h []byte, start int, opts parser.PPv2Options, pp *ppInfo, uid []byte, ssl func([]byte) []byte) []byte {
	crcAt := -1
	if opts.CRC32C {
		crcAt = len(h) + 3
		h = append(h, pp2TypeCRC32C, 0, 4, 0, 0, 0, 0)
	}
	if opts.Authority && pp != nil && pp.authority != nil {
		h = appendTLV(h, pp2TypeAuthority, pp.authority)
	}
	if opts.UniqueID {
		h = appendTLV(h, pp2TypeUniqueID, uid)
	}
	if ssl != nil {
		h = ssl(h)
	}
	binary.BigEndian.PutUint16(h[start+14:start+16], uint16(len(h)-start-16))
	if crcAt >= 0 {
		binary.BigEndian.PutUint32(h[crcAt:], crc32.Checksum(h[start:], castagnoli))
	}
	return h
}

func appendTLV(h []byte, typ byte, v []byte) []byte {
	h = append(h, typ)
	h = binary.BigEndian.AppendUint16(h, uint16(len(v)))
	return append(h, v...)
}

func fetchPPAuthority(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil || c.s.pp == nil || c.s.pp.authority == nil {
		return sample{}, false
	}
	return sample{typ: smpStr, b: c.s.pp.authority}, true
}

func fetchPPUniqueID(_ *fetchArgs, c *connInfo) (sample, bool) {
	if c.s == nil || c.s.pp == nil || c.s.pp.uniqueID == nil {
		return sample{}, false
	}
	return sample{typ: smpStr, b: c.s.pp.uniqueID}, true
}
