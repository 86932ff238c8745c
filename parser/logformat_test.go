package parser

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseLogFormatErrors holds HAProxy 2.6's messages for bad log
// formats (haproxy -c, after "failed to parse log-format : ").
func TestParseLogFormatErrors(t *testing.T) {
	tests := []struct{ name, format, want string }{
		{"unknown variable", "%zz", "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'"},
		{"HTTP variable", "%ci %Ti", "format variable 'Ti' is reserved for HTTP mode"},
		{"HTTP request line", "%r", "format variable 'r' is reserved for HTTP mode"},
		{"digit after percent", "%ci %5 x", "unexpected variable name near '5' at position 5 line : '%ci %5 x'. Maybe you want to write a single '%', use the syntax '%%'"},
		{"flags alone", "%{+Q} x", "parse argument modifier without variable name near '%{+Q}'"},
		{"unknown fetch", "%ci %[nosuch] x", "failed to parse sample expression <nosuch] x> : unknown fetch method 'nosuch'"},
		{"unclosed fetch", "%{+Q}[src", "missing ']' after 'src'"},
		{"trailing percent", "%ci %", "truncated line after '%'"},
		{"unknown converter", "%[src,foo]", "failed to parse sample expression <src,foo]> : unknown converter 'foo'"},
		{"empty converter", "%[src,]", "failed to parse sample expression <src,]> : unknown converter ''"},
		{"converter argument", "%[src,lower(1)]", "failed to parse sample expression <src,lower(1)]> : invalid arg 1 in converter 'lower' : expected ')' before '1)]'"},
		{"converter open paren", "%[src,upper(]", "failed to parse sample expression <src,upper(]> : invalid arg 1 in converter 'upper' : expected ')' before ']'"},
		{"unclosed converters", "%[src,lower", "missing ']' after 'src,lower'"},
		{"unclosed after comma", "%[src,", "missing ']' after 'src,'"},
		{"unknown unclosed converter", "%[src,foo", "failed to parse sample expression <src,foo> : unknown converter 'foo'"},
		{"bad character after converter", "%[src,lower%]", "expected ']' after 'src,lower', but found '%'"},
		{"space after converter", "%[src,lower x]", "expected ']' after 'src,lower', but found ' '"},
		{"converter goproxy lacks", "%[src,base64]", "failed to parse sample expression <src,base64]> : converter 'base64' is not supported by goproxy (see the README for the converters applied)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLogFormat(tc.format, false)
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseLogFormat(%q) = %v, want %q", tc.format, err, tc.want)
			}
		})
	}
}

