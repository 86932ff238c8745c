package proxy

import (
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"goproxy/parser"
)

// udpCollector is a syslog server on loopback that hands back datagrams.
func udpCollector(t *testing.T) (*net.UDPConn, parser.LogTarget) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	port := conn.LocalAddr().(*net.UDPAddr).Port
	return conn, parser.LogTarget{
		Addr:     parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: port},
		Facility: 18, Level: 7, Format: "rfc3164",
	}
}

func readDatagram(t *testing.T, conn *net.UDPConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

func TestLogSinkRFC3164(t *testing.T) {
	conn, target := udpCollector(t)
	g := &parser.Global{Logs: []parser.LogTarget{target}}
	sink, err := NewLogSink(g, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.now = func() time.Time { return time.Date(2026, 11, 5, 15, 53, 46, 0, time.Local) }
	sink.pid = 12851
	sink.Log(LogInfo, "Connect from 127.0.0.1:48697 to 127.0.0.1:41999 (fe/TCP)")
	got := readDatagram(t, conn)
	want := "<150>Nov  5 15:53:46 haproxy[12851]: Connect from 127.0.0.1:48697 to 127.0.0.1:41999 (fe/TCP)\n"
	if got != want {
		t.Errorf("datagram = %q, want %q", got, want)
	}
	sink.Log(LogAlert, "Server be/s is DOWN")
	if got := readDatagram(t, conn); !strings.HasPrefix(got, "<145>") {
		t.Errorf("alert priority: %q", got)
	}
}

func TestLogSinkLevelFilterAndHostname(t *testing.T) {
	conn, target := udpCollector(t)
	target.Level = LogNotice
	g := &parser.Global{LogSendHostname: "myhost", LogTag: "gp"}
	sink, err := NewLogSink(g, []parser.LogTarget{target}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.Log(LogInfo, "filtered out")
	sink.Log(LogWarning, "kept")
	got := readDatagram(t, conn)
	if !regexp.MustCompile(`^<148>\w{3} [ \d]\d \d\d:\d\d:\d\d myhost gp\[\d+\]: kept\n$`).MatchString(got) {
		t.Errorf("datagram = %q", got)
	}
	if sink.Enabled(LogInfo) || !sink.Enabled(LogNotice) {
		t.Errorf("Enabled does not follow the level filter")
	}
}

func TestLogSinkFormatsAndLength(t *testing.T) {
	conn, target := udpCollector(t)
	target.Format = "raw"
	target.Len = 20
	sink, err := NewLogSink(&parser.Global{}, []parser.LogTarget{target}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.Log(LogInfo, strings.Repeat("x", 100))
	if got := readDatagram(t, conn); got != strings.Repeat("x", 19)+"\n" {
		t.Errorf("truncated raw line = %q", got)
	}
}

func TestTCPLogLine(t *testing.T) {
	r := &TCPLogRecord{
		Client:   netip.MustParseAddrPort("127.0.0.1:46280"),
		Accept:   time.Date(2026, 11, 25, 15, 54, 57, 74e6, time.Local),
		Frontend: "fe_redisp", Backend: "be_redisp", Server: "r2",
		Tw: 1, Tc: 0, Tt: 2006, BytesOut: 3, Term: "--",
		ActConn: 1, FeConn: 1, Retries: 1, Redispatched: true,
	}
	want := "127.0.0.1:46280 [25/Nov/2026:15:54:57.074] fe_redisp be_redisp/r2 1/0/2006 3 -- 1/1/0/0/+1 0/0"
	if got := r.String(); got != want {
		t.Errorf("line = %q\nwant   %q", got, want)
	}
	r = &TCPLogRecord{Client: netip.MustParseAddrPort("127.0.0.1:56998"), Accept: r.Accept,
		Frontend: "fe_nosrv", Backend: "be_alldown", Tw: -1, Tc: -1, Term: "SC", ActConn: 2, FeConn: 1}
	if got := r.String(); !strings.HasSuffix(got, "fe_nosrv be_alldown/<NOSRV> -1/-1/0 0 SC 2/1/0/0/0 0/0") {
		t.Errorf("no-server line = %q", got)
	}
	if got := ConnectLine(netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("[::1]:2"), "fe"); got != "Connect from 127.0.0.1:1 to ::1:2 (fe/TCP)" {
		t.Errorf("connect line = %q", got)
	}
}

// TestLogSample checks "log ... sample 1,3-4:5": of each five lines, the
// first, third and fourth.
func TestLogSample(t *testing.T) {
	lt := &logTarget{cfg: parser.LogTarget{Sample: []parser.LogRange{{Low: 3, High: 4}, {Low: 1, High: 1}}, SampleSize: 5}}
	var got []bool
	for range 10 {
		got = append(got, lt.sampled())
	}
	want := []bool{true, false, true, true, false, true, false, true, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sampled lines %v, want %v", got, want)
		}
	}
}
