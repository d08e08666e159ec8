package standards

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func policyCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	data, err := os.ReadFile("testdata/policy/catalogue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(data, "catalogue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// applyPolicyFile loads a policy file and applies it to the test catalogue.
func applyPolicyFile(t *testing.T, path string) (*Catalogue, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o, err := LoadOverlay(data, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	return policyCatalogue(t).WithOverlay(o)
}

// invalidPolicies maps each testdata/policy/invalid-*.yaml to its exact
// error, whether LoadOverlay or WithOverlay finds it.
var invalidPolicies = map[string]string{
	"invalid-changes-nothing":       "invalid-changes-nothing.yaml:3: BB-2: changes nothing: set threshold, thresholds, window or min_samples",
	"invalid-condition-missing":     "invalid-condition-missing.yaml:3: BB-2: condition: required: the condition's name, as `probity-collector standards show BB-2` prints it",
	"invalid-condition":             "invalid-condition.yaml:4: BB-2: condition: BB-2 has no condition \"Download\" (its conditions: \"Download speed\", \"Upload speed\")",
	"invalid-duplicate-key":         "invalid-duplicate-key.yaml:6: BB-2: threshold: defined twice (first at line 5)",
	"invalid-duplicate":             "invalid-duplicate.yaml:8: BB-2: condition: this condition is already changed at line 3",
	"invalid-empty":                 "invalid-empty.yaml: empty policy",
	"invalid-eq-change":             "invalid-eq-change.yaml:3: IT-3: loosens the DfE rule (threshold = 0 → = 1); set loosen: true to accept that, and reports will flag it",
	"invalid-fewer-samples":         "invalid-fewer-samples.yaml:3: BB-2: loosens the DfE rule (min samples 5 → 2); set loosen: true to accept that, and reports will flag it",
	"invalid-id":                    "invalid-id.yaml:3: BB2: id: \"BB2\" is not an id like BB-2",
	"invalid-loosen-unneeded":       "invalid-loosen-unneeded.yaml:6: BB-2: loosen: every change tightens the DfE rule: remove loosen: true, or reports would flag a loosening that is not there",
	"invalid-loosens-le":            "invalid-loosens-le.yaml:3: IT-3: loosens the DfE rule (threshold ≤ 5% → ≤ 10%); set loosen: true to accept that, and reports will flag it",
	"invalid-loosens":               "invalid-loosens.yaml:3: BB-2: loosens the DfE rule (threshold for secondary schools ≥ 1000 Mbit/s → ≥ 500 Mbit/s); set loosen: true to accept that, and reports will flag it",
	"invalid-min-samples":           "invalid-min-samples.yaml:5: BB-2: min_samples: must be at least 1",
	"invalid-name-missing":          "invalid-name-missing.yaml: name: required: the policy's name, such as oak-valley-trust",
	"invalid-name":                  "invalid-name.yaml:1: name: \"Oak Trust\" is not a policy name: lower-case letters, digits and single hyphens (it goes into the catalogue version)",
	"invalid-no-overrides":          "invalid-no-overrides.yaml:2: overrides: no overrides",
	"invalid-no-rule":               "invalid-no-rule.yaml:3: FM-1: id: FM-1 has no rule: a policy changes the conditions of measured rows only",
	"invalid-not-finite":            "invalid-not-finite.yaml:5: BB-2: thresholds.primary: +Inf is not a finite number: no statistic could be compared with it",
	"invalid-phase-not-applicable":  "invalid-phase-not-applicable.yaml:5: BB-2: thresholds.fe: BB-2 does not apply to fe",
	"invalid-phase":                 "invalid-phase.yaml:5: BB-2: thresholds.infant: \"infant\" is not one of primary, secondary, all-through, special, fe",
	"invalid-reason-missing":        "invalid-reason-missing.yaml:3: BB-2: reason: required: say why the trust's policy differs from the DfE's",
	"invalid-same-as-catalogue":     "invalid-same-as-catalogue.yaml:3: BB-2: changes nothing: the catalogue already has these limits for BB-2 \"Upload speed\"",
	"invalid-several":               "invalid-several.yaml:4: BB-2: loosens the DfE rule (threshold ≥ 30 Mbit/s → ≥ 10 Mbit/s); set loosen: true to accept that, and reports will flag it\ninvalid-several.yaml:8: IT-3: is not a pure tightening of the DfE rule (window 30 days → 2 days); set loosen: true to accept that, and reports will flag it\ninvalid-several.yaml:12: CY-99: id: no requirement CY-99 in catalogue 2026.12.1",
	"invalid-share-percent":         "invalid-share-percent.yaml:5: FM-13: threshold: a share is a percentage: 150 is outside 0..100",
	"invalid-syntax":                "invalid-syntax.yaml:2: did not find expected node content",
	"invalid-type":                  "invalid-type.yaml:5: BB-2: threshold: \"high\" is not a number",
	"invalid-unknown-id":            "invalid-unknown-id.yaml:3: BB-99: id: no requirement BB-99 in catalogue 2026.12.1",
	"invalid-unknown-key":           "invalid-unknown-key.yaml:5: BB-2: unknown key \"treshold\"",
	"invalid-window-without-loosen": "invalid-window-without-loosen.yaml:3: BB-2: is not a pure tightening of the DfE rule (window 7 days → 30 days); set loosen: true to accept that, and reports will flag it",
	"invalid-window":                "invalid-window.yaml:5: BB-2: window: \"2 weeks\" is not a duration such as 24h or 720h",
}

func TestOverlayInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/policy/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(invalidPolicies) {
		t.Errorf("%d invalid policy files but %d expected errors: keep them in step", len(files), len(invalidPolicies))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			want, ok := invalidPolicies[name]
			if !ok {
				t.Fatalf("no expected error for %s", f)
			}
			c, err := applyPolicyFile(t, f)
			if err == nil {
				t.Fatalf("applied as %s, want error %q", c.Version, want)
			}
			if err.Error() != want {
				t.Errorf("error\n got: %q\nwant: %q", err.Error(), want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != filepath.Base(f) {
				t.Errorf("error is %T without the file name", err)
			}
		})
	}
}

func condition(t *testing.T, c *Catalogue, id, name string) Condition {
	t.Helper()
	r, ok := c.Requirement(id)
	if !ok || r.Rule == nil {
		t.Fatalf("%s: no rule", id)
	}
	i := slices.IndexFunc(r.Rule.Conditions, func(cd Condition) bool { return cd.Name == name })
	if i < 0 {
		t.Fatalf("%s: no condition %q", id, name)
	}
	return r.Rule.Conditions[i]
}

func TestOverlayTightens(t *testing.T) {
	base := policyCatalogue(t)
	c, err := applyPolicyFile(t, "testdata/policy/valid-tighten.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "2026.12.1+policy:oak-valley-trust" || c.Policy != "oak-valley-trust" {
		t.Errorf("version %q policy %q", c.Version, c.Policy)
	}
	dl := condition(t, c, "BB-2", "Download speed")
	if dl.Threshold("primary") != 200 || dl.Threshold("secondary") != 1000 || dl.MinSamples != 10 || dl.Window != 168*time.Hour {
		t.Errorf("BB-2 download after policy: %+v", dl)
	}
	p := dl.Policy
	if p == nil || p.Name != "oak-valley-trust" || p.Loosens || len(p.Changes) != 2 ||
		p.DfE.Value != 1000 || p.DfE.Thresholds["primary"] != 100 || p.DfE.MinSamples != 5 || p.DfE.Window != 168*time.Hour {
		t.Fatalf("BB-2 download policy: %+v", p)
	}
	if got, want := p.Describe(), "Trust policy oak-valley-trust tightens the DfE rule: threshold for primary schools ≥ 100 Mbit/s → ≥ 200 Mbit/s (tighter); min samples 5 → 10 (tighter). Reason: The trust's ICT strategy asks for 200 Mbit/s in every primary school."; got != want {
		t.Errorf("Describe:\n got: %s\nwant: %s", got, want)
	}
	// threshold replaces every phase's; a le comparison tightens downwards.
	loss := condition(t, c, "IT-3", "Packet loss")
	if loss.Threshold("primary") != 1 || loss.Policy == nil || loss.Policy.Loosens || loss.Policy.Changes[0].String() != "threshold ≤ 5% → ≤ 1% (tighter)" {
		t.Errorf("IT-3 loss: %+v %+v", loss, loss.Policy)
	}
	if share := condition(t, c, "FM-13", "canary answered NXDOMAIN"); share.Compare.Value != 100 || share.Policy == nil {
		t.Errorf("FM-13: %+v", share)
	}
	// Untouched conditions carry no policy; the base catalogue is unchanged.
	if up := condition(t, c, "BB-2", "Upload speed"); up.Policy != nil {
		t.Errorf("upload carries a policy: %+v", up.Policy)
	}
	if b := condition(t, base, "BB-2", "Download speed"); b.Threshold("primary") != 100 || b.MinSamples != 5 || b.Policy != nil || base.Version != "2026.12.1" {
		t.Errorf("base catalogue changed: %+v", b)
	}
	// The rule's description shows the policy after its condition.
	bb2, _ := c.Requirement("BB-2")
	lines := bb2.DescribeRule()
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "Download speed: median of throughput.mbps where direction=download, ok tests only, over 7 days, at least 10 samples, must be ≥ 200 Mbit/s for primary schools and ≥ 1000 Mbit/s for secondary schools") ||
		!strings.HasPrefix(lines[2], "Trust policy oak-valley-trust tightens") {
		t.Errorf("BB-2 rule with policy:\n%s", strings.Join(lines, "\n"))
	}
	// Policies do not stack.
	o, err := LoadOverlay([]byte("name: second\noverrides:\n  - {id: BB-2, condition: Upload speed, threshold: 40, reason: x}\n"), "second.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithOverlay(o); err == nil || err.Error() != "second.yaml: catalogue 2026.12.1+policy:oak-valley-trust already carries policy oak-valley-trust; policies do not stack" {
		t.Errorf("stacked: %v", err)
	}
}

