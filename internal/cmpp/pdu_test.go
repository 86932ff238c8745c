package cmpp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func TestActiveTestRespBytes(t *testing.T) {
	// The exact bytes the tcp-check of cmpp.md expects.
	got := AppendPDU(nil, CmdActiveTest.Resp(), 1, []byte{0})
	want, _ := hex.DecodeString("0000000d800000080000000100")
	if !bytes.Equal(got, want) {
		t.Fatalf("ACTIVE_TEST_RESP = %x, want %x", got, want)
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      string // hex
		want    Header
		wantErr error
	}{
		{"active test", "0000000c0000000800000001", Header{12, CmdActiveTest, 1}, nil},
		{"max size", "00000d070000000400000002", Header{3335, CmdSubmit, 2}, nil},
		{"too short", "0000000c00000008", Header{}, ErrShort},
		{"length below header", "0000000b0000000800000001", Header{}, ErrLength},
		{"length above max", "00000d080000000400000002", Header{}, ErrLength},
		{"text", "746573740a0000000000000000", Header{}, ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tt.in)
			h, err := ParseHeader(b)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && h != tt.want {
				t.Fatalf("header = %+v, want %+v", h, tt.want)
			}
		})
	}
}

func TestDecodeStream(t *testing.T) {
	var b []byte
	b = AppendPDU(b, CmdConnect, 7, NewConnect("901234", "s", Version30, time.Now()).Marshal())
	b = AppendPDU(b, CmdActiveTest, 8, nil)
	p, n, err := Decode(b)
	if err != nil || p.CommandID != CmdConnect || p.SequenceID != 7 || n != 39 {
		t.Fatalf("first pdu = %+v n=%d err=%v, want CONNECT seq 7 of 39 bytes", p.Header, n, err)
	}
	p, n2, err := Decode(b[n:])
	if err != nil || p.CommandID != CmdActiveTest || n2 != 12 {
		t.Fatalf("second pdu = %+v n=%d err=%v", p.Header, n2, err)
	}
	if _, _, err := Decode(b[:20]); !errors.Is(err, ErrShort) {
		t.Fatalf("partial pdu: err = %v, want ErrShort", err)
	}
	if _, err := ReadPDU(bytes.NewReader(b[:20])); err == nil {
		t.Fatal("ReadPDU of a cut pdu: no error")
	}
}

func TestBodies(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 4, 5, 0, time.UTC)
	t.Run("connect", func(t *testing.T) {
		c := NewConnect("901234", "secret", Version30, now)
		if c.Timestamp != 1125170405 {
			t.Fatalf("timestamp = %d", c.Timestamp)
		}
		b := c.Marshal()
		if len(b)+HeaderLen != 39 {
			t.Fatalf("CONNECT is %d bytes, want 39", len(b)+HeaderLen)
		}
		got, err := ParseConnect(b)
		if err != nil || got != c {
			t.Fatalf("round trip = %+v, %v; want %+v", got, err, c)
		}
		if !got.Verify("secret") || got.Verify("other") {
			t.Fatal("Verify does not tell the right secret from a wrong one")
		}
	})
	for _, v := range []struct {
		version  byte
		connLen  int
		subLen   int
		wantName string
	}{{Version20, 30, 21, "a-very-long-gatew"[:16]}, {Version30, 33, 24, "a-very-long-gatew"[:16]}} {
		t.Run(hex.EncodeToString([]byte{v.version}), func(t *testing.T) {
			r := ConnectResp{Status: StatusAuthFailed, Gateway: "a-very-long-gateway", Version: v.version}
			b := r.Marshal(v.version)
			if len(b)+HeaderLen != v.connLen {
				t.Fatalf("CONNECT_RESP is %d bytes, want %d", len(b)+HeaderLen, v.connLen)
			}
			got, err := ParseConnectResp(b)
			if err != nil || got.Status != StatusAuthFailed || got.Gateway != v.wantName || got.Version != v.version {
				t.Fatalf("round trip = %+v, %v", got, err)
			}
			s := SubmitResp{Result: 9}
			copy(s.MsgID[:], "server12345")
			sb := s.Marshal(v.version)
			if len(sb)+HeaderLen != v.subLen {
				t.Fatalf("SUBMIT_RESP is %d bytes, want %d", len(sb)+HeaderLen, v.subLen)
			}
			gs, err := ParseSubmitResp(sb)
			if err != nil || gs.Result != 9 || gs.Gateway() != "server12" {
				t.Fatalf("submit round trip = %+v (%q), %v", gs, gs.Gateway(), err)
			}
		})
	}
	t.Run("submit", func(t *testing.T) {
		b := Submit{DestID: "13800000000", Content: bytes.Repeat([]byte("x"), 300)}.Marshal()
		// 8+4+10+1+32+4+6+2+6+17+17+21+1+32+2 fixed, 255 content, 20 LinkID
		if len(b) != 163+255+20 {
			t.Fatalf("SUBMIT body is %d bytes", len(b))
		}
	})
	t.Run("bad lengths", func(t *testing.T) {
		if _, err := ParseConnect(make([]byte, 26)); err == nil {
			t.Error("ParseConnect accepted 26 bytes")
		}
		if _, err := ParseConnectResp(make([]byte, 19)); err == nil {
			t.Error("ParseConnectResp accepted 19 bytes")
		}
		if _, err := ParseSubmitResp(make([]byte, 10)); err == nil {
			t.Error("ParseSubmitResp accepted 10 bytes")
		}
	})
}

func TestCommandIDString(t *testing.T) {
	for id, want := range map[CommandID]string{
		CmdSubmit:             "SUBMIT",
		CmdActiveTest.Resp():  "ACTIVE_TEST_RESP",
		CommandID(0x00000010): "0x00000010",
	} {
		if got := id.String(); got != want {
			t.Errorf("%08x: %q, want %q", uint32(id), got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(AppendPDU(nil, CmdActiveTest, 1, nil))
	f.Add(AppendPDU(nil, CmdConnect, 2, NewConnect("901234", "", Version20, time.Now()).Marshal()))
	f.Add([]byte("test\n"))
	f.Add([]byte{0, 0, 0, 13, 0x80, 0, 0, 8, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := Decode(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n=%d", err, n)
			}
			return
		}
		if n < HeaderLen || n > MaxPDULen || n > len(b) || int(p.TotalLength) != n {
			t.Fatalf("n=%d total=%d len=%d", n, p.TotalLength, len(b))
		}
		if enc := p.Encode(); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoding %x gives %x", b[:n], enc)
		}
		rp, err := ReadPDU(bytes.NewReader(b))
		if err != nil || rp.Header != p.Header || !bytes.Equal(rp.Body, p.Body) {
			t.Fatalf("ReadPDU disagrees with Decode: %+v %v", rp.Header, err)
		}
		// The body decoders must not panic on anything.
		ParseConnect(p.Body)
		ParseConnectResp(p.Body)
		ParseSubmitResp(p.Body)
	})
}
