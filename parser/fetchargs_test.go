package parser

import (
	"strings"
	"testing"
)

// TestFetchArgResolution checks the proxy and server arguments of log
// format fetches, with HAProxy's messages (haproxy -c 2.6.12).
func TestFetchArgResolution(t *testing.T) {
	head := "defaults\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\nbackend be\n  server s1 127.0.0.1:1\n"
	fe := "frontend fe\n  bind :80\n  default_backend be\n"
	tests := []struct{ name, src, want string }{
		{"implicit backend in a frontend", fe + "  log-format %[nbsrv]\n",
			"parsing [t.cfg:10]: proxy 'fe', referenced in arg 1 of sample fetch keyword 'nbsrv' in log-format string in proxy 'fe', has not backend capability."},
		{"unknown backend", fe + "  log-format-sd %[be_conn(nope)]\n",
			"parsing [t.cfg:10]: unable to find backend 'nope' referenced in arg 1 of sample fetch keyword 'be_conn' in log-format-sd string in proxy 'fe'."},
		{"a frontend is no backend", fe + "  unique-id-format %[queue(fe)]\n",
			"unable to find backend 'fe' referenced in arg 1 of sample fetch keyword 'queue' in unique-id-format string in proxy 'fe'."},
		{"implicit frontend in a backend", "backend b2\n  unique-id-format %[fe_conn]\n",
			"proxy 'b2', referenced in arg 1 of sample fetch keyword 'fe_conn' in unique-id-format string in proxy 'b2', has not frontend capability."},
		{"unknown server's proxy", fe + "  use_backend be%[srv_is_up(nope/s1)]\n",
			"unable to find proxy 'nope' referenced in arg 1 of sample fetch keyword 'srv_is_up' in use_backend expression in proxy 'fe'."},
		{"unknown server", fe + "  log-format %[srv_is_up(be/s9)]\n",
			"unable to find server 's9' in proxy 'be', referenced in arg 1 of sample fetch keyword 'srv_is_up' in log-format string in proxy 'fe'."},
		{"several in one alert", fe + "  log-format %[nbsrv]%[connslots(x)]\n",
			"multiple argument resolution errors:\n        parsing [t.cfg:10]: proxy 'fe', referenced in arg 1 of sample fetch keyword 'nbsrv'" +
				" in log-format string in proxy 'fe', has not backend capability.\n        parsing [t.cfg:10]: unable to find backend 'x'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseText(t, head+tc.src)
			if err == nil {
				t.Fatalf("no error for %q\n%s", tc.src, diagText(cfg))
			}
			if got := diagText(cfg); !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%s\nwant substring:\n%s", got, tc.want)
			}
		})
	}
	for _, ok := range []string{
		fe + "  log-format %[nbsrv(be)]%[fe_conn]%[fe_conn(fe)]%[srv_is_up(be/s1)]%[be_conn(be)]\n",
		"listen li\n  bind :81\n  log-format %[nbsrv]%[be_conn]%[queue]%[connslots]%[fe_conn]\n  server s1 127.0.0.1:1\n",
	} {
		if cfg, err := parseText(t, head+ok); err != nil {
			t.Errorf("%q: %v\n%s", ok, err, diagText(cfg))
		}
	}
}
