package stats

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"goproxy/parser"
)

// TestStatsSocketFD serves the CLI on inherited listening sockets (stats
// socket fd@N): a unix one, whose path Close must leave in place, and a
// TCP one; a descriptor that is not a socket fails Start.
func TestStatsSocketFD(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inherited.sock")
	uln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	uln.(*net.UnixListener).SetUnlinkOnClose(false)
	uf, err := uln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	uln.Close()
	defer uf.Close()
	tln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tf, err := tln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	taddr := tln.Addr().String()
	tln.Close()
	defer tf.Close()

	fdSock := func(f *os.File) parser.StatsSocket {
		sk := parser.StatsSocket{Addr: parser.Addr{Family: parser.FamilyFD, FD: int(f.Fd())}}
		sk.Level = "admin"
		return sk
	}
	srv, err := NewServer(parser.Global{StatsSockets: []parser.StatsSocket{fdSock(uf), fdSock(tf)}}, newFakeSource(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	want := "# socket lvl processes\nunix@" + path + " admin all\nipv4@" + taddr + " admin all\n\n"
	for _, dst := range [][2]string{{"unix", path}, {"tcp4", taddr}} {
		c, err := net.DialTimeout(dst[0], dst[1], 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "show cli sockets\n")
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != want {
			t.Fatalf("%s: got %q, want %q", dst[0], got, want)
		}
	}
	srv.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the inherited socket's path is gone: %v", err)
	}
	bad := parser.StatsSocket{Addr: parser.Addr{Family: parser.FamilyFD, FD: int(os.Stdin.Fd())}}
	srv2, err := NewServer(parser.Global{StatsSockets: []parser.StatsSocket{bad}}, newFakeSource(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv2.Start(); err == nil {
		srv2.Close()
		t.Fatal("fd@0 (not a socket) was accepted")
	}
}