func TestParseLogFormatNodes(t *testing.T) {
	nodes, err := ParseLogFormat("  %{+Q}o %ci  %{-Q}s 100%% %{+X,-M}[src]x %[dst,lower,hex]", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []LogNode{
		{Kind: LogSep},
		{Kind: LogVar, Text: "ci", Flags: LogMandatory | LogQuote},
		{Kind: LogSep},
		{Kind: LogVar, Text: "s", Flags: LogMandatory},
		{Kind: LogSep},
		{Kind: LogText, Text: "100%"},
		{Kind: LogSep},
		{Kind: LogFetch, Text: "src", Flags: LogQuote | LogHex},
		{Kind: LogText, Text: "x"},
		{Kind: LogSep},
		{Kind: LogFetch, Text: "dst", Flags: LogMandatory | LogQuote, Conv: []Converter{{Name: "lower"}, {Name: "hex"}}},
	}
	if len(nodes) != len(want) {
		t.Fatalf("nodes %+v, want %+v", nodes, want)
	}
	for i := range want {
		if !reflect.DeepEqual(nodes[i], want[i]) {
			t.Errorf("node %d = %+v, want %+v", i, nodes[i], want[i])
		}
	}
	if _, err := ParseLogFormat(TCPLogFormat, false); err != nil {
		t.Errorf("the tcplog format: %v", err)
	}
}

// TestLogFormatDirectives checks log-format, log-format-sd and log-tag in
// proxy sections, with haproxy -c's messages.
func TestLogFormatDirectives(t *testing.T) {
	const head = "defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n  log 127.0.0.1:514 local2\n"
	tests := []struct{ name, src, want string }{
		{"spaces", "frontend f\n  bind :80\n  log-format %ci x\n", "parsing [t.cfg:9] : log-format expects only one argument, don't forget to escape spaces!"},
		{"check time", "frontend f\n  bind :80\n  log-format \"%ci %zz\"\n", "Parsing [t.cfg:9]: failed to parse log-format : no such format variable 'zz'."},
		{"sd names the log-format line", "frontend f\n  bind :80\n  log-format \"%ci\"\n  log-format-sd \"%[src\"\n", "Parsing [t.cfg:9]: failed to parse log-format-sd : missing ']' after 'src'."},
		{"sd without format", "frontend f\n  bind :80\n  log-format-sd \"%[src\"\n", "Parsing [(null):0]: failed to parse log-format-sd : missing ']' after 'src'."},
		{"backend", "backend b\n  log-format \"%ci\"\n  server s 127.0.0.1:1\n", "parsing [t.cfg:8] : backend 'b' : 'log-format' directive is ignored in backends."},
		{"log-tag", "frontend f\n  bind :80\n  log-tag\n", "'log-tag' expects a tag for use in syslog."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := parseText(t, head+tc.src)
			if got := diagText(cfg); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", got, tc.want)
			}
		})
	}
	cfg, err := parseText(t, head+"  log-tag dtag\n  log-format \"%ci %b\"\nfrontend f\n  bind :80\n  log-format-sd \"[x@1 a=%{+Q,+E}[src]]\"\nfrontend g\n  bind :81\n  option tcplog\n  log-tag gtag\n")
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	var f, g *Proxy
	for _, px := range cfg.Proxies {
		switch px.Name {
		case "f":
			f = px
		case "g":
			g = px
		}
	}
	if f == nil || g == nil {
		t.Fatalf("proxies %v", cfg.Proxies)
	}
	if f.LogFormat == nil || f.LogFormat.Text != "%ci %b" || f.LogFormatSD == nil || f.LogTag != "dtag" {
		t.Errorf("frontend f: format %+v sd %+v tag %q", f.LogFormat, f.LogFormatSD, f.LogTag)
	}
	if g.LogFormat != nil || !g.Options.TCPLog || g.LogTag != "gtag" {
		t.Errorf("frontend g: option tcplog must replace the inherited log-format (format %+v, tag %q)", g.LogFormat, g.LogTag)
	}
}

// TestLogSampleMessages holds haproxy -c's messages for "log ... sample".
func TestLogSampleMessages(t *testing.T) {
	tests := []struct{ def, want string }{
		{"1", "Missing sample size"},
		{"0:5", "wrong sample range '0'"},
		{"a,1:5", "wrong sample range 'a,1'"},
		{"3-2:5", "wrong sample range '3-2'"},
		{"1-3,2-4:5", "ranges are overlapping"},
		{"1-6:5", "sample size 5 should be greater or equal to 6 the maximum of the high ranges limits"},
		{"1:x", "wrong sample size 'x' for sample range '1'"},
		{"2,1:5", ""},
	}
	for _, tc := range tests {
		cfg, _ := parseText(t, "global\n  log 127.0.0.1:514 sample "+tc.def+" local2\n")
		got := diagText(cfg)
		if tc.want == "" {
			if len(cfg.Global.Logs) != 1 || cfg.Global.Logs[0].SampleSize != 5 || len(cfg.Global.Logs[0].Sample) != 2 {
				t.Errorf("sample %s: %+v\n%s", tc.def, cfg.Global.Logs, got)
			}
			continue
		}
		if want := "parsing [t.cfg:2] : log : " + tc.want + "\n"; !strings.Contains(got, want) {
			t.Errorf("sample %s: diagnostics\n%s\nwant %q", tc.def, got, want)
		}
	}
}

// FuzzParseLogFormat feeds arbitrary log-format strings to the parser: it
// never panics, and what it accepts holds only known fetches and the
// converters goproxy applies.
func FuzzParseLogFormat(f *testing.F) {
	for _, s := range []string{TCPLogFormat, "%[src,lower,hex]", "%{+Q,+X}[dst_port,upper] %ci", "%[src,", "%[src,lower(1)]", "%[,]", "%{+E}o%[src]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := ParseLogFormat(s, false)
		if err != nil {
			return
		}
		for _, n := range nodes {
			if n.Kind != LogFetch {
				continue
			}
			if _, known := fetches[n.Text]; !known {
				t.Fatalf("%q: accepted fetch %q", s, n.Text)
			}
			for _, c := range n.Conv {
				if _, ok := convDefs[c.Name]; !ok {
					t.Fatalf("%q: accepted converter %q", s, c.Name)
				}
			}
		}
	})
}
