// Command gen writes the stats package's tables of HAProxy's fields from
// the schema files checked in beside them: fieldmeta.go (show stat) from
// schema/stat.tsv, infometa.go (show info) from schema/info.tsv and
// prommeta.go (promex families) from schema/promex.tsv. "go generate" in
// stats runs it; its test fails when a generated file differs from what
// the schema gives.
//
// It imports only the standard library.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	schema := flag.String("schema", "schema", "directory of the schema files")
	out := flag.String("out", ".", "directory the Go files are written to")
	flag.Parse()
	files, err := generate(*schema)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(*out, f.name), f.src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
