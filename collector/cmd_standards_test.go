package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probity-edu/probity/collector/standards"
)

type handler func(context.Context, []string, io.Writer, io.Writer) error

func runCmd(t *testing.T, h handler, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := h(context.Background(), args, &out, &errb)
	return out.String(), err
}

// listIDs returns the ids of a list's table, skipping the header and the
// closing count.
func listIDs(out string) []string {
	var ids []string
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") {
			ids = append(ids, f[0])
		}
	}
	return ids
}

func TestStandardsList(t *testing.T) {
	cat := standards.Default()
	out, err := runCmd(t, cmdStandardsList)
	if err != nil {
		t.Fatal(err)
	}
	if ids := listIDs(out); len(ids) != len(cat.Requirements) || ids[0] != "BB-1" {
		t.Errorf("list shows %d rows starting %v, catalogue has %d", len(ids), ids[:1], len(cat.Requirements))
	}
	if !strings.HasPrefix(out, "ID") || !strings.Contains(out, "MEASURED BY") ||
		!strings.Contains(out, "catalogue "+cat.Version+", checked "+cat.Checked) {
		t.Errorf("list output:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "FM-15" && (f[1] != "filtering" || f[2] != "yes" || f[3] != "partly" || f[4] != "already" || f[5] != "safesearch"):
			t.Errorf("FM-15 row: %s", line)
		case f[0] == "SW-1" && (f[3] != "measured" || f[4] != "at_replacement" || f[5] != "snmp_device,snmp_if"):
			t.Errorf("SW-1 row: %s", line)
		case f[0] == "SW-6" && (f[3] != "partly" || f[4] != "at_replacement" || f[5] != "awaiting" || f[6] != "snmp"):
			t.Errorf("SW-6 row: %s", line)
		case f[0] == "FM-1" && f[5] != "-":
			t.Errorf("FM-1 row: %s", line)
		}
	}

	// Filters, alone and together, against the catalogue itself.
	count := func(keep func(standards.Requirement) bool) int {
		n := 0
		for _, r := range cat.Requirements {
			if keep(r) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		args []string
		keep func(standards.Requirement) bool
	}{
		{[]string{"--standard", "cy"}, func(r standards.Requirement) bool { return r.Standard == "cyber" }},
		{[]string{"--standard", "Filtering"}, func(r standards.Requirement) bool { return r.Standard == "filtering" }},
		{[]string{"--core"}, func(r standards.Requirement) bool { return r.Core }},
		{[]string{"--core=false"}, func(r standards.Requirement) bool { return !r.Core }},
		{[]string{"--evidence", "measured"}, func(r standards.Requirement) bool { return r.Evidence == standards.EvidenceMeasured }},
		{[]string{"--core", "--evidence", "attested", "--standard", "FM"}, func(r standards.Requirement) bool {
			return r.Core && r.Evidence == standards.EvidenceAttested && r.Standard == "filtering"
		}},
	} {
		out, err := runCmd(t, cmdStandardsList, c.args...)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		want := count(c.keep)
		if got := len(listIDs(out)); got != want || want == 0 {
			t.Errorf("%v: %d rows, want %d", c.args, got, want)
		}
	}

	out, err = runCmd(t, cmdStandardsList, "--json", "--standard", "CL")
	if err != nil {
		t.Fatal(err)
	}
	var rows []standards.Requirement
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 5 || rows[3].ID != "CL-4" || rows[3].Rule == nil {
		t.Errorf("json: %v %+v", err, rows)
	}

	for _, args := range [][]string{{"--standard", "wifi"}, {"--evidence", "measurable"}, {"extra"}, {"--colour"}} {
		if _, err := runCmd(t, cmdStandardsList, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestStandardsShow(t *testing.T) {
	out, err := runCmd(t, cmdStandardsShow, "bb-2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"BB-2  Primary school speed\n",
		"Applies to:  primary schools\n",
		"Evidence:    measured by the agent",
		"Rule: Met when all of these hold:\n",
		"  1. Download speed: median of throughput.mbps where direction=download and mode=multi leaving out\n     probe_limited=true, ok tests only, over 30 days, at least 5 samples, must be ≥ 100 Mbit/s for\n     primary schools\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show BB-2 lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Awaiting:") {
		t.Errorf("BB-2 still awaits a probe: the throughput probe feeds it:\n%s", out)
	}
	out, err = runCmd(t, cmdStandardsShow, "CY-22")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Attestation: lasts a term (four months)") || strings.Contains(out, "Rule") {
		t.Errorf("show CY-22:\n%s", out)
	}
	out, err = runCmd(t, cmdStandardsShow, "SW-7")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Note:        The 16,000 figure") {
		t.Errorf("show SW-7 has no note:\n%s", out)
	}
	out, err = runCmd(t, cmdStandardsShow, "--json", "FM-8")
	var r standards.Requirement
	if err != nil || json.Unmarshal([]byte(out), &r) != nil || r.ID != "FM-8" || !r.Rule.Partial {
		t.Errorf("json: %v %s", err, out)
	}
	if _, err := runCmd(t, cmdStandardsShow, "XX-1"); err == nil || !strings.Contains(err.Error(), `no requirement "XX-1"`) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := runCmd(t, cmdStandardsShow); err == nil {
		t.Error("show without an id accepted")
	}
}

// A trust checks its policy file with --policy: applied, it shows in the
// version and under the condition; invalid, the error names file and line.
func TestStandardsPolicy(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(good, []byte(`name: oak-valley-trust
overrides:
  - id: BB-2
    condition: Download speed
    threshold: 200
    reason: The trust's digital strategy sets 200 Mbit/s.
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, cmdStandardsShow, "--policy", good, "BB-2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"must be ≥ 200 Mbit/s for\n     primary schools", "Trust policy oak-valley-trust tightens the DfE rule: threshold ≥ 100 Mbit/s → ≥ 200", "catalogue " + standards.Default().Version + "+policy:oak-valley-trust"} {
		if !strings.Contains(out, want) {
			t.Errorf("show --policy lacks %q:\n%s", want, out)
		}
	}
	out, err = runCmd(t, cmdStandardsList, "--policy", good, "--standard", "BB")
	if err != nil || !strings.Contains(out, "+policy:oak-valley-trust") {
		t.Errorf("list --policy: %v\n%s", err, out)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: oak\noverrides:\n  - id: BB-2\n    condition: Download speed\n    threshold: 50\n    reason: Slower.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runCmd(t, cmdStandardsList, "--policy", bad)
	if err == nil || !strings.Contains(err.Error(), bad+":3: BB-2: loosens the DfE rule (threshold ≥ 100 Mbit/s → ≥ 50 Mbit/s)") {
		t.Errorf("bad policy: %v", err)
	}
	if _, err := runCmd(t, cmdStandardsList, "--policy", filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing policy file accepted")
	}
}

func TestWrap(t *testing.T) {
	got := wrap("Note: ", "one two three four five six", 16)
	if want := "Note: one two\n      three four\n      five six\n"; got != want {
		t.Errorf("wrap:\n%q\nwant\n%q", got, want)
	}
	if got := wrap("", "averyveryverylongword x", 5); got != "averyveryverylongword\nx\n" {
		t.Errorf("long word: %q", got)
	}
}
