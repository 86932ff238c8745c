package main

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dataplaneExec sends command as the HAProxy Data Plane API v2.6 does
// (client-native's SingleRuntime: a new connection per command, "set
// severity-output number;" in front, read to EOF, the trailing newline and
// prompt trimmed) and returns the answer without the severity-output
// command's empty line, or the error the API would report: an answer
// starting with [0]..[3].
func dataplaneExec(sock, command string) (string, error) {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintf(c, "set severity-output number;%s\n", command); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	raw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n> "), "\n")
	if len(raw) > 5 {
		switch raw[1:5] {
		case "[3]:", "[2]:", "[1]:", "[0]:":
			return "", fmt.Errorf("[%c] %s [%s]", raw[2], raw[5:], command)
		}
	}
	if len(raw) > 1 {
		return raw[1:], nil
	}
	return "", nil
}

// typedShape keeps of "show stat typed" / "show info typed" lines what must
// match between two processes: the field position, name, tags and type,
// and the value of the fields in keep.
func typedShape(out string, keep map[string]bool) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		i := strings.LastIndexByte(l, ':')
		if i < 0 {
			b.WriteString(l + "\n")
			continue
		}
		head := l[:i]
		name := head
		if j := strings.IndexByte(head, ':'); j >= 0 {
			name = head[:j]
		}
		parts := strings.Split(name, ".")
		if len(parts) >= 2 && keep[parts[len(parts)-2]] {
			b.WriteString(l + "\n")
			continue
		}
		b.WriteString(head + ":*\n")
	}
	return b.String()
}

// serversStateShape blanks srv_time_since_last_change, which depends on
// when each process started.
func serversStateShape(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 25 && !strings.HasPrefix(l, "#") {
			f[9] = "*"
			lines[i] = strings.Join(f, " ")
		}
	}
	return strings.Join(lines, "\n")
}

// TestDataPlaneAPISequence drives goproxy and haproxy with the Data Plane
// API's command sequence and framing and checks that both give the same
// answers, values aside, and that the API would see the same errors.
func TestDataPlaneAPISequence(t *testing.T) {
	hp, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not on PATH")
	}
	socks := map[string]string{}
	// The same server ports for both: show servers state prints them.
	p1, p2 := deadPort(t), deadPort(t)
	for name, bin := range map[string]string{"goproxy": goproxyBin, "haproxy": hp} {
		dir := t.TempDir()
		sock := filepath.Join(dir, "api.sock")
		fe := loopAddr(t)
		cfg := fmt.Sprintf(`global
    maxconn 100
    stats socket %s level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %s
    default_backend be
backend be
    balance roundrobin
    server s 127.0.0.1:%s
    server s2 127.0.0.1:%s id 7
`, sock, fe, p1, p2)
		startServing(t, bin, cfg, fe)
		socks[name] = sock
	}
	stat := map[string]bool{"pxname": true, "svname": true, "status": true, "weight": true,
		"iid": true, "sid": true, "act": true, "bck": true, "type": true}
	info := map[string]bool{"Name": true, "Version": true, "Nbproc": true, "Process_num": true}
	steps := []struct {
		cmd     string
		shape   func(string) string
		wantErr string // the Data Plane API's error text, "" when none
	}{
		{"show servers state be", serversStateShape, ""},
		{"show stat -1 4 -1 typed", func(s string) string { return typedShape(s, stat) }, ""},
		{"show info typed", func(s string) string { return typedShape(s, info) }, ""},
		// The Data Plane API's order: maintenance, then the weight. While
		// in MAINT HAProxy keeps showing the weight the server had.
		{"set server be/s state maint", nil, ""},
		{"show servers state be", serversStateShape, ""},
		{"set server be/s weight 4", nil, ""},
		{"get weight be/s", nil, ""},
		{"show stat -1 4 -1 typed", func(s string) string { return typedShape(s, stat) }, ""},
		{"set server be/s state ready", nil, ""},
		{"show stat -1 4 -1 typed", func(s string) string { return typedShape(s, stat) }, ""},
		{"show servers state be", serversStateShape, ""},
		{"set server nosuch/s state maint", nil, "[3]  No such backend.\n [set server nosuch/s state maint]"},
		{"set server be/nosuch state maint", nil, "[3]  No such server.\n [set server be/nosuch state maint]"},
		{"set server be/nosuch weight 4", nil, "[3]  No such server.\n [set server be/nosuch weight 4]"},
		{"show servers state nosuch", nil, "[3]  Can't find backend.\n [show servers state nosuch]"},
		{"show stat nosuch 4 -1 typed", nil, "[3]  No such proxy.\n [show stat nosuch 4 -1 typed]"},
		{"set server be/s state bogus", nil, "[3]  'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n [set server be/s state bogus]"},
		{"set server be/s fqdn srv.example", nil, "[3]  set server <b>/<s> fqdn failed because no resolution is configured.\n [set server be/s fqdn srv.example]"},
		{"set server be/s addr 127.0.0.1", nil, ""},
		{"show version", nil, ""},
	}
	for _, st := range steps {
		got := map[string]string{}
		for _, name := range []string{"goproxy", "haproxy"} {
			out, err := dataplaneExec(socks[name], st.cmd)
			if st.wantErr != "" {
				if err == nil || err.Error() != st.wantErr {
					t.Errorf("%s: %s: got %q, %v; want the error %q", name, st.cmd, out, err, st.wantErr)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %s: %v", name, st.cmd, err)
				continue
			}
			if st.shape != nil {
				out = st.shape(out)
			}
			got[name] = out
		}
		if st.wantErr != "" || len(got) != 2 {
			continue
		}
		if st.cmd == "show version" {
			// goproxy reports HAProxy's version, as show info does.
			if !strings.HasPrefix(got["haproxy"], "[6]: ") || got["goproxy"] != got["haproxy"] {
				t.Errorf("show version: goproxy %q, haproxy %q", got["goproxy"], got["haproxy"])
			}
			continue
		}
		if got["goproxy"] != got["haproxy"] {
			t.Errorf("%s: goproxy and haproxy differ:\n%s", st.cmd, lineDiff(got["goproxy"], got["haproxy"]))
		}
	}
}

// lineDiff lists the lines where a and b differ.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d:\n  goproxy %q\n  haproxy %q\n", i+1, x, y)
		}
	}
	return out.String()
}
