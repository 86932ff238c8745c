package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// stableColumns are the "show stat" columns that depend neither on time
// nor on pids.
var stableColumns = []string{
	"pxname", "svname", "qcur", "qmax", "scur", "slim", "stot", "bin", "bout",
	"dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight",
	"act", "bck", "chkfail", "chkdown", "qlimit", "iid", "sid", "throttle", "lbtot",
	"type", "check_status", "check_code", "hanafail", "cli_abrt", "srv_abrt",
	"last_chk", "check_desc", "check_rise", "check_fall", "check_health",
	"agent_status", "mode", "connect", "reuse", "conn_tot", "dcon", "dses",
	"used_conn_cur", "need_conn_est", "uweight", "addr",
}

// twin is one process of a differential test.
type twin struct {
	name, sock, fe string
}

// TestRuntimeAgainstHAProxy runs goproxy and haproxy on the same
// configuration and traffic and compares "show stat" and the answers to
// admin commands.
func TestRuntimeAgainstHAProxy(t *testing.T) {
	hap, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed")
	}
	s1, s2 := newEcho(t), newEcho(t)
	dead := deadPort(t)
	servers := [][2]string{{"s1", fmt.Sprint(s1.port())}, {"s2", fmt.Sprint(s2.port())}, {"s3", dead}}
	var twins []twin
	for _, name := range []string{"goproxy", "haproxy"} {
		dir := t.TempDir()
		port := freePort(t)
		tw := twin{name: name, sock: sockPath(dir, "api.sock"), fe: fmt.Sprintf("127.0.0.1:%d", port)}
		// A second, named listener with its own rows (option socket-stats).
		cfg := strings.Replace(runtimeConfig(dir, port, tw.sock, servers), "    default_backend be\n",
			fmt.Sprintf("    bind 127.0.0.1:%d name second\n    option socket-stats\n    default_backend be\n", freePort(t)), 1)
		path := writeFile(t, dir, "rt.cfg", cfg)
		if name == "goproxy" {
			startReal(t, dir, "-db", "-f", path)
		} else {
			startCmd(t, exec.Command(hap, "-db", "-f", path), dir)
		}
		twins = append(twins, tw)
	}
	for _, tw := range twins {
		waitStat(t, tw.sock, 5*time.Second, tw.name+" first checks", func(r map[string]statRow) bool {
			return r["be/s3"]["status"] == "DOWN" && r["be/s1"]["check_status"] == "L4OK" && r["be/s2"]["check_status"] == "L4OK"
		})
		for i := 0; i < 5; i++ {
			session(t, tw.fe, fmt.Sprintf("message %d\n", i))
		}
		waitStat(t, tw.sock, 3*time.Second, tw.name+" sessions counted", func(r map[string]statRow) bool {
			return r["be/BACKEND"]["stot"] == "5" && r["be/BACKEND"]["scur"] == "0" && r["fe/FRONTEND"]["scur"] == "0"
		})
	}
	compareStat(t, "after traffic", twins)
	// Not compared: CumConns and TotalBytesOut (haproxy counts the CLI's
	// own traffic, which the polling makes vary), Ulimit-n (haproxy lowers
	// the open files limit to Maxsock, goproxy only raises it). A CLI
	// connection just closed may still count for a moment: a difference
	// must last to count.
	var infoDiffs []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		infoDiffs = nil
		ia, ib := infoFields(cli(t, twins[0].sock, "show info")), infoFields(cli(t, twins[1].sock, "show info"))
		for _, k := range []string{"Nbthread", "Maxsock", "Maxconn", "Hard_maxconn", "CurrConns",
			"Stopping", "Jobs", "Listeners"} {
			if ia[k] != ib[k] {
				infoDiffs = append(infoDiffs, fmt.Sprintf("show info %s: goproxy %q, haproxy %q", k, ia[k], ib[k]))
			}
		}
		if len(infoDiffs) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, d := range infoDiffs {
		t.Error(d)
	}

	cmds := []string{
		"disable server be/s1",
		"get weight be/s1",
		"set weight be/s2 3",
		"get weight be/s2",
		"set weight be/s2 300",
		"set weight be/s2 50%",
		"get weight be/s2",
		"set weight be/nosuch 1",
		"set server be/s1 state drain",
		"set server be/s1 state bogus",
		"show servers state",
		"set server be/s1 state ready",
		"enable server be/s1",
		"set server be/s2 state maint",
		"set server be/s2 health down",
		"set server be/s2 state ready",
		"disable health be/s1",
		"enable health be/s1",
		"set maxconn server be/s1 10",
		"disable frontend fe",
		"disable frontend fe",
		"enable frontend fe",
		"show backend",
		"show servers conn be",
		"set server be/s3 addr 127.0.0.2 port " + dead,
		"shutdown sessions server be/s1",
		"set maxconn frontend fe 50",
		"clear counters",
		"set server be/s1 health stopping",
		"set server be/s1 health up",
		"set server be/s1 agent up",
		"set maxconn global 500",
		"set server be/s1 state drain",
		"set weight be/s1 0",
		"set server be/s1 state ready",
		"set weight be/s1 100%",
	}
	for _, c := range cmds {
		t.Run(c, func(t *testing.T) {
			a, b := cli(t, twins[0].sock, c), cli(t, twins[1].sock, c)
			switch c {
			case "show servers state":
				a, b = stateColumns(a), stateColumns(b)
			case "show servers conn be":
				// used_cur counts haproxy's check connections in flight.
				a, b = blankColumn(a, 6), blankColumn(b, 6)
			}
			if a != b {
				t.Errorf("%q:\ngoproxy: %q\nhaproxy: %q", c, a, b)
			}
			if compareAfter[c] {
				compareStat(t, "after "+c, twins)
			}
		})
	}
	for _, tw := range twins {
		waitStat(t, tw.sock, 3*time.Second, tw.name+" s1 and s2 up again", func(r map[string]statRow) bool {
			return r["be/s2"]["check_status"] == "L4OK" && r["be/s2"]["status"] == "UP" && r["be/s1"]["status"] == "UP"
		})
	}
	compareStat(t, "after admin commands", twins)

	for _, tw := range twins {
		if out := cli(t, tw.sock, "shutdown frontend fe"); out != "\n" {
			t.Errorf("%s: shutdown frontend answered %q", tw.name, out)
		}
	}
	compareStat(t, "after shutdown frontend", twins)
}

