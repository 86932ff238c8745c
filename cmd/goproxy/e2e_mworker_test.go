package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Master-worker mode through the binary, on goproxy and (when installed)
// on haproxy with the same assertions: the master CLI's answers, the
// sd_notify messages, the master's messages on worker exits, reloads.

// startMW starts bin with args and env (added to the clean environment),
// killing it by PID at cleanup if it still runs. A master's workers
// follow it: the test kills them by the PIDs show proc gave.
func startMW(t *testing.T, bin string, env []string, args ...string) *e2eProc {
	t.Helper()
	p := &e2eProc{cmd: exec.Command(bin, args...), out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = append(cleanEnv("GORACE=atexit_sleep_ms=0"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
	return p
}

// mwConfig is a frontend on addr to the echo backend at port, with a stats
// socket (expose-fd listeners, as a -x reload wants) in dir.
func mwConfig(dir, addr string, port int, global ...string) string {
	g := ""
	for _, l := range global {
		g += "    " + l + "\n"
	}
	return "global\n" + g +
		"    stats socket " + filepath.Join(dir, "stats.sock") + " level admin expose-fd listeners\n" +
		"defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n" +
		"frontend fe\n    bind " + addr + "\n    default_backend be\n" +
		"backend be\n    server s1 127.0.0.1:" + strconv.Itoa(port) + "\n"
}

// notifySocket is a unix datagram socket standing for the service
// manager's $NOTIFY_SOCKET.
type notifySocket struct {
	path string
	msgs chan string
}

func newNotifySocket(t *testing.T, dir string) *notifySocket {
	t.Helper()
	path := filepath.Join(dir, "notify.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{path: path, msgs: make(chan string, 64)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			select {
			case n.msgs <- string(buf[:k]):
			default:
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return n
}

// expect waits for the next message and checks it.
func (n *notifySocket) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-n.msgs:
		if got != want {
			t.Fatalf("sd_notify: got %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("sd_notify: no %q within 10s", want)
	}
}

// waitListening waits for a listener on addr.
func waitListening(t *testing.T, p *e2eProc, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !portListening(t, addr) {
		if !p.running() || time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s; output:\n%s", addr, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMaster waits for a master's worker to listen on addr and for the
// master to have heard of it ("Loading success.").
func waitMaster(t *testing.T, p *e2eProc, addr string) {
	t.Helper()
	waitListening(t, p, addr)
	waitFor(t, 10*time.Second, "Loading success.", func() bool { return strings.Contains(p.out.String(), "Loading success.") })
}

// mcliOK sends one line to the master CLI and returns the answer. A
// master that is reloading may accept and answer late (haproxy), or not
// yet listen: it tries again for up to 10 s.
func mcliOK(t *testing.T, sock, line string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := mcliTry(sock, line, "", 2*time.Second)
		if err == nil {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("master CLI %q: %v", line, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mcliTry sends line and reads the answer until the end, or until it ends
// with until when until is not empty (a prompt, the session staying open).
func mcliTry(sock, line, until string, d time.Duration) (string, error) {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	if until == "" {
		// haproxy's master CLI answers, then waits for the client's end
		// as socat sends it.
		_ = c.(*net.UnixConn).CloseWrite()
	}
	var b []byte
	buf := make([]byte, 4096)
	for len(b) < 1<<20 {
		n, err := c.Read(buf)
		b = append(b, buf[:n]...)
		if until != "" && strings.HasSuffix(string(b), until) {
			return string(b), nil
		}
		if err == io.EOF {
			return string(b), nil
		}
		if err != nil {
			return string(b), err
		}
	}
	return string(b), nil
}

// procs parses "show proc": the current and the old workers' pids and
// reload counts.
type procEntry struct{ pid, reloads int }

func showProc(t *testing.T, sock string) (master string, cur, old []procEntry) {
	t.Helper()
	out := mcliOK(t, sock, "show proc")
	section := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "# ") {
			section = l
			continue
		}
		f := strings.Fields(l)
		if len(f) < 3 || strings.HasPrefix(l, "#") {
			continue
		}
		if f[1] == "master" {
			master = l
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		r, _ := strconv.Atoi(f[2])
		switch section {
		case "# workers":
			cur = append(cur, procEntry{pid, r})
		case "# old workers":
			old = append(old, procEntry{pid, r})
		}
	}
	return master, cur, old
}

// killLater kills pid by PID at cleanup if it still runs (a worker the
// test learnt of through show proc).
func killLater(t *testing.T, pid int) {
	t.Cleanup(func() {
		if pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

var showProcRE = regexp.MustCompile(`^#<PID>          <type>          <reloads>       <uptime>        <version>      \n` +
	`(\d+) {10,}master {10}0 \[failed: 0\]   0d00h00m\d\ds     \S+ *\n` +
	`# workers\n` +
	`(\d+) {10,}worker {10}0 {15}0d00h00m\d\ds     \S+ *\n` +
	`# programs\n\n$`)

const masterHelp = "The following commands are valid at this level:\n" +
	"  @!<pid>                                 : send a command to the <pid> process\n" +
	"  @<relative pid>                         : send a command to the <relative pid> process\n" +
	"  @master                                 : send a command to the master process\n" +
	"  operator                                : lower the level of the current CLI session to operator\n" +
	"  reload                                  : reload haproxy\n" +
	"  show cli level                          : display the level of the current CLI session\n" +
	"  show cli sockets                        : dump list of cli sockets\n" +
	"  show proc                               : show processes status\n" +
	"  show version                            : show version of the current process\n" +
	"  user                                    : lower the level of the current CLI session to user\n" +
	"  help [<command>]                        : list matching or all commands\n" +
	"  prompt                                  : toggle interactive mode with prompt\n" +
	"  quit                                    : disconnect\n\n"

// TestMWorkerCLI: -W with -S: show proc, help, the @ prefixes, prompt
// mode, an unknown target; the pidfile holds the master's pid.
func TestMWorkerCLI(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port()))
		sock := filepath.Join(dir, "master.sock")
		pidf := filepath.Join(dir, "mw.pid")
		p := startMW(t, bin, nil, "-W", "-db", "-f", cfg, "-S", sock, "-p", pidf)
		waitMaster(t, p, addr)
		out := mcliOK(t, sock, "show proc")
		m := showProcRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("show proc:\n%q", out)
		}
		if m[1] != strconv.Itoa(p.pid()) {
			t.Errorf("show proc: master %s, want %d", m[1], p.pid())
		}
		wpid, _ := strconv.Atoi(m[2])
		killLater(t, wpid)
		if b, _ := os.ReadFile(pidf); string(b) != strconv.Itoa(p.pid())+"\n" {
			t.Errorf("pidfile %q, want the master's pid %d", b, p.pid())
		}
		if got := mcliOK(t, sock, "help"); got != masterHelp {
			t.Errorf("help:\n%s", got)
		}
		for _, prefix := range []string{"@1", "@!" + m[2]} {
			if got := mcliOK(t, sock, prefix+" show info"); !strings.Contains(got, "\nPid: "+m[2]+"\n") {
				t.Errorf("%s show info: %q", prefix, got)
			}
		}
		if got := mcliOK(t, sock, "@master show version"); !strings.HasSuffix(got, "\n\n") || strings.Count(got, "\n") != 2 {
			t.Errorf("@master show version: %q", got)
		}
		for _, bad := range []string{"@2", "@!1"} {
			if got := mcliOK(t, sock, bad+" show info; show proc"); got != "Can't find the target PID matching the prefix '"+bad+"'\n" {
				t.Errorf("%s: %q", bad, got)
			}
		}
		if got := mcliOK(t, sock, "bogus"); !strings.HasPrefix(got, "Unknown command, but maybe one of the following ones is a better match:\n") || !strings.HasSuffix(got, "  quit                                    : disconnect\n\n") {
			t.Errorf("bogus: %q", got)
		}
		if got := mcliOK(t, sock, "show cli level"); got != "admin\n\n" {
			t.Errorf("show cli level: %q", got)
		}

		// Prompt mode: the prompt names the target.
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		step := func(line, want string) {
			t.Helper()
			if _, err := c.Write([]byte(line + "\n")); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
				t.Fatalf("%q: got %q (%v), want %q", line, got, err, want)
			}
		}
		step("prompt", "master> ")
		step("@1", m[2]+"> ")
		step("show cli level", "admin\n\n"+m[2]+"> ")
		step("@", "master> ")
		step("show cli level; user", "admin\n\nmaster> master> ")
		step("reload", "Permission denied\n\nmaster> ")
		step("user", "master> ")
		step("show cli level", "user\n\nmaster> ")

		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		if code := p.waitExit(t, 10*time.Second); code != 0 {
			t.Errorf("master exit %d, want 0", code)
		}
		for _, want := range []string{
			fmt.Sprintf("New worker (%d) forked", wpid), "Loading success.", "Exiting Master process...",
			fmt.Sprintf("[ALERT]    (%d) : Current worker (%d) exited with code 143 (Terminated)", p.pid(), wpid),
			"All workers exited. Exiting... (0)",
		} {
			if !strings.Contains(p.out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, p.out.String())
			}
		}
	})
}

// TestMWorkerReload: -Ws under a notify socket: RELOADING=1 and
// READY=1\nMAINPID=<master> at start and on each reload (SIGUSR2, then
// "reload" on the master CLI); a session open across the reloads keeps
// flowing through its old worker, which is listed among the old workers
// and leaves when the session ends; a failed reload keeps the worker and
// marks the prompt; SIGTERM sends STOPPING=1.
func TestMWorkerReload(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		text := mwConfig(dir, addr, be.port())
		cfg := writeFile(t, dir, "mw.cfg", text)
		sock := filepath.Join(dir, "master.sock")
		ns := newNotifySocket(t, dir)
		p := startMW(t, bin, []string{"NOTIFY_SOCKET=" + ns.path}, "-Ws", "-db", "-f", cfg, "-S", sock)
		ready := "READY=1\nMAINPID=" + strconv.Itoa(p.pid())
		ns.expect(t, "RELOADING=1")
		ns.expect(t, ready)
		_, cur, _ := showProc(t, sock)
		if len(cur) != 1 {
			t.Fatalf("workers %v", cur)
		}
		first := cur[0].pid
		killLater(t, first)
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

		_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
		ns.expect(t, "RELOADING=1")
		ns.expect(t, "RELOADING=1")
		ns.expect(t, ready)
		var second int
		waitFor(t, 5*time.Second, "the new worker", func() bool {
			_, cur, old := showProc(t, sock)
			if len(cur) == 1 && cur[0].pid != first && cur[0].reloads == 0 && len(old) == 1 && old[0].pid == first && old[0].reloads == 1 {
				second = cur[0].pid
				return true
			}
			return false
		})
		killLater(t, second)
		if err := echoOK(addr); err != nil {
			t.Fatalf("after the reload: %v", err)
		}
		if err := echoConn(held, "during"); err != nil {
			t.Fatalf("held session after the reload: %v", err)
		}
		// A leaving worker is reached by its pid only.
		if got := mcliOK(t, sock, fmt.Sprintf("@!%d show info", first)); !strings.Contains(got, fmt.Sprintf("\nPid: %d\n", first)) {
			t.Errorf("@!%d show info on the old worker: %q", first, got)
		}
		if got := mcliOK(t, sock, "@1 show info"); !strings.Contains(got, fmt.Sprintf("\nPid: %d\n", second)) {
			t.Errorf("@1 show info after the reload: %q", got)
		}

		// A reload from the master CLI (which closes the connection).
		if _, err := mcliTry(sock, "reload", "", 5*time.Second); err != nil {
			t.Fatalf("reload: %v", err)
		}
		ns.expect(t, "RELOADING=1")
		ns.expect(t, "RELOADING=1")
		ns.expect(t, ready)
		var third int
		waitFor(t, 5*time.Second, "the third worker", func() bool {
			_, cur, _ := showProc(t, sock)
			if len(cur) == 1 && cur[0].pid != second && cur[0].pid != first {
				third = cur[0].pid
				return true
			}
			return false
		})
		killLater(t, third)
		waitFor(t, 5*time.Second, "the second worker to leave", func() bool {
			return strings.Contains(p.out.String(), fmt.Sprintf("Former worker (%d) exited with code 0 (Exit)", second))
		})
		if err := echoConn(held, "still"); err != nil {
			t.Fatalf("held session after two reloads: %v", err)
		}
		held.Close()
		waitFor(t, 5*time.Second, "the first worker to leave", func() bool {
			return strings.Contains(p.out.String(), fmt.Sprintf("Former worker (%d) exited with code 0 (Exit)", first))
		})
		master, cur, old := showProc(t, sock)
		if len(cur) != 1 || cur[0].pid != third || len(old) != 0 || !strings.Contains(master, " 2 [failed: 0] ") {
			t.Fatalf("show proc: master %q workers %v old %v", master, cur, old)
		}

		// A configuration that does not load: the worker stays.
		writeFile(t, dir, "mw.cfg", text+"    bogus line\n")
		_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
		ns.expect(t, "RELOADING=1")
		ns.expect(t, "RELOADING=1")
		ns.expect(t, ready)
		master, cur, _ = showProc(t, sock)
		if len(cur) != 1 || cur[0].pid != third || cur[0].reloads != 1 || !strings.Contains(master, " 3 [failed: 1] ") {
			t.Fatalf("after a failed reload: master %q workers %v", master, cur)
		}
		if !strings.Contains(p.out.String(), "Loading failure!") {
			t.Errorf("no Loading failure! in:\n%s", p.out.String())
		}
		if got, err := mcliTry(sock, "prompt", "> ", 3*time.Second); got != "master[ReloadFailed]> " {
			t.Errorf("prompt after a failed reload: %q (%v)", got, err)
		}
		if err := echoOK(addr); err != nil {
			t.Fatalf("after the failed reload: %v", err)
		}

		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		ns.expect(t, "STOPPING=1")
		if code := p.waitExit(t, 10*time.Second); code != 0 {
			t.Errorf("master exit %d, want 0:\n%s", code, p.out.String())
		}
	})
}

// TestMWorkerWorkerDies: a worker killed by a signal makes the master stop
// the others and exit with its status (exit-on-failure); a worker that
// ends with 0 (SIGUSR1 to the master: soft stop of all) ends the master
// with 0.
func TestMWorkerWorkerDies(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		for _, tc := range []struct {
			name    string
			sig     syscall.Signal
			toChild bool
			code    int
			lines   []string
			goOnly  bool // haproxy 2.6's worker ignores the SIGINT its master forwards
		}{
			{"master SIGINT", syscall.SIGINT, false, 130, []string{
				"[WARNING]  (MASTER) : Exiting Master process...",
				"[ALERT]    (MASTER) : Current worker (WORKER) exited with code 130 (Interrupt)",
				"[WARNING]  (MASTER) : All workers exited. Exiting... (130)"}, true},
			{"worker killed", syscall.SIGKILL, true, 137, []string{
				"[ALERT]    (MASTER) : Current worker (WORKER) exited with code 137 (Killed)",
				"[ALERT]    (MASTER) : exit-on-failure: killing every processes with SIGTERM",
				"[WARNING]  (MASTER) : All workers exited. Exiting... (137)"}, false},
			{"master SIGUSR1", syscall.SIGUSR1, false, 0, []string{
				"[WARNING]  (MASTER) : Exiting Master process...",
				"[WARNING]  (MASTER) : Current worker (WORKER) exited with code 0 (Exit)",
				"[WARNING]  (MASTER) : All workers exited. Exiting... (0)"}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.goOnly && bin != goproxyBin {
					t.Skip("haproxy's worker ignores it")
				}
				dir := t.TempDir()
				be := newEcho(t)
				addr := loopAddr(t)
				cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port()))
				sock := filepath.Join(dir, "master.sock")
				p := startMW(t, bin, nil, "-W", "-db", "-f", cfg, "-S", sock)
				waitMaster(t, p, addr)
				_, cur, _ := showProc(t, sock)
				if len(cur) != 1 {
					t.Fatalf("workers %v", cur)
				}
				killLater(t, cur[0].pid)
				target := p.pid()
				if tc.toChild {
					target = cur[0].pid
				}
				_ = syscall.Kill(target, tc.sig)
				if code := p.waitExit(t, 10*time.Second); code != tc.code {
					t.Errorf("master exit %d, want %d", code, tc.code)
				}
				out := p.out.String()
				for _, l := range tc.lines {
					l = strings.ReplaceAll(strings.ReplaceAll(l, "MASTER", strconv.Itoa(p.pid())), "WORKER", strconv.Itoa(cur[0].pid))
					if !strings.Contains(out, l+"\n") {
						t.Errorf("output lacks %q:\n%s", l, out)
					}
				}
			})
		}
	})
}

