package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestE2EBlockedStdoutLog: with "log stdout" on a pipe nobody reads, the
// proxy keeps serving; the lines it cannot write are dropped and counted in
// show info's DroppedLogs, and the pipe holds whole lines when it is read.
func TestE2EBlockedStdoutLog(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pr.Close(); pw.Close() }) // after the process is killed
		if _, err := unix.FcntlInt(pw.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
			t.Logf("F_SETPIPE_SZ: %v (keeping the default size)", err)
		}
		sock := filepath.Join(t.TempDir(), "stats.sock")
		ss := nameServers(t, 1)
		cfg := e2eCfg{
			global:   []string{"log stdout format raw local0", "maxconn 100", "stats socket " + sock + " level admin"},
			defaults: []string{"log global", "option tcplog"},
			servers:  srvLines(ss, []int{1}),
		}
		addr := loopAddr(t)
		startServingOut(t, bin, cfg.render(addr), addr, pw)

		// More sessions than a full pipe and goproxy's queue hold lines.
		const sessions = 1500
		start := time.Now()
		served := 0
		for i := 0; i < sessions && time.Since(start) < 60*time.Second; i++ {
			c, err := dialFrom(srcIP(i), addr)
			if err != nil {
				t.Fatalf("session %d: %v", i, err)
			}
			name, err := readName(c)
			c.Close()
			if err != nil || name != "s1" {
				t.Fatalf("session %d: greeting %q, %v", i, name, err)
			}
			served++
		}
		took := time.Since(start)
		var dropped int
		deadline := time.Now().Add(5 * time.Second)
		for {
			cur, _ := strconv.Atoi(showInfoField(t, sock, "CurrConns"))
			dropped, _ = strconv.Atoi(showInfoField(t, sock, "DroppedLogs"))
			if (cur == 0 && dropped > 0) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%d sessions served in %v with stdout blocked; DroppedLogs %d", served, took, dropped)
		if dropped == 0 || dropped >= sessions {
			t.Errorf("DroppedLogs = %d, want some but not all of %d", dropped, sessions)
		}
		_ = pr.SetReadDeadline(time.Now().Add(3 * time.Second))
		sc := bufio.NewScanner(pr)
		for i := 0; i < 3 && sc.Scan(); i++ {
			if !strings.Contains(sc.Text(), " fe be/s1 ") {
				t.Errorf("line %d on stdout: %q", i, sc.Text())
			}
		}
		if err := sc.Err(); err != nil {
			t.Errorf("reading stdout: %v", err)
		}
	})
}
