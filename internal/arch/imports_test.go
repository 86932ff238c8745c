package arch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// module is the module path of goproxy.
const module = "goproxy"

// allowedModules are the third-party modules goproxy may import.
var allowedModules = []string{
	"github.com/hashicorp/go-multierror",
	"github.com/prometheus/client_golang",
	"github.com/sirupsen/logrus",
	"golang.org/x/sys",
}

// goPackage is what go list says of one package.
type goPackage struct {
	ImportPath string
	Name       string
	Imports    []string
	Deps       []string
}

// listPackages runs go list over the module, from its root.
func listPackages(t *testing.T) map[string]*goPackage {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "list", "-json", "./...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]*goPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		pkgs[p.ImportPath] = &p
	}
	for _, want := range []string{"parser", "proxy", "health", "stats", "cmd/goproxy"} {
		if pkgs[module+"/"+want] == nil {
			t.Fatalf("go list did not list %s/%s", module, want)
		}
	}
	return pkgs
}

// ours reports whether path is a package of the module.
func ours(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// thirdParty reports whether path is outside the standard library and the
// module: its first element has a dot.
func thirdParty(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".") && !ours(path)
}

func isInternal(path string) bool { return strings.HasPrefix(path, module+"/internal/") }

// isLeaf reports whether p imports nothing of the module.
func isLeaf(p *goPackage) bool {
	return !slices.ContainsFunc(p.Imports, ours)
}

func allowedModule(path string) bool {
	for _, m := range allowedModules {
		if path == m || strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	return false
}

// mayImport is the package map: for each package of the module (by path
// relative to it, a trailing "/" meaning every package under), the
// packages of the module it may import directly. Internal packages may
// import each other; parser may import only leaf internal packages.
var mayImport = map[string][]string{
	"parser":          {"internal/"},
	"proxy":           {"parser", "internal/"},
	"health":          {"parser", "internal/"},
	"stats":           {"proxy", "parser", "internal/"},
	"cmd/":            {"parser", "proxy", "health", "stats", "internal/"},
	"bench":           {"internal/"},
	"internal/":       {"internal/"},
	"stats/internal/": {},
}

// rulesFor returns the allowed imports of rel, or false when the map has no
// row for it.
func rulesFor(rel string) ([]string, bool) {
	if allowed, ok := mayImport[rel]; ok {
		return allowed, true
	}
	best := ""
	for k := range mayImport {
		if strings.HasSuffix(k, "/") && strings.HasPrefix(rel, k) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return nil, false
	}
	return mayImport[best], true
}

func permitted(imp string, allowed []string) bool {
	rel := strings.TrimPrefix(imp, module+"/")
	for _, a := range allowed {
		if rel == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a)) {
			return true
		}
	}
	return false
}

// TestPackageMap checks every package's imports against the map.
func TestPackageMap(t *testing.T) {
	pkgs := listPackages(t)
	for path, p := range pkgs {
		rel := strings.TrimPrefix(path, module+"/")
		allowed, ok := rulesFor(rel)
		if !ok {
			t.Errorf("%s has no row in the package map (mayImport, README's package table)", path)
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case ours(imp) && strings.HasPrefix(imp, module+"/cmd/"):
				t.Errorf("%s imports %s: nothing imports cmd", path, imp)
			case ours(imp) && !permitted(imp, allowed):
				t.Errorf("%s imports %s, which the package map does not allow", path, imp)
			case thirdParty(imp) && !allowedModule(imp):
				t.Errorf("%s imports %s, which is not an allowed dependency", path, imp)
			}
		}
	}
}

// TestParserImportsNothingOfOurs checks parser's whole dependency tree: the
// standard library, go-multierror, and leaf internal packages only.
func TestParserImportsNothingOfOurs(t *testing.T) {
	pkgs := listPackages(t)
	parser := pkgs[module+"/parser"]
	for _, dep := range parser.Deps {
		switch {
		case ours(dep):
			d := pkgs[dep]
			if !isInternal(dep) || d == nil || !isLeaf(d) {
				t.Errorf("parser depends on %s: parser imports nothing of goproxy's but leaf internal packages", dep)
			}
		case thirdParty(dep) && !strings.HasPrefix(dep, "github.com/hashicorp/"):
			// go-multierror brings errwrap, also hashicorp's.
			t.Errorf("parser depends on %s: parser imports only the standard library and go-multierror", dep)
		}
	}
}

// TestHealthDoesNotDependOnProxy checks health's whole dependency tree.
func TestHealthDoesNotDependOnProxy(t *testing.T) {
	pkgs := listPackages(t)
	for _, dep := range pkgs[module+"/health"].Deps {
		if dep == module+"/proxy" || dep == module+"/stats" {
			t.Errorf("health depends on %s: it defines what it needs of a server, and proxy satisfies it", dep)
		}
	}
}

// TestPackageMapCatchesViolations checks the rules themselves on made-up
// import lists: a map that lets everything through would pass the tests
// above.
func TestPackageMapCatchesViolations(t *testing.T) {
	for _, tc := range []struct {
		pkg, imp string
		ok       bool
	}{
		{"parser", "goproxy/proxy", false},
		{"parser", "goproxy/internal/hatext", true},
		{"health", "goproxy/proxy", false},
		{"health", "goproxy/parser", true},
		{"proxy", "goproxy/stats", false},
		{"proxy", "goproxy/health", false},
		{"stats", "goproxy/proxy", true},
		{"internal/rawsys", "goproxy/parser", false},
		{"cmd/goproxy", "goproxy/stats", true},
		{"stats/internal/gen", "goproxy/stats", false},
	} {
		allowed, ok := rulesFor(tc.pkg)
		if !ok {
			t.Fatalf("no rule for %s", tc.pkg)
		}
		if got := permitted(tc.imp, allowed); got != tc.ok {
			t.Errorf("%s importing %s: permitted = %v, want %v", tc.pkg, tc.imp, got, tc.ok)
		}
	}
	if !thirdParty("github.com/pkg/errors") || allowedModule("github.com/pkg/errors") {
		t.Error("github.com/pkg/errors would pass as an allowed module")
	}
	if thirdParty("net/http") || thirdParty("goproxy/parser") {
		t.Error("the standard library or the module counted as third-party")
	}
}
