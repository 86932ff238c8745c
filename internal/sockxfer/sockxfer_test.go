package sockxfer

import (
	"bufio"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// serveOnce answers one _getsocks request on a unix socket with socks.
func serveOnce(t *testing.T, socks []Socket) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cli.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		c, err := ln.AcceptUnix()
		ln.Close()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != Command+"\n" {
			done <- err
			return
		}
		done <- Serve(c, socks)
	}()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return path
}

// TestRoundTrip hands 300 listening sockets (two batches) with their
// interface names across and checks each arrives as the same socket.
func TestRoundTrip(t *testing.T) {
	var socks []Socket
	ports := map[int]bool{}
	for i := 0; i < 300; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := ln.(*net.TCPListener).File()
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		iface := ""
		if i%3 == 0 {
			iface = "lo" + strconv.Itoa(i)
		}
		socks = append(socks, Socket{FD: int(f.Fd()), Interface: iface})
		ports[ln.Addr().(*net.TCPAddr).Port] = true
	}
	got, err := Fetch(serveOnce(t, socks))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(socks) {
		t.Fatalf("got %d sockets, want %d", len(got), len(socks))
	}
	for i, s := range got {
		sa, err := unix.Getsockname(s.FD)
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
		if !ports[sa.(*unix.SockaddrInet4).Port] || s.Interface != socks[i].Interface || s.Namespace != "" {
			t.Errorf("socket %d: port %d interface %q, want one of ours with %q", i, sa.(*unix.SockaddrInet4).Port, s.Interface, socks[i].Interface)
		}
		unix.Close(s.FD)
	}
}

// TestNothingToSend: with no socket, HAProxy's server closes without a
// word and its client fails.
func TestNothingToSend(t *testing.T) {
	if _, err := Fetch(serveOnce(t, nil)); err == nil {
		t.Fatal("Fetch succeeded with nothing sent")
	}
}

func TestNoServer(t *testing.T) {
	_, err := Fetch(filepath.Join(t.TempDir(), "none.sock"))
	if fe, ok := err.(*FetchError); !ok || fe.Msg == "" {
		t.Fatalf("err %v, want a FetchError", err)
	}
}

// TestSockpair: "-x sockpair@<fd>" sends a connection over a channel whose
// other end serves it as a CLI connection; the exchange is the same.
func TestSockpair(t *testing.T) {
	ch, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ch[0])
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan error, 1)
	go func() {
		defer unix.Close(ch[1])
		c, err := RecvConn(ch[1])
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != Command+"\n" {
			done <- err
			return
		}
		done <- Serve(c, []Socket{{FD: int(f.Fd()), Interface: "lo"}})
	}()
	got, err := FetchSockpair(ch[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if len(got) != 1 || got[0].Interface != "lo" {
		t.Fatalf("got %+v, want one socket on lo", got)
	}
	sa, err := unix.Getsockname(got[0].FD)
	unix.Close(got[0].FD)
	if err != nil || sa.(*unix.SockaddrInet4).Port != ln.Addr().(*net.TCPAddr).Port {
		t.Fatalf("socket name %v %v, want our listener's", sa, err)
	}
	// Once the channel's other end is gone, RecvConn reports the end.
	if _, err := RecvConn(ch[0]); err == nil {
		t.Fatal("RecvConn succeeded on a closed channel")
	}
}
