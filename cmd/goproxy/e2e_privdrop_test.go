package main

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestE2EPrivilegeDrop runs goproxy and haproxy as root with user, group
// and chroot: both bind, open the stats socket and write the pidfile as
// root, then run as nobody:nogroup inside the chroot, serve traffic and
// answer on the stats socket.
func TestE2EPrivilegeDrop(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("SKIP: the privilege drop needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("SKIP: no user nobody on this machine")
	}
	nogroup, err := user.LookupGroup("nogroup")
	if err != nil {
		t.Skip("SKIP: no group nogroup on this machine")
	}
	onOracles(t, func(t *testing.T, bin string) {
		dir := t.TempDir()
		jail := filepath.Join(dir, "jail")
		if err := os.Mkdir(jail, 0o755); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(dir, "admin.sock")
		pidfile := filepath.Join(dir, "proxy.pid")
		ss := nameServers(t, 1)
		addr, p := e2eCfg{
			global: []string{"user nobody", "group nogroup", "chroot " + jail,
				"stats socket " + sock + " mode 600 level admin", "pidfile " + pidfile},
			servers: srvLines(ss, []int{1}),
		}.runWith(t, bin)
		waitFor(t, 5e9, "the process to run as nobody", func() bool {
			return procStatus(t, p.pid(), "Uid") == mustAtoi(t, nobody.Uid)
		})
		if uid := procStatus(t, p.pid(), "Uid"); uid != mustAtoi(t, nobody.Uid) {
			t.Errorf("uid %d, want nobody's %s", uid, nobody.Uid)
		}
		if gid := procStatus(t, p.pid(), "Gid"); gid != mustAtoi(t, nogroup.Gid) {
			t.Errorf("gid %d, want nogroup's %s", gid, nogroup.Gid)
		}
		if root, err := os.Readlink("/proc/" + strconv.Itoa(p.pid()) + "/root"); err != nil || root != jail {
			t.Errorf("process root %q (%v), want %s", root, err, jail)
		}
		// haproxy writes no pidfile in the foreground; goproxy does, before
		// the drop.
		if b, err := os.ReadFile(pidfile); bin == goproxyBin && (err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(p.pid())) {
			t.Errorf("pidfile %q (%v), want %d", b, err, p.pid())
		}
		if name, err := ask("127.0.0.2", addr); err != nil || name != "s1" {
			t.Errorf("traffic after the drop: %q %v", name, err)
		}
		if out := cli(t, sock, "show info"); !strings.Contains(out, "Pid: "+strconv.Itoa(p.pid())) {
			t.Errorf("show info after the drop:\n%s", out)
		}
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
