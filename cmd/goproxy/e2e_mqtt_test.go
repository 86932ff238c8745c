package main

import (
	"net"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mqttString encodes an MQTT string (2-byte length, then the bytes).
func mqttString(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

// mqttConnect builds a CONNECT packet of protocol level version (4: 3.1.1,
// 5: 5.0, with a session expiry property) from client id, with a username
// when user is not empty.
func mqttConnect(version byte, id, user string) []byte {
	flags := byte(0x02)
	if user != "" {
		flags |= 0x80
	}
	body := append(mqttString("MQTT"), version, flags, 0, 60)
	if version == 5 {
		body = append(body, 5, 0x11, 0, 0, 0x0e, 0x10)
	}
	body = append(body, mqttString(id)...)
	if user != "" {
		body = append(body, mqttString(user)...)
	}
	return append([]byte{0x10, byte(len(body))}, body...)
}

// mqttSend connects, writes the packet in the given pieces (a pause
// between them) and returns the server's greeting, or "" when the proxy
// closes the connection without one.
func mqttSend(t *testing.T, addr string, pieces ...[]byte) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, p := range pieces {
		if i > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		if _, err := c.Write(p); err != nil {
			return ""
		}
	}
	name, err := readName(c)
	if err != nil {
		return ""
	}
	return name
}

// TestE2EMQTTStickiness keeps MQTT clients on their server by client id
// on goproxy and haproxy: a content rule lets only valid MQTT through
// (waiting within the inspect-delay for a CONNECT split in two, rejecting
// half a CONNECT when the delay ends), a string
// stick table keyed by mqtt_field_value(connect,client_identifier) sends
// each id back to its server under round robin, and the username read by
// mqtt_field_value is logged. Both land the clients alike and log the
// same lines.
func TestE2EMQTTStickiness(t *testing.T) {
	line := regexp.MustCompile(`haproxy\[\d+\]: (.*)`)
	type run struct{ servers, logs []string }
	got := map[string]run{}
	conns := []struct {
		version  byte
		id, user string
		split    bool
	}{
		{4, "alpha", "ann", false}, {5, "beta", "", false}, {4, "gamma", "gus", false},
		{5, "alpha", "ann", false}, {4, "alpha", "", true}, {4, "gamma", "gus", false},
		{5, "beta", "bob", true}, {4, "beta", "", false}, {5, "alpha", "ann", false},
	}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 3)
		sink := startSyslog(t)
		addr, _ := e2eCfg{
			defaults: []string{"log " + sink.addr() + " local2"},
			frontend: []string{
				"tcp-request inspect-delay 1s",
				"tcp-request content reject unless { req.payload(0,0),mqtt_is_valid }",
				"tcp-request content set-var(sess.user) req.payload(0,0),mqtt_field_value(connect,username)",
				"tcp-request content set-var(sess.ver) req.payload(0,0),mqtt_field_value(1,protocol_version)",
				"log-format \"%[var(sess.user)] v%[var(sess.ver)] %b/%s\"",
			},
			backend: []string{
				"balance roundrobin",
				"stick-table type string len 32 size 100",
				"stick on req.payload(0,0),mqtt_field_value(connect,client_identifier)",
			},
			servers: srvLines(ss, []int{1, 1, 1}),
		}.runWith(t, bin)
		var r run
		byID := map[string]string{}
		for _, c := range conns {
			pkt := mqttConnect(c.version, c.id, c.user)
			pieces := [][]byte{pkt}
			if c.split {
				pieces = [][]byte{pkt[:7], pkt[7:]}
			}
			name := mqttSend(t, addr, pieces...)
			if name == "" {
				t.Fatalf("%s (split %v): no server answered", c.id, c.split)
			}
			if prev, ok := byID[c.id]; ok && prev != name {
				t.Errorf("client %s went to %s, then %s", c.id, prev, name)
			}
			byID[c.id] = name
			r.servers = append(r.servers, c.id+"@"+name)
			r.logs = append(r.logs, sink.next(t, line, 3*time.Second)[1])
		}
		if len(map[string]bool{byID["alpha"]: true, byID["beta"]: true, byID["gamma"]: true}) != 3 {
			t.Errorf("the three clients share servers: %v", byID)
		}
		// Not MQTT (a PUBLISH first, a bad protocol name): rejected.
		bad := mqttConnect(4, "delta", "")
		bad[4] = 'X'
		for _, p := range [][]byte{bad, append([]byte{0x30, 3}, mqttString("t")...)} {
			if name := mqttSend(t, addr, p); name != "" {
				t.Errorf("% x reached %s", p, name)
			}
			r.logs = append(r.logs, sink.next(t, line, 3*time.Second)[1])
		}
		// Half a CONNECT and no more: rejected once the inspect delay ends.
		start := time.Now()
		if name := mqttSend(t, addr, mqttConnect(4, "half", "")[:9]); name != "" {
			t.Errorf("half a CONNECT reached %s", name)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("half a CONNECT rejected after %v, before the inspect delay", d)
		}
		r.logs = append(r.logs, sink.next(t, line, 3*time.Second)[1])
		want := []string{"ann v4 be/", "- v5 be/", "gus v4 be/", "ann v5 be/", "- v4 be/", "gus v4 be/",
			"bob v5 be/", "- v4 be/", "ann v5 be/", "- v- fe/<NOSRV>", "- v- fe/<NOSRV>", "- v- fe/<NOSRV>"}
		for i, l := range r.logs {
			if i >= len(want) || !strings.HasPrefix(l, want[i]) {
				t.Errorf("log line %d: %q, want %q...", i, l, want[min(i, len(want)-1)])
			}
		}
		got[t.Name()] = r
	})
	if len(got) == 2 && !reflect.DeepEqual(got["TestE2EMQTTStickiness/goproxy"], got["TestE2EMQTTStickiness/haproxy"]) {
		t.Errorf("goproxy and haproxy differ:\n%q\n%q", got["TestE2EMQTTStickiness/goproxy"], got["TestE2EMQTTStickiness/haproxy"])
	}
}
