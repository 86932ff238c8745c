// Package tlshello parses the first bytes a TLS client sends (the record
// carrying its ClientHello) for content inspection: the req.ssl_sni,
// req.ssl_alpn, req.ssl_ec_ext, req.ssl_hello_type and req.ssl_ver fetches.
// Every length is checked against the bytes at hand: a hello cut short
// reports Short (more bytes may complete it), a malformed one Bad, as
// HAProxy's payload.c tells "too_short" from "not_ssl_hello".
//
//	h, st := tlshello.Parse(firstBytes)
//	if st == tlshello.OK && h.SNI != nil { ... }
//
// The functions allocate nothing; the slices they return point into b.
//
// It imports only the standard library.
package tlshello

// Status is the outcome of a parse.
type Status int

// Statuses.
const (
	OK    Status = iota
	Short        // the bytes end before the message: wait for more
	Bad          // not a TLS hello, or a malformed one
)

// BufSize is HAProxy's default buffer size (tune.bufsize). RequestVersion
// waits for no more of a message than fits the buffer it is given. Parse
// and HandshakeType report a longer hello Short, as HAProxy: the caller's
// buffer limit decides.
const BufSize = 16384

// Hello is what the fetches read from a ClientHello.
type Hello struct {
	SNI   []byte // first host_name of the server_name extension; nil: none
	ALPN  []byte // protocol_name_list of the ALPN extension (see NextProtocol); nil: none
	ECExt bool   // supported_groups (ex elliptic_curves) extension present
}

// Parse parses the TLS record and handshake headers, the
// ClientHello's version, random, session id, cipher suites, compression
// methods and extensions. It needs the whole handshake message, which it
// looks for in the first record.
func Parse(b []byte) (Hello, Status) {
	var h Hello
	if len(b) < 1 {
		return h, Short
	}
	if b[0] != 0x16 { // handshake record
		return h, Bad
	}
	if len(b) < 3 {
		return h, Short
	}
	if b[1] < 0x03 { // SSLv3 or later record layer
		return h, Bad
	}
	if len(b) < 5 {
		return h, Short
	}
	const minHello = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2
	if int(b[3])<<8|int(b[4]) < 4+minHello {
		return h, Bad
	}
	b = b[5:]
	if len(b) < 1 {
		return h, Short
	}
	if b[0] != 0x01 { // client_hello
		return h, Bad
	}
	if len(b) < 4 {
		return h, Short
	}
	n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if n < minHello {
		return h, Bad
	}
	// A hello larger than the buffer stays Short: as HAProxy, the rules
	// wait until the buffer is full or the delay expires, then fail.
	if len(b) < 4+n {
		return h, Short
	}
	m := b[4 : 4+n]
	if m[0] < 0x03 || m[1] < 0x01 { // TLSv1 minimum
		return h, Bad
	}
	sid := int(m[34])
	if sid > 32 || 35+sid > len(m) {
		return h, Bad
	}
	m = m[35+sid:]
	if len(m) < 4 {
		return h, Bad
	}
	cs := int(m[0])<<8 | int(m[1])
	if cs < 2 || 2+cs > len(m) {
		return h, Bad
	}
	m = m[2+cs:]
	if len(m) < 2 || m[0] < 1 || 1+int(m[0]) > len(m) {
		return h, Bad
	}
	m = m[1+int(m[0]):]
	if len(m) < 2 {
		return h, Bad
	}
	el := int(m[0])<<8 | int(m[1])
	if el > len(m)-2 {
		return h, Bad
	}
	m = m[2 : 2+el]
	for len(m) >= 4 {
		typ := int(m[0])<<8 | int(m[1])
		l := int(m[2])<<8 | int(m[3])
		if l > len(m)-4 {
			return h, Bad
		}
		e := m[4 : 4+l]
		switch typ {
		case 0: // server_name
			if h.SNI != nil {
				break
			}
			if len(e) < 2 {
				return h, Bad
			}
			ll := int(e[0])<<8 | int(e[1])
			if ll < 4 || ll > len(e)-2 {
				return h, Bad
			}
			if e[2] == 0 { // host_name
				nl := int(e[3])<<8 | int(e[4])
				if 5+nl > len(e) {
					return h, Bad
				}
				h.SNI = e[5 : 5+nl]
			}
		case 16: // application_layer_protocol_negotiation
			if h.ALPN != nil {
				break
			}
			if len(e) < 3 {
				return h, Bad
			}
			ll := int(e[0])<<8 | int(e[1])
			if ll < 2 || ll > len(e)-2 {
				return h, Bad
			}
			list := e[2 : 2+ll]
			for rest := list; len(rest) > 0; {
				var ok bool
				if _, rest, ok = NextProtocol(rest); !ok {
					return h, Bad
				}
			}
			h.ALPN = list
		case 10: // supported_groups, ex elliptic_curves
			h.ECExt = true
		}
		m = m[4+l:]
	}
	return h, OK
}

