package proxy

// Parsing of the TLS ClientHello a client sends first, for the req.ssl_*
// fetches. Every length is checked against the bytes at hand: a hello cut
// short reports helloShort (more bytes may complete it), a malformed one
// helloBad, as HAProxy's payload.c distinguishes "too_short" from
// "not_ssl_hello".

// Results of the hello parsers.
const (
	helloOK = iota
	helloShort
	helloBad
)

// clientHello is what the fetches read from a ClientHello; the slices point
// into the parsed buffer.
type clientHello struct {
	sni   []byte // first host_name of the server_name extension; nil: none
	alpn  []byte // first protocol of the ALPN extension; nil: none
	ecExt bool   // supported_groups (elliptic_curves) extension present
}

// parseClientHello parses the TLS record and handshake headers, the
// ClientHello's version, random, session id, cipher suites, compression
// methods and extensions. It needs the whole handshake message, which it
// looks for in the first record.
func parseClientHello(b []byte) (clientHello, int) {
	var h clientHello
	if len(b) < 1 {
		return h, helloShort
	}
	if b[0] != 0x16 { // handshake record
		return h, helloBad
	}
	if len(b) < 3 {
		return h, helloShort
	}
	if b[1] < 0x03 { // SSLv3 or later record layer
		return h, helloBad
	}
	if len(b) < 5 {
		return h, helloShort
	}
	const minHello = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2
	if int(b[3])<<8|int(b[4]) < 4+minHello {
		return h, helloBad
	}
	b = b[5:]
	if len(b) < 1 {
		return h, helloShort
	}
	if b[0] != 0x01 { // client_hello
		return h, helloBad
	}
	if len(b) < 4 {
		return h, helloShort
	}
	n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if n < minHello {
		return h, helloBad
	}
	if 5+4+n > inspectBufSize {
		return h, helloBad // cannot fit the inspection buffer
	}
	if len(b) < 4+n {
		return h, helloShort
	}
	m := b[4 : 4+n]
	if m[0] < 0x03 || m[1] < 0x01 { // TLSv1 minimum
		return h, helloBad
	}
	sid := int(m[34])
	if sid > 32 || 35+sid > len(m) {
		return h, helloBad
	}
	m = m[35+sid:]
	if len(m) < 4 {
		return h, helloBad
	}
	cs := int(m[0])<<8 | int(m[1])
	if cs < 2 || 2+cs > len(m) {
		return h, helloBad
	}
	m = m[2+cs:]
	if len(m) < 2 || m[0] < 1 || 1+int(m[0]) > len(m) {
		return h, helloBad
	}
	m = m[1+int(m[0]):]
	if len(m) < 2 {
		return h, helloBad
	}
	el := int(m[0])<<8 | int(m[1])
	if el > len(m)-2 {
		return h, helloBad
	}
	m = m[2 : 2+el]
	for len(m) >= 4 {
		typ := int(m[0])<<8 | int(m[1])
		l := int(m[2])<<8 | int(m[3])
		if l > len(m)-4 {
			return h, helloBad
		}
		e := m[4 : 4+l]
		switch typ {
		case 0: // server_name
			if h.sni != nil {
				break
			}
			if len(e) < 2 {
				return h, helloBad
			}
			ll := int(e[0])<<8 | int(e[1])
			if ll < 4 || ll > len(e)-2 {
				return h, helloBad
			}
			if e[2] == 0 { // host_name
				nl := int(e[3])<<8 | int(e[4])
				if 5+nl > len(e) {
					return h, helloBad
				}
				h.sni = e[5 : 5+nl]
			}
		case 16: // application_layer_protocol_negotiation
			if h.alpn != nil {
				break
			}
			if len(e) < 3 {
				return h, helloBad
			}
			pl := int(e[2])
			if pl == 0 || 3+pl > len(e) {
				return h, helloBad
			}
			h.alpn = e[3 : 3+pl]
		case 10: // supported_groups, ex elliptic_curves
			h.ecExt = true
		}
		m = m[4+l:]
	}
	return h, helloOK
}

// sslHelloType returns the handshake type of the first record
// (req.ssl_hello_type: 1 ClientHello, 2 ServerHello), once the whole
// fragment is there.
func sslHelloType(b []byte) (int, int) {
	if len(b) < 1 {
		return 0, helloShort
	}
	if !(b[0] >= 0x14 && b[0] <= 0x17) && b[0] != 0xff {
		return 0, helloBad
	}
	if len(b) < 9 {
		return 0, helloShort
	}
	if int(b[1])<<16|int(b[2]) < 0x030000 {
		return 0, helloBad
	}
	if int(b[3])<<8|int(b[4]) < 4 {
		return 0, helloBad
	}
	n := int(b[6])<<16 | int(b[7])<<8 | int(b[8])
	if n+9 > inspectBufSize {
		return 0, helloBad
	}
	if len(b) < n+9 {
		return 0, helloShort
	}
	return int(b[5]), helloOK
}

// sslRequestVersion returns the version the client's hello asks for
// (req.ssl_ver: major<<16 | minor), SSLv3+ records and SSLv2 hellos, as
// HAProxy's smp_fetch_req_ssl_ver: the hello's version, not the record's.
func sslRequestVersion(b []byte) (int, int) {
	if len(b) < 1 {
		return 0, helloShort
	}
	var version, msgLen, left int
	if (b[0] >= 0x14 && b[0] <= 0x17) || b[0] == 0xff {
		if len(b) < 11 {
			return 0, helloShort
		}
		if int(b[1])<<16|int(b[2]) < 0x030000 {
			return 0, helloBad
		}
		msgLen = int(b[3])<<8 | int(b[4])
		if msgLen < 6 || msgLen > 1<<14+2048 {
			return 0, helloBad
		}
		version = int(b[9])<<16 | int(b[10])
		left = len(b) - 5
	} else {
		// SSLv2 header, only for a hello (message type 1).
		var rlen, plen int
		d := b
		if d[0]&0x80 != 0 {
			if len(d) < 3 {
				return 0, helloShort
			}
			rlen = int(d[0]&0x7f)<<8 | int(d[1])
			d = d[2:]
		} else {
			if len(d) < 4 {
				return 0, helloShort
			}
			rlen = int(d[0]&0x3f)<<8 | int(d[1])
			plen = int(d[2])
			d = d[3:]
		}
		if d[0] != 0x01 {
			return 0, helloBad
		}
		d = d[1:]
		if len(d) < 8 {
			return 0, helloShort
		}
		version = int(d[0])<<16 | int(d[1])
		cilen := int(d[2])<<8 | int(d[3])
		silen := int(d[4])<<8 | int(d[5])
		chlen := int(d[6])<<8 | int(d[7])
		d = d[8:]
		if cilen%3 != 0 || (silen != 0 && silen != 16) || chlen < 16 || chlen > 32 || rlen != 9+cilen+silen+chlen {
			return 0, helloBad
		}
		msgLen = cilen + silen + chlen + plen
		left = len(d)
	}
	if limit := inspectBufSize - (len(b) - left); msgLen > limit {
		msgLen = limit
	}
	if left < msgLen {
		return 0, helloShort
	}
	return version, helloOK
}
