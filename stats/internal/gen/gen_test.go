package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreCurrent regenerates the stats tables from the schema
// into a temporary directory and compares them with the files checked in:
// a schema change without "go generate ./stats" fails here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := generate("../../schema")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("generated %d files, want 3", len(files))
	}
	tmp := t.TempDir()
	for _, f := range files {
		path := filepath.Join(tmp, f.name)
		if err := os.WriteFile(path, f.src, 0o644); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("../..", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("stats/%s is stale: run go generate ./stats (diff %s against it)", f.name, path)
		}
	}
}

// TestSchemaErrorsNameTheLine checks that a malformed schema line is
// reported with its file and line rather than generating broken code.
func TestSchemaErrorsNameTheLine(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"stat.tsv", "info.tsv", "promex.tsv"} {
		src, err := os.ReadFile(filepath.Join("../../schema", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "info.tsv" {
			src = append(src, "99\tBroken\tMGP\tu33\tbad type\n"...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := generate(dir)
	if err == nil {
		t.Fatal("generate accepted an unknown type")
	}
	want := filepath.Join(dir, "info.tsv") + ":75: unknown type \"u33\""
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
