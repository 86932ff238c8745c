package main

import (
	"goproxy/parser"
	"path/filepath"
	"sort"
	"testing"

	"github.com/sirupsen/logrus"
)

// TestCheckAndStartAgree runs every configuration of the test corpus
// (testdata/deployments, the -c corpus and the other testdata configs)
// through the verdict of -c (load and validate) and through the start-up
// path short of binding (the proxy graph, saved states, health checks,
// stats sockets): a configuration -c accepts must start, one it refuses
// never gets that far. Every verdict is -c's.
func TestCheckAndStartAgree(t *testing.T) {
	var files []string
	for _, pat := range []string{"../../testdata/*.cfg", "../../testdata/*/*.cfg", "../../testdata/*/*/*.cfg"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) < 50 {
		t.Fatalf("corpus too small: %d files", len(files))
	}
	log := logrus.New()
	log.SetOutput(discard{})
	accepted := 0
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel("../../testdata", f)
		t.Run(rel, func(t *testing.T) {
			t.Chdir(filepath.Dir(abs))
			o := &options{files: []string{filepath.Base(abs)}}
			cfg, err := parser.LoadFiles(o.files, loadOptionsFor(o))
			if err != nil || cfg == nil {
				return // -c refuses it, and start-up stops at the same load
			}
			accepted++
			rt, err := newRuntime(cfg, buildOptions{Log: log, StateLog: log})
			if err != nil {
				t.Fatalf("-c accepts %s, start-up refuses it: %v", rel, err)
			}
			rt.Close()
		})
	}
	if accepted == 0 {
		t.Fatal("no configuration of the corpus is accepted")
	}
	t.Logf("%d configurations, %d accepted by -c and started", len(files), accepted)
}