func TestOverlayLoosensWhenSaid(t *testing.T) {
	c, err := applyPolicyFile(t, "testdata/policy/valid-loosen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dl := condition(t, c, "BB-2", "Download speed")
	if dl.Threshold("primary") != 80 || dl.Threshold("secondary") != 80 || dl.Window != 336*time.Hour || dl.Policy == nil || !dl.Policy.Loosens {
		t.Fatalf("BB-2 download: %+v %+v", dl, dl.Policy)
	}
	want := "Trust policy rural-trust LOOSENS the DfE rule: threshold for primary schools ≥ 100 Mbit/s → ≥ 80 Mbit/s (looser); " +
		"threshold for secondary schools ≥ 1000 Mbit/s → ≥ 80 Mbit/s (looser); window 7 days → 14 days (not a pure tightening). " +
		"Reason: Fibre is not available in two villages until 2027; the best service there is 80 Mbit/s."
	if got := dl.Policy.Describe(); got != want {
		t.Errorf("Describe:\n got: %s\nwant: %s", got, want)
	}
}

// A policy over the embedded catalogue, as docs/scoring.md shows it.
func TestOverlayOnDefault(t *testing.T) {
	doc := `name: oak-valley-trust
overrides:
  - id: BB-2
    condition: Download speed
    threshold: 200
    min_samples: 10
    reason: The trust's digital strategy sets 200 Mbit/s for every primary school.
  - id: CL-4
    condition: Cloud service reachable
    threshold: 99.9
    reason: The trust's cloud contracts promise 99.9%.
`
	o, err := LoadOverlay([]byte(doc), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Default().WithOverlay(o)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != Default().Version+"+policy:oak-valley-trust" || len(c.Requirements) != len(Default().Requirements) {
		t.Errorf("version %s, %d rows", c.Version, len(c.Requirements))
	}
	if cl4 := condition(t, c, "CL-4", "Cloud service reachable"); cl4.Compare.Value != 99.9 || cl4.Policy.Changes[0].String() != "threshold ≥ 99% → ≥ 99.9% (tighter)" {
		t.Errorf("CL-4: %+v", cl4.Policy)
	}
	if condition(t, Default(), "CL-4", "Cloud service reachable").Policy != nil {
		t.Error("the embedded catalogue was changed")
	}
}

// The example policy in docs/scoring.md applies to the embedded catalogue.
func TestOverlayDocExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "scoring.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "```yaml\n# policy.yaml\n")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("docs/scoring.md has no ```yaml block starting # policy.yaml")
	}
	o, err := LoadOverlay([]byte(block), "docs/scoring.md")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Default().WithOverlay(o)
	if err != nil {
		t.Fatal(err)
	}
	if dl := condition(t, c, "BB-2", "Download speed"); dl.Threshold("primary") != 200 || dl.Policy == nil || dl.Policy.Loosens {
		t.Errorf("BB-2 after the example policy: %+v", dl)
	}
}
