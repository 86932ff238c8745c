package main

import (
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"regexp"
	"testing"
	"time"
)

// TestScFetchCheckDifferential compares haproxy -c and goproxy -c on the
// generic sc_*(<ctr>[,<table>]) fetches: their arguments and the fetches
// HAProxy does not have.
func TestScFetchCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	head := "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
		"frontend fe\n  bind 127.0.0.1:9\n  default_backend be\n  stick-table type ip size 10 store conn_cnt,gpc0\n"
	be := "backend be\n  server s1 127.0.0.1:1\nbackend t2\n  stick-table type ip size 10\n"
	for i, l := range []string{
		"acl a sc_conn_cnt(0) gt 1", "acl a sc_conn_cnt gt 1", "acl a sc_conn_cnt(3) gt 1", "acl a sc_conn_cnt(-1) gt 1",
		"acl a sc_conn_cnt(a) gt 1", "acl a sc_conn_cnt(0,t2) gt 1", "acl a sc_conn_cnt(0,t2,x) gt 1",
		"acl a sc_tracked(1) -m bool", "acl a sc_get_gpc0(1,t2) gt 1", "acl a sc_updt_conn_cnt(1) gt 1",
		"acl a sc_inc_gpc0(2) gt 1", "acl a sc_clr_gpc1(0) ge 0", "acl a sc_kbytes_in(0) ge 0", "acl a sc_trackers(0) ge 0",
		"acl a sc_http_req_rate(0) ge 0", "acl a sc_bytes_out_rate(0,t2) ge 0", "acl a sc_sess_rate(0) ge 0",
		"tcp-request content set-var(txn.x) sc_conn_cnt(0)", "tcp-request connection reject if { sc_conn_cur(0) gt 3 }",
		"log-format \"%[sc_conn_cnt(1)] %[sc_get_gpt0(0,t2)]\"",
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			compareCheck(t, haproxy, head+"  "+l+"\n"+be)
		})
	}
}

// TestE2EScFetches reads tracked entries through sc_*(<ctr>[,<table>])
// on goproxy and haproxy: the counter the first argument names, the
// same key in another table, a counter that tracks nothing or does not
// exist; a content rule rejects on sc_get_gpc0(1). Both log the same.
func TestE2EScFetches(t *testing.T) {
	line := regexp.MustCompile(`haproxy\[\d+\]: (127\.0\.0\.2 .*)`)
	got := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		addr, _ := e2eCfg{
			defaults: []string{"log " + sink.addr() + " local2"},
			frontend: []string{
				"stick-table type ip size 100 store conn_cnt,gpc0",
				"log-format \"%ci %[sc_conn_cnt(1)] %[sc_get_gpc0(1)] %[sc_tracked(0)] %[sc_tracked(1)] %[sc_conn_cnt(1,t2)] %[sc_conn_cnt(2)] %[sc_conn_cnt(5)] %[sc_tracked(5)]\"",
				"tcp-request connection track-sc1 src",
				"tcp-request session track-sc2 src table t2",
				"tcp-request session sc-inc-gpc0(1)",
				"tcp-request content reject if { sc_get_gpc0(1) gt 2 }",
			},
			// t2's table, in a section of its own after the servers.
			servers: append(srvLines(ss, []int{1}), "backend t2", "stick-table type ip size 10 store conn_cnt"),
		}.runWith(t, bin)
		var lines []string
		for i := 0; i < 3; i++ {
			c, err := dialFrom("127.0.0.2", addr)
			if err != nil {
				t.Fatal(err)
			}
			if i < 2 {
				if name, err := readName(c); err != nil || name != "s1" {
					t.Fatalf("session %d: %q %v", i, name, err)
				}
			} else {
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if n, err := c.Read(make([]byte, 8)); err == nil {
					t.Errorf("session %d: read %d bytes, want it rejected", i, n)
				}
			}
			_, _ = io.WriteString(c, "x")
			c.Close()
			lines = append(lines, sink.next(t, line, 3*time.Second)[1])
		}
		want := []string{"127.0.0.2 1 1 0 1 1 1 - 0", "127.0.0.2 2 2 0 1 2 2 - 0", "127.0.0.2 3 3 0 1 3 3 - 0"}
		if !reflect.DeepEqual(lines, want) {
			t.Errorf("log lines %q, want %q", lines, want)
		}
		got[t.Name()] = lines
	})
	if len(got) == 2 && !reflect.DeepEqual(got["TestE2EScFetches/goproxy"], got["TestE2EScFetches/haproxy"]) {
		t.Errorf("goproxy and haproxy differ: %q", got)
	}
}
