package uxsock

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// accept1 accepts one connection on fd within a second, or fails.
func accept1(t *testing.T, fd int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		nfd, _, err := unix.Accept(fd)
		if err == nil {
			unix.Close(nfd)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no connection reached the socket")
}

// TestListenReplaces: a second Listen on the path of a live socket takes
// the path over in one step with its mode; the first socket keeps what it
// had queued, and no temporary or backup file stays behind.
func TestListenReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	a := Addr{Path: path}
	fd1, id1, err := Listen(a, Perm{Mode: 0o600, UID: -1, GID: -1}, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd1)
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket file: %v %v", fi, err)
	}
	if !Owns(path, id1) {
		t.Fatal("Owns: the first socket's path is not its own")
	}
	c1, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c1.Close()
	fd2, id2, err := Listen(a, Perm{Mode: 0o640, UID: -1, GID: -1}, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd2)
	if Owns(path, id1) || !Owns(path, id2) {
		t.Fatal("the path does not name the new socket")
	}
	if fi, _ := os.Lstat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	accept1(t, fd1) // queued before the swap
	c2, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	accept1(t, fd2)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("files left: %v", ents)
	}
	if b, ok := Bound(fd2); !ok || !Same(b, a) || !strings.HasSuffix(b.Path, ".tmp") {
		t.Errorf("Bound = %+v %v: the socket keeps the name it was bound at", b, ok)
	}
}

// TestListenErrors: HAProxy's words, and the previous socket left alone.
func TestListenErrors(t *testing.T) {
	_, _, err := Listen(Addr{Path: "/nonexistent-dir/x.sock"}, Perm{UID: -1, GID: -1}, 1)
	if err == nil || err.Error() != "cannot bind UNIX socket (No such file or directory) [/nonexistent-dir/x.sock]" {
		t.Errorf("err = %v", err)
	}
}

// TestAbstract: an abstract name is padded to the whole sun_path, as
// HAProxy binds it, so that exactly that address connects.
func TestAbstract(t *testing.T) {
	a := Addr{Path: "goproxy-uxsock-test-" + strings.ReplaceAll(t.Name(), "/", "-"), Abstract: true}
	fd, _, err := Listen(a, Perm{UID: -1, GID: -1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if len(a.Name()) != sunPath {
		t.Fatalf("name length %d", len(a.Name()))
	}
	c, err := net.DialTimeout("unix", a.Name(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := net.DialTimeout("unix", "@"+a.Path, time.Second); err == nil {
		t.Error("the unpadded name reached the padded socket")
	}
	if b, ok := Bound(fd); !ok || !Same(b, a) {
		t.Errorf("Bound = %+v", b)
	}
}

func TestSame(t *testing.T) {
	for _, c := range []struct {
		got, want string
		same      bool
	}{
		{"/a/s.sock", "/a/s.sock", true},
		{"/a/s.sock.123.tmp", "/a/s.sock", true},
		{"/a/s.sock.123.tmp", "/a/s.sock.456.tmp", true},
		{"/a/s.sock.12x.tmp", "/a/s.sock", false},
		{"/a/s.sock..tmp", "/a/s.sock", false},
		{"/a/t.sock.1.tmp", "/a/s.sock", false},
	} {
		if got := Same(Addr{Path: c.got}, Addr{Path: c.want}); got != c.same {
			t.Errorf("Same(%q, %q) = %v", c.got, c.want, got)
		}
	}
	if Same(Addr{Path: "x", Abstract: true}, Addr{Path: "x"}) {
		t.Error("abstract and path compare equal")
	}
}
