package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"goproxy/internal/hatext"
	"goproxy/internal/sockxfer"
	"goproxy/stats"
)

// The master CLI (-S <bind>[,<opts>]): HAProxy 2.6's commands to watch
// and reload the processes, and the "@" prefixes that send a command to a
// worker's own CLI (over the worker's channel).

// mcliListener is one -S socket.
type mcliListener struct {
	ln    net.Listener
	level stats.Level
	path  string // unix socket file to remove at exit, "" for TCP
	file  *os.File
}

// mcliTimeout bounds the wait for a first command, for a worker's answer
// and for the client to take an answer.
const mcliTimeout = 10 * time.Second

// mcliIdleTimeout bounds the wait for the next command in prompt mode: an
// operator at an interactive session is not cut after ten seconds (HAProxy
// does not cut it either); mcliMaxSessions bounds what idle sessions hold.
const mcliIdleTimeout = 30 * time.Minute

// mcliMaxLine bounds a request line.
const mcliMaxLine = 16 << 10

// listenMasterCLI binds one -S argument: an address (a unix path,
// unix@path, ipv4@ or ipv6@ or host:port) and bind options separated by
// commas ("level", "mode"; the others are accepted and ignored).
func listenMasterCLI(spec string) (*mcliListener, error) {
	words := strings.Split(spec, ",")
	addr := words[0]
	l := &mcliListener{level: stats.LevelAdmin}
	mode := -1
	for i := 1; i < len(words); i++ {
		opt := words[i]
		val := ""
		if i+1 < len(words) {
			val = words[i+1]
		}
		switch opt {
		case "level":
			lv, err := stats.ParseLevel(val)
			if err != nil {
				return nil, fmt.Errorf("master CLI '%s': %v", spec, err)
			}
			l.level = lv
			i++
		case "mode":
			n, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return nil, fmt.Errorf("master CLI '%s': 'mode' : invalid mode '%s'", spec, val)
			}
			mode = int(n)
			i++
		case "uid", "gid", "user", "group", "name", "maxconn", "backlog":
			i++
		}
	}
	if n, ok := strings.CutPrefix(addr, "fd@"); ok {
		// A socket the parent opened, as VTest's -S "fd@N".
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 0 {
			return nil, fmt.Errorf("Starting proxy MASTER: invalid file descriptor '%s' [%s]", n, addr)
		}
		inh, err := inheritedMasterCLI(fd)
		if err != nil {
			return nil, fmt.Errorf("Starting proxy MASTER: cannot use socket (%v) [%s]", err, addr)
		}
		inh.level, inh.path = l.level, ""
		return inh, nil
	}
	network, address := "unix", addr
	switch {
	case strings.HasPrefix(addr, "unix@"):
		address = addr[len("unix@"):]
	case strings.HasPrefix(addr, "ipv4@"):
		network, address = "tcp4", addr[len("ipv4@"):]
	case strings.HasPrefix(addr, "ipv6@"):
		network, address = "tcp6", addr[len("ipv6@"):]
	case !strings.Contains(addr, "/") && strings.Contains(addr, ":"):
		network = "tcp"
	}
	if network == "unix" {
		// A socket file left by a dead master is replaced; a live one is not.
		if fi, err := os.Lstat(address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if c, err := net.DialTimeout("unix", address, time.Second); err == nil {
				c.Close()
				return nil, fmt.Errorf("Starting proxy MASTER: cannot bind socket (Address already in use) [unix:%s]", address)
			}
			os.Remove(address)
		}
		l.path = address
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, fmt.Errorf("Starting proxy MASTER: cannot bind socket (%s) [%s]", hatext.Strerror(unwrapSyscall(err)), addr)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
	if mode >= 0 && l.path != "" {
		_ = os.Chmod(l.path, os.FileMode(mode))
	}
	l.ln = ln
	return l, nil
}

