package parser

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestModelGolden parses every valid configuration of the corpus and
// compares the model with its golden JSON dump (testdata/model/NAME.json).
func TestModelGolden(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.cfg")
	more, _ := filepath.Glob("../testdata/check/*.cfg")
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("no corpus in ../testdata")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".cfg")
		if filepath.Base(filepath.Dir(file)) == "check" {
			name = "check-" + name
		}
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadFiles([]string{file}, Options{Env: testEnv(map[string]string{}), LookupHost: fakeLookup})
			if err != nil {
				return // broken configs are checked through goproxy -c goldens
			}
			cfg.Files = nil
			got, err := json.MarshalIndent(cfg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("../testdata/model", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("missing golden (run go test ./parser -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("model of %s differs from %s (run go test ./parser -update and review the diff)", file, golden)
			}
		})
	}
}
