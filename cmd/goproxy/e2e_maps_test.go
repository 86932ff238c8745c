package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"goproxy/internal/cmpp"
)

// TestE2EMapRouting routes CMPP accounts through map files
// (testdata/routing/cmpp-maps.cfg: use_backend %[...,map_str(...)],
// map_beg, map_ip, bytes, hex, ipmask) and changes the maps on the stats
// socket, on goproxy and on haproxy: the same gateways must answer and the
// CLI must say the same.
func TestE2EMapRouting(t *testing.T) {
	_, gws := startGateways(t, 4)
	maps, err := filepath.Abs("../../testdata/routing/maps")
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile(`0x[0-9a-f]+`)
	cfgName := regexp.MustCompile(`file '[^']*e2e-\d+\.cfg'`)
	results := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		addr := loopAddr(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		cfg := routingConfig(t, "cmpp-maps.cfg", map[string]string{
			"LISTEN": addr, "SOCK": sock, "MAPS": maps,
			"GW1": gws[0], "GW2": gws[1], "GW3": gws[2], "GW4": gws[3]})
		startServing(t, bin, cfg, addr)
		var got []string
		route := func(ip, acct string) string {
			gw, err := cmppConnectFrom(ip, addr, acct, nil)
			if err != nil {
				gw = "error: " + err.Error()
			}
			if gw == "server2" {
				gw = "server1" // pool_gold balances over both
			}
			r := fmt.Sprintf("%s from %s: %s", acct, ip, gw)
			got = append(got, r)
			return gw
		}
		cmd := func(c string) {
			out := ref.ReplaceAllString(cli(t, sock, c), "REF")
			out = cfgName.ReplaceAllString(out, "file 'CFG'")
			got = append(got, c+" => "+strings.ReplaceAll(out, "\n", `\n`))
		}
		want := func(ip, acct, gw string) {
			if g := route(ip, acct); g != gw {
				t.Errorf("%s from %s: %s, want %s", acct, ip, g, gw)
			}
		}
		want("127.0.0.2", "901234", "server1") // accounts.map: pool_gold
		want("127.0.0.2", "908811", "server3") // pool_bulk
		want("127.0.0.2", "907712", "server1") // prefixes.map: 9077 (longest) pool_gold
		want("127.0.0.2", "905555", "server3") // prefix 90: pool_bulk
		want("127.0.0.2", "555555", "server4") // the map_beg default: pool_default
		want("127.0.0.2", "666666", "refused") // blocked.map
		want("127.0.0.9", "901234", "server4") // nets.map: nine
		want("127.0.0.3", "908811", "refused") // a key of accounts.map (-M -f)
		want("127.0.0.3", "901234", "server1") // 9012: not refused
		want("127.0.0.3", "905555", "server3") // not a key
		// A first PDU other than CONNECT: bytes(4),hex is not 00000001.
		c, err := dialFrom("", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(binary.BigEndian.AppendUint32(cmpp.AppendPDU(nil, cmpp.CmdActiveTest, 7, nil), 0)[:12])
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		got = append(got, fmt.Sprintf("ACTIVE_TEST first: %d bytes", len(b)))
		if len(b) != 0 {
			t.Errorf("ACTIVE_TEST first: %d bytes, want the connection closed", len(b))
		}
		cmd("show map")
		cmd("show map " + maps + "/accounts.map")
		cmd("add map " + maps + "/accounts.map 555555 pool_gold")
		want("127.0.0.2", "555555", "server1")
		cmd("set map " + maps + "/accounts.map 555555 pool_bulk")
		want("127.0.0.2", "555555", "server3")
		cmd("del map " + maps + "/accounts.map 555555")
		want("127.0.0.2", "555555", "server4")
		cmd("add map " + maps + "/blocked.map 901235 x")
		want("127.0.0.2", "901235", "refused")
		cmd("clear map " + maps + "/blocked.map")
		want("127.0.0.2", "666666", "server4") // no longer refused, in no other map
		// A name that is no backend: the rules stop there, the default
		// backend (pool_bulk) takes the session, as on haproxy.
		cmd("add map " + maps + "/accounts.map 444444 pool_nosuch")
		want("127.0.0.2", "444444", "server3")
		cmd("add map " + maps + "/nets.map notanip x")
		cmd("del map " + maps + "/accounts.map 444444")
		cmd("del map " + maps + "/accounts.map 444444")
		cmd("set map " + maps + "/accounts.map 444444 x")
		cmd("show map")
		results[t.Name()] = got
	})
	if len(results) == 2 {
		var r [][]string
		for _, v := range results {
			r = append(r, v)
		}
		if !reflect.DeepEqual(r[0], r[1]) {
			for i := range max(len(r[0]), len(r[1])) {
				a, b := "", ""
				if i < len(r[0]) {
					a = r[0][i]
				}
				if i < len(r[1]) {
					b = r[1][i]
				}
				if a != b {
					t.Errorf("goproxy and haproxy differ:\n%s\n%s", a, b)
				}
			}
		}
	}
}

