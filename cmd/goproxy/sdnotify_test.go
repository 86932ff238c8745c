package main

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

// TestSdNotify: a datagram to $NOTIFY_SOCKET, a path or an abstract name
// ('@'); nothing without NOTIFY_SOCKET.
func TestSdNotify(t *testing.T) {
	for _, name := range []string{filepath.Join(t.TempDir(), "notify.sock"), "@goproxy-test-notify-" + t.Name()} {
		addr := name
		if addr[0] == '@' {
			addr = "\x00" + addr[1:]
		}
		c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("NOTIFY_SOCKET", name)
		if err := sdNotify("READY=1\nMAINPID=1"); err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 64)
		n, err := c.Read(b)
		c.Close()
		if err != nil || string(b[:n]) != "READY=1\nMAINPID=1" {
			t.Errorf("%s: got %q (%v)", name, b[:n], err)
		}
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if err := sdNotify("READY=1"); err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v", err)
	}
}
