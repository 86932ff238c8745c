package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addSeeds adds every file matching pattern to the fuzz corpus.
func addSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err == nil {
			f.Add(string(data))
		}
	}
}

// FuzzParse checks that no input makes the parser panic or hang, and that
// every located diagnostic points inside the input.
func FuzzParse(f *testing.F) {
	addSeeds(f, "../testdata/*.cfg")
	addSeeds(f, "../testdata/*/*.cfg")
	f.Add(seedConfig)
	f.Add(statsCfg)
	f.Add("global\n.if defined(HOME) && !streq(a,b) || (1)\n  maxconn \"${X-1}\"\n.elif 0\n.else\n.endif\n")
	f.Add("frontend f\n  bind :80,:81-82 name x\n  acl a src 10.0.0.0/8\n  use_backend b if a || { dst_port 1:2 }\nbackend b\n  tcp-check expect !rbinary ^00\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<16 {
			return
		}
		cfg, _ := Parse("fuzz.cfg", src, Options{Env: testEnv(map[string]string{"X": "5"}), LookupHost: fakeLookup})
		if cfg == nil {
			t.Fatal("nil config")
		}
		lines := strings.Count(src, "\n") + 1
		for _, d := range cfg.Diags {
			if d.Pos.File != "" && (d.Pos.Line < 1 || d.Pos.Line > lines) {
				t.Fatalf("diagnostic at line %d of a %d-line input: %s", d.Pos.Line, lines, d.Error())
			}
			if d.Msg == "" {
				t.Fatalf("empty diagnostic")
			}
		}
	})
}

// FuzzLexLine checks the lexer alone on arbitrary lines.
func FuzzLexLine(f *testing.F) {
	for _, s := range []string{`a "b c" 'd' \x41 "${A-b}" "${L[*]}" # x`, `"unterminated`, `"$`, `"${`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := lexLine(line, testEnv(map[string]string{"A": "1", "L": "x y"}), nil)
		if err != nil {
			if err.at < 0 || err.at > len(line) {
				t.Fatalf("error offset %d outside line of %d bytes", err.at, len(line))
			}
			_ = err.render(line)
			return
		}
		if len(words) > maxLineArgs {
			t.Fatalf("%d words, limit %d", len(words), maxLineArgs)
		}
	})
}
