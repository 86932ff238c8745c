package proxy

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// proxyV2Sig is the PROXY protocol version 2 signature.
var proxyV2Sig = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// sendProxyHeader queues the PROXY header (send-proxy or send-proxy-v2)
// before any client byte.
func (s *session) sendProxyHeader() {
	var buf [108]byte
	var h []byte
	if s.srv.Config.SendProxyV2 {
		h = appendProxyV2(buf[:0], s.src, s.dstAddr())
	} else {
		h = appendProxyV1(buf[:0], s.src, s.dstAddr())
	}
	s.pend[0] = s.l.bufs.get(h)
}

// appendProxyV1 appends a PROXY protocol v1 line.
func appendProxyV1(b []byte, src, dst netip.AddrPort) []byte {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	if !sa.IsValid() || !da.IsValid() || sa.Is4() != da.Is4() {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	if sa.Is4() {
		b = append(b, "PROXY TCP4 "...)
	} else {
		b = append(b, "PROXY TCP6 "...)
	}
	b = sa.AppendTo(b)
	b = append(b, ' ')
	b = da.AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(src.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dst.Port()), 10)
	return append(b, "\r\n"...)
}

// appendProxyV2 appends a PROXY protocol v2 header (command PROXY, TCP over
// IPv4 or IPv6; LOCAL when the addresses are unknown).
func appendProxyV2(b []byte, src, dst netip.AddrPort) []byte {
	b = append(b, proxyV2Sig[:]...)
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	switch {
	case sa.IsValid() && da.IsValid() && sa.Is4() && da.Is4():
		b = append(b, 0x21, 0x11, 0, 12)
		s4, d4 := sa.As4(), da.As4()
		b = append(b, s4[:]...)
		b = append(b, d4[:]...)
	case sa.IsValid() && da.IsValid():
		b = append(b, 0x21, 0x21, 0, 36)
		s16, d16 := src.Addr().As16(), dst.Addr().As16()
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
	default:
		return append(b, 0x20, 0x00, 0, 0)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}
