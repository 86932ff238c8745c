package parser

import (
	"strconv"
	"testing"
)

const uidHead = "defaults\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n"

// uidOf parses a frontend fe (and backend be) written after defaults
// lines and returns fe's compiled unique-id-format.
func uidOf(t *testing.T, defaults, fe string) *LogFormat {
	t.Helper()
	src := uidHead + defaults + "frontend fe\n  bind :80\n  default_backend be\n" + fe + "backend be\n  server s1 127.0.0.1:1\n"
	cfg, err := parseText(t, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(cfg))
	}
	for _, px := range cfg.Proxies {
		if px.Name == "fe" {
			return px.UniqueIDFormat
		}
	}
	t.Fatal("no frontend fe")
	return nil
}

// TestUniqueIDFormat: unique-id-format is inherited from defaults, and
// compiled as HAProxy compiles it, as an HTTP format: its samples are
// encoded, nothing is mandatory unless +M says so.
func TestUniqueIDFormat(t *testing.T) {
	if lf := uidOf(t, "", ""); lf != nil {
		t.Errorf("no unique-id-format: got %+v", lf)
	}
	lf := uidOf(t, "  unique-id-format %ci_%[src]\n", "")
	if lf == nil || len(lf.Nodes) != 3 {
		t.Fatalf("inherited format: %+v", lf)
	}
	if n := lf.Nodes[0]; n.Kind != LogVar || n.Text != "ci" || n.Flags&LogMandatory != 0 {
		t.Errorf("%%ci: %+v, want a variable without M", n)
	}
	if n := lf.Nodes[2]; n.Kind != LogFetch || n.Flags&LogHTTPEnc == 0 {
		t.Errorf("%%[src]: %+v, want an encoded sample", n)
	}
	lf = uidOf(t, "  unique-id-format %ci\n", "  unique-id-format %{+M}ID\n")
	if lf == nil || len(lf.Nodes) != 1 || lf.Nodes[0].Text != "ID" || lf.Nodes[0].Flags&LogMandatory == 0 {
		t.Errorf("the frontend's own format: %+v", lf)
	}
	if lf.Pos.Line != 9 {
		t.Errorf("position %v, want line 9", lf.Pos)
	}
}

// FuzzUniqueIDFormat parses arbitrary unique-id-format strings in a
// frontend: no panic, and an accepted format holds only fetches goproxy
// evaluates, each encoded as an HTTP format's sample.
func FuzzUniqueIDFormat(f *testing.F) {
	for _, s := range []string{"%ci:%cp_%fi:%fp_%Ts_%rt", "%[src,hex]_%{+M}ID", "%[req.len]", "%[be_name]", "%[nbsrv(x)]", "%{+Q}[str(a)]", "%["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		src := uidHead + "frontend fe\n  bind :80\n  unique-id-format " + strconv.Quote(s) + "\n  default_backend be\nbackend be\n  server s1 127.0.0.1:1\n"
		cfg, err := Parse("fuzz.cfg", src, Options{Env: testEnv(nil), LookupHost: fakeLookup})
		if err != nil || cfg == nil {
			return
		}
		for _, px := range cfg.Proxies {
			if px.UniqueIDFormat == nil {
				continue
			}
			for _, n := range px.UniqueIDFormat.Nodes {
				if n.Kind != LogFetch {
					continue
				}
				if _, known := fetches[n.Text]; !known || n.Flags&LogHTTPEnc == 0 {
					t.Fatalf("%q: accepted fetch %+v", s, n)
				}
			}
		}
	})
}
