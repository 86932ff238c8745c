package main

import (
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestPriorityCheckDifferential compares haproxy -c and goproxy -c on
// set-priority-class, set-priority-offset and their fetches.
func TestPriorityCheckDifferential(t *testing.T) {
	t.Parallel()
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy is not on PATH")
	}
	head := "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
		"frontend fe\n  bind 127.0.0.1:9\n  default_backend be\n"
	be := "backend be\n  tcp-request content set-priority-class int(1)\n  server s1 127.0.0.1:1\n"
	for i, l := range []string{
		"tcp-request content set-priority-class int(-5)", "tcp-request content set-priority-offset int(100) if TRUE",
		"tcp-request content set-priority-class", "tcp-request content set-priority-class nope",
		"tcp-request content set-priority-offset req.payload(0,1)", "tcp-request content set-priority-class int(1) extra",
		"tcp-request connection set-priority-class int(1)", "tcp-request session set-priority-offset int(1)",
		"acl a prio_class gt 0", "acl b prio_offset(x) gt 0", "tcp-request content set-var(txn.p) prio_offset",
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			compareCheck(t, haproxy, head+"  "+l+"\n"+be)
		})
	}
}

// TestE2EQueuePriority queues three sessions behind one that holds the
// only slot of a server (maxconn 1), on goproxy and haproxy: the one with
// the lowest priority class is served first, then, in class 0, the one
// whose offset puts it before the session queued earlier.
func TestE2EQueuePriority(t *testing.T) {
	got := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1, holding)
		c, sock := stickCfg(t.TempDir(), e2eCfg{
			defaults: []string{"timeout queue 10s"},
			frontend: []string{
				"tcp-request content set-priority-class int(-1) if { src 127.0.0.4 }",
				"tcp-request content set-priority-offset int(-5000) if { src 127.0.0.3 }",
			},
			servers: srvLines(ss, []int{1}, "maxconn 1"),
		})
		addr, _ := c.runWith(t, bin)
		waitSocket(t, sock)
		first, name := openName(t, "127.0.0.2", addr)
		if name != "s1" {
			t.Fatalf("first session: %q", name)
		}
		conns := map[string]net.Conn{}
		order := make(chan string, 3)
		for i, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
			cn, err := dialFrom(ip, addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cn.Close() })
			conns[ip] = cn
			go func() {
				_ = cn.SetReadDeadline(time.Now().Add(8 * time.Second))
				if _, err := readName(cn); err == nil {
					order <- ip
				}
			}()
			// Queued one after the other.
			waitFor(t, 3*time.Second, "queued", func() bool {
				st := showStat(t, sock)
				q, _ := strconv.Atoi(st["be/BACKEND"]["qcur"])
				sq, _ := strconv.Atoi(st["be/s1"]["qcur"])
				return q+sq == i+1
			})
		}
		first.Close()
		var served []string
		for range 3 {
			select {
			case ip := <-order:
				served = append(served, ip)
				conns[ip].Close()
			case <-time.After(5 * time.Second):
				t.Fatalf("served so far: %v", served)
			}
		}
		want := []string{"127.0.0.4", "127.0.0.3", "127.0.0.2"}
		if !reflect.DeepEqual(served, want) {
			t.Errorf("served %v, want %v", served, want)
		}
		got[t.Name()] = served
	})
	if len(got) == 2 && !reflect.DeepEqual(got["TestE2EQueuePriority/goproxy"], got["TestE2EQueuePriority/haproxy"]) {
		t.Errorf("goproxy and haproxy differ: %v", got)
	}
}
