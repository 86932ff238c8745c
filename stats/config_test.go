package stats

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"goproxy/parser"
)

// TestFromParsedConfig starts the CLI from a configuration read by the
// parser, as the program does.
func TestFromParsedConfig(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf(`global
    stats socket %[1]s/admin.sock mode 600 level admin
    stats socket %[1]s/user.sock mode 666 level user
    stats socket ipv4@127.0.0.1:%[2]d
    stats timeout 2m
    stats maxconn 5

defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m

frontend fe
    bind 127.0.0.1:%[3]d
    default_backend be

backend be
    server s1 127.0.0.1:19315 check
`, dir, port, freePort(t))
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := parser.LoadFiles([]string{path}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Global.StatsTimeout != 2*time.Minute || c.Global.StatsMaxConn != 5 || len(c.Global.StatsSockets) != 3 {
		t.Fatalf("global: %+v", c.Global)
	}
	srv, err := NewServer(c.Global, newFakeSource(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		sock  string
		mode  os.FileMode
		level string
	}{{"admin.sock", 0o600, "admin"}, {"user.sock", 0o666, "user"}} {
		p := filepath.Join(dir, tc.sock)
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != tc.mode {
			t.Fatalf("%s: %v %v", tc.sock, fi.Mode(), err)
		}
		if got := exchange(t, p, "show cli level\n", false); got != tc.level+"\n\n" {
			t.Fatalf("%s: level %q", tc.sock, got)
		}
	}
	if got := srv.Addrs()[2]; got != fmt.Sprintf("127.0.0.1:%d", port) {
		t.Fatalf("tcp socket at %s", got)
	}
}
