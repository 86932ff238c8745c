package proxy

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSeedConfig builds the seed configuration (HAProxy's reference setup for
// CMPP) with its port moved, and serves a session through it.
func TestSeedConfig(t *testing.T) {
	src, err := os.ReadFile("../testdata/seed.cfg")
	if err != nil {
		t.Fatalf("seed configuration: %v", err)
	}
	srv := startServer(t, echo)
	port := deadPort(t)
	text := strings.ReplaceAll(string(src), "*:9999", "127.0.0.1:"+strconv.Itoa(port))
	text = strings.ReplaceAll(text, "127.0.0.1:9315", "127.0.0.1:"+strconv.Itoa(srv.port()))
	text = strings.ReplaceAll(text, "127.0.0.1:9316", "127.0.0.1:"+strconv.Itoa(srv.port()))
	text = strings.ReplaceAll(text, "127.0.0.1:9317", "127.0.0.1:"+strconv.Itoa(srv.port()))
	text = strings.ReplaceAll(text, "log 127.0.0.1 local2", "")
	cfg := parseConfig(t, text)
	g := startGraph(t, cfg)
	c := dial(t, "127.0.0.1:"+strconv.Itoa(port))
	roundTrip(t, c, "CMPP_CONNECT")
	f, b := g.Frontend("persistent_connection_frontend"), g.Backend("persistent_connection_backend")
	if f.ID != 2 && f.ID != 1 || b.ID != f.ID+1 || f.Stats().Slim != 50000 || b.Stats().Slim != 5000 {
		t.Errorf("ids %d/%d, slim %d/%d; want consecutive ids and 50000/5000", f.ID, b.ID, f.Stats().Slim, b.Stats().Slim)
	}
}
