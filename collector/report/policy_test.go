package report

import (
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

// A trust policy that tightens CL-4 shows in the verdict's evidence and in
// the report's figure line, so a governor sees whose threshold was used.
func TestPolicyShownInFigures(t *testing.T) {
	data := []byte(`name: oak-valley-trust
overrides:
  - id: CL-4
    condition: Cloud service reachable
    threshold: 99.9
    reason: The trust's contracts promise 99.9% availability.
`)
	o, err := standards.LoadOverlay(data, "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := standards.Default().WithOverlay(o)
	if err != nil {
		t.Fatal(err)
	}
	var req standards.Requirement
	found := false
	for _, r := range cat.Requirements {
		if r.Rule == nil {
			continue
		}
		for _, c := range r.Rule.Conditions {
			if c.Policy != nil {
				req, found = r, true
			}
		}
	}
	if !found {
		t.Fatal("the policy changed no condition")
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	v := score.Evaluate(req, score.Input{Phase: "primary", Now: now, Samples: map[int][]point.Point{}})
	var line string
	for _, c := range v.Evidence.Conditions {
		if c.Policy != nil {
			line = figure(c)
		}
	}
	if !strings.Contains(line, "Trust policy") || !strings.Contains(line, o.Name) {
		t.Fatalf("figure line does not name the policy: %q", line)
	}
}