// TestMWorkerCheck: -W -c and -Ws -c -q -S check as -c does (the
// Data Plane API's and the systemd unit's check) and bind nothing.
func TestMWorkerCheck(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, "127.0.0.1:"+strconv.Itoa(freePort(t)), freePort(t), "master-worker"))
		sock := filepath.Join(dir, "master.sock")
		if r := runBin(t, dir, bin, cleanEnv(), "-W", "-c", "-f", cfg); r.code != 0 || r.stdout != "Configuration file is valid\n" {
			t.Errorf("-W -c: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
		if r := runBin(t, dir, bin, cleanEnv(), "-Ws", "-f", cfg, "-c", "-q", "-S", sock); r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("-Ws -c -q: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(sock); err == nil {
			t.Errorf("-c bound the master CLI socket")
		}
		writeFile(t, dir, "bad.cfg", "global\n    master-worker bogus\n")
		if r := runBin(t, dir, bin, cleanEnv(), "-c", "-f", "bad.cfg"); r.code != 1 || !strings.Contains(r.stderr, "parsing [bad.cfg:2] : 'master-worker' only supports 'no-exit-on-failure' option.") {
			t.Errorf("master-worker bogus: exit %d stderr %q", r.code, r.stderr)
		}
	})
}

// TestMWorkerKeyword: "master-worker" in global without -W runs a master;
// with -D the launcher returns once the worker listens, and the master
// reloads in place.
func TestMWorkerKeyword(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port(), "master-worker"))
		sock := filepath.Join(dir, "master.sock")
		pidf := filepath.Join(dir, "mw.pid")
		r := runBin(t, dir, bin, cleanEnv(), "-D", "-f", cfg, "-S", sock, "-p", pidf)
		if r.code != 0 {
			t.Fatalf("-D: exit %d stderr %q", r.code, r.stderr)
		}
		b, err := os.ReadFile(pidf)
		if err != nil {
			t.Fatal(err)
		}
		mpid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if mpid <= 0 {
			t.Fatalf("pidfile %q", b)
		}
		killLater(t, mpid)
		waitFor(t, 5*time.Second, "the worker to listen", func() bool { return portListening(t, addr) })
		master, cur, _ := showProc(t, sock)
		if len(cur) != 1 || !strings.HasPrefix(master, strconv.Itoa(mpid)+" ") {
			t.Fatalf("show proc: master %q workers %v (pidfile %d)", master, cur, mpid)
		}
		killLater(t, cur[0].pid)
		if err := echoOK(addr); err != nil {
			t.Fatal(err)
		}
		// A daemon master reloads in place: it does not go to the
		// background again.
		_ = syscall.Kill(mpid, syscall.SIGUSR2)
		var nu int
		waitFor(t, 10*time.Second, "the new worker", func() bool {
			m, c, _ := showProc(t, sock)
			if len(c) == 1 && c[0].pid != cur[0].pid && strings.HasPrefix(m, strconv.Itoa(mpid)+" ") {
				nu = c[0].pid
				return true
			}
			return false
		})
		killLater(t, nu)
		if err := echoOK(addr); err != nil {
			t.Fatal(err)
		}
		_ = syscall.Kill(mpid, syscall.SIGTERM)
		waitFor(t, 5*time.Second, "the master to exit", func() bool {
			return syscall.Kill(mpid, 0) != nil && syscall.Kill(nu, 0) != nil
		})
	})
}

