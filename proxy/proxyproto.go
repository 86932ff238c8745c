package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// proxyV2Sig is the PROXY protocol version 2 signature.
var proxyV2Sig = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// sendProxyHeader queues the PROXY header (send-proxy or send-proxy-v2)
// before any client byte.
func (s *session) sendProxyHeader() {
	var buf [512]byte
	var h []byte
	if s.srv.Config.SendProxyV2 {
		var uid []byte
		if s.srv.Config.PPv2.UniqueID {
			uid = s.uniqueID()
		}
		h = appendTLVs(appendProxyV2(buf[:0], s.src, s.dstAddr()), 0, s.srv.Config.PPv2, s.pp, uid, s.appendProxyV2SSL)
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

// Bounds of an incoming PROXY header: v1 lines are at most 107 bytes; v2
// headers are bounded here to 16 bytes plus 2 KiB of addresses and TLVs.
const (
	maxProxyV1 = 107
	maxProxyV2 = 16 + 2048
)

// defaultHeaderTimeout bounds the wait for a PROXY header when the frontend
// has no timeout client.
const defaultHeaderTimeout = 10 * time.Second

// headerTimeout is how long a client may take to send its PROXY header.
func headerTimeout(f *Frontend) time.Duration {
	if f.timeoutClient > 0 {
		return f.timeoutClient
	}
	return defaultHeaderTimeout
}

// proxyHdrErr is a PROXY header refused, with HAProxy's connection error.
type proxyHdrErr connErr

func (e proxyHdrErr) Error() string { return connErr(e).String() }

// The ways a PROXY header is refused, as HAProxy's conn_recv_proxy().
var (
	errProxyTrunc    error = proxyHdrErr(cerrPrxTrunc)    // too short for any header
	errProxyNotHdr   error = proxyHdrErr(cerrPrxNotHdr)   // neither signature
	errProxyBadHdr   error = proxyHdrErr(cerrPrxBadHdr)   // a header, badly formed
	errProxyBadProto error = proxyHdrErr(cerrPrxBadProto) // a v1 protocol other than TCP4, TCP6, UNKNOWN
)

// notAHeader is the error for bytes b that start neither header: HAProxy
// calls fewer than a v2 header's 16 bytes truncated.
func notAHeader(b []byte) error {
	if len(b) < 16 {
		return errProxyTrunc
	}
	return errProxyNotHdr
}

// proxyHeader is a parsed incoming PROXY header.
type proxyHeader struct {
	size     int  // bytes the header takes
	local    bool // LOCAL command or unknown family: keep the real addresses
	src, dst netip.AddrPort
	// v2 TLVs kept (slices of the header bytes; proxytlv.go).
	authority, uniqueID []byte
}

// parseProxyHeader parses a PROXY header (v1 or v2) at the start of b. It
// returns ok=false with a nil error when more bytes are needed.
func parseProxyHeader(b []byte) (h proxyHeader, ok bool, err error) {
	if len(b) >= 1 && b[0] == proxyV2Sig[0] {
		return parseProxyV2(b)
	}
	return parseProxyV1(b)
}

func parseProxyV1(b []byte) (proxyHeader, bool, error) {
	const prefix = "PROXY "
	n := min(len(b), len(prefix))
	if string(b[:n]) != prefix[:n] {
		return proxyHeader{}, false, notAHeader(b)
	}
	end := bytes.Index(b[:min(len(b), maxProxyV1)], []byte("\r\n"))
	if end < 0 {
		if len(b) >= maxProxyV1 {
			return proxyHeader{}, false, errProxyBadHdr
		}
		return proxyHeader{}, false, nil
	}
	h := proxyHeader{size: end + 2}
	f := strings.Split(string(b[len(prefix):end]), " ")
	switch {
	case len(f) >= 1 && f[0] == "UNKNOWN":
		h.local = true
		return h, true, nil
	case len(f) == 5 && (f[0] == "TCP4" || f[0] == "TCP6"):
	case len(f) >= 1 && f[0] != "TCP4" && f[0] != "TCP6":
		return proxyHeader{}, false, errProxyBadProto
	default:
		return proxyHeader{}, false, errProxyBadHdr
	}
	src, err1 := netip.ParseAddr(f[1])
	dst, err2 := netip.ParseAddr(f[2])
	sp, err3 := strconv.ParseUint(f[3], 10, 16)
	dp, err4 := strconv.ParseUint(f[4], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || src.Is4() != (f[0] == "TCP4") || dst.Is4() != src.Is4() {
		return proxyHeader{}, false, errProxyBadHdr
	}
	h.src = netip.AddrPortFrom(src, uint16(sp))
	h.dst = netip.AddrPortFrom(dst, uint16(dp))
	return h, true, nil
}

func parseProxyV2(b []byte) (proxyHeader, bool, error) {
	n := min(len(b), len(proxyV2Sig))
	if !bytes.Equal(b[:n], proxyV2Sig[:n]) {
		return proxyHeader{}, false, notAHeader(b)
	}
	if len(b) < 16 {
		return proxyHeader{}, false, nil
	}
	verCmd, fam := b[12], b[13]
	size := 16 + int(binary.BigEndian.Uint16(b[14:16]))
	switch {
	case verCmd>>4 != 2:
		return proxyHeader{}, false, errProxyNotHdr
	case verCmd&0x0f > 1 || size > maxProxyV2:
		return proxyHeader{}, false, errProxyBadHdr
	}
	if len(b) < size {
		return proxyHeader{}, false, nil
	}
	h := proxyHeader{size: size}
	a := b[16:size]
	switch {
	case verCmd&0x0f == 0:
		h.local = true
	case fam == 0x11 && len(a) >= 12:
		h.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[0:4])), binary.BigEndian.Uint16(a[8:10]))
		h.dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[4:8])), binary.BigEndian.Uint16(a[10:12]))
		var ok bool
		if h.authority, h.uniqueID, ok = parseTLVs(b[:size], 16+12); !ok {
			return proxyHeader{}, false, errProxyBadHdr
		}
	case fam == 0x21 && len(a) >= 36:
		h.src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[0:16])).Unmap(), binary.BigEndian.Uint16(a[32:34]))
		h.dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[16:32])).Unmap(), binary.BigEndian.Uint16(a[34:36]))
		var ok bool
		if h.authority, h.uniqueID, ok = parseTLVs(b[:size], 16+36); !ok {
			return proxyHeader{}, false, errProxyBadHdr
		}
	case fam == 0x11 || fam == 0x21:
		return proxyHeader{}, false, errProxyBadHdr
	default:
		h.local = true // UDP, unix or unspecified: addresses not usable
	}
	return h, true, nil
}