func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// inheritedMasterCLI takes back a -S socket across the master's re-exec;
// its level is restored from -S (restoreLevels).
func inheritedMasterCLI(fd int) (*mcliListener, error) {
	_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
	f := os.NewFile(uintptr(fd), "master-cli")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("inherited master CLI socket %d: %w", fd, err)
	}
	l := &mcliListener{ln: ln, level: stats.LevelAdmin}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
		l.path = ul.Addr().String()
	}
	return l, nil
}

// inheritable returns a descriptor of the socket that survives exec.
func (l *mcliListener) inheritable() (int, error) {
	if l.file == nil {
		fl, ok := l.ln.(interface{ File() (*os.File, error) })
		if !ok {
			return -1, errors.New("not a socket")
		}
		f, err := fl.File()
		if err != nil {
			return -1, err
		}
		l.file = f
	}
	fd := int(l.file.Fd())
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	return fd, err
}

// closeCLI closes the -S sockets; remove also deletes their files (the
// master is exiting, not reloading).
func (m *master) closeCLI(remove bool) {
	for _, l := range m.cli {
		l.ln.Close()
		if remove && l.path != "" {
			os.Remove(l.path)
		}
	}
}

// restoreLevels gives the inherited sockets their -S level back (they
// come in the order of -S).
func (m *master) restoreLevels() {
	for i, l := range m.cli {
		if i < len(m.o.masterCLI) {
			if nl, err := specLevel(m.o.masterCLI[i]); err == nil {
				l.level = nl
			}
		}
	}
}

func specLevel(spec string) (stats.Level, error) {
	words := strings.Split(spec, ",")
	for i := 1; i+1 < len(words); i++ {
		if words[i] == "level" {
			return stats.ParseLevel(words[i+1])
		}
	}
	return stats.LevelAdmin, nil
}

// mcliMaxSessions bounds the master CLI sessions open at once; a
// connection beyond it is closed at once.
const mcliMaxSessions = 64

var mcliSlots = make(chan struct{}, mcliMaxSessions)

func (m *master) acceptCLI(l *mcliListener) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		select {
		case mcliSlots <- struct{}{}:
		default:
			c.Close()
			continue
		}
		go func() {
			defer func() { <-mcliSlots }()
			m.serveCLI(c, l.level)
		}()
	}
}

// masterUsage is the master CLI's help, HAProxy 2.6's.
var masterUsage = stats.NewUsageTable([]stats.Keyword{
	{Words: []string{"@!<pid>"}, Usage: "@!<pid>                                 : send a command to the <pid> process"},
	{Words: []string{"@<relative pid>"}, Usage: "@<relative pid>                         : send a command to the <relative pid> process"},
	{Words: []string{"@master"}, Usage: "@master                                 : send a command to the master process"},
	{Words: []string{"operator"}, Usage: "operator                                : lower the level of the current CLI session to operator"},
	{Words: []string{"reload"}, Usage: "reload                                  : reload haproxy"},
	{Words: []string{"show", "cli", "level"}, Usage: "show cli level                          : display the level of the current CLI session"},
	{Words: []string{"show", "cli", "sockets"}, Usage: "show cli sockets                        : dump list of cli sockets"},
	{Words: []string{"show", "proc"}, Usage: "show proc                               : show processes status"},
	{Words: []string{"show", "version"}, Usage: "show version                            : show version of the current process"},
	{Words: []string{"user"}, Usage: "user                                    : lower the level of the current CLI session to user"},
})

// mcliSession is one master CLI connection, owned by its goroutine.
type mcliSession struct {
	m           *master
	c           net.Conn
	w           *bufio.Writer
	level       stats.Level
	interactive bool
	target      int // 0: the master; else a worker's pid
	quit        bool
}

