package mqtt

import "bytes"

// Result is the outcome of a validation.
type Result int

// Results.
const (
	Bad      Result = iota // not a valid CONNECT or CONNACK
	NeedMore               // cut short: more bytes may complete it
	Valid
)

// Connect flags.
const (
	flReserved = 0x01
	flWill     = 0x04
	flWillQoS  = 0x18
	flRetain   = 0x20
	flPassword = 0x40
	flUsername = 0x80
)

// Protocol versions.
const (
	Version311 = 4
	Version5   = 5
)

// Property identifiers.
const (
	propPayloadFormat      = 0x01
	propMessageExpiry      = 0x02
	propContentType        = 0x03
	propResponseTopic      = 0x08
	propCorrelationData    = 0x09
	propSessionExpiry      = 0x11
	propAssignedClientID   = 0x12
	propServerKeepalive    = 0x13
	propAuthMethod         = 0x15
	propAuthData           = 0x16
	propRequestProblemInfo = 0x17
	propWillDelay          = 0x18
	propRequestRespInfo    = 0x19
	propResponseInfo       = 0x1A
	propServerReference    = 0x1C
	propReasonString       = 0x1F
	propReceiveMaximum     = 0x21
	propTopicAliasMaximum  = 0x22
	propMaximumQoS         = 0x24
	propRetainAvailable    = 0x25
	propUserProperty       = 0x26
	propMaximumPacketSize  = 0x27
	propWildcardSub        = 0x28
	propSubIDsAvailable    = 0x29
	propSharedSub          = 0x2A
)

// fixedFlags are the flags each packet type's first byte must carry.
var fixedFlags = [typeEntries]byte{Publish: 0x0F, Pubrel: 0x02, Subscribe: 0x02, Unsubscribe: 0x02}

// Packet is a parsed CONNECT or CONNACK. Absent integers are 0, absent
// strings empty; the slices point into the parsed bytes.
type Packet struct {
	Type            int
	RemainingLength uint32
	ProtocolName    []byte // CONNECT
	ProtocolVersion uint8  // CONNACK: 4 for a 2-byte body, 5 otherwise
	Flags           uint8
	Keepalive       uint16 // CONNECT
	ReasonCode      uint8  // CONNACK
	// 5.0 properties of the variable header.
	SessionExpiry, MaximumPacketSize    uint32
	ReceiveMaximum, TopicAliasMaximum   uint16
	ServerKeepalive                     uint16
	RequestRespInfo, RequestProblemInfo uint8
	MaximumQoS, RetainAvailable         uint8
	WildcardSub, SubIDsAvailable        uint8
	SharedSub                           uint8
	AuthMethod, AuthData                []byte
	AssignedClientID, ReasonString      []byte
	ResponseInfo, ServerReference       []byte
	// CONNECT payload, with the 5.0 will properties.
	ClientID                           []byte
	WillDelay, WillMessageExpiry       uint32
	WillPayloadFormat                  uint8
	WillContentType, WillResponseTopic []byte
	WillCorrelationData                []byte
	WillTopic, WillPayload             []byte
	Username, Password                 []byte
}

// reader reads MQTT's encodings; a read past the end sets bad.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.bad = true
		return 0
	}
	v := uint32(r.b[0])<<24 | uint32(r.b[1])<<16 | uint32(r.b[2])<<8 | uint32(r.b[3])
	r.b = r.b[4:]
	return v
}