// TestE2EMapVersions replaces a map atomically as HAProxy's runtime API
// does (prepare map, add map @<ver> one entry or a payload, commit map),
// on goproxy and on haproxy: the routing changes only at the commit, and
// every answer is the same.
func TestE2EMapVersions(t *testing.T) {
	_, gws := startGateways(t, 4)
	maps, err := filepath.Abs("../../testdata/routing/maps")
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile(`0x[0-9a-f]+`)
	cfgName := regexp.MustCompile(`file '[^']*e2e-\d+\.cfg'`)
	results := map[string][]string{}
	onOracles(t, func(t *testing.T, bin string) {
		addr := loopAddr(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		cfg := routingConfig(t, "cmpp-maps.cfg", map[string]string{
			"LISTEN": addr, "SOCK": sock, "MAPS": maps,
			"GW1": gws[0], "GW2": gws[1], "GW3": gws[2], "GW4": gws[3]})
		startServing(t, bin, cfg, addr)
		var got []string
		want := func(acct, gw string) {
			g, err := cmppConnectFrom("127.0.0.2", addr, acct, nil)
			if err != nil {
				g = "error: " + err.Error()
			}
			if g == "server2" {
				g = "server1" // pool_gold balances over both
			}
			got = append(got, acct+": "+g)
			if g != gw {
				t.Errorf("%s: %s, want %s", acct, g, gw)
			}
		}
		am := maps + "/accounts.map"
		cmd := func(c string) {
			out := ref.ReplaceAllString(cli(t, sock, c), "REF")
			out = cfgName.ReplaceAllString(out, "file 'CFG'")
			got = append(got, c+" => "+strings.ReplaceAll(out, "\n", `\n`))
		}
		cmd("prepare map " + am)
		cmd("add map @1 " + am + " 901234 pool_bulk")
		cmd("add map @1 " + am + " <<\n908811 pool_gold\n555555 pool_bulk\n")
		cmd("add map @5 " + am + " 1 x")
		cmd("show map @1 " + am)
		cmd("show map")
		want("901234", "server1") // version 0 still serves
		want("555555", "server4")
		cmd("commit map @1 " + am)
		want("901234", "server3")
		want("908811", "server1")
		want("555555", "server3")
		cmd("show map " + am)
		cmd("show map @0 " + am)
		cmd("commit map @1 " + am)
		cmd("commit map @7 " + am)
		cmd("commit map " + am)
		cmd("commit map @2")
		cmd("prepare map " + am)
		cmd("add map @2 " + am + " 777777 pool_gold")
		cmd("clear map @2 " + am)
		cmd("show map @2 " + am)
		cmd("add map " + am + " <<\n121212 pool_gold\n444444\n333333 pool_gold\n")
		want("121212", "server1")
		cmd("add map " + am + " <<\n131313 pool_gold\n141414\n")
		cmd("prepare map #9")
		cmd("show map")
		results[t.Name()] = got
	})
	g, h := results["TestE2EMapVersions/goproxy"], results["TestE2EMapVersions/haproxy"]
	if h == nil {
		return
	}
	for i := range max(len(g), len(h)) {
		a, b := "", ""
		if i < len(g) {
			a = g[i]
		}
		if i < len(h) {
			b = h[i]
		}
		if a != b {
			t.Errorf("goproxy and haproxy differ:\n%s\n%s", a, b)
		}
	}
}