func (m *master) serveCLI(c net.Conn, level stats.Level) {
	defer c.Close()
	s := &mcliSession{m: m, c: c, w: bufio.NewWriter(c), level: level}
	r := bufio.NewReaderSize(c, 4096)
	for !s.quit {
		idle := mcliTimeout
		if s.interactive {
			idle = mcliIdleTimeout
		}
		_ = c.SetReadDeadline(time.Now().Add(idle))
		line, err := readMasterLine(r)
		if errors.Is(err, errLongLine) || (err != nil && line == "") {
			return
		}
		// The answer, forwarded ones included, is bounded in time too.
		_ = c.SetWriteDeadline(time.Now().Add(mcliTimeout))
		s.runLine(strings.TrimRight(line, "\r\n"))
		if s.w.Flush() != nil {
			return
		}
		if err != nil || (!s.interactive && r.Buffered() == 0) {
			break
		}
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	}
}

var errLongLine = errors.New("master CLI: request line too long")

// readMasterLine reads up to a '\n', at most mcliMaxLine bytes.
func readMasterLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > mcliMaxLine {
			return "", errLongLine
		}
		line = append(line, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return string(line), err
	}
}

// prompt is "master> ", "<pid>> ", or "master[ReloadFailed]> ".
func (s *mcliSession) prompt() {
	if !s.interactive {
		return
	}
	if s.target != 0 {
		fmt.Fprintf(s.w, "%d> ", s.target)
		return
	}
	s.m.mu.Lock()
	failed := s.m.reloadFailed
	s.m.mu.Unlock()
	if failed {
		s.w.WriteString("master[ReloadFailed]> ")
		return
	}
	s.w.WriteString("master> ")
}

// runLine runs the commands of one line, separated by ';'.
func (s *mcliSession) runLine(line string) {
	cmds := strings.Split(line, ";")
	for _, cmd := range cmds {
		if s.quit {
			return
		}
		words := strings.Fields(cmd)
		target := s.target
		if len(words) > 0 && strings.HasPrefix(words[0], "@") {
			t, ok := s.m.findTarget(words[0])
			if !ok {
				fmt.Fprintf(s.w, "Can't find the target PID matching the prefix '%s'\n", words[0])
				s.quit = true
				return
			}
			if len(words) == 1 {
				s.target = t
				s.prompt()
				continue
			}
			target = t
			words = words[1:]
		}
		// An empty command gets the usage text, as in HAProxy.
		if target != 0 && (len(words) == 0 || words[0] != "prompt" && words[0] != "quit") {
			s.forward(target, words)
			s.prompt()
			continue
		}
		s.master(words)
	}
}

