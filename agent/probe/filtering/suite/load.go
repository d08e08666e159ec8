package suite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Set is the validated suites by name.
type Set struct {
	byName map[string]*Suite
}

// Shipped loads the embedded suites only.
func Shipped() (*Set, error) { return Load("") }

// Load loads the embedded suites, then the suites in dir (when not ""): a
// suite there with a shipped suite's name replaces it, a new name is added.
// Every problem in every file is reported.
func Load(dir string) (*Set, error) {
	var errs []error
	byName := map[string]*Suite{}
	// A later folder replaces by name; within one folder a name is unique.
	load := func(fsys fs.FS, label string) {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			errs = append(errs, fmt.Errorf("suites %s: %w", label, err))
			return
		}
		seen := map[string]string{} // names defined in this folder
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				continue
			}
			file := filepath.Join(label, n)
			data, err := fs.ReadFile(fsys, n)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", file, err))
				continue
			}
			s, err := Parse(data, file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if prev, dup := seen[s.Name]; dup {
				errs = append(errs, &Error{File: file, Key: "name", Msg: fmt.Sprintf("suite %q is also defined in %s", s.Name, prev)})
				continue
			}
			seen[s.Name] = file
			byName[s.Name] = s
		}
	}
	sub, err := fs.Sub(shipped, "suites")
	if err != nil {
		return nil, err
	}
	load(sub, "suites")
	if dir != "" {
		load(os.DirFS(dir), dir)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Set{byName: byName}, nil
}

// Names lists the suites, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.byName))
	for n := range s.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns the suite called name, or nil.
func (s *Set) Get(name string) *Suite { return s.byName[name] }

// DefaultName is the shipped suite a probe uses unless told otherwise.
const DefaultName = "default"
