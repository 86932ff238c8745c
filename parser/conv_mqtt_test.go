package parser

import (
	"strings"
	"testing"
)

// TestMQTTConverterArgs checks the MQTT converters' arguments with
// HAProxy's messages (TestMQTTCheckDifferential compares them with
// haproxy -c).
func TestMQTTConverterArgs(t *testing.T) {
	tests := []struct{ conv, want string }{
		{"mqtt_is_valid", ""},
		{"mqtt_field_value(connect,client_identifier)", ""},
		{"mqtt_field_value(CONNACK,18)", ""},
		{"mqtt_field_value(2,reason_code)", ""},
		{"mqtt_field_value(connect,38)", ""},
		{"mqtt_is_valid(1)", "invalid arg 1 in converter 'mqtt_is_valid' : expected ')' before '1)'"},
		{"mqtt_field_value", "invalid arg 2 in converter 'mqtt_field_value' : missing arguments (got 1/2), type 'string' expected"},
		{"mqtt_field_value(connect", "invalid arg 2 in converter 'mqtt_field_value' : missing arguments (got 1/2), type 'string' expected"},
		{"mqtt_field_value(connect,username", "invalid arg 2 in converter 'mqtt_field_value' : expected ')'"},
		{"mqtt_field_value(connect,username,x)", "invalid arg 2 in converter 'mqtt_field_value' : expected ')' before ',x)'"},
		{"mqtt_field_value(0,flags)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT type '0'"},
		{"mqtt_field_value(,flags)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT type ''"},
		{"mqtt_field_value(connect,18)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT field name '18' for packet type 'connect'"},
		{"mqtt_field_value(connect,)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT field name '' for packet type 'connect'"},
		{"mqtt_field_value(pingreq,flags)", "invalid args in converter 'mqtt_field_value' : Unknown MQTT field name 'flags' for packet type 'pingreq'"},
	}
	for _, tc := range tests {
		expr := "req.payload(0,0)," + tc.conv
		text := "defaults\n    mode tcp\nfrontend fe\n    bind 127.0.0.1:1\n    tcp-request content reject if { " + expr + " -m found }\n"
		_, err := Parse("t.cfg", text, Options{})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if tc.want == "" {
			if strings.Contains(got, "converter") {
				t.Errorf("%s: unexpected %s", tc.conv, got)
			}
			continue
		}
		want := "while parsing 'if' condition : " + tc.want + " in ACL expression '" + expr + "'"
		if !strings.Contains(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.conv, got, want)
		}
	}
	// An address casts to bytes: accepted, as HAProxy.
	if _, err := Parse("t.cfg", "defaults\n    mode tcp\nfrontend fe\n    bind 127.0.0.1:1\n    tcp-request content reject unless { src,mqtt_is_valid }\n", Options{}); err != nil && strings.Contains(err.Error(), "mqtt") {
		t.Errorf("src,mqtt_is_valid: %v", err)
	}
}
