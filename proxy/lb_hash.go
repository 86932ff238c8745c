package proxy

import "net/netip"

// fullHash is Bob Jenkins' 32-bit full avalanche integer hash followed by a
// multiplication by a large prime, as HAProxy's full_hash(). All arithmetic is
// modulo 2^32.
func fullHash(a uint32) uint32 {
	a = (a + 0x7ed55d16) + (a << 12)
	a = (a ^ 0xc761c23c) ^ (a >> 19)
	a = (a + 0x165667b1) + (a << 5)
	a = (a + 0xd3a2646c) ^ (a << 9)
	a = (a + 0xfd7046c5) + (a << 3)
	a = (a ^ 0xb55a4f09) ^ (a >> 16)
	return a * 3221225473
}

// sourceFold is the hash HAProxy's balance source computes from a client
// address before any avalanche: the XOR of its big-endian 32-bit words (the
// IPv4 address itself, or four words of an IPv6 address). An IPv4-mapped IPv6
// address is hashed as 16 bytes, as HAProxy does on a dual-stack socket, so
// callers must pass the address the way the socket reported it. ok is false
// for an invalid address (not an IP client).
func sourceFold(a netip.Addr) (h uint32, ok bool) {
	switch {
	case a.Is4():
		b := a.As4()
		return be32(b[:]), true
	case a.Is6():
		b := a.As16()
		return be32(b[0:4]) ^ be32(b[4:8]) ^ be32(b[8:12]) ^ be32(b[12:16]), true
	}
	return 0, false
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
