package dnsmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// response builds a response to q with the given answer records (rdata
// already encoded), compressing the owner names as pointers to the
// question.
func response(t testing.TB, q []byte, rcode byte, answers ...[]byte) []byte {
	t.Helper()
	b := append([]byte(nil), q...)
	b[2] |= 0x80
	b[3] = 0x80 | rcode
	binary.BigEndian.PutUint16(b[10:], 0) // drop the OPT record
	qend := bytes.IndexByte(b[headerLen:], 0) + headerLen + 5
	b = b[:qend]
	binary.BigEndian.PutUint16(b[6:], uint16(len(answers)))
	for _, a := range answers {
		b = append(b, a...)
	}
	return b
}

// rr encodes one answer whose owner is the question's name (pointer 12).
func rr(typ uint16, ttl uint32, rdata []byte) []byte {
	b := []byte{0xc0, headerLen}
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, ClassINET)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

func srvData(prio, weight, port uint16, target string) []byte {
	b := binary.BigEndian.AppendUint16(nil, prio)
	b = binary.BigEndian.AppendUint16(b, weight)
	b = binary.BigEndian.AppendUint16(b, port)
	b, _ = appendName(b, target)
	return b
}

func TestQueryWireFormat(t *testing.T) {
	q, err := Query(0x1234, "www.Example.com.", TypeAAAA, 512)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 28, 0, 1}
	if !bytes.Equal(q, want) {
		t.Fatalf("query\n got %x\nwant %x", q, want)
	}
	q, _ = Query(1, "a.b", TypeA, 8192)
	if binary.BigEndian.Uint16(q[10:]) != 1 {
		t.Fatal("no OPT record announced for a payload of 8192")
	}
	opt := q[len(q)-11:]
	if opt[0] != 0 || binary.BigEndian.Uint16(opt[1:]) != TypeOPT || binary.BigEndian.Uint16(opt[3:]) != 8192 {
		t.Fatalf("OPT record %x", opt)
	}
	for _, bad := range []string{"", ".", "a..b", string(make([]byte, 64)) + ".com"} {
		if _, err := Query(1, bad, TypeA, 512); !errors.Is(err, ErrName) {
			t.Errorf("Query(%q) = %v, want ErrName", bad, err)
		}
	}
}

func TestParseAnswers(t *testing.T) {
	q, _ := Query(7, "svc.test", TypeA, 1232)
	m, err := Parse(response(t, q, 0,
		rr(TypeA, 60, []byte{10, 0, 0, 1}),
		rr(TypeAAAA, 30, netip.MustParseAddr("fd00::2").AsSlice()),
		rr(TypeSRV, 5, srvData(1, 20, 8080, "Host1.svc.test")),
		rr(TypeCNAME, 5, []byte{0xc0, headerLen}),
	))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 7 || !m.Response || m.RCode != 0 || len(m.Questions) != 1 || m.Questions[0].Name != "svc.test" || m.Questions[0].Type != TypeA {
		t.Fatalf("header/question: %+v", m)
	}
	if len(m.Answers) != 4 {
		t.Fatalf("answers: %+v", m.Answers)
	}
	a, aaaa, srv, cname := m.Answers[0], m.Answers[1], m.Answers[2], m.Answers[3]
	if a.Name != "svc.test" || a.IP != netip.MustParseAddr("10.0.0.1") || a.TTL != 60 {
		t.Errorf("A: %+v", a)
	}
	if aaaa.IP != netip.MustParseAddr("fd00::2") {
		t.Errorf("AAAA: %+v", aaaa)
	}
	if srv.Priority != 1 || srv.Weight != 20 || srv.Port != 8080 || srv.Target != "host1.svc.test" {
		t.Errorf("SRV: %+v", srv)
	}
	if cname.Target != "svc.test" {
		t.Errorf("CNAME: %+v", cname)
	}
}

func TestParseRCodeAndTruncation(t *testing.T) {
	q, _ := Query(9, "gone.test", TypeA, 512)
	r := response(t, q, RCodeNXDomain)
	r[2] |= 0x02
	m, err := Parse(r)
	if err != nil || m.RCode != RCodeNXDomain || !m.Truncated || len(m.Answers) != 0 {
		t.Fatalf("Parse = %+v, %v", m, err)
	}
}

func TestParseRejectsBadMessages(t *testing.T) {
	q, _ := Query(9, "x.test", TypeA, 512)
	good := response(t, q, 0, rr(TypeA, 1, []byte{1, 2, 3, 4}))
	// Every truncation of a good message fails cleanly.
	for n := range len(good) {
		if _, err := Parse(good[:n]); err == nil {
			t.Errorf("Parse of %d of %d bytes succeeded", n, len(good))
		}
	}
	// A pointer to itself, and one pointing forward.
	loop := append([]byte(nil), good...)
	loop[headerLen], loop[headerLen+1] = 0xc0, headerLen
	if _, err := Parse(loop); !errors.Is(err, ErrPointer) {
		t.Errorf("self pointer: %v", err)
	}
	fwd := append([]byte(nil), good...)
	binary.BigEndian.PutUint16(fwd[len(fwd)-16:], 0xc000|uint16(len(fwd)-2))
	if _, err := Parse(fwd); err == nil {
		t.Error("forward pointer accepted")
	}
	// An A record of 5 bytes.
	bad := response(t, q, 0, rr(TypeA, 1, []byte{1, 2, 3, 4, 5}))
	if _, err := Parse(bad); err == nil {
		t.Error("A record of 5 bytes accepted")
	}
}

func FuzzParse(f *testing.F) {
	q, _ := Query(1, "svc.test", TypeSRV, 1232)
	f.Add(q)
	f.Add(response(f, q, 0, rr(TypeSRV, 5, srvData(1, 2, 3, "h.svc.test")), rr(TypeA, 1, []byte{1, 2, 3, 4})))
	f.Add(response(f, q, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		for _, r := range append(m.Answers, m.Additional...) {
			if len(r.Name) > 255 || len(r.Target) > 255 {
				t.Fatalf("name longer than 255: %q %q", r.Name, r.Target)
			}
			if (r.Type == TypeA && !r.IP.Is4()) || (r.Type == TypeAAAA && !r.IP.Is6()) {
				t.Fatalf("address of the wrong family: %+v", r)
			}
		}
	})
}
