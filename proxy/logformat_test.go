package proxy

import (
	"net/netip"
	"testing"
	"time"

	"goproxy/parser"
)

func testRecords() []SessionRecord {
	acc := time.Date(2026, 3, 4, 5, 6, 7, 89e6, time.Local)
	return []SessionRecord{
		{ID: 1, Backend: &Backend{Name: "be"}, Server: &Server{Name: "s1"},
			Client: netip.MustParseAddrPort("127.0.0.2:40000"), Local: netip.MustParseAddrPort("127.0.0.1:8080"),
			Accept: acc, Tw: 0, Tc: 1, Tt: 250, BytesIn: 6, BytesOut: 10, Term: "--",
			ActConn: 3, FeConn: 2, BeConn: 1, SrvConn: 0, Retries: 1, Redispatched: true, SrvQueue: 0, BeQueue: 2},
		{ID: 7, Client: netip.MustParseAddrPort("[::1]:5"), Accept: acc, Tw: -1, Tc: -1, Tt: 3, Term: "SC"},
	}
}

// TestLogFormatIsTCPLog requires the formatter to write option tcplog's
// line byte for byte when given its format.
func TestLogFormatIsTCPLog(t *testing.T) {
	nodes, err := parser.ParseLogFormat(parser.TCPLogFormat, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, asap := range []bool{false, true} {
		for _, r := range testRecords() {
			rec := TCPLogRecord{Client: r.Client, Accept: r.Accept, Frontend: "fe", Backend: "fe",
				Tw: r.Tw, Tc: r.Tc, Tt: r.Tt, BytesOut: r.BytesOut, Term: r.Term,
				ActConn: r.ActConn, FeConn: r.FeConn, BeConn: r.BeConn, SrvConn: r.SrvConn,
				Retries: r.Retries, Redispatched: r.Redispatched, SrvQueue: r.SrvQueue, BeQueue: r.BeQueue, ASAP: asap}
			if r.Backend != nil {
				rec.Backend = r.Backend.Name
			}
			if r.Server != nil {
				rec.Server = r.Server.Name
			}
			want := rec.String()
			got := string(AppendLogFormat(nil, nodes, &r, &LogFields{FrontName: "fe", ASAP: asap}))
			if got != want {
				t.Errorf("formatter:\n%s\ntcplog:\n%s", got, want)
			}
		}
	}
}

// TestLogFormatFlags checks the flags against lines haproxy 2.6 wrote for
// the same format.
func TestLogFormatFlags(t *testing.T) {
	r := testRecords()[0]
	x := LogFields{FrontName: "fe", PID: 0x4876, SrvAddr: netip.MustParseAddrPort("127.0.0.1:15001")}
	tests := []struct{ format, want string }{
		{`%{+Q}o %ci %b %{-Q}s "[x y]" %{+X}o %B %ci %[src] %{-X}cp %{-Q,+X}fp %{+X}pid %{+X}rt %{-Q}ID %{-M}ID %{+E}f 100%% %{-X}[dst_port]`,
			`"127.0.0.2" "be" s1 "[x y]" 10 7F000002 "127.0.0.2" 40000 1F90 4876 0000 - "" "fe" 100% "8080"`},
		{`a %hr b %{+Q}hr c %{+Q}ID d`, `a b c "" d`},
		{`  lead %ci trail  `, `lead 127.0.0.2 trail `},
		{`%{+E}[src]%{+Q,+E}ts %sslv %H%ID%ID %tsc %si:%sp %bi:%bp`, `127.0.0.2-- - ` + hostname() + `-- ---- 127.0.0.1:15001 -:-`},
	}
	for _, tc := range tests {
		nodes, err := parser.ParseLogFormat(tc.format, false)
		if err != nil {
			t.Fatalf("%q: %v", tc.format, err)
		}
		if got := string(AppendLogFormat(nil, nodes, &r, &x)); got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.format, got, tc.want)
		}
	}
	if got := string(lfText(nil, `a"b\c]d`, parser.LogEsc|parser.LogQuote)); got != `"a\"b\\c\]d"` {
		t.Errorf("escaped: %s", got)
	}
}

// BenchmarkSessionLogLine compares the tcplog line with the same line
// through the formatter.
func BenchmarkSessionLogLine(b *testing.B) {
	nodes, _ := parser.ParseLogFormat(parser.TCPLogFormat, false)
	r := testRecords()[0]
	b.Run("tcplog", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec := TCPLogRecord{Client: r.Client, Accept: r.Accept, Frontend: "fe", Backend: "be", Server: "s1", Tt: r.Tt}
			_ = rec.String()
		}
	})
	b.Run("formatter", func(b *testing.B) {
		b.ReportAllocs()
		x := LogFields{FrontName: "fe"}
		for b.Loop() {
			_ = string(AppendLogFormat(make([]byte, 0, 256), nodes, &r, &x))
		}
	})
}
