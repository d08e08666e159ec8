package meta

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.."

func TestEveryPackageHasDocComment(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{.Doc}}", root+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, doc, _ := strings.Cut(line, "\t")
		if strings.TrimSpace(doc) == "" {
			t.Errorf("package %s has no doc comment", pkg)
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
