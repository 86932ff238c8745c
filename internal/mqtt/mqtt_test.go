package mqtt

import (
	"bytes"
	"testing"
)

// s encodes an MQTT string: 2-byte length then the bytes.
func s(v string) []byte { return append([]byte{byte(len(v) >> 8), byte(len(v))}, v...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// packet prefixes body with a fixed header (a 1-byte remaining length).
func packet(first byte, body ...[]byte) []byte {
	b := cat(body...)
	return cat([]byte{first, byte(len(b))}, b)
}

// connect311 is a 3.1.1 CONNECT: clean session, keepalive 60, client "c1".
func connect311() []byte {
	return packet(0x10, s("MQTT"), []byte{4, 0x02, 0, 60}, s("c1"))
}

// connect311Full has a will, a username and a password.
func connect311Full() []byte {
	return packet(0x10, s("MQTT"), []byte{4, 0xC2 | 0x04 | 0x08 | 0x20, 0x01, 0x2C},
		s("client-9"), s("w/topic"), s("bye"), s("alice"), s("secret"))
}

// connect5 is a 5.0 CONNECT with properties and will properties.
func connect5() []byte {
	props := cat([]byte{0x11, 0, 0, 0, 120}, []byte{0x21, 0, 10}, []byte{0x27, 0, 1, 0, 0},
		[]byte{0x22, 0, 5}, []byte{0x19, 1}, []byte{0x17, 0},
		[]byte{0x26}, s("k"), s("v"), []byte{0x15}, s("SCRAM"), []byte{0x16}, s("xyz"))
	will := cat([]byte{0x18, 0, 0, 0, 7}, []byte{0x01, 1}, []byte{0x02, 0, 0, 1, 0},
		[]byte{0x03}, s("text/plain"), []byte{0x08}, s("resp"), []byte{0x09}, s("corr"))
	return packet(0x10, s("MQTT"), []byte{5, 0x80 | 0x04 | 0x02, 0, 30},
		[]byte{byte(len(props))}, props, s("dev-5"), []byte{byte(len(will))}, will,
		s("wt"), s("wp"), s("bob"))
}

func field(t *testing.T, msg []byte, typ int, name string) (string, Result) {
	t.Helper()
	f := FieldID(typ, name)
	if f == FieldInvalid {
		t.Fatalf("FieldID(%d, %q) invalid", typ, name)
	}
	v, r := FieldValue(msg, typ, f)
	return string(v), r
}

func TestConnectFields(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
		want map[string]string // "" : not found
	}{
		{"3.1.1", connect311(), map[string]string{
			"protocol_name": "MQTT", "protocol_version": "4", "flags": "2", "keepalive": "60",
			"client_identifier": "c1", "username": "", "password": "", "will_topic": "",
			"17": "", "1": "", "38": "",
		}},
		{"3.1.1 will user password", connect311Full(), map[string]string{
			"flags": "238", "keepalive": "300", "client_identifier": "client-9",
			"will_topic": "w/topic", "will_payload": "bye", "username": "alice", "password": "secret",
		}},
		{"5.0", connect5(), map[string]string{
			"protocol_version": "5", "flags": "134", "client_identifier": "dev-5",
			"17": "120", "33": "10", "39": "65536", "34": "5", "25": "1", "23": "0",
			"21": "SCRAM", "22": "xyz", "24": "7", "1": "1", "2": "256", "3": "text/plain",
			"8": "resp", "9": "corr", "will_topic": "wt", "will_payload": "wp",
			"username": "bob", "password": "", "38": "",
		}},
	}
	for _, c := range cases {
		if r := Validate(c.msg); r != Valid {
			t.Fatalf("%s: Validate = %d", c.name, r)
		}
		for name, want := range c.want {
			got, r := field(t, c.msg, Connect, name)
			if want == "" {
				if r != Bad {
					t.Errorf("%s %s: got %q (%d), want not found", c.name, name, got, r)
				}
				continue
			}
			if r != Valid || got != want {
				t.Errorf("%s %s: got %q (%d), want %q", c.name, name, got, r, want)
			}
		}
		// A CONNECT has no CONNACK fields.
		if _, r := field(t, c.msg, Connack, "flags"); r != Bad {
			t.Errorf("%s: CONNACK flags of a CONNECT: %d", c.name, r)
		}
	}
}

func TestConnect5WithoutWillProps(t *testing.T) {
	// Will properties are read only with the will flag: without it the
	// will fields are not found, the header properties default to 0.
	msg := packet(0x10, s("MQTT"), []byte{5, 0x02, 0, 10, 0}, s("x"))
	if Validate(msg) != Valid {
		t.Fatal("invalid")
	}
	for name, want := range map[string]string{"24": "", "1": "", "3": "", "17": "0", "33": "0"} {
		got, r := field(t, msg, Connect, name)
		if (want == "" && r != Bad) || (want != "" && (r != Valid || got != want)) {
			t.Errorf("%s: got %q (%d), want %q", name, got, r, want)
		}
	}
}

func TestIncomplete(t *testing.T) {
	for _, msg := range [][]byte{connect311(), connect311Full(), connect5()} {
		for n := 0; n < len(msg); n++ {
			if r := Validate(msg[:n]); r != NeedMore {
				t.Errorf("prefix %d/%d: %d, want NeedMore", n, len(msg), r)
			}
			if _, r := field(t, msg[:n], Connect, "client_identifier"); r != NeedMore {
				t.Errorf("field of prefix %d/%d: %d", n, len(msg), r)
			}
		}
	}
	// A length of two bytes, the body to come.
	long := cat([]byte{0x10, 0x80, 0x01}, make([]byte, 100))
	if r := Validate(long); r != NeedMore {
		t.Errorf("128-byte body cut at 100: %d", r)
	}
}

func TestInvalid(t *testing.T) {
	good := connect311()
	cases := map[string][]byte{
		"protocol name":      packet(0x10, s("MQTX"), []byte{4, 2, 0, 60}, s("c1")),
		"version 6":          packet(0x10, s("MQTT"), []byte{6, 2, 0, 60}, s("c1")),
		"reserved flag":      packet(0x10, s("MQTT"), []byte{4, 3, 0, 60}, s("c1")),
		"qos 3 without will": packet(0x10, s("MQTT"), []byte{4, 0x18, 0, 60}, s("c1")),
		"short length":       cat([]byte{0x10, byte(len(good) - 3)}, good[2:]),
		"publish":            packet(0x30, s("t"), []byte("x")),
		"fixed flags":        cat([]byte{0x11}, good[1:]),
		"type 0":             cat([]byte{0x00}, good[1:]),
		"username missing":   packet(0x10, s("MQTT"), []byte{4, 0x82, 0, 60}, s("c1")),
		"5-byte length":      {0x10, 0x80, 0x80, 0x80, 0x80, 0x01},
		"dup property":       packet(0x10, s("MQTT"), []byte{5, 2, 0, 60, 10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2}, s("c")),
		"unknown property":   packet(0x10, s("MQTT"), []byte{5, 2, 0, 60, 2, 0x24, 1}, s("c")),
		"receive max 0":      packet(0x10, s("MQTT"), []byte{5, 2, 0, 60, 3, 0x21, 0, 0}, s("c")),
		"auth data only":     packet(0x10, s("MQTT"), []byte{5, 2, 0, 60, 5, 0x16}, s("ab"), s("c")),
		"props too long":     packet(0x10, s("MQTT"), []byte{5, 2, 0, 60, 9}, s("c")),
		"connack flags":      {0x20, 0x02, 0x02, 0x00},
		"connack short":      {0x20, 0x01, 0x00},
	}
	for name, msg := range cases {
		if r := Validate(msg); r != Bad {
			t.Errorf("%s: %d, want Bad", name, r)
		}
		if _, r := FieldValue(msg, Connect, FieldClientIdentifier); r != Bad {
			t.Errorf("%s: field %d, want Bad", name, r)
		}
	}
	// As HAProxy, the bytes after the packet (the next one) do not count.
	if r := Validate(append(append([]byte{}, good...), 0xC0, 0)); r != Valid {
		t.Errorf("CONNECT and PINGREQ: %d", r)
	}
	// Any case of the protocol name, and 3.1's MQIsdp.
	for _, pn := range []string{"mqtt", "MQIsdp", "mqisdp"} {
		if r := Validate(packet(0x10, s(pn), []byte{3, 2, 0, 60}, s("c1"))); r != Valid {
			t.Errorf("%s: %d", pn, r)
		}
	}
}

func TestConnack(t *testing.T) {
	v311 := []byte{0x20, 0x02, 0x01, 0x05}
	props := cat([]byte{0x11, 0, 0, 1, 0}, []byte{0x21, 0, 20}, []byte{0x24, 1}, []byte{0x25, 0},
		[]byte{0x27, 0, 0, 4, 0}, []byte{0x12}, s("auto-1"), []byte{0x22, 0, 8}, []byte{0x1F}, s("ok"),
		[]byte{0x28, 1}, []byte{0x29, 1}, []byte{0x2A, 0}, []byte{0x13, 0, 90}, []byte{0x1A}, s("ri"),
		[]byte{0x1C}, s("other"), []byte{0x26}, s("a"), s("b"), []byte{0x15}, s("m"), []byte{0x16}, s("d"))
	v5 := packet(0x20, []byte{0, 0, byte(len(props))}, props)
	want311 := map[string]string{"flags": "1", "reason_code": "5", "protocol_version": "4", "17": "", "18": ""}
	want5 := map[string]string{"flags": "0", "reason_code": "0", "protocol_version": "5",
		"17": "256", "33": "20", "36": "1", "37": "0", "39": "1024", "18": "auto-1", "34": "8",
		"31": "ok", "40": "1", "41": "1", "42": "0", "19": "90", "26": "ri", "28": "other",
		"21": "m", "22": "d", "38": ""}
	for _, c := range []struct {
		msg  []byte
		want map[string]string
	}{{v311, want311}, {v5, want5}} {
		if r := Validate(c.msg); r != Valid {
			t.Fatalf("% x: %d", c.msg, r)
		}
		for name, want := range c.want {
			got, r := field(t, c.msg, Connack, name)
			if (want == "" && r != Bad) || (want != "" && (r != Valid || got != want)) {
				t.Errorf("%s: got %q (%d), want %q", name, got, r, want)
			}
		}
	}
	// As HAProxy, an unknown CONNACK property reads as "need more".
	if r := Validate([]byte{0x20, 0x05, 0, 0, 2, 0x03, 0}); r != NeedMore {
		t.Errorf("unknown property: %d", r)
	}
	// A 3.1.1 CONNACK followed by more bytes reads as a 5.0 one.
	if r := Validate([]byte{0x20, 0x02, 0, 0, 0x30}); r != Bad {
		t.Errorf("CONNACK and more: %d", r)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]int{"connect": Connect, "CONNACK": Connack, "1": Connect,
		"2": Connack, "15": Auth, "auth": Auth, "0": Invalid, "16": Invalid, "foo": Invalid,
		"": Invalid, "PingReq": Pingreq} {
		if got := TypeID(in); got != want {
			t.Errorf("TypeID(%q) = %d, want %d", in, got, want)
		}
	}
	for _, c := range []struct {
		typ  int
		name string
		want Field
	}{
		{Connect, "client_identifier", FieldClientIdentifier}, {Connect, "USERNAME", FieldUsername},
		{Connect, "24", FieldDelayInterval}, {Connect, "18", FieldInvalid},
		{Connect, "reason_code", FieldInvalid}, {Connack, "username", FieldInvalid},
		{Connack, "18", FieldAssignedClientIdentifier}, {Connect, "38", FieldUserProperty},
		{Pingreq, "flags", FieldInvalid}, {Publish, "35", FieldTopicAlias}, {Connect, "", FieldInvalid},
	} {
		if got := FieldID(c.typ, c.name); got != c.want {
			t.Errorf("FieldID(%d, %q) = %d, want %d", c.typ, c.name, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, m := range [][]byte{connect311(), connect311Full(), connect5(), {0x20, 0x02, 0, 0}} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := Validate(msg)
		for fl := FieldFlags; fl < fieldEntries; fl++ {
			for _, typ := range []int{Connect, Connack} {
				v, fr := FieldValue(msg, typ, fl)
				if r != Valid && fr != r {
					t.Fatalf("Validate %d but field %d of type %d: %d", r, fl, typ, fr)
				}
				if fr == Valid && len(v) == 0 {
					t.Fatalf("field %d found empty", fl)
				}
			}
		}
	})
}