// TestMWorkerCLIWithoutW: -S without master-worker mode is a warning, and
// the process serves alone.
func TestMWorkerCLIWithoutW(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port()))
		sock := filepath.Join(dir, "master.sock")
		p := startMW(t, bin, nil, "-db", "-f", cfg, "-S", sock)
		waitListening(t, p, addr)
		if err := echoOK(addr); err != nil {
			t.Fatal(err)
		}
		_ = syscall.Kill(p.pid(), syscall.SIGUSR1)
		p.waitExit(t, 10*time.Second)
		want := fmt.Sprintf("[WARNING]  (%d) : config : a master CLI socket was defined, but master-worker mode (-W) is not enabled.\n", p.pid())
		if !strings.Contains(p.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, p.out.String())
		}
		if _, err := os.Stat(sock); err == nil {
			t.Errorf("the master CLI socket was bound")
		}
	})
}

var (
	versionRE = regexp.MustCompile(`(test|2\.6\.[0-9][^ \n]*) *\n`)
	workerRE  = regexp.MustCompile(`(?m)^\d+ +`)
	uptimeRE  = regexp.MustCompile(`\d+d\d\dh\d\dm\d\ds`)
)

// TestMWorkerCLIDiff sends the same master CLI lines to goproxy and haproxy
// and compares the answers byte for byte, pids masked.
func TestMWorkerCLIDiff(t *testing.T) {
	bins := oracles(t)
	if len(bins) < 2 {
		t.Skip("haproxy is not on PATH")
	}
	lines := []string{
		"help", "bogus", "show", "help show", "show procs", "reload please", "show cli level",
		"@1 show cli level", "@2 show info", "@!1 show info", "@master show cli level",
		"operator; @1 show cli level", "user; @1 show cli level", "user; reload", "user; show cli level",
		"@1 show cli level; show cli level", "; ;", "show cli sockets", "", "show proc x; show version x", "help show proc",
	}
	answers := map[string][]string{}
	for name, bin := range bins {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port()))
		sock := filepath.Join(dir, "master.sock")
		p := startMW(t, bin, nil, "-W", "-db", "-f", cfg, "-S", sock)
		waitMaster(t, p, addr)
		_, cur, _ := showProc(t, sock)
		if len(cur) != 1 {
			t.Fatalf("%s: workers %v", name, cur)
		}
		killLater(t, cur[0].pid)
		for _, l := range lines {
			out := mcliOK(t, sock, l)
			out = strings.ReplaceAll(out, strconv.Itoa(cur[0].pid), "WORKER")
			out = strings.ReplaceAll(out, strconv.Itoa(p.pid()), "MASTER")
			out = versionRE.ReplaceAllString(out, "VERSION\n")
			out = workerRE.ReplaceAllString(out, "WORKER ")
			out = uptimeRE.ReplaceAllString(out, "UPTIME")
			answers[name] = append(answers[name], out)
		}
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		p.waitExit(t, 10*time.Second)
	}
	for i, l := range lines {
		if g, h := answers["goproxy"][i], answers["haproxy"][i]; g != h {
			t.Errorf("%q:\ngoproxy: %q\nhaproxy: %q", l, g, h)
		}
	}
}