func (r *reader) str() []byte {
	n := r.u16()
	if r.bad || len(r.b) < int(n) {
		r.bad = true
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

// varint reads a variable byte integer of at most 4 bytes (a fourth
// byte with its continuation bit is refused); as HAProxy, a number cut
// short by the end of the bytes is taken as read so far.
func (r *reader) varint() uint32 {
	var v uint32
	shift := 0
	n := 0
	for ; n < 4 && len(r.b) > 0; n++ {
		c := r.b[0]
		r.b = r.b[1:]
		v += uint32(c&127) << shift
		shift += 7
		if c <= 127 {
			break
		}
	}
	if n == 4 {
		r.bad = true
	}
	return v
}

// Validate reports whether msg starts with a valid CONNECT or CONNACK
// making up all of msg.
func Validate(msg []byte) Result {
	_, res := Parse(msg)
	return res
}

// Parse parses msg as one CONNECT or CONNACK: the packet when Valid.
// Every other packet type is Bad once its announced length is at hand.
func Parse(msg []byte) (*Packet, Result) {
	if len(msg) < 2 {
		return nil, NeedMore
	}
	p := &Packet{}
	typ, flags := int(msg[0]>>4), msg[0]&0x0F
	if typ == Invalid || flags != fixedFlags[typ] {
		return nil, Bad
	}
	p.Type = typ
	r := reader{b: msg[1:]}
	p.RemainingLength = r.varint()
	if r.bad {
		return nil, Bad
	}
	if uint64(len(r.b)) < uint64(p.RemainingLength) {
		return nil, NeedMore
	}
	var res Result
	switch typ {
	case Connect:
		res = p.parseConnect(r.b)
	case Connack:
		res = p.parseConnack(r.b)
	default:
		return nil, Bad
	}
	if res != Valid {
		return nil, res
	}
	return p, Valid
}

// consumed tells whether reading the body from b (all the bytes after
// the fixed header, not only the announced length, as HAProxy) used
// exactly the announced length: then the packet is valid.
func (p *Packet) consumed(b []byte, r *reader) Result {
	if !r.bad && uint64(len(b)-len(r.b)) == uint64(p.RemainingLength) {
		return Valid
	}
	return Bad
}

// props returns the reader of a 5.0 property list, advancing r past it.
func props(r *reader) (reader, bool) {
	n := r.varint()
	if r.bad || uint64(len(r.b)) < uint64(n) {
		return reader{}, false
	}
	pr := reader{b: r.b[:n]}
	r.b = r.b[n:]
	return pr, true
}

func (p *Packet) parseConnect(b []byte) Result {
	r := &reader{b: b}
	p.ProtocolName = r.str()
	if r.bad || !(bytes.EqualFold(p.ProtocolName, []byte("MQTT")) || bytes.EqualFold(p.ProtocolName, []byte("MQIsdp"))) {
		return Bad
	}
	p.ProtocolVersion = r.u8()
	if r.bad || p.ProtocolVersion < 3 || p.ProtocolVersion > Version5 {
		return Bad
	}
	p.Flags = r.u8()
	if r.bad || p.Flags&flReserved != 0 {
		return Bad
	}
	// HAProxy refuses only a will QoS of 3 with neither the will nor
	// the will retain flag.
	if p.Flags&(flWill|flWillQoS|flRetain) == flWillQoS {
		return Bad
	}
	p.Keepalive = r.u16()
	if r.bad {
		return Bad
	}
	if p.ProtocolVersion == Version5 {
		pr, ok := props(r)
		if !ok || !p.connectProps(&pr) {
			return Bad
		}
	}
	if len(p.AuthMethod) == 0 && len(p.AuthData) != 0 {
		return Bad
	}
	p.ClientID = r.str()
	if r.bad {
		return Bad
	}
	if p.ProtocolVersion == Version5 && p.Flags&flWill != 0 {
		pr, ok := props(r)
		if !ok || !p.willProps(&pr) {
			return Bad
		}
	}
	if p.Flags&flWill != 0 {
		p.WillTopic = r.str()
		p.WillPayload = r.str()
	}
	if p.Flags&flUsername != 0 {
		p.Username = r.str()
	}
	if p.Flags&flPassword != 0 {
		p.Password = r.str()
	}
	return p.consumed(b, r)
}

// once tracks the properties seen: each but the user property at most once.
type once uint64

func (o *once) first(f Field) bool {
	if *o&(1<<f) != 0 {
		return false
	}
	*o |= 1 << f
	return true
}

// bool01 reads a 1-byte property that must be 0 or 1.
func bool01(r *reader) (uint8, bool) {
	v := r.u8()
	return v, v <= 1
}

func (p *Packet) connectProps(r *reader) bool {
	var seen once
	for len(r.b) > 0 && !r.bad {
		id := r.u8()
		ok := true
		switch id {
		case propSessionExpiry:
			ok = seen.first(FieldSessionExpiryInterval)
			p.SessionExpiry = r.u32()
		case propReceiveMaximum:
			ok = seen.first(FieldReceiveMaximum)
			p.ReceiveMaximum = r.u16()
			ok = ok && p.ReceiveMaximum != 0
		case propMaximumPacketSize:
			ok = seen.first(FieldMaximumPacketSize)
			p.MaximumPacketSize = r.u32()
			ok = ok && p.MaximumPacketSize != 0
		case propTopicAliasMaximum:
			ok = seen.first(FieldTopicAlias)
			p.TopicAliasMaximum = r.u16()
		case propRequestRespInfo:
			ok = seen.first(FieldRequestResponseInformation)
			var in bool
			p.RequestRespInfo, in = bool01(r)
			ok = ok && in
		case propRequestProblemInfo:
			ok = seen.first(FieldRequestProblemInformation)
			var in bool
			p.RequestProblemInfo, in = bool01(r)
			ok = ok && in
		case propUserProperty:
			r.str()
			r.str()
		case propAuthMethod:
			ok = seen.first(FieldAuthenticationMethod)
			p.AuthMethod = r.str()
		case propAuthData:
			ok = seen.first(FieldAuthenticationData)
			p.AuthData = r.str()
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return !r.bad
}

func (p *Packet) willProps(r *reader) bool {
	var seen once
	for len(r.b) > 0 && !r.bad {
		id := r.u8()
		ok := true
		switch id {
		case propWillDelay:
			ok = seen.first(FieldDelayInterval)
			p.WillDelay = r.u32()
		case propPayloadFormat:
			ok = seen.first(FieldPayloadFormatIndicator)
			var in bool
			p.WillPayloadFormat, in = bool01(r)
			ok = ok && in
		case propMessageExpiry:
			ok = seen.first(FieldMessageExpiryInterval)
			p.WillMessageExpiry = r.u32()
		case propContentType:
			ok = seen.first(FieldContentType)
			p.WillContentType = r.str()
		case propResponseTopic:
			ok = seen.first(FieldResponseTopic)
			p.WillResponseTopic = r.str()
		case propCorrelationData:
			ok = seen.first(FieldCorrelationData)
			p.WillCorrelationData = r.str()
		case propUserProperty:
			r.str()
			r.str()
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return !r.bad
}

func (p *Packet) parseConnack(b []byte) Result {
	if len(b) < 2 {
		return Bad
	}
	// HAProxy tells the versions apart by the bytes at hand: exactly
	// two after the fixed header is 3.1.1, more is 5.0.
	p.ProtocolVersion = Version5
	if len(b) == 2 {
		p.ProtocolVersion = Version311
	}
	r := &reader{b: b}
	p.Flags = r.u8()
	if p.Flags&0xFE != 0 {
		return Bad
	}
	p.ReasonCode = r.u8()
	if p.ProtocolVersion == Version311 {
		return p.consumed(b, r)
	}
	pr, ok := props(r)
	if !ok {
		return Bad
	}
	if res := p.connackProps(&pr); res != Valid {
		return res
	}
	return p.consumed(b, r)
}

// connackProps reads a CONNACK's properties. As HAProxy, an unknown
// property reads as NeedMore, not Bad.
func (p *Packet) connackProps(r *reader) Result {
	var seen once
	for len(r.b) > 0 && !r.bad {
		id := r.u8()
		ok, in := true, true
		switch id {
		case propSessionExpiry:
			ok = seen.first(FieldSessionExpiryInterval)
			p.SessionExpiry = r.u32()
		case propReceiveMaximum:
			ok = seen.first(FieldReceiveMaximum)
			p.ReceiveMaximum = r.u16()
			in = p.ReceiveMaximum != 0
		case propMaximumQoS:
			ok = seen.first(FieldMaximumQoS)
			p.MaximumQoS, in = bool01(r)
		case propRetainAvailable:
			ok = seen.first(FieldRetainAvailable)
			p.RetainAvailable, in = bool01(r)
		case propMaximumPacketSize:
			ok = seen.first(FieldMaximumPacketSize)
			p.MaximumPacketSize = r.u32()
			in = p.MaximumPacketSize != 0
		case propAssignedClientID:
			ok = seen.first(FieldAssignedClientIdentifier)
			p.AssignedClientID = r.str()
			in = len(p.AssignedClientID) != 0
		case propTopicAliasMaximum:
			ok = seen.first(FieldTopicAliasMaximum)
			p.TopicAliasMaximum = r.u16()
		case propReasonString:
			ok = seen.first(FieldReasonString)
			p.ReasonString = r.str()
		case propWildcardSub:
			ok = seen.first(FieldWildcardSubscriptionAvailable)
			p.WildcardSub, in = bool01(r)
		case propSubIDsAvailable:
			ok = seen.first(FieldSubscriptionIdentifier) // HAProxy's bit for it
			p.SubIDsAvailable, in = bool01(r)
		case propSharedSub:
			ok = seen.first(FieldSharedSubscriptionAvailable)
			p.SharedSub, in = bool01(r)
		case propServerKeepalive:
			ok = seen.first(FieldServerKeepalive)
			p.ServerKeepalive = r.u16()
		case propResponseInfo:
			ok = seen.first(FieldResponseInformation)
			p.ResponseInfo = r.str()
		case propServerReference:
			ok = seen.first(FieldServerReference)
			p.ServerReference = r.str()
		case propUserProperty:
			r.str()
			r.str()
		case propAuthMethod:
			ok = seen.first(FieldAuthenticationMethod)
			p.AuthMethod = r.str()
		case propAuthData:
			ok = seen.first(FieldAuthenticationData)
			p.AuthData = r.str()
		default:
			return NeedMore
		}
		if !ok || !in {
			return Bad
		}
	}
	if r.bad {
		return Bad
	}
	return Valid
}
