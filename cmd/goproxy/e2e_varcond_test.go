package main

import (
	"reflect"
	"regexp"
	"testing"
	"time"
)

// TestE2EVarConditions runs set-var and set-var-fmt with HAProxy 2.6's
// conditions on goproxy and haproxy and logs the variables: ifexists on
// a variable that does not exist sets nothing, ifgt and iflt compare
// integers, ifnotexists keeps the first value, a failed ifset or
// ifnotempty leaves the variable created without a value (which ifexists
// then sees and ifnotexists refuses), and a formatted string is never
// empty for ifempty.
func TestE2EVarConditions(t *testing.T) {
	line := regexp.MustCompile(`haproxy\[\d+\]: (.*)`)
	got := map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		sink := startSyslog(t)
		addr, _ := e2eCfg{
			defaults: []string{"log " + sink.addr() + " local2"},
			frontend: []string{
				"tcp-request connection set-var(sess.a,ifexists) str(x)",
				"tcp-request connection set-var(sess.b) int(5)",
				"tcp-request connection set-var(sess.b,ifgt) int(3)",
				"tcp-request connection set-var(sess.b,ifgt) int(9)",
				"tcp-request connection set-var(sess.c,ifnotexists) str(one)",
				"tcp-request connection set-var(sess.c,ifnotexists) str(two)",
				"tcp-request session set-var(sess.d,ifset) str(x)",
				"tcp-request session set-var(sess.d,ifexists) str(y)",
				"tcp-request session set-var(sess.e,ifnotempty) str()",
				"tcp-request session set-var(sess.e,ifnotexists) str(z)",
				"tcp-request content set-var(sess.f,iflt) int(7)",
				"tcp-request content set-var(sess.f,iflt) int(2)",
				"tcp-request content set-var-fmt(txn.g,ifempty) %ci",
				"tcp-request content set-var-fmt(txn.h,ifnotset,ifnotempty) <%ci>",
				"log-format \"%[var(sess.a)] %[var(sess.b)] %[var(sess.c)] %[var(sess.d)] %[var(sess.e)] %[var(sess.f)] %[var(txn.g)] %[var(txn.h)]\"",
			},
			servers: srvLines(ss, []int{1}),
		}.runWith(t, bin)
		c, name := openName(t, "127.0.0.2", addr)
		if name != "s1" {
			t.Fatalf("greeting %q", name)
		}
		c.Close()
		got[t.Name()] = sink.next(t, line, 3*time.Second)[1]
		if want := "- 3 one y - 7 - <127.0.0.2>"; got[t.Name()] != want {
			t.Errorf("logged %q, want %q", got[t.Name()], want)
		}
	})
	if len(got) == 2 && !reflect.DeepEqual(got["TestE2EVarConditions/goproxy"], got["TestE2EVarConditions/haproxy"]) {
		t.Errorf("goproxy and haproxy differ: %q", got)
	}
}
