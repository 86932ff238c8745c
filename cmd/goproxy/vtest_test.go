package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// vtestDir holds regression tests in the language of VTest, the driver
// of HAProxy's own regression tests: VTest starts the program named by
// HAPROXY_PROGRAM with its prologue (a stats socket on "fd@${cli}", -cc
// feature guards, fd@ listeners, syslog servers it expects lines from).
const vtestDir = "../../testdata/vtest"

// vtestProgram finds VTest: $VTEST, else vtest on PATH.
func vtestProgram() string {
	if p := os.Getenv("VTEST"); p != "" {
		return p
	}
	p, _ := exec.LookPath("vtest")
	return p
}

// TestVTest runs every testdata/vtest file under VTest against goproxy,
// and against haproxy when installed, so the files stay true to HAProxy.
// VTest is not packaged by Debian: without it the test is skipped.
func TestVTest(t *testing.T) {
	vt := vtestProgram()
	if vt == "" {
		t.Skip("SKIP: VTest is not installed (set VTEST or put vtest on PATH; it builds from its source with make, needing libpcre2-dev)")
	}
	files, err := filepath.Glob(filepath.Join(vtestDir, "*.vtc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no VTest files in %s: %v", vtestDir, err)
	}
	for name, bin := range oracles(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			abs, err := filepath.Abs(bin)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				cmd := exec.CommandContext(ctx, vt, "-t", "30", f)
				cmd.Env = append(os.Environ(), "HAPROXY_PROGRAM="+abs, "TMPDIR="+t.TempDir())
				out, err := cmd.CombinedOutput()
				cancel()
				if err != nil {
					t.Errorf("%s: %v\n%s", filepath.Base(f), err, out)
				}
			}
		})
	}
}
