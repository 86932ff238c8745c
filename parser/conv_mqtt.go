package parser

import (
	"fmt"

	"goproxy/internal/mqtt"
)

// The MQTT converters: mqtt_is_valid takes the client's (or server's)
// first bytes and tells whether they hold a valid CONNECT or CONNACK;
// mqtt_field_value(<type>,<field>) extracts one of its fields.
func init() {
	convDefs["mqtt_is_valid"] = convDef{"bin", "bool", nil, 0}
	convDefs["mqtt_field_value"] = convDef{"bin", "str", []argKind{argStr, argStr}, 2}
}

// checkMQTTArity reports mqtt_field_value given fewer than two
// arguments (even without its closing ')'), with HAProxy's message, which
// counts one argument given either way.
func checkMQTTArity(name string, args []string) convError {
	if name == "mqtt_field_value" && len(args) < 2 {
		return convError(fmt.Sprintf("invalid arg 2 in converter '%s' : missing arguments (got 1/2), type 'string' expected", name))
	}
	return ""
}

// checkMQTTArgs resolves mqtt_field_value's packet type (a name or a
// number) and field (a name or a 5.0 property identifier); args are as
// written, an empty one included.
func checkMQTTArgs(name string, args []string) convError {
	if name != "mqtt_field_value" {
		return ""
	}
	typ := mqtt.TypeID(args[0])
	if typ == mqtt.Invalid {
		return convError(fmt.Sprintf("invalid args in converter '%s' : Unknown MQTT type '%s'", name, args[0]))
	}
	if mqtt.FieldID(typ, args[1]) == mqtt.FieldInvalid {
		return convError(fmt.Sprintf("invalid args in converter '%s' : Unknown MQTT field name '%s' for packet type '%s'", name, args[1], args[0]))
	}
	return ""
}
