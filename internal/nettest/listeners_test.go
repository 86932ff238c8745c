package nettest

import (
	"fmt"
	"net"
	"os"
	"slices"
	"testing"
)

// fdInode returns the socket inode of l's descriptor, from /proc/self/fd.
func fdInode(t *testing.T, l *net.TCPListener) uint32 {
	t.Helper()
	f, err := l.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	var ino uint32
	if _, err := fmt.Sscanf(link, "socket:[%d]", &ino); err != nil {
		t.Fatalf("%s: %v", link, err)
	}
	return ino
}

func TestListenerInodes(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"tcp4", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			l, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				t.Skipf("SKIP: no %s loopback: %v", tc.network, err)
			}
			tl := l.(*net.TCPListener)
			port := tl.Addr().(*net.TCPAddr).Port
			want := fdInode(t, tl)

			// A connected socket on the same port is not a listener.
			c, err := net.Dial(tc.network, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a, err := tl.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()

			got, err := ListenerInodes(port)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []uint32{want}) {
				t.Fatalf("listeners on %d: %v, want [%d]", port, got, want)
			}
			l.Close()
			got, err = ListenerInodes(port)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Fatalf("listeners on %d after close: %v, want none", port, got)
			}
		})
	}
}
