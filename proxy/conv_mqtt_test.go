package proxy

import (
	"testing"

	"goproxy/parser"
)

// mqttConnect is a 3.1.1 CONNECT from client "dev-1" with username "u".
var mqttConnect = []byte{0x10, 0x14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x82, 0, 60,
	0, 5, 'd', 'e', 'v', '-', '1', 0, 1, 'u'}

func TestMQTTConverters(t *testing.T) {
	compile := func(name string, args ...string) converter {
		t.Helper()
		cs, err := compileConverters([]parser.Converter{{Name: name, Args: args}}, nil)
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		return cs[0]
	}
	valid := compile("mqtt_is_valid")
	cid := compile("mqtt_field_value", "connect", "client_identifier")
	pass := compile("mqtt_field_value", "1", "password")
	tests := []struct {
		name          string
		conv          converter
		in            []byte
		ok, mayChange bool
		typ           uint8
		want          string
		wantBool      int64
	}{
		{"valid", valid, mqttConnect, true, false, smpBool, "", 1},
		{"invalid", valid, append([]byte{0x30}, mqttConnect[1:]...), true, false, smpBool, "", 0},
		{"cut short", valid, mqttConnect[:10], false, true, 0, "", 0},
		{"client id", cid, mqttConnect, true, false, smpStr, "dev-1", 0},
		{"client id cut short", cid, mqttConnect[:20], false, true, 0, "", 0},
		{"no password", pass, mqttConnect, false, false, 0, "", 0},
	}
	for _, tc := range tests {
		// The payload fetch may change; a complete packet's result does not.
		smp := sample{typ: smpBin, b: tc.in, mayChange: true}
		ok := applyConverters([]converter{tc.conv}, &smp)
		if ok != tc.ok || smp.mayChange != tc.mayChange {
			t.Errorf("%s: ok %v mayChange %v, want %v %v", tc.name, ok, smp.mayChange, tc.ok, tc.mayChange)
			continue
		}
		if !ok {
			continue
		}
		if smp.typ != tc.typ || string(smp.b) != tc.want || (tc.typ == smpBool && smp.i != tc.wantBool) {
			t.Errorf("%s: got type %d %q %d", tc.name, smp.typ, smp.b, smp.i)
		}
	}
}
