package srvstate

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLeaf: the package imports nothing of ours, so that health, proxy and
// stats can all import it.
func TestLeaf(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources: %v", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range ast.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); strings.HasPrefix(p, "goproxy/") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

func TestCheckStatusNames(t *testing.T) {
	for st := CheckStatus(0); st < NumCheckStatus; st++ {
		if n := st.Name(); n != "UNK" && CheckStatusNamed(n) != st {
			t.Errorf("CheckStatusNamed(%q) = %d, want %d", n, CheckStatusNamed(n), st)
		}
	}
	if CheckStatusNamed("") != CheckUnknown || CheckStatusNamed("BOGUS") != CheckUnknown {
		t.Error("an unknown name is not CheckUnknown")
	}
	if CheckL4OK.Result() != ResultPassed || CheckL7OKC.Result() != ResultCondPass || CheckL4Con.Result() != ResultFailed ||
		CheckStatus(99).Result() != ResultUnknown || CheckStatus(-1).Name() != "UNK" {
		t.Error("results or bounds wrong")
	}
	if !CheckL7Sts.HasCode() || CheckL4Con.HasCode() {
		t.Error("HasCode wrong")
	}
}