// TestMWorkerReloadHammer reloads a master 10 times (SIGUSR2) while
// clients connect back to back: each new worker takes the listening
// sockets from the current one over its socket pair, so no connection is
// refused or reset (haproxy's figures are logged), and the listening
// socket is the same one throughout.
func TestMWorkerReloadHammer(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		const reloads = 10
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port(), "maxconn 1000"))
		sock := filepath.Join(dir, "master.sock")
		p := startMW(t, bin, nil, "-W", "-db", "-f", cfg, "-S", sock)
		waitMaster(t, p, addr)
		_, cur, _ := showProc(t, sock)
		if len(cur) != 1 {
			t.Fatalf("workers %v", cur)
		}
		killLater(t, cur[0].pid)
		inodes := listenerInodes(t, addr)
		stop := make(chan struct{})
		counts, wg := hammer(addr, 4, stop)
		stopped := false
		defer func() {
			if !stopped {
				close(stop)
				wg.Wait()
			}
		}()
		last := cur[0].pid
		for i := 0; i < reloads; i++ {
			time.Sleep(100 * time.Millisecond)
			_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
			waitFor(t, 10*time.Second, "the new worker", func() bool {
				_, c, _ := showProc(t, sock)
				if len(c) == 1 && c[0].pid != last {
					last = c[0].pid
					return true
				}
				return false
			})
			killLater(t, last)
		}
		time.Sleep(100 * time.Millisecond)
		close(stop)
		wg.Wait()
		stopped = true
		t.Logf("%s: %d reloads, %s", bin, reloads, counts.summary())
		if now := listenerInodes(t, addr); len(now) != 1 || len(inodes) != 1 || !maps.Equal(now, inodes) {
			t.Errorf("listening sockets %v before the reloads, %v after: want the same one throughout", inodes, now)
		}
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		p.waitExit(t, 10*time.Second)
		if bin != goproxyBin {
			return
		}
		counts.expectClean(t, fmt.Sprintf(" over %d reloads", reloads), 100)
	})
}

