package main

import (
	"reflect"
	"syscall"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		act     action
		check   func(t *testing.T, o *options)
		wantErr string
	}{
		{name: "no args", argv: nil, act: actUsage},
		{name: "bare file is a usage error", argv: []string{"a.cfg"}, act: actUsage},
		{name: "check without files", argv: []string{"-c"}, act: actUsage},
		{name: "unknown flag", argv: []string{"-f", "a.cfg", "-h"}, act: actUsage},
		{name: "missing value", argv: []string{"-f"}, act: actUsage},
		{name: "version", argv: []string{"-v"}, act: actVersion},
		{name: "version long spelling", argv: []string{"-version"}, act: actVersion},
		{name: "version wins over bad args after it", argv: []string{"-v", "junk"}, act: actVersion},
		{name: "build options", argv: []string{"-vv"}, act: actBuildOpts},
		{name: "usage before version", argv: []string{"junk", "-v"}, act: actUsage},
		{
			name: "files in order, -f and --", argv: []string{"-f", "a.cfg", "-c", "-f", "dir", "--", "b.cfg", "-q"},
			act: actCheck,
			check: func(t *testing.T, o *options) {
				if want := []string{"a.cfg", "dir", "b.cfg", "-q"}; !reflect.DeepEqual(o.files, want) {
					t.Errorf("files = %q, want %q", o.files, want)
				}
				if o.quiet {
					t.Error("-q after -- must be a file, not quiet mode")
				}
			},
		},
		{
			name: "prefix matching like HAProxy", argv: []string{"-cfoo", "-dbx", "-qq", "-f", "a.cfg"},
			act: actCheck,
			check: func(t *testing.T, o *options) {
				if !o.foreground || !o.quiet {
					t.Errorf("foreground=%v quiet=%v, want both", o.foreground, o.quiet)
				}
			},
		},
		{
			name: "modes and values", argv: []string{"-f", "a.cfg", "-D", "-d", "-dD", "-dW", "-dr", "-V", "-p", "/run/x.pid", "-n", "123", "-N", "45x", "-L", "me", "-C", "/tmp"},
			act: actRun,
			check: func(t *testing.T, o *options) {
				if !o.daemon || !o.debug || !o.diag || !o.zeroWarning || !o.resolveDontFail || !o.verbose {
					t.Errorf("flags not all set: %+v", o)
				}
				if o.pidFile != "/run/x.pid" || o.maxConn != 123 || o.maxPConn != 45 || o.localPeer != "me" || o.chdir != "/tmp" {
					t.Errorf("values wrong: %+v", o)
				}
			},
		},
		{
			name: "sf list ends at next option", argv: []string{"-f", "a.cfg", "-sf", "12", "13", "-db"},
			act: actRun,
			check: func(t *testing.T, o *options) {
				if !reflect.DeepEqual(o.oldPids, []int{12, 13}) || o.oldSignal != syscall.SIGUSR1 || !o.foreground {
					t.Errorf("oldPids=%v sig=%v fg=%v", o.oldPids, o.oldSignal, o.foreground)
				}
			},
		},
		{
			name: "st with empty list", argv: []string{"-st", "-f", "a.cfg"},
			act: actRun,
			check: func(t *testing.T, o *options) {
				if len(o.oldPids) != 0 || o.oldSignal != syscall.SIGTERM {
					t.Errorf("oldPids=%v sig=%v", o.oldPids, o.oldSignal)
				}
			},
		},
		{name: "sf garbage pid", argv: []string{"-f", "a.cfg", "-sf", "12x"}, act: actUsage, wantErr: "-sf option: some bytes unconsumed in PID list {x}"},
		{name: "sf zero pid", argv: []string{"-f", "a.cfg", "-sf", "0"}, act: actUsage},
		{name: "sf negative pid ends the list then fails", argv: []string{"-f", "a.cfg", "-sf", "-1"}, act: actUsage},
		{name: "x without socket", argv: []string{"-f", "a.cfg", "-x"}, act: actUsage, wantErr: "Unix socket path expected with the -x flag"},
		{
			name: "unbuilt features and master-worker flags are recorded", argv: []string{"-f", "a.cfg", "-W", "-x", "/s", "-S", "x", "-Ws", "-m", "10", "-dR"},
			act: actRun,
			check: func(t *testing.T, o *options) {
				if len(o.unbuilt) != 2 || o.xferSocket != "/s" {
					t.Errorf("unbuilt = %q (want 2 entries), -x %q", o.unbuilt, o.xferSocket)
				}
				if !o.masterWorker || !o.systemd || len(o.masterCLI) != 1 || o.masterCLI[0] != "x" {
					t.Errorf("-W %v -Ws %v -S %q", o.masterWorker, o.systemd, o.masterCLI)
				}
			},
		},
		{
			name: "cc needs no file", argv: []string{"-cc", "feature(EPOLL)"},
			act: actCheckCond,
			check: func(t *testing.T, o *options) {
				if o.checkCond != "feature(EPOLL)" {
					t.Errorf("checkCond = %q", o.checkCond)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act, o, err := parseArgs(tt.argv)
			if act != tt.act {
				t.Fatalf("action = %v, want %v (err %v)", act, tt.act, err)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}
