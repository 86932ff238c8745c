package main

import (
	"runtime/debug"
	"testing"
)

// TestBuildVersion checks what a binary reports without -X main.version:
// go build's module version or VCS revision.
func TestBuildVersion(t *testing.T) {
	vcs := func(main string, kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "goproxy", Version: main}}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name, linked  string
		bi            *debug.BuildInfo
		wantV, wantRv string
	}{
		{"ldflags", "1.2.3", vcs("(devel)", "vcs.revision", rev), "1.2.3", rev},
		{"no info", "dev", nil, "dev", ""},
		{"devel, no vcs", "dev", vcs("(devel)"), "dev", ""},
		{"module version", "dev", vcs("v0.0.0-20261204010203-0123456789ab+dirty", "vcs.revision", rev, "vcs.modified", "true"),
			"v0.0.0-20261204010203-0123456789ab+dirty", rev + "-dirty"},
		{"revision", "dev", vcs("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "dev-0123456789ab", rev},
		{"dirty revision", "dev", vcs("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "dev-0123456789ab-dirty", rev + "-dirty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, r := buildVersion(tc.linked, tc.bi)
			if v != tc.wantV || r != tc.wantRv {
				t.Fatalf("got %q, %q; want %q, %q", v, r, tc.wantV, tc.wantRv)
			}
		})
	}
}
