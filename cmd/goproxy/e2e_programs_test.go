package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// programsIn returns show proc's "# programs" entries, name -> pid.
func programsIn(out string) map[string]int {
	progs := map[string]int{}
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "#") {
			in = l == "# programs"
			continue
		}
		if f := strings.Fields(l); in && len(f) == 5 {
			pid, _ := strconv.Atoi(f[0])
			progs[f[1]] = pid
		}
	}
	return progs
}

// TestMWorkerPrograms runs two program sections under goproxy's and
// haproxy's masters: both are started and listed in show proc; a reload
// sends SIGUSR1 to both and starts a new "foo" only ("bar" has no option
// start-on-reload); a stop sends SIGTERM to the programs too.
func TestMWorkerPrograms(t *testing.T) {
	t.Parallel()
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		addr := loopAddr(t)
		mcli := filepath.Join(dir, "master.sock")
		cfg := writeFile(t, dir, "prog.cfg", "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n"+
			"frontend fe\n    bind "+addr+"\n    default_backend be\nbackend be\n    server s1 127.0.0.1:1\n"+
			"program foo\n    command sleep 60\nprogram bar\n    command sleep 61\n    no option start-on-reload\n")
		m := startMW(t, bin, nil, "-W", "-S", mcli, "-f", cfg)
		waitMaster(t, m, addr)
		first := programsIn(mcliOK(t, mcli, "show proc"))
		if len(first) != 2 || first["foo"] == 0 || first["bar"] == 0 {
			t.Fatalf("show proc programs: %v\n%s", first, m.out.String())
		}
		for _, pid := range first {
			killLater(t, pid)
		}
		if err := syscall.Kill(m.pid(), syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		var after map[string]int
		waitFor(t, 10*time.Second, "a new foo and no bar", func() bool {
			after = programsIn(mcliOK(t, mcli, "show proc"))
			return len(after) == 1 && after["foo"] != 0 && after["foo"] != first["foo"]
		})
		killLater(t, after["foo"])
		for _, want := range []string{
			"New program 'foo' (" + strconv.Itoa(first["foo"]) + ") forked",
			"New program 'bar' (" + strconv.Itoa(first["bar"]) + ") forked",
			"New program 'foo' (" + strconv.Itoa(after["foo"]) + ") forked",
		} {
			waitFor(t, 5*time.Second, want, func() bool { return strings.Contains(m.out.String(), want) })
		}
		waitFor(t, 5*time.Second, "the old programs' exits", func() bool {
			out := m.out.String()
			return strings.Contains(out, "Former program 'foo' ("+strconv.Itoa(first["foo"])+") exited with code 138 (User defined signal 1)") &&
				strings.Contains(out, "Former program 'bar' ("+strconv.Itoa(first["bar"])+") exited with code 138 (User defined signal 1)")
		})
		if err := syscall.Kill(m.pid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		m.waitExit(t, 10*time.Second)
		want := "Current program 'foo' (" + strconv.Itoa(after["foo"]) + ") exited with code 143 (Terminated)"
		waitFor(t, 5*time.Second, want, func() bool { return strings.Contains(m.out.String(), want) })
	})
}

// TestProgramNeedsMasterWorker: a program section without master-worker
// mode is refused, by -c and at start, in HAProxy's words.
func TestProgramNeedsMasterWorker(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "prog.cfg", "program foo\n    command sleep 1\n")
	for name, bin := range oracles(t) {
		for _, args := range [][]string{{"-c", "-f", cfg}, {"-db", "-f", cfg}} {
			r := runBin(t, dir, bin, cleanEnv(), args...)
			if r.code != 1 || !strings.Contains(r.stderr, "config : Can't use a 'program' section without master worker mode.") {
				t.Errorf("%s %v: exit %d, stderr %q", name, args, r.code, r.stderr)
			}
		}
		r := runBin(t, dir, bin, cleanEnv(), "-W", "-c", "-f", cfg)
		if r.code != 0 {
			t.Errorf("%s -W -c: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
}
