// Package mqtt validates the first MQTT packet of each direction (a
// client's CONNECT, a server's CONNACK) and extracts its fields, for the
// mqtt_is_valid and mqtt_field_value converters. It follows HAProxy 2.6's
// reading of MQTT 3.1, 3.1.1 and 5.0 (with the 5.0 properties): what a
// message must hold to be valid, when it is only incomplete (more bytes
// may complete it), and the text each field gives.
//
//	switch mqtt.Validate(buf) {
//	case mqtt.Valid: ...
//	case mqtt.NeedMore: // wait for more bytes
//	}
//	v, st := mqtt.FieldValue(buf, mqtt.Connect, mqtt.FieldClientIdentifier)
//
// It imports only the standard library.
package mqtt

import "strings"

// Packet types (the 4 high bits of a packet's first byte).
const (
	Invalid = iota
	Connect
	Connack
	Publish
	Puback
	Pubrec
	Pubrel
	Pubcomp
	Subscribe
	Suback
	Unsubscribe
	Unsuback
	Pingreq
	Pingresp
	Disconnect
	Auth
	typeEntries
)

var typeNames = [typeEntries]string{"", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC",
	"PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ",
	"PINGRESP", "DISCONNECT", "AUTH"}

// TypeID reads a packet type as a converter argument: its number (1 to
// 15) or its name, case-insensitive. It returns Invalid for anything
// else. As HAProxy, the number is read without checking for digits
// (every byte counts as its value minus '0', in 32-bit arithmetic).
func TypeID(s string) int {
	var u uint32
	for i := 0; i < len(s); i++ {
		u = u*10 - '0'
		u += uint32(s[i])
	}
	if id := int32(u); id >= Connect && id < typeEntries {
		return int(id)
	}
	for id := Connect; id < typeEntries; id++ {
		if strings.EqualFold(s, typeNames[id]) {
			return id
		}
	}
	return Invalid
}

// Field is a field mqtt_field_value extracts: a name or a 5.0 property.
type Field uint8

// Fields, in HAProxy's order (MQTT_FN_*).
const (
	FieldInvalid Field = iota
	FieldFlags
	FieldReasonCode
	FieldProtocolName
	FieldProtocolVersion
	FieldClientIdentifier
	FieldWillTopic
	FieldWillPayload
	FieldUsername
	FieldPassword
	FieldKeepalive
	FieldPayloadFormatIndicator
	FieldMessageExpiryInterval
	FieldContentType
	FieldResponseTopic
	FieldCorrelationData
	FieldSubscriptionIdentifier
	FieldSessionExpiryInterval
	FieldAssignedClientIdentifier
	FieldServerKeepalive
	FieldAuthenticationMethod
	FieldAuthenticationData
	FieldRequestProblemInformation
	FieldDelayInterval
	FieldRequestResponseInformation
	FieldResponseInformation
	FieldServerReference
	FieldReasonString
	FieldReceiveMaximum
	FieldTopicAliasMaximum
	FieldTopicAlias
	FieldMaximumQoS
	FieldRetainAvailable
	FieldUserProperty
	FieldMaximumPacketSize
	FieldWildcardSubscriptionAvailable
	FieldSubscriptionIdentifiersAvailable
	FieldSharedSubscriptionAvailable
	fieldEntries
)

// fieldNames are the names a configuration gives the fields: the 5.0
// properties by their identifier.
var fieldNames = [fieldEntries]string{"", "flags", "reason_code", "protocol_name",
	"protocol_version", "client_identifier", "will_topic", "will_payload", "username",
	"password", "keepalive", "1", "2", "3", "8", "9", "11", "17", "18", "19", "21", "22",
	"23", "24", "25", "26", "28", "31", "33", "34", "35", "36", "37", "38", "39", "40",
	"41", "42"}

func bits(fs ...Field) uint64 {
	var b uint64
	for _, f := range fs {
		b |= 1 << f
	}
	return b
}

// fieldsOf are the fields a configuration may ask of each packet type.
// Some can be named but never found: every field of the types other than
// CONNECT and CONNACK, and the user property.
var fieldsOf = [typeEntries]uint64{
	Connect: bits(FieldProtocolName, FieldProtocolVersion, FieldFlags, FieldKeepalive,
		FieldSessionExpiryInterval, FieldReceiveMaximum, FieldMaximumPacketSize,
		FieldTopicAliasMaximum, FieldRequestResponseInformation, FieldRequestProblemInformation,
		FieldUserProperty, FieldAuthenticationMethod, FieldAuthenticationData,
		FieldClientIdentifier, FieldDelayInterval, FieldPayloadFormatIndicator,
		FieldMessageExpiryInterval, FieldContentType, FieldResponseTopic, FieldCorrelationData,
		FieldWillTopic, FieldWillPayload, FieldUsername, FieldPassword),
	Connack: bits(FieldFlags, FieldProtocolVersion, FieldReasonCode, FieldSessionExpiryInterval,
		FieldReceiveMaximum, FieldMaximumQoS, FieldRetainAvailable, FieldMaximumPacketSize,
		FieldAssignedClientIdentifier, FieldTopicAliasMaximum, FieldReasonString,
		FieldWildcardSubscriptionAvailable, FieldSubscriptionIdentifiersAvailable,
		FieldSharedSubscriptionAvailable, FieldServerKeepalive, FieldResponseInformation,
		FieldServerReference, FieldUserProperty, FieldAuthenticationMethod,
		FieldAuthenticationData),
	Publish: bits(FieldPayloadFormatIndicator, FieldMessageExpiryInterval, FieldContentType,
		FieldResponseTopic, FieldCorrelationData, FieldSubscriptionIdentifier, FieldTopicAlias,
		FieldUserProperty),
	Puback:      bits(FieldReasonCode, FieldReasonString, FieldUserProperty),
	Pubrec:      bits(FieldReasonCode, FieldReasonString, FieldUserProperty),
	Pubrel:      bits(FieldReasonCode, FieldReasonString, FieldUserProperty),
	Pubcomp:     bits(FieldReasonCode, FieldReasonString, FieldUserProperty),
	Subscribe:   bits(FieldSubscriptionIdentifier, FieldUserProperty),
	Suback:      bits(FieldReasonString, FieldUserProperty),
	Unsubscribe: bits(FieldUserProperty),
	Unsuback:    bits(FieldReasonString, FieldUserProperty),
	Disconnect: bits(FieldReasonCode, FieldSessionExpiryInterval, FieldServerReference,
		FieldReasonString, FieldUserProperty),
	Auth: bits(FieldAuthenticationMethod, FieldAuthenticationData, FieldReasonString,
		FieldUserProperty),
}

// FieldID reads a field argument (a name or a property identifier, names
// case-insensitive) for packet type typ; FieldInvalid when the name is
// unknown or not one of typ's fields.
func FieldID(typ int, s string) Field {
	if typ <= Invalid || typ >= typeEntries {
		return FieldInvalid
	}
	for f := FieldInvalid; f < fieldEntries; f++ {
		if strings.EqualFold(s, fieldNames[f]) {
			if fieldsOf[typ]&(1<<f) != 0 {
				return f
			}
			return FieldInvalid
		}
	}
	return FieldInvalid
}
