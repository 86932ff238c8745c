package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lfField is one space-free field of a log format under test: what to
// write in the format, and how two programs' values must compare.
type lfField struct {
	spec string
	mask lfMask
}

type lfMask int

const (
	lfSame    lfMask = iota // byte for byte
	lfReached               // a timer: -1 or a number, as the other
	lfAny                   // differs by nature (ports, pids, dates)
)

// compareLogFields compares two lines field by field.
func compareLogFields(t *testing.T, fields []lfField, lines [2]string) {
	t.Helper()
	got := [2][]string{strings.Split(lines[0], " "), strings.Split(lines[1], " ")}
	if len(got[0]) != len(fields) || len(got[1]) != len(fields) {
		t.Fatalf("want %d fields:\nhaproxy %q\ngoproxy %q", len(fields), lines[0], lines[1])
	}
	for i, f := range fields {
		h, g := got[0][i], got[1][i]
		switch f.mask {
		case lfSame:
			if h != g {
				t.Errorf("%s: haproxy %q, goproxy %q", f.spec, h, g)
			}
		case lfReached:
			if (h == "-1") != (g == "-1") {
				t.Errorf("%s: haproxy %q, goproxy %q (reached or not)", f.spec, h, g)
			}
		case lfAny:
			if h == "" || g == "" || (h == "-") != (g == "-") {
				t.Errorf("%s: haproxy %q, goproxy %q (both must be set)", f.spec, h, g)
			}
		}
	}
}

