package main

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestE2EEnvDirectives runs a configuration whose names and addresses come
// from setenv, presetenv and resetenv, on goproxy and haproxy: the lines
// after each directive see the environment it leaves.
func TestE2EEnvDirectives(t *testing.T) {
	onOracles(t, func(t *testing.T, bin string) {
		ss := nameServers(t, 1)
		addr := loopAddr(t)
		sock := filepath.Join(t.TempDir(), "s.sock")
		cfg := fmt.Sprintf(`global
    stats socket %s level admin
    setenv GP_T_ADDR %s
    presetenv GP_T_ADDR 127.0.0.1:1
    presetenv GP_T_NAME fe_env
    setenv GP_T_GONE gone
    resetenv GP_T_ADDR GP_T_NAME
    setenv GP_T_TAG "h${HOME}${GP_T_GONE}h"
    unsetenv GP_T_NAME
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend "fe${GP_T_NAME}_env"
    bind "${GP_T_ADDR}"
    default_backend "be${GP_T_TAG}"
backend "be${GP_T_TAG}"
    server s1 %s
`, sock, addr, ss[0].addr())
		startServing(t, bin, cfg, addr)
		if name, err := ask("127.0.0.2", addr); err != nil || name != "s1" {
			t.Fatalf("through the frontend: %q, %v", name, err)
		}
		rows, _ := parseStat(t, cli(t, sock, "show stat"))
		if _, ok := rows["fe_env/FRONTEND"]; !ok {
			t.Errorf("no frontend fe_env (GP_T_NAME unset after its use): %v", rows)
		}
		if _, ok := rows["behh/s1"]; !ok {
			t.Errorf("no backend behh (HOME and GP_T_GONE removed by resetenv): %v", rows)
		}
	})
}
