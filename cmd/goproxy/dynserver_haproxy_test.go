package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// dynDiffConfig has a roundrobin backend with one checked server and a
// default-server (not applied to dynamic servers), an empty leastconn
// backend, and two backends whose algorithms refuse dynamic servers.
func dynDiffConfig(sock, fe, live string) string {
	return fmt.Sprintf("global\n    stats socket %s level admin\n"+
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"+
		"frontend fe\n    bind %s\n    default_backend rr\n"+
		"backend rr\n    balance roundrobin\n    default-server weight 50 check inter 100ms\n    server s1 %s\n"+
		"backend lc\n    balance leastconn\n"+
		"backend src\n    balance source\n    server s1 %s check inter 100ms\n"+
		"backend srr\n    balance static-rr\n    server s1 %s check inter 100ms\n", sock, fe, live, live, live)
}

// maskStateTimes blanks srv_time_since_last_change (the 10th field) of
// the server lines of "show servers state".
func maskStateTimes(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) > 10 && !strings.HasPrefix(l, "#") {
			f[9] = "T"
			lines[i] = strings.Join(f, " ")
		}
	}
	return strings.Join(lines, "\n")
}

// TestDynamicServersAgainstHAProxy runs the same "add server" / "del
// server" sequence, with the commands that act on the new servers,
// against goproxy and haproxy, and compares every answer byte for byte
// (state ages masked), then the stable columns of show stat.
func TestDynamicServersAgainstHAProxy(t *testing.T) {
	hap, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("SKIP: haproxy not installed")
	}
	live := newEcho(t)
	addr := fmt.Sprintf("127.0.0.1:%d", live.port())
	var twins []twin
	for _, name := range []string{"goproxy", "haproxy"} {
		dir := t.TempDir()
		tw := twin{name: name, sock: sockPath(dir, "api.sock"), fe: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		writeFile(t, dir, "rt.cfg", dynDiffConfig(tw.sock, tw.fe, addr))
		if name == "goproxy" {
			startReal(t, dir, "-db", "-f", "rt.cfg")
		} else {
			startCmd(t, exec.Command(hap, "-db", "-f", "rt.cfg"), dir)
		}
		twins = append(twins, tw)
	}
	for _, tw := range twins {
		waitStat(t, tw.sock, 5*time.Second, tw.name+" first checks", func(r map[string]statRow) bool {
			return r["rr/s1"]["check_status"] == "L4OK" && r["src/s1"]["check_status"] == "L4OK" && r["srr/s1"]["check_status"] == "L4OK"
		})
	}
	cmds := []string{
		"add server rr/d1 " + addr,
		"add server rr/d1 " + addr,
		"add server src/d1 " + addr,
		"add server srr/d1 " + addr,
		"add server nope/d1 " + addr,
		"add server rr",
		"add server rr/",
		"add server /rr",
		"add server rr/d2",
		"add server rr/d2 " + addr + " cookie x",
		"add server rr/d2 " + addr + " chekc",
		"add server rr/d2 " + addr + " weight 300",
		"add server rr/d2 " + addr + " agent-check",
		"add server rr/d2 " + addr + " resolvers x",
		"add server rr/d2 " + addr + " init-addr none",
		"add server rr/d2 " + addr + " no-check",
		"add server rr/d2 " + addr + " id 1",
		"add server rr/d2 " + addr + " id 0",
		"add server rr/d+3 " + addr,
		"add server rr/d2 127.0.0.1:99999",
		"add server rr/d2 127.0.0.1 check",
		"add server rr/d2 " + addr + " id 7 weight 3 maxconn 5 check inter 100ms backup",
		"add server rr/d3 " + addr + " id 7",
		"add server lc/a " + addr + " weight 7 maxconn 10",
		"add server lc/b 127.0.0.1 id 9",
		"add server lc/c " + addr,
		"add server lc/e " + addr + " id 9",
		"show servers state",
		"get weight lc/a",
		"enable server lc/a",
		"set server lc/c state drain",
		"set server lc/c weight 20",
		"get weight lc/c",
		"set server lc/c addr 127.0.0.2",
		"del server lc/a",
		"disable server lc/a",
		"del server lc/a",
		"del server lc/a",
		"add server lc/f " + addr,
		"set server lc/f addr 127.0.0.3 port 9999",
		"set server lc/f port 9998",
		"set server lc/f health up",
		"set server lc/f agent up",
		"set maxconn server lc/f 12",
		"shutdown sessions server lc/f",
		"add server lc/g " + addr + " disabled",
		"add server lc/h " + addr + " ssl verify none send-proxy slowstart 10s",
		"enable server lc/g",
		"show servers state lc",
		"show servers conn lc",
		"enable server rr/d1",
		"set server rr/d1 weight 0",
		"show servers conn rr",
		"del server rr/s1",
		"disable server rr/s1",
		"del server rr/s1",
		"show servers state rr",
		"del server lc",
		"del server nope/x",
		"show servers state lc",
		"set severity-output number;add server lc/z " + addr,
		"set severity-output number;add server lc/z " + addr,
		"set severity-output number;add server lc/y " + addr + " cookie a",
		"set severity-output number;add server srr/y " + addr,
		"set severity-output string;del server lc/c",
		"set severity-output number;del server lc/z",
		"set severity-output number;del server lc/x",
	}
	for _, c := range cmds {
		g := cli(t, twins[0].sock, c)
		h := cli(t, twins[1].sock, c)
		if strings.HasPrefix(c, "show servers state") {
			g, h = maskStateTimes(g), maskStateTimes(h)
		}
		if g != h {
			t.Errorf("%s:\ngoproxy %q\nhaproxy %q", c, g, h)
		}
	}
	compareStat(t, "after the dynamic servers", twins)
}