// blankColumn replaces column i of the data lines of out with "-".
func blankColumn(out string, i int) string {
	lines := strings.Split(out, "\n")
	for n, l := range lines {
		f := strings.Fields(l)
		if len(f) > i && !strings.HasPrefix(l, "#") {
			f[i] = "-"
			lines[n] = strings.Join(f, " ")
		}
	}
	return strings.Join(lines, "\n")
}

// compareAfter are the admin commands after which "show stat" is compared
// (states that do not last to the end of the sequence).
var compareAfter = map[string]bool{
	"set weight be/s2 50%":         true, // backend left without weight
	"set server be/s1 state drain": true,
	"set server be/s2 health down": true,
	"disable frontend fe":          true,
}

// stateColumns keeps the columns of "show servers state" that do not
// depend on time or ports: be_id be_name srv_id srv_name srv_op_state
// srv_admin_state srv_uweight srv_iweight srv_check_result srv_check_state.
func stateColumns(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 14 || strings.HasPrefix(l, "#") {
			continue
		}
		fmt.Fprintln(&b, f[0], f[1], f[2], f[3], f[5], f[6], f[7], f[8], f[11], f[13])
	}
	return b.String()
}

// compareStat compares the stable columns of both processes' "show stat".
// A check in progress shows for a moment in one and not the other, so a
// difference must persist over a few reads (up to 2 s) to count.
func compareStat(t *testing.T, when string, twins []twin) {
	t.Helper()
	var diffs []string
	deadline := time.Now().Add(2 * time.Second)
	for {
		diffs = statDiffs(t, twins)
		if len(diffs) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, d := range diffs {
		t.Errorf("%s: %s", when, d)
	}
}

func statDiffs(t *testing.T, twins []twin) []string {
	t.Helper()
	ga, oa := parseStat(t, cli(t, twins[0].sock, "show stat"))
	ha, ob := parseStat(t, cli(t, twins[1].sock, "show stat"))
	if strings.Join(oa, " ") != strings.Join(ob, " ") {
		return []string{fmt.Sprintf("rows differ:\ngoproxy %v\nhaproxy %v", oa, ob)}
	}
	var diffs []string
	for _, k := range oa {
		for _, col := range stableColumns {
			g, h := ga[k][col], ha[k][col]
			if col == "addr" && ga[k]["type"] == "3" {
				// Listeners: the processes bind different ports.
				g, _, _ = strings.Cut(g, ":")
				h, _, _ = strings.Cut(h, ":")
			}
			if g != h {
				diffs = append(diffs, fmt.Sprintf("%s %s: goproxy %q, haproxy %q", k, col, g, h))
			}
		}
	}
	return diffs
}

// TestCheckModeStateFilesAgainstHAProxy compares the warnings of -c about
// server state files with haproxy's.
func TestCheckModeStateFilesAgainstHAProxy(t *testing.T) {
	hap, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed")
	}
	const good = "1\n# header\n2 be 1 s1 127.0.0.1 2 1 1 1 0 6 3 4 6 0 0 0 - 1 - 0 0 - - 0\n"
	for _, tc := range []struct{ name, mode, body string }{
		{"global good", "global", good},
		{"global corrupted", "global", good + "bogus line\n"},
		{"global no version", "global", "garbage\n"},
		{"global missing", "global", ""},
		{"local good", "local", good},
		{"local corrupted", "local", "1\nbogus\n" + good},
		{"local missing", "local", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			state := "state"
			if tc.mode == "local" {
				state = "be"
			}
			if tc.body != "" {
				writeFile(t, dir, state, tc.body)
			}
			cfg := "global\n    maxconn 100\n    server-state-base " + dir + "\n"
			if tc.mode == "global" {
				cfg += "    server-state-file state\n"
			}
			cfg += "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n" +
				"    load-server-state-from-file " + tc.mode + "\n" +
				"frontend fe\n    bind 127.0.0.1:1\n    default_backend be\nbackend be\n    server s1 127.0.0.1:1\n"
			writeFile(t, dir, "c.cfg", cfg)
			h := runBin(t, dir, hap, cleanEnv(), "-c", "-f", "c.cfg")
			g := runBin(t, dir, goproxyBin, cleanEnv(), "-c", "-f", "c.cfg")
			if h.code != g.code || h.stdout != g.stdout || warnings(h.stderr) != warnings(g.stderr) {
				t.Errorf("haproxy (exit %d):\n%s%s\ngoproxy (exit %d):\n%s%s", h.code, h.stdout, h.stderr, g.code, g.stdout, g.stderr)
			}
		})
	}
}

// warnings returns the [WARNING] and [ALERT] lines without their pids.
func warnings(stderr string) string {
	var b strings.Builder
	for _, l := range strings.Split(stderr, "\n") {
		if i := strings.Index(l, ") : "); i >= 0 && (strings.HasPrefix(l, "[WARNING]") || strings.HasPrefix(l, "[ALERT]")) {
			b.WriteString(l[:10] + l[i+4:] + "\n")
		}
	}
	return b.String()
}

// infoFields parses "show info" into its values by name.
func infoFields(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			m[k] = v
		}
	}
	return m
}
