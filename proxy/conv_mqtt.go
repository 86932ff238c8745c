package proxy

import (
	"fmt"

	"goproxy/internal/mqtt"
	"goproxy/parser"
)

// The MQTT converters read the first packet of the bytes at hand (a
// client's CONNECT, a server's CONNACK). As HAProxy, their result is
// final once the packet is complete, valid or not, even where the fetch
// was not; a packet cut short leaves no sample that may change, so a
// tcp-request content rule waits for more within its inspect-delay.

// compileMQTT compiles mqtt_is_valid and mqtt_field_value.
func (c *converter) compileMQTT(pc parser.Converter) error {
	c.in = castBin
	if pc.Name == "mqtt_is_valid" {
		c.kind = cvMQTTValid
		return nil
	}
	c.kind = cvMQTTField
	c.mqttType = mqtt.TypeID(argOr(pc.Args, 0))
	c.mqttField = mqtt.FieldID(c.mqttType, argOr(pc.Args, 1))
	if c.mqttField == mqtt.FieldInvalid {
		return fmt.Errorf("converter '%s': unknown MQTT field '%s' for packet type '%s'", pc.Name, argOr(pc.Args, 1), argOr(pc.Args, 0))
	}
	return nil
}

// applyMQTT converts smp, a binary sample.
func (c *converter) applyMQTT(smp *sample) bool {
	if c.kind == cvMQTTValid {
		switch mqtt.Validate(smp.b) {
		case mqtt.NeedMore:
			smp.mayChange = true
			return false
		case mqtt.Valid:
			*smp = sample{typ: smpBool, i: 1}
		default:
			*smp = sample{typ: smpBool}
		}
		return true
	}
	v, res := mqtt.FieldValue(smp.b, c.mqttType, c.mqttField)
	switch res {
	case mqtt.Valid:
		*smp = sample{typ: smpStr, b: v}
		return true
	case mqtt.NeedMore:
		smp.mayChange = true
	default:
		smp.mayChange = false
	}
	return false
}
