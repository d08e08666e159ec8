package standards

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzLoad: the loader never panics, every failure is an *Error naming the
// file, and whatever it accepts keeps the invariants scoring relies on.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(catalogueYAML)
	tab := Measurements()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(data, "fuzz.yaml")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.yaml" {
				t.Fatalf("error without file: %T %v", err, err)
			}
			return
		}
		ids := map[string]bool{}
		for _, r := range c.Requirements {
			if ids[r.ID] {
				t.Fatalf("duplicate id %s accepted", r.ID)
			}
			ids[r.ID] = true
			if !slices.Contains(Standards, r.Standard) {
				t.Fatalf("%s: standard %q accepted", r.ID, r.Standard)
			}
			if r.Rule == nil {
				if r.Evidence == EvidenceMeasured {
					t.Fatalf("%s: measured without a rule", r.ID)
				}
				continue
			}
			if r.Evidence == EvidenceAttested || len(r.Rule.Conditions) == 0 {
				t.Fatalf("%s: bad rule accepted", r.ID)
			}
			for _, cond := range r.Rule.Conditions {
				m, ok := tab.Lookup(cond.Measurement)
				if !ok {
					t.Fatalf("%s: measurement %q accepted", r.ID, cond.Measurement)
				}
				fl, ok := m.Field(cond.Field)
				if !ok {
					t.Fatalf("%s: field %q accepted", r.ID, cond.Field)
				}
				if cond.Window <= 0 || cond.MinSamples < 1 {
					t.Fatalf("%s: window %v min_samples %d accepted", r.ID, cond.Window, cond.MinSamples)
				}
				if (cond.Stat == StatShare) != (cond.Match != nil) {
					t.Fatalf("%s: stat %s with match %v accepted", r.ID, cond.Stat, cond.Match)
				}
				if cond.Stat != StatShare && !fl.Numeric() {
					t.Fatalf("%s: %s of a %s field accepted", r.ID, cond.Stat, fl.Type)
				}
				for k := range cond.Where {
					if _, ok := tab.Tag(m, k); !ok {
						t.Fatalf("%s: where tag %q accepted", r.ID, k)
					}
				}
			}
		}
	})
}
