package standards

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
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
			if _, ok := Planned(r.AwaitingProbe); r.AwaitingProbe != "" && (!ok || r.Evidence == EvidenceAttested) {
				t.Fatalf("%s: awaiting_probe %q accepted on a%s row", r.ID, r.AwaitingProbe, " "+r.Evidence)
			}
			if _, err := time.Parse(time.DateOnly, r.Checked); err != nil {
				t.Fatalf("%s: checked %q accepted", r.ID, r.Checked)
			}
			if r.Rule == nil {
				if r.Evidence == EvidenceMeasured && r.AwaitingProbe == "" {
					t.Fatalf("%s: measured without a rule or an awaited probe", r.ID)
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

// FuzzOverlay: loading and applying a policy never panics, every failure
// is an *Error naming the file, and an applied policy marks each condition
// it changed, keeping the DfE's limits.
func FuzzOverlay(f *testing.F) {
	files, _ := filepath.Glob("testdata/policy/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	data, err := os.ReadFile("testdata/policy/catalogue.yaml")
	if err != nil {
		f.Fatal(err)
	}
	base, err := Load(data, "catalogue.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := LoadOverlay(data, "fuzz.yaml")
		if err == nil {
			_, err = base.WithOverlay(o)
			if err == nil {
				c, _ := base.WithOverlay(o)
				for _, ov := range o.Overrides {
					r, _ := c.Requirement(ov.ID)
					i := slices.IndexFunc(r.Rule.Conditions, func(cd Condition) bool { return cd.Name == ov.Condition })
					cd := r.Rule.Conditions[i]
					if cd.Policy == nil || cd.Policy.Name != o.Name || len(cd.Policy.Changes) == 0 || cd.Policy.Loosens != ov.Loosen {
						t.Fatalf("%s %q applied without a faithful policy: %+v", ov.ID, ov.Condition, cd.Policy)
					}
				}
				return
			}
		}
		var e *Error
		if !errors.As(err, &e) || e.File != "fuzz.yaml" {
			t.Fatalf("error without file: %T %v", err, err)
		}
	})
}
