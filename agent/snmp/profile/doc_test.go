package profile

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEListsEveryOutput keeps the measurement table in README.md in
// step with what the shipped profiles write.
func TestREADMEListsEveryOutput(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| ([^|]*) \\| ([^|]*) \\|$")
	documented := map[string]map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		if _, ok := Measurements[m[1]]; !ok {
			continue
		}
		names := map[string]bool{}
		for _, cell := range m[2:] {
			for _, w := range regexp.MustCompile(`[a-z][a-z0-9_]*`).FindAllString(cell, -1) {
				names[w] = true
			}
		}
		documented[m[1]] = names
	}
	for name := range Measurements {
		if documented[name] == nil {
			t.Errorf("README.md has no row for measurement %s", name)
		}
	}
	s := shipped(t)
	for _, p := range s.Names() {
		for _, r := range s.Reads(p) {
			for _, out := range outputsOf(r) {
				if !documented[r.Measurement][out] {
					t.Errorf("profile %s, read %s: %s.%s is not in README.md's measurement table", p, r.Name, r.Measurement, out)
				}
			}
		}
	}
}

// outputsOf lists the field and tag names a read writes.
func outputsOf(r Read) []string {
	var out []string
	add := func(field, tag string) {
		if n := strings.TrimSpace(field + tag); n != "" {
			out = append(out, n)
		}
	}
	for _, c := range r.Scalars {
		add(c.Field, c.Tag)
	}
	if t := r.Table; t != nil {
		for _, ip := range t.Index {
			add("", ip.Tag)
		}
		for _, c := range t.Columns {
			add(c.Field, c.Tag)
		}
		for _, l := range t.Lookups {
			add(l.Field, l.Tag)
		}
		for _, d := range t.Derive {
			add(d.Field, "")
		}
	}
	return out
}
