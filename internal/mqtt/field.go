package mqtt

import "strconv"

// FieldValue extracts field f of a packet of type typ from msg, as
// HAProxy's mqtt_field_value: the value and Valid when found; NeedMore
// when msg is cut short (the value may come with more bytes); Bad when
// msg is invalid, of another type, or lacks the field. Integers come as
// decimal text (an absent 5.0 integer property reads as 0), strings as
// their bytes; an empty string is not found.
func FieldValue(msg []byte, typ int, f Field) ([]byte, Result) {
	p, res := Parse(msg)
	if res != Valid {
		return nil, res
	}
	if p.Type != typ {
		return nil, Bad
	}
	var v []byte
	var n uint64
	isInt := false
	num := func(x uint64) { n, isInt = x, true }
	v5 := p.ProtocolVersion == Version5
	will := v5 && p.Flags&flWill != 0
	switch typ {
	case Connect:
		switch f {
		case FieldFlags:
			num(uint64(p.Flags))
		case FieldProtocolName:
			v = p.ProtocolName
		case FieldProtocolVersion:
			num(uint64(p.ProtocolVersion))
		case FieldClientIdentifier:
			v = p.ClientID
		case FieldWillTopic:
			v = p.WillTopic
		case FieldWillPayload:
			v = p.WillPayload
		case FieldUsername:
			v = p.Username
		case FieldPassword:
			v = p.Password
		case FieldKeepalive:
			num(uint64(p.Keepalive))
		case FieldPayloadFormatIndicator:
			if will {
				num(uint64(p.WillPayloadFormat))
			}
		case FieldMessageExpiryInterval:
			if will {
				num(uint64(p.WillMessageExpiry))
			}
		case FieldContentType:
			if will {
				v = p.WillContentType
			}
		case FieldResponseTopic:
			if will {
				v = p.WillResponseTopic
			}
		case FieldCorrelationData:
			if will {
				v = p.WillCorrelationData
			}
		case FieldDelayInterval:
			if will {
				num(uint64(p.WillDelay))
			}
		case FieldSessionExpiryInterval:
			if v5 {
				num(uint64(p.SessionExpiry))
			}
		case FieldAuthenticationMethod:
			if v5 {
				v = p.AuthMethod
			}
		case FieldAuthenticationData:
			if v5 {
				v = p.AuthData
			}
		case FieldRequestProblemInformation:
			if v5 {
				num(uint64(p.RequestProblemInfo))
			}
		case FieldRequestResponseInformation:
			if v5 {
				num(uint64(p.RequestRespInfo))
			}
		case FieldReceiveMaximum:
			if v5 {
				num(uint64(p.ReceiveMaximum))
			}
		case FieldTopicAliasMaximum:
			if v5 {
				num(uint64(p.TopicAliasMaximum))
			}
		case FieldMaximumPacketSize:
			if v5 {
				num(uint64(p.MaximumPacketSize))
			}
		}
	case Connack:
		switch f {
		case FieldFlags:
			num(uint64(p.Flags))
		case FieldReasonCode:
			num(uint64(p.ReasonCode))
		case FieldProtocolVersion:
			num(uint64(p.ProtocolVersion))
		}
		if v5 {
			v, n, isInt = p.connackProp(f, v, n, isInt)
		}
	}
	if isInt {
		return strconv.AppendUint(nil, n, 10), Valid
	}
	if len(v) == 0 {
		return nil, Bad
	}
	return v, Valid
}

// connackProp reads a 5.0 CONNACK property field.
func (p *Packet) connackProp(f Field, v []byte, n uint64, isInt bool) ([]byte, uint64, bool) {
	ints := map[Field]uint64{
		FieldSessionExpiryInterval:            uint64(p.SessionExpiry),
		FieldServerKeepalive:                  uint64(p.ServerKeepalive),
		FieldReceiveMaximum:                   uint64(p.ReceiveMaximum),
		FieldTopicAliasMaximum:                uint64(p.TopicAliasMaximum),
		FieldMaximumQoS:                       uint64(p.MaximumQoS),
		FieldRetainAvailable:                  uint64(p.RetainAvailable),
		FieldMaximumPacketSize:                uint64(p.MaximumPacketSize),
		FieldWildcardSubscriptionAvailable:    uint64(p.WildcardSub),
		FieldSubscriptionIdentifiersAvailable: uint64(p.SubIDsAvailable),
		FieldSharedSubscriptionAvailable:      uint64(p.SharedSub),
	}
	if x, ok := ints[f]; ok {
		return nil, x, true
	}
	switch f {
	case FieldAssignedClientIdentifier:
		return p.AssignedClientID, 0, false
	case FieldAuthenticationMethod:
		return p.AuthMethod, 0, false
	case FieldAuthenticationData:
		return p.AuthData, 0, false
	case FieldResponseInformation:
		return p.ResponseInfo, 0, false
	case FieldServerReference:
		return p.ServerReference, 0, false
	case FieldReasonString:
		return p.ReasonString, 0, false
	}
	return v, n, isInt
}
