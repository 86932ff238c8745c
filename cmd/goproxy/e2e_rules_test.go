package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestE2ERules runs tcp-request set-src, set-var/unset-var with var() in
// a dynamic use_backend name, silent-drop, expect-proxy layer4 and
// use-server with force-persist (testdata/routing/rules.cfg) on goproxy
// and on haproxy: each case matches one rule, or does not, and the same
// server must answer on both.
func TestE2ERules(t *testing.T) {
	names := []string{"u1", "u2", "u3", "d", "n", "p", "pt"}
	addrs := map[string]string{}
	for _, n := range names {
		addrs[n] = startNameServer(t, n, "127.0.0.1:0").addr()
	}
	cases := []struct {
		name, from, header, send, want string
	}{
		{"var names the backend, balancer picks", "127.0.0.2", "", "USER1", "u1"},
		{"use-server", "127.0.0.2", "", "USER2", "u2"},
		{"use-server of a server in maintenance: no", "127.0.0.2", "", "USER3", "u1"},
		{"force-persist: the server in maintenance", "127.0.0.2", "", "USERF", "u3"},
		{"var of no backend: default", "127.0.0.2", "", "OTHER", "d"},
		{"unset-var: default", "127.0.0.2", "", "NONE1", "d"},
		{"silent-drop", "127.0.0.2", "", "DROP1", "closed"},
		{"set-src", "127.0.0.5", "", "OTHER", "n"},
		{"no set-src", "127.0.0.6", "", "OTHER", "d"},
		{"expect-proxy", "127.0.0.7", "PROXY TCP4 10.1.2.3 10.0.0.1 1234 80\r\n", "OTHER", "p"},
		{"expect-proxy, another source", "127.0.0.7", "PROXY TCP4 10.1.2.4 10.0.0.1 1234 80\r\n", "USER2", "u2"},
		{"set-dst-port: a server without a port", "127.0.0.2", "", "PORT1", "pt"},
		{"a constant names the backend", "127.0.0.2", "", "KONS1", "n"},
	}
	results := map[string]map[string]string{}
	onOracles(t, func(t *testing.T, bin string) {
		addr := loopAddr(t)
		cfg := routingConfig(t, "rules.cfg", map[string]string{"LISTEN": addr,
			"U1": addrs["u1"], "U2": addrs["u2"], "U3": addrs["u3"], "D": addrs["d"], "N": addrs["n"], "P": addrs["p"],
			"PTPORT": addrs["pt"][strings.LastIndexByte(addrs["pt"], ':')+1:]})
		startServing(t, bin, cfg, addr)
		got := map[string]string{}
		for _, tc := range cases {
			c, err := dialFrom(tc.from, addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write([]byte(tc.header + tc.send))
			_ = c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
			var b []byte
			one := make([]byte, 1)
			res := ""
			for len(b) < 32 {
				if _, err := c.Read(one); err != nil {
					res = "closed"
					break
				}
				if one[0] == '\n' {
					break
				}
				b = append(b, one[0])
			}
			c.Close()
			if res == "" {
				res = string(b)
			}
			got[tc.name] = res
			if res != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, res, tc.want)
			}
		}
		results[t.Name()] = got
	})
	if len(results) == 2 {
		var r []map[string]string
		for _, v := range results {
			r = append(r, v)
		}
		if !reflect.DeepEqual(r[0], r[1]) {
			t.Errorf("goproxy and haproxy differ:\n%v\n%v", r[0], r[1])
		}
	}
}
