package main

import (
	"io"
	"os/exec"
	"reflect"
	"regexp"
	"testing"
	"time"
)

// TestE2EMapRegm applies map_regm to the client's first bytes on goproxy
// and haproxy: the first matching regular expression's value with its
// \N references replaced by the groups, \xHH and \<char> escapes, the
// default when nothing matches, and no sample for a value ending in a
// backslash. Both log the same values.
func TestE2EMapRegm(t *testing.T) {
	dir := t.TempDir()
	m := writeFile(t, dir, "m.map", "^user([0-9]+)_(a|b)$ pool_\\2_\\1\n^x(.*) \\x41\\1\\\\z\\3\n^y bad\\\n")
	line := regexp.MustCompile(`haproxy\[\d+\]: (.*)`)
	got := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		addr, _ := e2eCfg{
			defaults: []string{"log " + sink.addr() + " local2"},
			frontend: []string{
				"tcp-request inspect-delay 2s",
				"tcp-request content set-var(txn.m) req.payload(0,8),map_regm(" + m + ",dflt) if { req.len ge 8 }",
				"log-format \"%[var(txn.m)]\"",
			},
			servers: srvLines(ss, []int{1}),
		}.runWith(t, bin)
		var lines []string
		for _, send := range []string{"user12_b", "xyz12345", "yyyyyyyy", "qqqqqqqq"} {
			c, err := dialFrom("127.0.0.2", addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(c, send)
			if name, err := readName(c); err != nil || name != "s1" {
				t.Fatalf("%s: %q %v", send, name, err)
			}
			c.Close()
			lines = append(lines, sink.next(t, line, 3*time.Second)[1])
		}
		want := []string{"pool_b_12", "Ayz12345\\z", "-", "dflt"}
		if !reflect.DeepEqual(lines, want) {
			t.Errorf("logged %q, want %q", lines, want)
		}
		got[t.Name()] = lines
	})
	if len(got) == 2 && !reflect.DeepEqual(got["TestE2EMapRegm/goproxy"], got["TestE2EMapRegm/haproxy"]) {
		t.Errorf("goproxy and haproxy differ: %q", got)
	}
}

// TestMapRegmCheckDifferential compares haproxy -c and goproxy -c on
// map_regm: its arguments and the typed forms HAProxy does not have (an
// invalid regular expression gets HAProxy's message without PCRE's detail).
func TestMapRegmCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	dir := t.TempDir()
	good := writeFile(t, dir, "good.map", "^a(.*) b\\1\n")
	head := "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
		"frontend fe\n  bind 127.0.0.1:9\n  default_backend be\n"
	be := "backend be\n  server s1 127.0.0.1:1\n"
	for _, l := range []string{
		"acl a str(x),map_regm(" + good + ") -m found", "acl a str(x),map_regm(" + good + ",def) -m str bx",
		"acl a str(x),map_regm -m found", "acl a str(x),map_regm_int(" + good + ") -m found",
		"acl a int(1),map_regm(" + good + ") -m found",
	} {
		compareCheck(t, haproxy, head+"  "+l+"\n"+be)
	}
}