// TestE2ELogFormatDifferential sends the same session through haproxy and
// goproxy with the same log-format strings and compares the datagrams
// field by field.
func TestE2ELogFormatDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH")
	}
	same := func(specs ...string) []lfField {
		var out []lfField
		for _, s := range specs {
			out = append(out, lfField{s, lfSame})
		}
		return out
	}
	f := func(spec string, m lfMask) lfField { return lfField{spec, m} }
	var all []lfField
	all = append(all, same("LF1", "%ci")...)
	all = append(all, f("%cp", lfAny), f("%fi", lfSame), f("%fp", lfAny))
	all = append(all, same("%ft", "%f", "%b", "%s", "%bi")...)
	all = append(all, f("%bp", lfAny), f("%si", lfSame), f("%sp", lfSame))
	for _, tm := range []string{"%Tw", "%Tc", "%Tt", "%Td", "%Tu"} {
		all = append(all, f(tm, lfReached))
	}
	all = append(all, same("%Th", "%B", "%U", "%ts", "%ac", "%fc", "%bc", "%sc", "%rc", "%sq", "%bq", "%ID")...)
	all = append(all, f("%pid", lfAny), f("%t", lfAny), f("%Ts", lfAny), f("%ms", lfAny))
	all = append(all, same("%H", "[%hr][%hrl][%hs][%hsl]", "%ST", "%tsc", "%rt", "%lc", "%sslv", "%sslc")...)
	flags := same("LF2", "%{+Q}ci", "%{+Q}b", "%{+Q}s", "%{+X}ci", "%{+X}fi", "%{+Q}ID", "%{+Q}H", "%{+Q,+E}f", "%{+X}rt", "%{+X}lc", "100%%", "%{+Q}ft", "%{-M}ID%ci")
	flags = append(flags, f("%{+Q}Tw", lfReached), f("%{+X}cp", lfAny), f("%{+X}Ts", lfAny), f("%{+X}pid", lfAny))
	flags = append(flags, same("%{+Q}o%ci", "%{-Q}b", "%{+X}o%ci", "%B", "%[src]", "%{-X,-Q}s")...)
	fetches := same("LF3", "%[src]", "%[dst]", "%{+Q}[src]", "%{+Q,+X}[dst]")
	fetches = append(fetches, f("%[src_port]", lfAny), f("%[dst_port]", lfAny))
	converted := same("LF4", "%[src,lower]", "%[src,upper]", "%[src,hex]", "%[dst,hex,lower]", "%{+Q}[src,upper]", "%[src,hex,hex]")
	converted = append(converted, f("%[src_port,hex]", lfAny), f("%[dst_port,upper]", lfAny))
	// Converters on the address fetches, maps among them (the client is
	// 127.0.0.2).
	mapDir := t.TempDir()
	ipMap := writeFile(t, mapDir, "ip.map", "127.0.0.0/8 lo8\n127.0.0.2 two\n10.0.0.0/8 ten\n")
	intMap := writeFile(t, mapDir, "int.map", "127.0.0.0/24 2130706432\n")
	strMap := writeFile(t, mapDir, "str.map", "127.0.0.2 Two\n127.0 beg\n")
	addrMap := writeFile(t, mapDir, "addr.map", "127.0.0.9 10.9.9.9\n")
	convs := same("LF7", "%[src,ipmask(24)]", "%[src,ipmask(255.0.0.0)]", "%[src,hex]", "%[src,bytes(1,2),hex]",
		"%[src,bytes(3)]", "%[src,bytes(9),hex]", "%[src,lower,upper]", "%[src,map_ip("+ipMap+")]",
		"%[src,ipmask(16),map_ip("+ipMap+")]", "%[dst,map_str("+strMap+",none)]", "%[src,map_str("+strMap+")]",
		"%[src,map_str("+strMap+"),lower]", "%[src,map_beg("+strMap+")]", "%[src,map_ip_int("+intMap+"),hex]",
		"%[src,map_sub("+strMap+")]", "%[src,map_end("+strMap+",x)]", "%{+Q}[src,map_ip("+ipMap+")]",
		"%[src,map_ip_int("+intMap+")]", "%[src,map_str_int("+intMap+",7)]", "%[src,map_str_ip("+addrMap+",10.1.2.3)]")
	// With option logasap, the line is written once connected: the
	// total time and the bytes so far carry a '+'.
	asap := []lfField{f("LF5", lfSame), f("%s", lfSame), f("%ts", lfSame), f("%Tt", lfAny), f("%B", lfSame), f("%Tu", lfAny)}
	// tcp-request content captures (the client sends nothing before the
	// server's greeting: the payload slot stays empty, at inspect-delay).
	caps := same("LF8", "%hr", "%[capture.req.hdr(1)]", "%[capture.req.hdr(0)]", "%{+Q}[capture.req.hdr(2)]")
	capRules := []string{"tcp-request inspect-delay 100ms", "tcp-request content capture req.payload(0,3) len 2",
		"tcp-request content capture src len 7", "tcp-request content capture fe_name,upper len 20 if { src 127.0.0.2 }"}
	// The other fetches goproxy evaluates, at log time (the session has
	// left its backend: be_conn is %bc, 0; haproxy once in a dozen runs
	// logged 1, so only its presence is compared).
	others := same("LF9", "%[fe_name]", "%[be_name]", "%[fe_id]", "%[so_id]", "%[fe_conn]", "%[fe_conn(fe)]",
		"%[nbsrv(be)]", "%bc")
	others = append(others, f("%[be_conn(be)]", lfAny))
	// The counters of a backend and a server (the rates read 1, the
	// session's own, on both; srv_conn has been released as be_conn).
	others = append(others, same("%[be_id]", "%[avg_queue(be)]", "%[srv_queue(be/s1)]", "%[be_sess_rate(be)]", "%[srv_sess_rate(be/s1)]")...)
	others = append(others, f("%[srv_conn(be/s1)]", lfAny))
	others = append(others, same("%[connslots(be)]", "%[queue(be)]", "%[srv_is_up(be/s1)]",
		"%[var(sess.x)]", "%[var(sess.x),upper]", "%[var(txn.nope)]", "%[fc_pp_authority]", "%[fc_pp_unique_id]", "%[unique-id]",
		"%[int(12)]", "%[str(a\\tb)]", "%[bool(1)]", "%[bin(4142)]", "%[ipv4(1.2.3.4)]", "%[ipv6(::1)]",
		"%[always_true]", "%[always_false]", "%[ssl_fc]", "%[ssl_fc_sni]", "%[ssl_c_used]", "%{+Q}[fe_name]", "%{+X}[fe_id]")...)
	formats := []struct {
		name   string
		fields []lfField
		opts   []string
		front  []string
	}{
		{"all TCP variables", all, nil, nil},
		{"quote and hex flags", flags, nil, nil},
		{"sample fetches", fetches, nil, nil},
		{"sample converters", converted, nil, nil},
		{"converters", convs, nil, nil},
		{"captures", caps, nil, capRules},
		{"other fetches", others, nil, []string{"tcp-request content set-var(sess.x) str(abc)"}},
		{"option logasap", asap, []string{"option logasap"}, nil},
	}
	for _, tc := range formats {
		t.Run(tc.name, func(t *testing.T) {
			var specs []string
			for _, fl := range tc.fields {
				specs = append(specs, fl.spec)
			}
			format := strings.Join(specs, `\ `)
			sink := startSyslog(t)
			ss := nameServers(t, 1)
			cfg := e2eCfg{
				global:   []string{"log " + sink.addr() + " local2"},
				defaults: append([]string{"log global"}, tc.opts...),
				frontend: append([]string{"log-format " + format}, tc.front...),
				servers:  srvLines(ss, []int{1}),
			}
			re := regexp.MustCompile(syslogHeader + `(LF\d .*)\n$`)
			var lines [2]string
			for i, bin := range []string{haproxy, goproxyBin} {
				addr, p := cfg.runWith(t, bin)
				c, _ := openName(t, "127.0.0.2", addr)
				if err := echoRoundTrip(c, "hello\n"); err != nil {
					t.Fatal(err)
				}
				c.Close()
				lines[i] = sink.next(t, re, 5*time.Second)[3]
				p.stop()
				for len(sink.msgs) > 0 {
					<-sink.msgs
				}
			}
			t.Logf("haproxy %s\ngoproxy %s", lines[0], lines[1])
			compareLogFields(t, tc.fields, lines)
			if tc.opts != nil && (!strings.Contains(lines[0], " +") || !strings.Contains(lines[1], " +")) {
				t.Errorf("logasap: no '+' in\nhaproxy %s\ngoproxy %s", lines[0], lines[1])
			}
		})
	}
	t.Run("log sample", func(t *testing.T) {
		sink := startSyslog(t)
		ss := nameServers(t, 1)
		cfg := e2eCfg{
			global:   []string{"log " + sink.addr() + " sample 1,3:3 local2"},
			defaults: []string{"log global"},
			frontend: []string{`log-format "LF6 %rt"`},
			servers:  srvLines(ss, []int{1}),
		}
		re := regexp.MustCompile(syslogHeader + `(LF6 .*)\n$`)
		var got [2]string
		for i, bin := range []string{haproxy, goproxyBin} {
			addr, p := cfg.runWith(t, bin)
			for range 4 {
				c, _ := openName(t, "127.0.0.2", addr)
				if err := echoRoundTrip(c, "hello\n"); err != nil {
					t.Fatal(err)
				}
				c.Close()
				time.Sleep(50 * time.Millisecond) // one session ends before the next
			}
			var seen []string
			for range 3 {
				seen = append(seen, sink.next(t, re, 5*time.Second)[3])
			}
			got[i] = strings.Join(seen, ",")
			p.stop()
			for len(sink.msgs) > 0 {
				<-sink.msgs
			}
		}
		if got[0] != got[1] || got[0] != "LF6 0,LF6 2,LF6 3" {
			t.Errorf("sampled lines: haproxy %s, goproxy %s, want LF6 0,LF6 2,LF6 3", got[0], got[1])
		}
	})
	t.Run("log-format-sd and log-tag in rfc5424", func(t *testing.T) {
		sink := startSyslog(t)
		ss := nameServers(t, 1)
		cfg := e2eCfg{
			global:   []string{"log " + sink.addr() + " format rfc5424 local2"},
			defaults: []string{"log global", "log-tag lftag"},
			frontend: []string{`log-format "LF4 %ci %b/%s %B"`, `log-format-sd "[ex@1 c=%{+Q,+E}[src] b=\"%b\"]"`},
			servers:  srvLines(ss, []int{1}),
		}
		re := regexp.MustCompile(`^<(\d+)>1 \S+ (\S+) (\S+) \d+ - (.*LF4 .*)\n$`)
		var got [2]string
		for i, bin := range []string{haproxy, goproxyBin} {
			addr, p := cfg.runWith(t, bin)
			c, _ := openName(t, "127.0.0.2", addr)
			if err := echoRoundTrip(c, "hello\n"); err != nil {
				t.Fatal(err)
			}
			c.Close()
			m := sink.next(t, re, 5*time.Second)
			got[i] = strings.Join(m[1:], " | ")
			p.stop()
			for len(sink.msgs) > 0 {
				<-sink.msgs
			}
		}
		if got[0] != got[1] {
			t.Errorf("rfc5424 lines differ:\nhaproxy %s\ngoproxy %s", got[0], got[1])
		} else {
			t.Logf("both: %s", got[0])
		}
	})
}
