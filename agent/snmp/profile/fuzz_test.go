package profile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probity-edu/probity/agent/snmp/profiles"
)

// FuzzParse: any input gives a profile or an error, never a panic, and
// every error names the file.
func FuzzParse(f *testing.F) {
	shippedFiles, _ := fs.Glob(profiles.FS, "*.yaml")
	for _, name := range shippedFiles {
		b, _ := fs.ReadFile(profiles.FS, name)
		f.Add(b)
	}
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, name := range bad {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.yaml")
		if err == nil && p == nil {
			t.Fatal("no profile and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error without the file: %v", err)
		}
		_, _ = ParseEOS(data, "fuzz.yaml")
	})
}
