package standards

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// invalid maps each testdata/invalid-*.yaml to its exact error text, one
// file per validation rule (blackbox_exporter's config_test style).
var invalid = map[string]string{
	"invalid-awaiting-on-attested":        "invalid-awaiting-on-attested.yaml:13: SW-14: awaiting_probe: an attested requirement is not fed by a probe",
	"invalid-awaiting-probe":              "invalid-awaiting-probe.yaml:12: SW-1: awaiting_probe: \"radar\" is not a planned probe (snmp, wifi, portcheck)",
	"invalid-row-checked":                 "invalid-row-checked.yaml:13: SW-14: checked: \"last week\" is not a date (YYYY-MM-DD)",
	"invalid-checked-date":                "invalid-checked-date.yaml:2: checked: \"4 Dec 2026\" is not a date (YYYY-MM-DD)",
	"invalid-combine":                     "invalid-combine.yaml:13: FM-13: rule.combine: \"both\" is not all or any",
	"invalid-compare-missing":             "invalid-compare-missing.yaml:14: FM-13: rule.conditions[0].compare: required: op and value",
	"invalid-compare-op":                  "invalid-compare-op.yaml:22: FM-13: rule.conditions[0].compare.op: \">=\" is not one of eq, ne, lt, le, gt, ge",
	"invalid-contains-any-on-number":      "invalid-contains-any-on-number.yaml:21: FM-13: rule.conditions[0].match.op: contains_any needs a string field and answers is an int",
	"invalid-contains-any-without-values": "invalid-contains-any-without-values.yaml:21: FM-13: rule.conditions[0].match.values: contains_any needs a list of values\ninvalid-contains-any-without-values.yaml:21: FM-13: rule.conditions[0].match.value: contains_any takes values (a list), not value",
	"invalid-core":                        "invalid-core.yaml:8: FM-13: core: must be true: filtering is a core standard",
	"invalid-due":                         "invalid-due.yaml:10: FM-13: due: \"soon\" is not already, at_replacement or by_2030",
	"invalid-duplicate-id":                "invalid-duplicate-id.yaml:23: FM-13: id: duplicate: also at line 4",
	"invalid-duplicate-key":               "invalid-duplicate-key.yaml:12: FM-13: due: defined twice (first at line 10)",
	"invalid-empty":                       "invalid-empty.yaml: empty catalogue",
	"invalid-evidence":                    "invalid-evidence.yaml:9: FM-13: evidence: \"measurable\" is not measured, partly or attested",
	"invalid-field":                       "invalid-field.yaml:17: FM-13: rule.conditions[0].field: dns has no field \"rcod\"",
	"invalid-group-by":                    "invalid-group-by.yaml:23: FM-13: rule.conditions[0].group_by: dns has no tag \"server\"",
	"invalid-id-prefix":                   "invalid-id-prefix.yaml:4: CY-13: id: ids of the filtering standard start with FM-",
	"invalid-id":                          "invalid-id.yaml:4: FM13: id: \"FM13\" is not an id like FM-15",
	"invalid-life-missing":                "invalid-life-missing.yaml:4: FM-1: attestation_life: required for an attested requirement: yearly or termly",
	"invalid-life-on-measured":            "invalid-life-on-measured.yaml:11: FM-13: attestation_life: a measured requirement has no attestation",
	"invalid-life-value":                  "invalid-life-value.yaml:11: FM-1: attestation_life: \"monthly\" is not yearly or termly",
	"invalid-match-numeric-op-on-string":  "invalid-match-numeric-op-on-string.yaml:21: FM-13: rule.conditions[0].match.op: gt needs a numeric field and rcode is a string",
	"invalid-match-on-median":             "invalid-match-on-median.yaml:21: FM-13: rule.conditions[0].match: only share uses a match; median is computed over every sample",
	"invalid-match-op":                    "invalid-match-op.yaml:21: FM-13: rule.conditions[0].match.op: \"like\" is not one of eq, ne, lt, le, gt, ge, contains_any, in",
	"invalid-match-string-on-number":      "invalid-match-string-on-number.yaml:21: FM-13: rule.conditions[0].match.value: fast is a string but duration_ms is a float field",
	"invalid-match-value-type":            "invalid-match-value-type.yaml:21: FM-13: rule.conditions[0].match.value: 3 is a number but rcode is a string field",
	"invalid-measured-without-rule":       "invalid-measured-without-rule.yaml:9: FM-13: evidence: a measured requirement needs a rule, or awaiting_probe naming the probe that will feed it",
	"invalid-measurement":                 "invalid-measurement.yaml:15: FM-13: rule.conditions[0].measurement: unknown measurement \"dnz\" (see measurements.yaml)",
	"invalid-median-of-string":            "invalid-median-of-string.yaml:20: FM-13: rule.conditions[0].stat: median needs a numeric field and dns.rcode is a string; use share with a match",
	"invalid-min-samples":                 "invalid-min-samples.yaml:23: FM-13: rule.conditions[0].min_samples: must be at least 1",
	"invalid-missing-version":             "invalid-missing-version.yaml: version: required",
	"invalid-name-missing":                "invalid-name-missing.yaml:14: FM-13: rule.conditions[0].name: required: plain English, such as \"Google SafeSearch enforced\"",
	"invalid-no-conditions":               "invalid-no-conditions.yaml:13: FM-13: rule.conditions: a rule needs at least one condition",
	"invalid-no-requirements":             "invalid-no-requirements.yaml:3: requirements: no requirements",
	"invalid-only-ok-on-ok":               "invalid-only-ok-on-ok.yaml:19: CL-4: rule.conditions[0].only_ok: cannot be true when the field is ok itself: every sample would pass",
	"invalid-only-ok-without-ok":          "invalid-only-ok-without-ok.yaml:17: BB-2: rule.conditions[0].only_ok: host has no ok field",
	"invalid-partial-without-note":        "invalid-partial-without-note.yaml:12: FM-13: rule.note: required when partial is true: say what is not yet measured",
	"invalid-phase":                       "invalid-phase.yaml:9: FM-13: phases[1]: \"infant\" is not one of primary, secondary, all-through, special, fe",
	"invalid-rule-on-attested":            "invalid-rule-on-attested.yaml:13: FM-13: rule: an attested requirement cannot have a rule",
	"invalid-share-percent":               "invalid-share-percent.yaml:22: FM-13: rule.conditions[0].compare.value: a share is a percentage: 150 is outside 0..100",
	"invalid-share-without-match":         "invalid-share-without-match.yaml:14: FM-13: rule.conditions[0].match: required for share: which samples count",
	"invalid-source":                      "invalid-source.yaml:11: FM-13: source: required: the https:// address of the DfE page",
	"invalid-standard":                    "invalid-standard.yaml:5: FM-13: standard: \"filters\" is not one of broadband, wireless, switching, cabling, cyber, filtering, cloud, servers, leadership, devices, accessibility, it-support",
	"invalid-stat":                        "invalid-stat.yaml:20: FM-13: rule.conditions[0].stat: \"average\" is not one of last, min, max, mean, median, p10, p90, share",
	"invalid-syntax":                      "invalid-syntax.yaml:4: did not find expected ',' or ']'",
	"invalid-thresholds-phase":            "invalid-thresholds-phase.yaml:24: FM-13: rule.conditions[0].thresholds.secondary: the requirement does not apply to secondary",
	"invalid-threshold-nan":               "invalid-threshold-nan.yaml:22: FM-13: rule.conditions[0].compare.value: NaN is not a finite number: no statistic could be compared with it",
	"invalid-type":                        "invalid-type.yaml:8: FM-13: core: \"maybe\" is not true or false",
	"invalid-unknown-condition-key":       "invalid-unknown-condition-key.yaml:23: FM-13: rule.conditions[0]: unknown key \"feild\"",
	"invalid-unknown-key":                 "invalid-unknown-key.yaml:12: FM-13: unknown key \"titel\"",
	"invalid-where-site":                  "invalid-where-site.yaml:16: FM-13: rule.conditions[0].where.site: the engine selects the site; a rule cannot",
	"invalid-where-agent":                 "invalid-where-agent.yaml:16: FM-13: rule.conditions[0].where.agent: rollups merge a site's agents; a rule cannot select one",
	"invalid-group-by-agent":              "invalid-group-by-agent.yaml:16: FM-13: rule.conditions[0].group_by: rollups merge a site's agents; a rule cannot group by agent",
	"invalid-group-by-twice":              "invalid-group-by-twice.yaml:16: FM-13: rule.conditions[0].group_by: tag \"qname\" named twice",
	"invalid-group-by-list":               "invalid-group-by-list.yaml:16: FM-13: rule.conditions[0].group_by: dns has no tag \"profile\"",
	"invalid-where-tag":                   "invalid-where-tag.yaml:16: FM-13: rule.conditions[0].where.name: dns has no tag \"name\"",
	"invalid-where-value":                 "invalid-where-value.yaml:16: BB-2: rule.conditions[0].where.direction: \"down\" is not a value of throughput.direction (download, upload)",
	"invalid-window-missing":              "invalid-window-missing.yaml:14: FM-13: rule.conditions[0].window: required: a duration such as 24h or 720h",
	"invalid-window":                      "invalid-window.yaml:19: FM-13: rule.conditions[0].window: \"1 day\" is not a duration such as 24h or 720h",
}

func TestLoadInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(invalid) {
		t.Errorf("%d invalid-*.yaml files but %d expected errors: keep them in step", len(files), len(invalid))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			want, ok := invalid[name]
			if !ok {
				t.Fatalf("no expected error for %s", f)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Load(data, filepath.Base(f))
			if err == nil {
				t.Fatalf("loaded %d requirements, want error %q", len(c.Requirements), want)
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

func TestLoadValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid files: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(data, filepath.Base(f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Defaults are applied while loading: only_ok follows the ok field, a
// share's unit is %, min_samples is 1, combine is all, numbers in a match
// are float64.
func TestLoadDefaults(t *testing.T) {
	data, err := os.ReadFile("testdata/valid-grouped.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(data, "valid-grouped.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Requirements[0]
	cond := r.Rule.Conditions[0]
	if r.Rule.Combine != CombineAll || cond.OnlyOK || cond.Unit != "%" || cond.MinSamples != 1 ||
		cond.Window != 720*time.Hour || cond.Match.Value != true || cond.GroupBy != "target" {
		t.Errorf("CL-4 rule after defaults: %+v %+v", r.Rule, cond)
	}

	data, err = os.ReadFile("testdata/valid-thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err = Load(data, "valid-thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cond = c.Requirements[0].Rule.Conditions[0]
	if cond.Unit != "Mbit/s" || cond.MinSamples != 5 || !cond.OnlyOK {
		t.Errorf("BB-2 condition after defaults: %+v", cond)
	}
	if cond.Threshold("primary") != 100 || cond.Threshold("secondary") != 1000 || cond.Threshold("") != 1000 {
		t.Errorf("thresholds: primary %v secondary %v", cond.Threshold("primary"), cond.Threshold("secondary"))
	}

	// A row's checked defaults to the catalogue's; its own wins.
	data, err = os.ReadFile("testdata/valid-awaiting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err = Load(data, "valid-awaiting.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sw1, sw6 := c.Requirements[0], c.Requirements[1]
	if sw1.Checked != "2026-12-04" || sw1.AwaitingProbe != "snmp" || sw1.Rule != nil || sw1.Note != "" {
		t.Errorf("SW-1: %+v", sw1)
	}
	if sw6.Checked != "2026-11-30" || sw6.Note != "The figure comes from a secondary source." {
		t.Errorf("SW-6: %+v", sw6)
	}

	// only_ok defaults to true on a measurement with an ok field.
	data, err = os.ReadFile("testdata/valid-minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "          only_ok: false\n", "", 1))
	c, err = Load(data, "valid-minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Requirements[0].Rule.Conditions[0].OnlyOK {
		t.Error("only_ok should default to true for dns.rcode")
	}
}

// Every problem is reported, in line order, not just the first.
func TestLoadReportsEveryProblem(t *testing.T) {
	doc := `version: test
checked: "2026-12-04"
requirements:
  - id: FM-1
    standard: filtering
    title: Roles
    text: Named people.
    core: true
    evidence: attested
    due: later
    attestation_life: yearly
    source: https://www.gov.uk/x
  - id: DL-9
    standard: leadership
    title: Something
    text: Something else.
    core: false
    evidence: attested
    due: already
    attestation_life: weekly
    source: https://www.gov.uk/x
`
	_, err := Load([]byte(doc), "multi.yaml")
	want := `multi.yaml:10: FM-1: due: "later" is not already, at_replacement or by_2030
multi.yaml:17: DL-9: core: must be true: leadership is a core standard
multi.yaml:20: DL-9: attestation_life: "weekly" is not yearly or termly`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
