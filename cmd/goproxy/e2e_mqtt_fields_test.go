package main

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mqttFieldPackets are packets whose fields goproxy and haproxy must read
// alike: 5.0 with properties and will properties, 3.1.1 and 3.1, CONNACKs
// (sent by the client here: the converters read any bytes), and invalid
// or odd ones.
func mqttFieldPackets() map[string][]byte {
	s := mqttString
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	pkt := func(first byte, body ...[]byte) []byte {
		b := cat(body...)
		return cat([]byte{first, byte(len(b))}, b)
	}
	props := cat([]byte{0x11, 0, 0, 0, 120}, []byte{0x21, 0, 10}, []byte{0x27, 0, 1, 0, 0},
		[]byte{0x22, 0, 5}, []byte{0x19, 1}, []byte{0x26}, s("k"), s("v"), []byte{0x15}, s("SCRAM"), []byte{0x16}, s("xyz"))
	will := cat([]byte{0x18, 0, 0, 0, 7}, []byte{0x01, 1}, []byte{0x02, 0, 0, 1, 0},
		[]byte{0x03}, s("text/plain"), []byte{0x08}, s("resp"), []byte{0x09}, s("corr"))
	ackProps := cat([]byte{0x11, 0, 0, 1, 0}, []byte{0x21, 0, 20}, []byte{0x24, 1}, []byte{0x12}, s("auto-1"), []byte{0x1F}, s("ok"))
	return map[string][]byte{
		"v5 full": pkt(0x10, s("MQTT"), []byte{5, 0xC0 | 0x04 | 0x08 | 0x02, 0, 30}, []byte{byte(len(props))}, props,
			s("dev-5"), []byte{byte(len(will))}, will, s("wt"), s("wp"), s("bob"), s("pw")),
		"v5 bare":     pkt(0x10, s("MQTT"), []byte{5, 0x02, 0, 0, 0}, s("bare")),
		"v311 will":   pkt(0x10, s("MQTT"), []byte{4, 0x04 | 0x20 | 0x80, 0x01, 0x2C}, s("c-311"), s("wt"), s("bye"), s("ann")),
		"v31":         pkt(0x10, s("MQIsdp"), []byte{3, 0x02, 0, 10}, s("old")),
		"empty id":    pkt(0x10, s("MQTT"), []byte{4, 0x02, 0, 10}, s("")),
		"reserved":    pkt(0x10, s("MQTT"), []byte{4, 0x03, 0, 10}, s("r")),
		"and pingreq": cat(pkt(0x10, s("MQTT"), []byte{4, 0x02, 0, 10}, s("p")), []byte{0xC0, 0}),
		"publish":     pkt(0x30, s("t/x"), []byte("hello")),
		"connack 311": {0x20, 0x02, 0x01, 0x00},
		// An unknown CONNACK property reads as "need more": the rule
		// waits out the inspect delay and sets nothing.
		"connack unknown property": {0x20, 0x05, 0, 0, 2, 0x03, 0},
		"connack v5":               pkt(0x20, []byte{0, 0x87, byte(len(ackProps))}, ackProps),
	}
}

// TestE2EMQTTFields logs every CONNECT and CONNACK field mqtt_field_value
// reads, and mqtt_is_valid, for packets of each version, on goproxy and
// haproxy: the lines must be the same.
func TestE2EMQTTFields(t *testing.T) {
	connect := []string{"flags", "protocol_name", "protocol_version", "client_identifier", "will_topic",
		"will_payload", "username", "password", "keepalive", "17", "33", "39", "34", "25", "23", "21",
		"22", "24", "1", "2", "3", "8", "9", "38"}
	connack := []string{"flags", "reason_code", "protocol_version", "17", "33", "36", "18", "31", "19"}
	frontend := []string{
		"tcp-request inspect-delay 1s",
		"tcp-request content set-var(sess.valid) req.payload(0,0),mqtt_is_valid if { req.payload(0,0),mqtt_is_valid -m found }",
	}
	var format []string
	add := func(typ string, fields []string) {
		for i, f := range fields {
			v := "sess." + typ + string(rune('a'+i))
			frontend = append(frontend, "tcp-request content set-var("+v+") req.payload(0,0),mqtt_field_value("+typ+","+f+")")
			format = append(format, "%[var("+v+")]")
		}
	}
	add("connect", connect)
	add("connack", connack)
	frontend = append(frontend, "log-format \"%[var(sess.valid)] "+strings.Join(format, "|")+"\"")
	packets := mqttFieldPackets()
	var names []string
	for n := range packets {
		names = append(names, n)
	}
	line := regexp.MustCompile(`haproxy\[\d+\]: (.*)`)
	got := map[string]map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		addr, _ := e2eCfg{
			defaults: []string{"log " + sink.addr() + " local2"},
			frontend: frontend,
			servers:  srvLines(ss, []int{1}),
		}.runWith(t, bin)
		logs := map[string]string{}
		for _, n := range names {
			if name := mqttSend(t, addr, packets[n]); name != "s1" {
				t.Fatalf("%s: answered by %q", n, name)
			}
			logs[n] = sink.next(t, line, 3*time.Second)[1]
		}
		if want := "1 164|MQTT|4|c-311|wt|bye|ann|-|300|-|"; !strings.HasPrefix(logs["v311 will"], want) {
			t.Errorf("v311 will: %q, want %q...", logs["v311 will"], want)
		}
		if want := "- -|"; !strings.HasPrefix(logs["connack unknown property"], want) {
			t.Errorf("connack unknown property: %q, want %q...", logs["connack unknown property"], want)
		}
		if want := "0 -|"; !strings.HasPrefix(logs["reserved"], want) {
			t.Errorf("reserved: %q, want %q...", logs["reserved"], want)
		}
		for _, n := range names {
			t.Logf("%s: %s", n, logs[n])
		}
		got[t.Name()] = logs
	})
	g, h := got["TestE2EMQTTFields/goproxy"], got["TestE2EMQTTFields/haproxy"]
	if len(got) == 2 && !reflect.DeepEqual(g, h) {
		for _, n := range names {
			if g[n] != h[n] {
				t.Errorf("%s:\n goproxy %s\n haproxy %s", n, g[n], h[n])
			}
		}
	}
}