// findTarget resolves "@", "@master", "@<n>" (the n-th current worker)
// and "@!<pid>" (any worker); 0 is the master.
func (m *master) findTarget(p string) (int, bool) {
	rest := p[1:]
	if rest == "" || rest == "master" {
		return 0, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if pid, ok := strings.CutPrefix(rest, "!"); ok {
		n, err := strconv.Atoi(pid)
		if err != nil {
			return 0, false
		}
		for _, w := range m.workers {
			if w.pid == n && !w.closed {
				return n, true
			}
		}
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 {
		return 0, false
	}
	i := 0
	for _, w := range m.workers {
		if w.leaving || w.closed {
			continue
		}
		i++
		if i == n {
			return w.pid, true
		}
	}
	return 0, false
}

// forward runs one command on a worker's CLI and copies its answer.
func (s *mcliSession) forward(pid int, words []string) {
	m := s.m
	m.mu.Lock()
	var conn *net.UnixConn
	err := errors.New("no such worker")
	for _, w := range m.workers {
		if w.pid == pid && !w.closed {
			conn, err = sockxfer.SendConn(w.fd)
			break
		}
	}
	m.mu.Unlock()
	if err != nil {
		return
	}
	defer conn.Close()
	// The worker's channel is at level admin: a lower session lowers it
	// first, and the empty answer of that command is dropped.
	line := strings.Join(words, " ")
	var w io.Writer = s.w
	switch s.level {
	case stats.LevelOperator:
		line = "operator; " + line
		w = &skipByte{w: s.w, b: '\n'}
	case stats.LevelUser:
		line = "user; " + line
		w = &skipByte{w: s.w, b: '\n'}
	}
	_ = conn.SetDeadline(time.Now().Add(mcliTimeout))
	if _, err := conn.Write([]byte(line + "\n")); err != nil {
		return
	}
	_, _ = io.Copy(w, io.LimitReader(conn, 64<<20))
}

// skipByte writes through to w all but a first byte equal to b.
type skipByte struct {
	w    io.Writer
	b    byte
	done bool
}

func (s *skipByte) Write(p []byte) (int, error) {
	n := len(p)
	if !s.done && n > 0 {
		s.done = true
		if p[0] == s.b {
			p = p[1:]
		}
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// master runs a command of the master itself.
func (s *mcliSession) master(words []string) {
	m := s.m
	answer := func(text string) {
		s.w.WriteString(text)
		s.w.WriteString("\n")
		s.prompt()
	}
	if len(words) == 0 {
		answer(masterUsage.Usage(nil, false))
		return
	}
	// A keyword ignores the words after it, as in HAProxy.
	switch masterKeyword(words) {
	case "prompt":
		s.interactive = !s.interactive
		s.prompt()
		return
	case "quit":
		s.prompt()
		s.quit = true
		return
	case "help":
		answer(masterUsage.Usage(nil, true))
		return
	case "show proc":
		answer(m.showProc())
		return
	case "show version":
		answer(version + "\n")
		return
	case "show cli level":
		answer(s.level.String() + "\n")
		return
	case "show cli sockets":
		// HAProxy 2.6's master lists none.
		answer("")
		return
	case "operator":
		if s.level > stats.LevelOperator {
			s.level = stats.LevelOperator
		}
		s.prompt()
		return
	case "user":
		s.level = stats.LevelUser
		s.prompt()
		return
	case "reload":
		if s.level < stats.LevelOperator {
			answer("Permission denied\n")
			return
		}
		s.w.Flush()
		m.requestReload()
		s.quit = true
		return
	}
	if words[0] == "help" {
		answer(masterUsage.Usage(words[1:], true))
		return
	}
	answer(masterUsage.Usage(words, false))
}

// masterKeyword returns the master command words start with ("show
// proc" for "show proc x"), or "".
func masterKeyword(words []string) string {
	for _, kw := range []string{"prompt", "quit", "show proc", "show version", "show cli level", "show cli sockets", "operator", "user", "reload"} {
		kws := strings.Fields(kw)
		if len(words) >= len(kws) && strings.Join(words[:len(kws)], " ") == kw {
			return kw
		}
	}
	if words[0] == "help" && len(words) == 1 {
		return "help"
	}
	return ""
}

// showProc is "show proc" in HAProxy 2.6's layout.
func (m *master) showProc() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	now := time.Now()
	fmt.Fprintf(&b, "#%-14s %-15s %-15s %-15s %-15s\n", "<PID>", "<type>", "<reloads>", "<uptime>", "<version>")
	fmt.Fprintf(&b, "%-15d %-15s %-15s %-15s %-15s\n", os.Getpid(), "master", fmt.Sprintf("%d [failed: %d]", m.reloads, m.failed), uptime(now.Sub(m.start)), version)
	b.WriteString("# workers\n")
	for _, w := range m.workers {
		if !w.leaving && !w.closed {
			fmt.Fprintf(&b, "%-15d %-15s %-15d %-15s %-15s\n", w.pid, "worker", w.reloads, uptime(now.Sub(w.start)), w.version)
		}
	}
	old := false
	for _, w := range m.workers {
		if w.leaving && !w.closed {
			if !old {
				b.WriteString("# old workers\n")
				old = true
			}
			fmt.Fprintf(&b, "%-15d %-15s %-15d %-15s %-15s\n", w.pid, "worker", w.reloads, uptime(now.Sub(w.start)), w.version)
		}
	}
	m.showPrograms(&b, now)
	return b.String()
}

// uptime is HAProxy's "%dd%02dh%02dm%02ds".
func uptime(d time.Duration) string {
	t := int(d / time.Second)
	return fmt.Sprintf("%dd%02dh%02dm%02ds", t/86400, t/3600%24, t/60%60, t%60)
}
