package stats

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"goproxy/parser"
)

func unixSocket(path, level string, mode uint32) parser.StatsSocket {
	sk := parser.StatsSocket{Addr: parser.Addr{Family: parser.FamilyUnix, Path: path, Text: path}}
	sk.Level = level
	if mode != 0 {
		sk.Mode, sk.ModeSet = mode, true
	}
	return sk
}

// startServer starts a Server on a fresh unix socket and returns its path.
func startServer(t *testing.T, g parser.Global, src Source) (*Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	if len(g.StatsSockets) == 0 {
		g.StatsSockets = []parser.StatsSocket{unixSocket(path, "admin", 0o600)}
	} else {
		path = g.StatsSockets[0].Addr.Path
	}
	srv, err := NewServer(g, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, path
}

func dial(t *testing.T, path string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// exchange sends input, half-closes when close is set, and reads until the
// server closes.
func exchange(t *testing.T, path, input string, closeWrite bool) string {
	t.Helper()
	c := dial(t, path)
	if _, err := io.WriteString(c, input); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.UnixConn).CloseWrite()
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, out)
	}
	return string(out)
}

func TestSocketRoundTrip(t *testing.T) {
	_, path := startServer(t, parser.Global{}, newFakeSource())
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want srw-------", fi.Mode())
	}
	tests := []struct {
		name, input, want string
		half              bool
	}{
		{"show stat", "show stat\n", golden(t, "show-stat.csv"), false},
		{"crlf", "show backend\r\n", "# name\npersistent_connection_backend\n\n", false},
		{"no newline", "show backend", "", true},
		{"spaces", "   show    backend   \n", "# name\npersistent_connection_backend\n\n", false},
		{"pipelined", "show backend\nshow backend\n", golden(t, "two-lines-noninteractive.txt"), false},
		{"semicolons", "get weight persistent_connection_backend/server1;get weight persistent_connection_backend/server1;foo;get weight persistent_connection_backend/server1\n",
			"", false},
		{"quit", "quit\n", "", false},
		{"prompt", "prompt\nquit\n", "\n> ", false},
		{"prompt twice", "prompt\nprompt\n", "\n> \n", false},
		{"escaped semicolon", "get weight persistent_connection_backend/server1\\;foo\n", "No such server.\n\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, path, tc.input, tc.half)
			want := tc.want
			if tc.name == "semicolons" {
				want = golden(t, "semicolon-with-error.txt")
			}
			diffText(t, got, want)
		})
	}
}

func TestSocketEdgeCasesGolden(t *testing.T) {
	_, path := startServer(t, parser.Global{}, newFakeSource())
	text := golden(t, "cli-lexing-edge-cases.txt")
	inputs := map[string]string{
		"CRLF": "show backend\r\n", "no newline": "show backend", "spaces": "   show    backend   \n",
		"case": "SHOW BACKEND\n", "empty between ;": "show backend;;show backend\n",
		"spaces around ;": "show backend ; show backend\n",
		"escaped ;":       "get weight persistent_connection_backend/server1\\;foo\n", "empty line": "\n",
	}
	for _, part := range strings.Split(text, ">>> ")[1:] {
		nl := strings.IndexByte(part, '\n')
		end := strings.Index(part, "<<< [end of answer; ")
		tag := part[end+len("<<< [end of answer; "):]
		tag = tag[:strings.IndexByte(tag, ']')]
		in, ok := inputs[tag]
		if !ok {
			t.Fatalf("no input for %q", tag)
		}
		want := part[nl+1 : end]
		t.Run(tag, func(t *testing.T) {
			diffText(t, exchange(t, path, in, tag == "no newline"), want)
		})
	}
}

func TestPromptSessionGolden(t *testing.T) {
	_, path := startServer(t, parser.Global{}, newFakeSource())
	lines := strings.Split(strings.TrimSuffix(golden(t, "prompt-session-input.txt"), "\n"), "\n")
	c := dial(t, path)
	var out bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(&out, c)
	}()
	for _, l := range lines {
		io.WriteString(c, l+"\n")
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	diffText(t, out.String(), golden(t, "prompt-session-output.txt"))
}

func TestIdleTimeout(t *testing.T) {
	_, path := startServer(t, parser.Global{StatsTimeout: 300 * time.Millisecond}, newFakeSource())
	// Non-interactive: nothing sent, closed after the stats timeout.
	c := dial(t, path)
	start := time.Now()
	b, _ := io.ReadAll(c)
	if len(b) != 0 || time.Since(start) < 250*time.Millisecond || time.Since(start) > 3*time.Second {
		t.Fatalf("got %q after %v", b, time.Since(start))
	}
	// set timeout cli in prompt mode: closed after 1 s idle, like the capture.
	c = dial(t, path)
	io.WriteString(c, "prompt\nset timeout cli 1\n")
	start = time.Now()
	b, _ = io.ReadAll(c)
	if string(b) != golden(t, "prompt-idle-timeout-output.txt") {
		t.Fatalf("got %q", b)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v, want about 1s", d)
	}
}