// readProxyHeader reads the PROXY header of an accept-proxy client: it
// peeks, waits for the whole header (bounded in size and time), consumes
// exactly the header, then starts the session with the addresses it gave.
func (s *session) readProxyHeader() {
	fd := int(s.cfd)
	buf := s.l.scratch[:maxProxyV2]
	n, _, err := unix.Recvfrom(fd, buf, unix.MSG_PEEK)
	switch {
	case err == unix.EAGAIN:
		s.flags &^= fR(0)
		return
	case err == unix.EINTR:
		return
	case err != nil:
		s.connFailedEarly(cerrPrxAbort, termCliAbortReq)
		return
	case n == 0:
		s.connFailedEarly(cerrPrxEmpty, termCliAbortReq)
		return
	}
	h, ok, perr := parseProxyHeader(buf[:n])
	if perr == nil && !ok && n == len(buf) {
		perr = errProxyBadHdr
	}
	if perr != nil {
		var code proxyHdrErr
		errors.As(perr, &code)
		s.connFailedEarly(connErr(code), termBadReq)
		return
	}
	if !ok {
		if s.has(fHup(0)) {
			// The client ended its part of a header: the rest never comes.
			s.connFailedEarly(cerrPrxTrunc, termBadReq)
			return
		}
		s.flags &^= fR(0) // the rest will come with a new edge
		return
	}
	if m, err := unix.Read(fd, buf[:h.size]); err != nil || m != h.size {
		s.connFailedEarly(cerrPrxAbort, termCliAbortReq)
		return
	}
	if !h.local {
		s.src, s.dst = h.src, h.dst
		s.flags |= fDstKnown
		s.flags &^= fUnixCli
	}
	if h.authority != nil || h.uniqueID != nil {
		s.pp = &ppInfo{authority: cloneBytes(h.authority), uniqueID: cloneBytes(h.uniqueID)}
	}
	s.state = stNew
	s.stExp = 0
	ci := &s.l.ci
	*ci = connInfo{src: s.src, s: s, final: true}
	if s.fe.needDst {
		ci.dst = s.dstAddr()
	}
	s.start(ci)
}

// proxyHeaderExpired runs when the header's time passed: whatever part
// of it came is truncated.
func (s *session) proxyHeaderExpired() {
	var b [1]byte
	if n, _, err := unix.Recvfrom(int(s.cfd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT); err == nil && n > 0 {
		s.connFailedEarly(cerrPrxTrunc, termCliTimeoutReq)
		return
	}
	s.connFailedEarly(cerrPrxTimeout, termCliTimeoutReq)
}

// cloneBytes copies b (nil stays nil).
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