// TestMWorkerReloadStorm: SIGUSR2 sent again while the master is
// executing itself waits for the new master (the handled signals stay
// blocked across the exec) instead of killing it. On goproxy the storm
// also runs right at start, before the first worker listens (a reload then
// waits for it, since the next worker takes its sockets).
func TestMWorkerReloadStorm(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port()))
		sock := filepath.Join(dir, "master.sock")
		p := startMW(t, bin, nil, "-W", "-db", "-f", cfg, "-S", sock)
		if bin == goproxyBin {
			// At start: the master's signals are set up before it
			// answers on its CLI.
			waitFor(t, 10*time.Second, "the master CLI", func() bool { _, err := os.Stat(sock); return err == nil })
			for i := 0; i < 3; i++ {
				_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
			}
		}
		waitMaster(t, p, addr)
		var cur []procEntry
		waitFor(t, 10*time.Second, "one worker", func() bool {
			_, cur, _ = showProc(t, sock)
			for _, w := range cur {
				killLater(t, w.pid)
			}
			return len(cur) == 1
		})
		for i := 0; i < 5; i++ {
			_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
			time.Sleep(time.Duration(i) * time.Millisecond)
		}
		waitFor(t, 10*time.Second, "one worker, a new one", func() bool {
			if !p.running() {
				t.Fatalf("the master died:\n%s", p.out.String())
			}
			_, c, old := showProc(t, sock)
			for _, w := range append(c, old...) {
				killLater(t, w.pid)
			}
			return len(c) == 1 && c[0].pid != cur[0].pid && len(old) == 0
		})
		if err := echoOK(addr); err != nil {
			t.Fatal(err)
		}
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		if code := p.waitExit(t, 10*time.Second); code != 0 {
			t.Errorf("master exit %d", code)
		}
	})
}