func TestLongLineAndGarbage(t *testing.T) {
	_, path := startServer(t, parser.Global{}, newFakeSource())
	long := "show version " + strings.Repeat("a", 20000) + "\n"
	if got := exchange(t, path, long, false); got != "" {
		t.Fatalf("long line answered %q", got)
	}
	// HAProxy's limit: 15360 bytes before the newline are answered, one
	// more is not; the connection ends cleanly either way.
	pad := func(n int) string { return "show version " + strings.Repeat("a", n-len("show version ")) + "\n" }
	if got := exchange(t, path, pad(maxLine), false); got != "2.6.12-1+deb12u4\n\n" {
		t.Fatalf("line of %d bytes answered %q", maxLine, got)
	}
	if got := exchange(t, path, pad(maxLine+1), false); got != "" {
		t.Fatalf("line of %d bytes answered %q", maxLine+1, got)
	}
	got := exchange(t, path, "\x00\xff\xfe garbage\x01\n", false)
	if !strings.HasPrefix(got, "Unknown command. Please enter one of the following commands only:\n") {
		t.Fatalf("garbage answered %.100q", got)
	}
	// The server is still fine.
	if got := exchange(t, path, "show version\n", false); got != "2.6.12-1+deb12u4\n\n" {
		t.Fatalf("got %q", got)
	}
}

// blockingSource holds every Stats call until gate is closed.
type blockingSource struct {
	*fakeSource
	gate    chan struct{}
	waiting atomic.Int32
}

func (b *blockingSource) Stats() []Row {
	b.waiting.Add(1)
	<-b.gate
	return b.fakeSource.Stats()
}

func TestMaxConnCountsCommands(t *testing.T) {
	src := &blockingSource{fakeSource: newFakeSource(), gate: make(chan struct{})}
	_, path := startServer(t, parser.Global{StatsMaxConn: 2, StatsTimeout: 5 * time.Second}, src)
	released := false
	release := func() {
		if !released {
			released = true
			close(src.gate)
		}
	}
	t.Cleanup(release)
	// Idle clients take no slot.
	buf := make([]byte, 3)
	for range 3 {
		c := dial(t, path)
		io.WriteString(c, "prompt\n")
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	if got := exchange(t, path, "show version\n", false); got != "2.6.12-1+deb12u4\n\n" {
		t.Fatalf("beside idle clients: %q", got)
	}
	// Two commands running take both slots.
	var running []net.Conn
	for range 2 {
		c := dial(t, path)
		io.WriteString(c, "show stat\n")
		running = append(running, c)
	}
	deadline := time.Now().Add(3 * time.Second)
	for src.waiting.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := src.waiting.Load(); n != 2 {
		t.Fatalf("%d show stat running, want 2", n)
	}
	// A third command waits for a slot...
	c := dial(t, path)
	io.WriteString(c, "show version\n")
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := c.Read(buf); n != 0 {
		t.Fatal("third command run beyond stats maxconn")
	}
	// ...but an unknown command needs none.
	if got := exchange(t, path, "foo\n", false); !strings.HasPrefix(got, "Unknown command") {
		t.Fatalf("unknown command while slots are busy: %.60q", got)
	}
	// When the commands end, the waiting one runs.
	release()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if got, _ := io.ReadAll(c); string(got) != "2.6.12-1+deb12u4\n\n" {
		t.Fatalf("waiting command: %q", got)
	}
	want := golden(t, "show-stat.csv")
	for _, r := range running {
		if got, _ := io.ReadAll(r); string(got) != want {
			t.Fatalf("show stat: %.60q", got)
		}
	}
}

func TestFullSocketEvictsLongestIdle(t *testing.T) {
	srv, path := startServer(t, parser.Global{StatsMaxConn: 1, StatsTimeout: time.Minute}, newFakeSource())
	var idle []net.Conn
	buf := make([]byte, 3)
	for range sessionsPerSlot {
		c := dial(t, path)
		io.WriteString(c, "prompt\n")
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// One more connection than the socket keeps: the newcomer is served
	// and the session idle the longest goes.
	if got := exchange(t, path, "show version\n", false); got != "2.6.12-1+deb12u4\n\n" {
		t.Fatalf("newcomer on a full socket: %q", got)
	}
	idle[0].SetReadDeadline(time.Now().Add(time.Second))
	if _, err := idle[0].Read(buf); err == nil {
		t.Fatal("longest idle session not evicted")
	}
	if n := srv.evictions.Load(); n != 1 {
		t.Fatalf("%d evictions, want 1", n)
	}
	// The others are still served.
	c := idle[1]
	io.WriteString(c, "show version\n")
	want := "2.6.12-1+deb12u4\n\n> "
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("second idle session: %q, %v", got, err)
	}
}

func TestSlowLineTimesOut(t *testing.T) {
	_, path := startServer(t, parser.Global{StatsTimeout: time.Minute}, newFakeSource())
	c := dial(t, path)
	start := time.Now()
	// One byte every 200 ms: the line is dropped after about lineTimeout,
	// not after the stats timeout, and nothing is executed.
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		_, err = io.WriteString(c, "s")
		time.Sleep(200 * time.Millisecond)
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		var n int
		n, err = c.Read(make([]byte, 1))
		if n > 0 {
			t.Fatal("answer to an unfinished line")
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			err = nil
		}
	}
	if d := time.Since(start); err == nil || d < lineTimeout || d > lineTimeout+time.Second {
		t.Fatalf("slow line: %v after %v", err, d)
	}
	// In prompt mode the stats timeout still governs the wait between
	// commands (TestIdleTimeout), and a command typed in one go is fine.
	c = dial(t, path)
	io.WriteString(c, "prompt\n")
	time.Sleep(lineTimeout + 200*time.Millisecond)
	io.WriteString(c, "show version\n")
	want := "\n> 2.6.12-1+deb12u4\n\n> "
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("prompt after a pause: %q, %v", got, err)
	}
}

func TestStaleAndLiveSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	// A stale socket file (nobody listening) is replaced.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	g := parser.Global{StatsSockets: []parser.StatsSocket{unixSocket(path, "", 0o660)}}
	srv, _ := startServer(t, g, newFakeSource())
	if got := exchange(t, path, "show cli level\n", false); got != "operator\n\n" {
		t.Fatalf("default level: %q", got)
	}
	// A live one is not stolen.
	other, err := NewServer(g, newFakeSource(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(); err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Fatalf("second server on a live socket: %v", err)
	}
	other.Close()
	if got := exchange(t, path, "show cli level\n", false); got != "operator\n\n" {
		t.Fatalf("first server disturbed: %q", got)
	}
	// Close removes the file.
	srv.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file left behind: %v", err)
	}
	// No temporary directory left either.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("left in dir: %v", ents)
	}
}

func TestSeveralSocketsAndTCP(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.sock")
	g := parser.Global{StatsSockets: []parser.StatsSocket{
		unixSocket(filepath.Join(dir, "admin.sock"), "admin", 0),
		unixSocket(user, "user", 0o666),
		{Addr: parser.Addr{Family: parser.FamilyTCP4, Host: "127.0.0.1", Port: 0, Text: "ipv4@127.0.0.1:0"}},
	}}
	srv, path := startServer(t, g, newFakeSource())
	if got := exchange(t, path, "show cli level\n", false); got != "admin\n\n" {
		t.Fatalf("admin socket: %q", got)
	}
	if got := exchange(t, user, "disable server persistent_connection_backend/server1\n", false); got != "Permission denied\n\n" {
		t.Fatalf("user socket: %q", got)
	}
	addrs := srv.Addrs()
	c, err := net.DialTimeout("tcp4", addrs[2], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "show cli level\n")
	got, _ := io.ReadAll(c)
	if string(got) != "operator\n\n" {
		t.Fatalf("tcp socket: %q", got)
	}
	// show info counts the CLI listeners.
	info := exchange(t, path, "show info\n", false)
	if !strings.Contains(info, "\nListeners: 5\n") {
		t.Fatalf("Listeners not counting CLI sockets:\n%s", info)
	}
}

func TestTakeoverOnReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	g := parser.Global{StatsSockets: []parser.StatsSocket{unixSocket(path, "admin", 0o600)}}
	old, _ := startServer(t, g, newFakeSource())
	// The new process takes the path over while the old one still listens.
	next, err := NewServer(g, newFakeSource(), nil)
	if err != nil {
		t.Fatal(err)
	}
	next.Takeover = true
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	// The old process leaving must not remove the new socket file.
	old.Close()
	if got := exchange(t, path, "show cli level\n", false); got != "admin\n\n" {
		t.Fatalf("after takeover: %q", got)
	}
	if got := exchange(t, path, "show cli sockets\n", false); got != "# socket lvl processes\nunix@"+path+" admin all\n\n" {
		t.Fatalf("show cli sockets: %q", got)
	}
}

func TestCloseWithClients(t *testing.T) {
	srv, path := startServer(t, parser.Global{StatsTimeout: time.Minute}, newFakeSource())
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c := dial(t, path)
		io.WriteString(c, "prompt\n")
		buf := make([]byte, 3)
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return with clients connected")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("client still connected after Close")
		}
	}
}

func TestConcurrentClients(t *testing.T) {
	_, path := startServer(t, parser.Global{StatsMaxConn: 4}, newFakeSource())
	want := golden(t, "show-stat.csv")
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("unix", path, 2*time.Second)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "show stat\n")
			got, err := io.ReadAll(c)
			if err != nil || string(got) != want {
				errs <- "bad answer"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
