package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"goproxy/internal/nettest"
)

// These end-to-end tests run the real goproxy binary (built by TestMain)
// in the foreground on a config written to a temporary directory, with
// in-process backends and real TCP clients bound to 127.0.0.x addresses.

// e2eProc is a real goproxy (or haproxy) process started by a test.
type e2eProc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error
}

// startBin starts bin -db -f cfg (plus extra args) and kills it by PID in
// t.Cleanup if it is still running.
func startBin(t *testing.T, bin, cfg string, extra ...string) *e2eProc {
	t.Helper()
	return startBinOut(t, bin, cfg, nil, extra...)
}

// startBinOut is startBin with the process's stdout on stdout (nil: with
// its stderr, in the process's output buffer).
func startBinOut(t *testing.T, bin, cfg string, stdout *os.File, extra ...string) *e2eProc {
	t.Helper()
	return startBinFull(t, bin, cfg, stdout, nil, extra...)
}

// startBinEnv is startBin with env added to the process's environment.
func startBinEnv(t *testing.T, bin, cfg string, env []string, extra ...string) *e2eProc {
	t.Helper()
	return startBinFull(t, bin, cfg, nil, env, extra...)
}

func startBinFull(t *testing.T, bin, cfg string, stdout *os.File, env []string, extra ...string) *e2eProc {
	t.Helper()
	args := append([]string{"-db", "-f", cfg}, extra...)
	p := &e2eProc{cmd: exec.Command(bin, args...), out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = append(cleanEnv("GORACE=atexit_sleep_ms=0"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if stdout != nil {
		p.cmd.Stdout = stdout
	}
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

func (p *e2eProc) pid() int { return p.cmd.Process.Pid }

func (p *e2eProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitExit waits up to d for the process to end and returns its exit code.
func (p *e2eProc) waitExit(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("process %d still running after %v; output:\n%s", p.pid(), d, p.out.String())
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 0
}

// startGoproxy writes text as a config and starts goproxy on it, waiting
// until addr accepts connections.
func startGoproxy(t *testing.T, text, addr string, extra ...string) *e2eProc {
	t.Helper()
	return startServing(t, goproxyBin, text, addr, extra...)
}

var cfgSeq atomic.Int64

func startServing(t *testing.T, bin, text, addr string, extra ...string) *e2eProc {
	t.Helper()
	return startServingOut(t, bin, text, addr, nil, extra...)
}

// startServingOut is startServing with the process's stdout on stdout
// (nil: in the output buffer).
func startServingOut(t *testing.T, bin, text, addr string, stdout *os.File, extra ...string) *e2eProc {
	t.Helper()
	p, err := tryServingOut(t, bin, text, addr, stdout, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// errExitedEarly is tryServing's error when the process ends before it
// listens; its output is in the message.
var errExitedEarly = errors.New("exited early")

// tryServing is startServing that returns an error (wrapping
// errExitedEarly if the process ended) instead of failing the test.
func tryServing(t *testing.T, bin, text, addr string, extra ...string) (*e2eProc, error) {
	t.Helper()
	return tryServingOut(t, bin, text, addr, nil, extra...)
}

// tryServingOut is tryServing with the process's stdout on stdout.
func tryServingOut(t *testing.T, bin, text, addr string, stdout *os.File, extra ...string) (*e2eProc, error) {
	t.Helper()
	cfg := writeFile(t, t.TempDir(), fmt.Sprintf("e2e-%d.cfg", cfgSeq.Add(1)), text)
	p := startBinOut(t, bin, cfg, stdout, extra...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if !p.running() {
			return p, fmt.Errorf("%s %w: %v\n%s", bin, errExitedEarly, p.err, p.out.String())
		}
		if listenerPIDs(t, addr, p.pid())[p.pid()] {
			return p, nil
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("%s does not listen on %s; output:\n%s", bin, addr, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// portListening reports whether a socket listens on addr's port. It asks
// the kernel for the listeners of that one port (nettest.ListenerInodes,
// whose comment says why not /proc/net/tcp): probing by connect would open
// a session through the proxy (and shift a balancer), probing by bind
// could steal the port.
func portListening(t *testing.T, addr string) bool {
	t.Helper()
	return len(listenerInodes(t, addr)) > 0
}

// listenerInodes returns the inodes of the sockets listening on addr's
// port, as the "socket:[N]" links of /proc/PID/fd name them.
func listenerInodes(t *testing.T, addr string) map[string]bool {
	t.Helper()
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		t.Fatal(err)
	}
	in, err := nettest.ListenerInodes(port)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, i := range in {
		out["socket:["+strconv.FormatUint(uint64(i), 10)+"]"] = true
	}
	return out
}

// listenerPIDs returns which of pids hold a listening socket on addr's
// port: the listeners' inodes matched against each process's own
// descriptors (/proc/PID/fd), so the cost is that of the few listeners and
// of these processes' fds, whatever else the machine has open.
func listenerPIDs(t *testing.T, addr string, pids ...int) map[int]bool {
	t.Helper()
	inodes := listenerInodes(t, addr)
	out := map[int]bool{}
	if len(inodes) == 0 {
		return out
	}
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && inodes[l] {
				out[pid] = true
				break
			}
		}
	}
	return out
}

// loopAddr returns "127.0.0.1:port" for a free port.
func loopAddr(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePort(t))
}

// srcIP is the i-th client address, 127.0.0.(i+2) for i in 0..250.
func srcIP(i int) string { return "127.0.0." + strconv.Itoa(2+i%250) }

// dialFrom connects to addr from the source address ip (any port).
func dialFrom(ip, addr string) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	if ip != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// nameServer is a backend that greets each connection with "NAME\n" and
// then echoes what it reads. It counts connections and how many are open.
type nameServer struct {
	name     string
	ln       net.Listener
	accepted atomic.Int64
	open     atomic.Int64
	// silent: no greeting, echo only.
	silent bool
	// hold: greet, then never read nor write until the client closes.
	hold bool
	// reset: greet, then answer the first byte read with a reset.
	reset bool
	// finFirst: greet, half-close, then count what it reads until EOF
	// into received.
	finFirst bool
	received chan int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startNameServer listens on addr (":0" style "127.0.0.1:0" allowed; a
// path or an '@' abstract name listens on a UNIX socket).
func startNameServer(t *testing.T, name, addr string, opts ...func(*nameServer)) *nameServer {
	t.Helper()
	network := "tcp"
	if strings.HasPrefix(addr, "/") || strings.HasPrefix(addr, "@") {
		network = "unix"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("backend %s: %v", name, err)
	}
	s := &nameServer{name: name, ln: ln, conns: map[net.Conn]struct{}{}, received: make(chan int64, 16)}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

func (s *nameServer) addr() string { return s.ln.Addr().String() }

func (s *nameServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.handle(c)
	}
}

func (s *nameServer) handle(c net.Conn) {
	defer s.wg.Done()
	s.open.Add(1)
	defer func() {
		s.open.Add(-1)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if !s.silent {
		if _, err := io.WriteString(c, s.name+"\n"); err != nil {
			return
		}
	}
	if s.finFirst {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		n, _ := io.Copy(io.Discard, c)
		s.received <- n
		return
	}
	if s.reset {
		_, _ = c.Read(make([]byte, 1))
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		return
	}
	if s.hold {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	_, _ = io.Copy(c, c)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

func (s *nameServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// ask connects from ip, reads the greeting and closes: it returns the name
// of the server that answered.
func ask(ip, addr string) (string, error) {
	c, err := dialFrom(ip, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return readName(c)
}

// openName connects from ip and reads the greeting, keeping the
// connection open.
func openName(t *testing.T, ip, addr string) (net.Conn, string) {
	t.Helper()
	c, err := dialFrom(ip, addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, ip, err)
	}
	t.Cleanup(func() { c.Close() })
	name, err := readName(c)
	if err != nil {
		t.Fatalf("greeting from %s via %s: %v", ip, addr, err)
	}
	return c, name
}

func readName(c net.Conn) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReaderSize(c, 64).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading greeting: %w (got %q)", err, line)
	}
	_ = c.SetReadDeadline(time.Time{})
	return strings.TrimSuffix(line, "\n"), nil
}

// expectClosed waits up to d for the peer to close c (EOF or reset) and
// returns how long it took.
func expectClosed(t *testing.T, c net.Conn, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection still open after %v", d)
		}
		return time.Since(start)
	}
}

// fdCount is the number of open file descriptors of pid.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("listing fds of %d: %v", pid, err)
	}
	return len(ents)
}

// procStatus returns a numeric field of /proc/PID/status ("VmRSS", "Threads").
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			n, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// counts tallies names.
func counts(names []string) map[string]int {
	m := map[string]int{}
	for _, n := range names {
		m[n]++
	}
	return m
}

// askN makes n sequential connections from ip (srcIP(i) when ip is "")
// and returns the names in order.
func askN(t *testing.T, addr, ip string, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		from := ip
		if from == "" {
			from = srcIP(i)
		}
		name, err := ask(from, addr)
		if err != nil {
			t.Fatalf("connection %d from %s: %v", i, from, err)
		}
		out = append(out, name)
	}
	return out
}

// e2eCfg is a one-frontend, one-backend configuration.
type e2eCfg struct {
	global   []string // lines of the global section
	defaults []string // after mode tcp and 1s/10s/10s timeouts (later lines win)
	frontend []string // after bind and default_backend
	backend  []string // before the servers
	servers  []string // "server ..." lines (the keyword included)
}

func (c e2eCfg) render(listen string) string {
	var b strings.Builder
	b.WriteString("global\n")
	for _, l := range c.global {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n")
	for _, l := range c.defaults {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("frontend fe\n    bind " + listen + "\n    default_backend be\n")
	for _, l := range c.frontend {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("backend be\n")
	for _, l := range c.backend {
		b.WriteString("    " + l + "\n")
	}
	for _, l := range c.servers {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// run starts goproxy on the configuration and returns its address.
func (c e2eCfg) run(t *testing.T) (string, *e2eProc) {
	t.Helper()
	return c.runWith(t, goproxyBin)
}

// runWith starts bin (goproxy or haproxy) on the configuration and returns
// its address.
func (c e2eCfg) runWith(t *testing.T, bin string) (string, *e2eProc) {
	t.Helper()
	addr := loopAddr(t)
	return addr, startServing(t, bin, c.render(addr), addr)
}

// oracles returns goproxy and, when installed, haproxy, by name: tests of
// formats run on both so that the expectations are HAProxy's own. Without
// haproxy, t's log says which half is skipped.
func oracles(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{"goproxy": goproxyBin}
	if h, err := exec.LookPath("haproxy"); err == nil {
		m["haproxy"] = h
	} else {
		t.Logf("SKIP: the haproxy half of %s: haproxy is not on PATH", t.Name())
	}
	return m
}

// onOracles runs test as a subtest for goproxy, then one for haproxy,
// skipped when haproxy is not installed.
func onOracles(t *testing.T, test func(t *testing.T, bin string)) {
	t.Helper()
	t.Run("goproxy", func(t *testing.T) { test(t, goproxyBin) })
	t.Run("haproxy", func(t *testing.T) {
		h, err := exec.LookPath("haproxy")
		if err != nil {
			t.Skip("haproxy is not on PATH")
		}
		test(t, h)
	})
}

// nameServers starts backends named s1..sn and returns them.
func nameServers(t *testing.T, n int, opts ...func(*nameServer)) []*nameServer {
	t.Helper()
	var out []*nameServer
	for i := 1; i <= n; i++ {
		out = append(out, startNameServer(t, "s"+strconv.Itoa(i), "127.0.0.1:0", opts...))
	}
	return out
}

func holding(s *nameServer) { s.hold = true }
func silent(s *nameServer)  { s.silent = true }

// openTotal is the number of connections open on the backends.
func openTotal(ss []*nameServer) int64 {
	var n int64
	for _, s := range ss {
		n += s.open.Load()
	}
	return n
}