// TestMWorkerMigrateFromHAProxy: a standalone haproxy hands its listening
// socket to "goproxy -W -x <its stats socket> -sf <its pid>" (the first
// worker takes it), which then reloads with SIGUSR2: one listening socket
// throughout, and no client refused or reset.
func TestMWorkerMigrateFromHAProxy(t *testing.T) {
	h, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH")
	}
	dir := t.TempDir()
	be := newEcho(t)
	addr := loopAddr(t)
	stats := filepath.Join(dir, "stats.sock")
	cfg := writeFile(t, dir, "mw.cfg", mwConfig(dir, addr, be.port()))
	old := startMW(t, h, nil, "-db", "-f", cfg)
	waitListening(t, old, addr)
	inodes := listenerInodes(t, addr)
	stop := make(chan struct{})
	counts, wg := hammer(addr, 2, stop)
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			wg.Wait()
		}
	}()
	sock := filepath.Join(dir, "master.sock")
	time.Sleep(100 * time.Millisecond)
	p := startMW(t, goproxyBin, nil, "-W", "-db", "-f", cfg, "-S", sock, "-x", stats, "-sf", strconv.Itoa(old.pid()))
	if code := old.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("haproxy exited %d:\n%s", code, old.out.String())
	}
	_, cur, _ := showProc(t, sock)
	if len(cur) != 1 {
		t.Fatalf("workers %v:\n%s", cur, p.out.String())
	}
	killLater(t, cur[0].pid)
	time.Sleep(100 * time.Millisecond)
	_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
	waitFor(t, 10*time.Second, "the reloaded worker", func() bool {
		_, c, o := showProc(t, sock)
		if len(c) == 1 {
			killLater(t, c[0].pid)
		}
		return len(c) == 1 && c[0].pid != cur[0].pid && len(o) == 0
	})
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	stopped = true
	if now := listenerInodes(t, addr); !maps.Equal(now, inodes) {
		t.Errorf("listening sockets %v under haproxy, %v after: want the same one", inodes, now)
	}
	counts.expectClean(t, "", 50)
	_ = syscall.Kill(p.pid(), syscall.SIGTERM)
	p.waitExit(t, 10*time.Second)
}