// HandshakeType returns the handshake type of the first record
// (req.ssl_hello_type: 1 ClientHello, 2 ServerHello), once the whole
// fragment is there.
func HandshakeType(b []byte) (int, Status) {
	if len(b) < 1 {
		return 0, Short
	}
	if !(b[0] >= 0x14 && b[0] <= 0x17) && b[0] != 0xff {
		return 0, Bad
	}
	if len(b) < 9 {
		return 0, Short
	}
	if int(b[1])<<16|int(b[2]) < 0x030000 {
		return 0, Bad
	}
	if int(b[3])<<8|int(b[4]) < 4 {
		return 0, Bad
	}
	n := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
	if len(b) < n+9 {
		return 0, Short
	}
	return int(b[5]), OK
}

// RequestVersion returns the version the client's hello asks for
// (req.ssl_ver: major<<16 | minor), SSLv3+ records and SSLv2 hellos, as
// HAProxy's smp_fetch_req_ssl_ver: the hello's version, not the record's.
func RequestVersion(b []byte, bufSize int) (int, Status) {
	if len(b) < 1 {
		return 0, Short
	}
	var version, msgLen, left int
	if (b[0] >= 0x14 && b[0] <= 0x17) || b[0] == 0xff {
		if len(b) < 11 {
			return 0, Short
		}
		if int(b[1])<<16|int(b[2]) < 0x030000 {
			return 0, Bad
		}
		msgLen = int(b[3])<<8 | int(b[4])
		if msgLen < 6 || msgLen > 1<<14+2048 {
			return 0, Bad
		}
		version = int(b[9])<<16 | int(b[10])
		left = len(b) - 5
	} else {
		// SSLv2 header, only for a hello (message type 1).
		var rlen, plen int
		d := b
		if d[0]&0x80 != 0 {
			if len(d) < 3 {
				return 0, Short
			}
			rlen = int(d[0]&0x7f)<<8 | int(d[1])
			d = d[2:]
		} else {
			if len(d) < 4 {
				return 0, Short
			}
			rlen = int(d[0]&0x3f)<<8 | int(d[1])
			plen = int(d[2])
			d = d[3:]
		}
		if d[0] != 0x01 {
			return 0, Bad
		}
		d = d[1:]
		if len(d) < 8 {
			return 0, Short
		}
		version = int(d[0])<<16 | int(d[1])
		cilen := int(d[2])<<8 | int(d[3])
		silen := int(d[4])<<8 | int(d[5])
		chlen := int(d[6])<<8 | int(d[7])
		d = d[8:]
		if cilen%3 != 0 || (silen != 0 && silen != 16) || chlen < 16 || chlen > 32 || rlen != 9+cilen+silen+chlen {
			return 0, Bad
		}
		msgLen = cilen + silen + chlen + plen
		left = len(d)
	}
	if limit := bufSize - (len(b) - left); msgLen > limit {
		msgLen = limit
	}
	if left < msgLen {
		return 0, Short
	}
	return version, OK
}

// NextProtocol splits the first protocol name off an ALPN
// protocol_name_list; ok is false when the list is malformed.
func NextProtocol(list []byte) (name, rest []byte, ok bool) {
	if len(list) < 1 {
		return nil, nil, false
	}
	n := int(list[0])
	if n == 0 || 1+n > len(list) {
		return nil, nil, false
	}
	return list[1 : 1+n], list[1+n:], true
}
