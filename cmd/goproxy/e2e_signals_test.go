package main

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// echoRoundTrip writes msg on c and expects it back.
func echoRoundTrip(c net.Conn, msg string) error {
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	buf := make([]byte, len(msg))
	if _, err := readFull(c, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		return fmt.Errorf("echo %q, want %q", buf, msg)
	}
	return nil
}

func readFull(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := c.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestE2ESignals(t *testing.T) {
	t.Parallel()
	onOracles(t, testSignals)
}

func testSignals(t *testing.T, bin string) {
	t.Run("SIGUSR1 soft stop", func(t *testing.T) {
		ss := nameServers(t, 1)
		addr, p := e2eCfg{servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		if err := syscall.Kill(p.pid(), syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 3*time.Second, "the listener to close", func() bool { return !portListening(t, addr) })
		if c2, err := dialFrom("127.0.0.3", addr); err == nil {
			c2.Close()
			t.Error("a new connection was accepted after SIGUSR1")
		}
		for i := 0; i < 3; i++ {
			if err := echoRoundTrip(c, "still here\n"); err != nil {
				t.Fatalf("established session after SIGUSR1: %v", err)
			}
		}
		if !p.running() {
			t.Fatal("the process exited while a session was established")
		}
		c.Close()
		if code := p.waitExit(t, 5*time.Second); code != 0 {
			t.Errorf("exit code %d after the last session, want 0", code)
		}
	})

	t.Run("SIGUSR1 with hard-stop-after", func(t *testing.T) {
		ss := nameServers(t, 1)
		addr, p := e2eCfg{global: []string{"hard-stop-after 400ms"}, servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		if err := syscall.Kill(p.pid(), syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		checkDuration(t, "session cut by hard-stop-after", expectClosed(t, c, 5*time.Second), 300*time.Millisecond, 3*time.Second)
		p.waitExit(t, 5*time.Second)
	})

	t.Run("SIGTTOU pause, SIGTTIN resume", func(t *testing.T) {
		ss := nameServers(t, 1)
		addr, p := e2eCfg{servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		if err := syscall.Kill(p.pid(), syscall.SIGTTOU); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 3*time.Second, "new connections to go unserved", func() bool {
			_, err := ask("127.0.0.3", addr)
			return err != nil
		})
		if err := echoRoundTrip(c, "paused\n"); err != nil {
			t.Errorf("established session while paused: %v", err)
		}
		if err := syscall.Kill(p.pid(), syscall.SIGTTIN); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 3*time.Second, "new connections to be served again", func() bool {
			name, err := ask("127.0.0.4", addr)
			return err == nil && name == "s1"
		})
	})

	t.Run("SIGTERM", func(t *testing.T) {
		ss := nameServers(t, 1)
		addr, p := e2eCfg{servers: srvLines(ss, []int{1})}.runWith(t, bin)
		c, _ := openName(t, "127.0.0.2", addr)
		if err := syscall.Kill(p.pid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		p.waitExit(t, 5*time.Second)
		expectClosed(t, c, 3*time.Second)
		waitFor(t, 3*time.Second, "the server side to close", func() bool { return openTotal(ss) == 0 })
		if portListening(t, addr) {
			t.Error("the port still listens after SIGTERM")
		}
	})

	t.Run("reload -st", func(t *testing.T) {
		ss := nameServers(t, 1)
		addr := loopAddr(t)
		text := e2eCfg{servers: srvLines(ss, []int{1})}.render(addr)
		old := startServing(t, bin, text, addr)
		c, _ := openName(t, "127.0.0.2", addr)
		nu := startBin(t, bin, writeFile(t, t.TempDir(), "new.cfg", text), "-st", strconv.Itoa(old.pid()))
		old.waitExit(t, 5*time.Second)
		expectClosed(t, c, 3*time.Second)
		waitFor(t, 5*time.Second, "the new process to serve", func() bool {
			name, err := ask("127.0.0.3", addr)
			return err == nil && name == "s1"
		})
		if !nu.running() {
			t.Fatalf("the new process is gone:\n%s", nu.out.String())
		}
	})

	t.Run("reload -sf", func(t *testing.T) {
		ss := nameServers(t, 1, silent)
		addr := loopAddr(t)
		text := e2eCfg{servers: srvLines(ss, []int{1})}.render(addr)
		old := startServing(t, bin, text, addr)
		long, err := dialFrom("127.0.0.2", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer long.Close()
		if err := echoRoundTrip(long, "before reload\n"); err != nil {
			t.Fatal(err)
		}

		cfg := writeFile(t, t.TempDir(), "new.cfg", text)
		nu := startBin(t, bin, cfg, "-sf", strconv.Itoa(old.pid()))
		waitFor(t, 5*time.Second, "the new process to hold the listener and the old one to drop it", func() bool {
			l := listenerPIDs(t, addr, old.pid(), nu.pid())
			return l[nu.pid()] && !l[old.pid()]
		})
		if !old.running() {
			t.Fatal("the old process exited with a session established")
		}
		for i := 0; i < 5; i++ {
			c, err := dialFrom(srcIP(i), addr)
			if err != nil {
				t.Fatalf("new connection %d during the reload: %v", i, err)
			}
			if err := echoRoundTrip(c, "new\n"); err != nil {
				t.Fatalf("new connection %d: %v", i, err)
			}
			c.Close()
		}

		// The old process finishes the long session byte for byte.
		if err := streamOn(long, 256<<10); err != nil {
			t.Fatalf("long session through the old process: %v", err)
		}
		if code := old.waitExit(t, 5*time.Second); code != 0 {
			t.Errorf("old process exit code %d, want 0", code)
		}
		if !nu.running() {
			t.Fatalf("the new process is gone:\n%s", nu.out.String())
		}
		if err := echoOK(addr); err != nil {
			t.Errorf("after the old process left: %v", err)
		}
	})
}