// TestMWorkerMasterLog compares the master's own messages (start, a
// reload, a failed reload, SIGTERM) with haproxy's, pids and versions
// masked.
func TestMWorkerMasterLog(t *testing.T) {
	bins := oracles(t)
	if len(bins) < 2 {
		t.Skip("haproxy is not on PATH")
	}
	logs := map[string][]string{}
	for name, bin := range bins {
		dir := t.TempDir()
		be := newEcho(t)
		addr := loopAddr(t)
		text := mwConfig(dir, addr, be.port())
		cfg := writeFile(t, dir, "mw.cfg", text)
		sock := filepath.Join(dir, "master.sock")
		p := startMW(t, bin, nil, "-W", "-db", "-f", cfg, "-S", sock)
		waitMaster(t, p, addr)
		_, cur, _ := showProc(t, sock)
		killLater(t, cur[0].pid)
		_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
		waitFor(t, 10*time.Second, "the old worker to leave", func() bool {
			return strings.Contains(p.out.String(), fmt.Sprintf("Former worker (%d) exited", cur[0].pid))
		})
		_, cur, _ = showProc(t, sock)
		killLater(t, cur[0].pid)
		writeFile(t, dir, "mw.cfg", text+"    bogus line\n")
		_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
		waitFor(t, 10*time.Second, "the failed reload", func() bool { return strings.Contains(p.out.String(), "Loading failure!") })
		// haproxy executes itself once more after a failed reload (wait
		// mode): a signal must not land in between.
		time.Sleep(500 * time.Millisecond)
		mcliOK(t, sock, "show proc")
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		p.waitExit(t, 10*time.Second)
		mine := fmt.Sprintf(" (%d) : ", p.pid())
		for _, l := range strings.Split(p.out.String(), "\n") {
			if !strings.Contains(l, mine) {
				continue
			}
			l = strings.ReplaceAll(l, mine, " (MASTER) : ")
			l = regexp.MustCompile(`\(\d+\)`).ReplaceAllString(l, "(PID)")
			l = regexp.MustCompile(`version is \S+|executable is \S+|parsing \[\S+:|configuration file : \S+`).ReplaceAllString(l, "X")
			logs[name] = append(logs[name], l)
		}
	}
	if g, h := strings.Join(logs["goproxy"], "\n"), strings.Join(logs["haproxy"], "\n"); g != h {
		t.Errorf("master messages differ:\ngoproxy:\n%s\nhaproxy:\n%s", g, h)
	}
}

