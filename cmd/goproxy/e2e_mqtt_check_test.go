package main

import "testing"

// TestMQTTCheckDifferential compares haproxy -c and goproxy -c on the
// MQTT converters: packet types by name and number, field names and
// property identifiers per type, argument counts and input types.
func TestMQTTCheckDifferential(t *testing.T) {
	t.Parallel()
	head := "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
		"frontend fe\n  bind 127.0.0.1:9\n  default_backend be\n  stick-table type string len 64 size 10\n"
	be := "backend be\n  server s1 127.0.0.1:1\n"
	var lines []string
	for _, c := range []string{
		"mqtt_is_valid", "mqtt_is_valid(1)", "mqtt_is_valid(", "mqtt_is_valid,mqtt_is_valid",
		"mqtt_field_value", "mqtt_field_value()", "mqtt_field_value(", "mqtt_field_value(connect)",
		"mqtt_field_value(connect", "mqtt_field_value(connect,username", "mqtt_field_value(connect,username,x)",
		"mqtt_field_value(connect,username)x", "mqtt_field_value(,username)", "mqtt_field_value(connect,)",
		"mqtt_field_value(connect,client_identifier)", "mqtt_field_value(CONNECT,Client_Identifier)",
		"mqtt_field_value(1,username)", "mqtt_field_value(2,42)", "mqtt_field_value(Connack,18)",
		"mqtt_field_value(connect,18)", "mqtt_field_value(connect,24)", "mqtt_field_value(connect,38)",
		"mqtt_field_value(connect,reason_code)", "mqtt_field_value(connack,username)",
		"mqtt_field_value(foo,username)", "mqtt_field_value(0,flags)", "mqtt_field_value(16,flags)",
		"mqtt_field_value(15,21)", "mqtt_field_value(1abc,flags)", "mqtt_field_value(pingreq,flags)",
		"mqtt_field_value(publish,35)", "mqtt_field_value(auth,reason_code)",
		"mqtt_is_valid,mqtt_field_value(1,flags)", "mqtt_field_value(1,flags),mqtt_is_valid",
	} {
		lines = append(lines, "tcp-request content reject if { req.payload(0,0),"+c+" -m found }")
	}
	lines = append(lines,
		"tcp-request content reject unless { src,mqtt_is_valid }",
		"tcp-request content reject if { req.len,mqtt_field_value(connect,keepalive) -m str 60 }",
		"stick on req.payload(0,0),mqtt_field_value(connect,client_identifier)",
		"stick on req.payload(0,0),mqtt_field_value(connect,nope)",
		"tcp-request content set-var(sess.u) req.payload(0,0),mqtt_field_value(connect,username)",
		"tcp-request content set-var(sess.u) req.payload(0,0),mqtt_field_value(3,username)",
		"log-format \"%[req.payload(0,0),mqtt_field_value(connect,username)]\"",
		"log-format \"%[src,mqtt_field_value(connack,18)] %[str(x),mqtt_is_valid]\"",
		"log-format \"%[src,mqtt_field_value(connack,username)]\"",
	)
	compareCheckLines(t, head, be, lines)
}
