package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unitFile is the shipped systemd unit.
const unitFile = "../../contrib/systemd/goproxy.service"

// unit is what the test needs of a service file: its [Service] settings,
// in order, several values per key (ExecReload).
type unit map[string][]string

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if strings.HasPrefix(l, "[") {
			section = l
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok && section == "[Service]" {
			u[k] = append(u[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

var envAssignRE = regexp.MustCompile(`"([A-Za-z_][A-Za-z0-9_]*)=([^"]*)"|([A-Za-z_][A-Za-z0-9_]*)=(\S*)`)

// environment reads the unit's Environment= lines.
func (u unit) environment() map[string]string {
	env := map[string]string{}
	for _, l := range u["Environment"] {
		for _, m := range envAssignRE.FindAllStringSubmatch(l, -1) {
			if m[1] != "" {
				env[m[1]] = m[2]
			} else {
				env[m[3]] = m[4]
			}
		}
	}
	return env
}

// expand turns an Exec line into argv as systemd does for these lines: a
// word that is just $VAR becomes the variable's words, ${VAR} and $VAR
// inside a word its value.
func expand(line string, env map[string]string) []string {
	line = strings.TrimLeft(line, "-@:+!")
	var argv []string
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "$") && !strings.HasPrefix(w, "${") {
			argv = append(argv, strings.Fields(env[w[1:]])...)
			continue
		}
		argv = append(argv, os.Expand(w, func(k string) string { return env[k] }))
	}
	return argv
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, ')' ends it.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			f := strings.Fields(s[i+1:])
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				out = append(out, n)
			}
		}
	}
	return out
}

// TestSystemdUnit runs the shipped unit's commands as systemd would
// (Type=notify, KillMode=mixed), with the binary of the oracle in place of
// /usr/sbin/goproxy: ExecStartPre, ExecStart until READY=1, traffic, the
// ExecReload lines, RELOADING=1 then READY=1, traffic again and a session
// opened before the reload still flowing, one worker left once that
// session ends, then SIGTERM to the main process only.
func TestSystemdUnit(t *testing.T) {
	u := readUnit(t, unitFile)
	for k, want := range map[string]string{"Type": "notify", "KillMode": "mixed", "Restart": "always"} {
		if len(u[k]) != 1 || u[k][0] != want {
			t.Fatalf("%s=%q, want %q", k, u[k], want)
		}
	}
	if len(u["ExecStart"]) != 1 || len(u["ExecStartPre"]) != 1 || len(u["ExecReload"]) != 2 {
		t.Fatalf("Exec lines: %q", u)
	}
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		env := u.environment()
		env["CONFIG"] = writeFile(t, dir, "haproxy.cfg", mwConfig(dir, addr, be.port()))
		env["PIDFILE"] = filepath.Join(dir, "haproxy.pid")
		msock := filepath.Join(dir, "master.sock")
		env["EXTRAOPTS"] = strings.ReplaceAll(env["EXTRAOPTS"], "/run/haproxy-master.sock", msock)
		ns := newNotifySocket(t, dir)
		argvOf := func(line string) []string {
			argv := expand(line, env)
			if argv[0] == "/usr/sbin/goproxy" {
				argv[0] = bin
			}
			return argv
		}
		runLine := func(what, line string) {
			t.Helper()
			argv := argvOf(line)
			if r := runBin(t, dir, argv[0], cleanEnv("NOTIFY_SOCKET="+ns.path), argv[1:]...); r.code != 0 {
				t.Fatalf("%s %q: exit %d\n%s%s", what, argv, r.code, r.stdout, r.stderr)
			}
		}

		runLine("ExecStartPre", u["ExecStartPre"][0])
		argv := argvOf(u["ExecStart"][0])
		p := startMW(t, argv[0], []string{"NOTIFY_SOCKET=" + ns.path}, argv[1:]...)
		ns.expect(t, "RELOADING=1")
		mainPID := strconv.Itoa(p.pid())
		ns.expect(t, "READY=1\nMAINPID="+mainPID)
		env["MAINPID"] = mainPID
		if b, _ := os.ReadFile(env["PIDFILE"]); strings.TrimSpace(string(b)) != mainPID {
			t.Errorf("pidfile %q, want the main pid %s", b, mainPID)
		}
		_, cur, _ := showProc(t, msock)
		if len(cur) != 1 {
			t.Fatalf("workers %v", cur)
		}
		killLater(t, cur[0].pid)
		if err := echoOK(addr); err != nil {
			t.Fatal(err)
		}
		held, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		if err := echoConn(held, "before"); err != nil {
			t.Fatal(err)
		}

		for i, line := range u["ExecReload"] {
			runLine("ExecReload #"+strconv.Itoa(i+1), line)
		}
		ns.expect(t, "RELOADING=1")
		ns.expect(t, "RELOADING=1")
		ns.expect(t, "READY=1\nMAINPID="+mainPID)
		waitFor(t, 5*time.Second, "the new worker", func() bool {
			_, c, old := showProc(t, msock)
			return len(c) == 1 && c[0].pid != cur[0].pid && len(old) == 1
		})
		_, now, _ := showProc(t, msock)
		killLater(t, now[0].pid)
		for i := 0; i < 20; i++ {
			if err := echoOK(addr); err != nil {
				t.Fatalf("session %d after the reload: %v", i, err)
			}
		}
		if err := echoConn(held, "after"); err != nil {
			t.Fatalf("session opened before the reload: %v", err)
		}
		held.Close()
		waitFor(t, 5*time.Second, "one worker left", func() bool {
			_, c, old := showProc(t, msock)
			return len(c) == 1 && len(old) == 0 && len(childrenOf(t, p.pid())) == 1
		})

		// KillMode=mixed: SIGTERM to the main process, which stops its
		// workers; then systemd would SIGKILL what is left.
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		code := p.waitExit(t, 10*time.Second)
		if code != 0 && code != 143 {
			t.Errorf("main process exit %d, not a success (SuccessExitStatus=143)", code)
		}
		waitFor(t, 5*time.Second, "the worker to end", func() bool { return syscall.Kill(now[0].pid, 0) != nil })
	})
}

// echoConn writes msg on c and reads its echo.
func echoConn(c net.Conn, msg string) error {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	b := make([]byte, len(msg))
	_, err := io.ReadFull(c, b)
	return err
}