// TestMWorkerEnv: HAProxy sets HAPROXY_MWORKER and HAPROXY_MASTER_CLI once
// the configuration is parsed: a first start does not see them, a reload
// does (a frontend under ".if defined(HAPROXY_MWORKER)" appears then).
func TestMWorkerEnv(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		be := newEcho(t)
		addr, addr2 := loopAddr(t), loopAddr(t)
		sock := filepath.Join(dir, "master.sock")
		text := mwConfig(dir, addr, be.port()) +
			".if defined(HAPROXY_MWORKER)\n.if streq(\"$HAPROXY_MASTER_CLI\",\"unix@" + sock + "\")\n" +
			"frontend fe2\n    bind " + addr2 + "\n    default_backend be\n.endif\n.endif\n"
		cfg := writeFile(t, dir, "mw.cfg", text)
		p := startMW(t, bin, nil, "-W", "-db", "-f", cfg, "-S", sock)
		waitMaster(t, p, addr)
		_, cur, _ := showProc(t, sock)
		killLater(t, cur[0].pid)
		if portListening(t, addr2) {
			t.Errorf("the first worker parsed with HAPROXY_MWORKER set")
		}
		_ = syscall.Kill(p.pid(), syscall.SIGUSR2)
		waitFor(t, 10*time.Second, "the reloaded worker on "+addr2, func() bool {
			_, c, _ := showProc(t, sock)
			for _, w := range c {
				killLater(t, w.pid)
			}
			return portListening(t, addr2)
		})
		if err := echoOK(addr2); err != nil {
			t.Fatal(err)
		}
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
		p.waitExit(t, 10*time.Second)
	})
}
