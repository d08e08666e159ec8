package report

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
)

// testCatalogue has one row of each kind: measured with a rule, partly
// measured with a rule, partly measured and measured awaiting their probes,
// attested, and a measured row for secondary schools only.
func testCatalogue() *standards.Catalogue {
	rule := &standards.Rule{Conditions: []standards.Condition{{Name: "Download speed", Measurement: "throughput",
		Field: "mbps", Window: 7 * 24 * time.Hour, Stat: standards.StatMedian, Compare: standards.Compare{Op: standards.OpGe, Value: 100}, MinSamples: 5}}}
	return &standards.Catalogue{Version: "test-1", Checked: "2026-01-01", Requirements: []standards.Requirement{
		{ID: "BB-2", Standard: "broadband", Title: "Primary school speed", Core: true, Evidence: standards.EvidenceMeasured, Rule: rule},
		{ID: "BB-3", Standard: "broadband", Title: "Secondary capacity", Core: true, Phases: []string{"secondary"}, Evidence: standards.EvidenceMeasured, Rule: rule},
		{ID: "FM-15", Standard: "filtering", Title: "SafeSearch and lockdown", Core: true, Evidence: standards.EvidencePartly, Rule: rule, AttestationLife: standards.LifeYearly},
		{ID: "FM-7", Standard: "filtering", Title: "Filtering on every device", Core: true, Evidence: standards.EvidencePartly, AttestationLife: standards.LifeYearly, AwaitingProbe: "wifi"},
		{ID: "SW-1", Standard: "switching", Title: "Gigabit ports", Core: true, Evidence: standards.EvidenceMeasured, AwaitingProbe: "snmp", Note: "Port speeds come from SNMP."},
		{ID: "DL-1", Standard: "leadership", Title: "Digital lead appointed", Core: true, Evidence: standards.EvidenceAttested, AttestationLife: standards.LifeYearly},
		{ID: "CY-1", Standard: "cyber", Title: "Accounts protected", Core: true, Evidence: standards.EvidenceAttested, AttestationLife: standards.LifeYearly},
	}}
}

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func evidence(t *testing.T, ev score.Evidence) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seed makes site oak (primary) with verdicts 120 days ago and now, and
// attestations: DL-1 superseded once, FM-15 current, CY-1 expired.
func seed(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	tr, err := st.CreateTrust(ctx, "Acorn Trust")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak Primary", Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	then := now.AddDate(0, 0, -120)
	old := []store.Verdict{
		{ReqID: "BB-2", State: "not_met", Summary: "Not met: median 40 Mbit/s.", Catalogue: "test-1", EvaluatedAt: then},
		{ReqID: "DL-1", State: "attested", Summary: "Attested.", Catalogue: "test-1", EvaluatedAt: then},
		{ReqID: "FM-15", State: "partly_met", Summary: "Partly met.", Catalogue: "test-1", EvaluatedAt: then},
	}
	if err := st.SaveVerdicts(ctx, "oak", old); err != nil {
		t.Fatal(err)
	}
	met := true
	measured := score.Evidence{From: now.Add(-7 * 24 * time.Hour), To: now, Samples: 20, Conditions: []score.ConditionEvidence{
		{Name: "Download speed", Stat: "median", Value: 123.45, Unit: "Mbit/s", Threshold: 100, Op: "ge", Samples: 20, Met: &met}}}
	cur := []store.Verdict{
		{ReqID: "BB-2", State: "met", Summary: "Met: median 123.45 Mbit/s.", Evidence: evidence(t, measured), Catalogue: "test-1", EvaluatedAt: now},
		{ReqID: "BB-3", State: "not_applicable", Summary: "Not applicable.", Catalogue: "test-1", EvaluatedAt: now},
		{ReqID: "DL-1", State: "attested", Summary: "Attested by Pat Green.", Catalogue: "test-1", EvaluatedAt: now},
		{ReqID: "FM-15", State: "not_enough_data", Summary: "Not enough data.", Evidence: evidence(t, score.Evidence{From: now.Add(-7 * 24 * time.Hour), To: now}), Catalogue: "test-1", EvaluatedAt: now},
		{ReqID: "CY-1", State: "attestation_expired", Summary: "Attestation expired.", Catalogue: "test-1", EvaluatedAt: now},
	}
	if err := st.SaveVerdicts(ctx, "oak", cur); err != nil {
		t.Fatal(err)
	}
	for _, a := range []store.Attestation{
		{ReqID: "DL-1", By: "Sam Old", Note: "old lead", At: now.AddDate(0, -10, 0)},
		{ReqID: "DL-1", By: "Pat Green", Role: "headteacher", Note: "J Smith appointed digital lead", Link: "https://docs.example/minutes.pdf", At: now.AddDate(0, -1, 0)},
		{ReqID: "FM-15", By: "Lee IT", Role: "IT lead", Note: "Browsers locked by MDM", At: now.AddDate(0, 0, -3)},
		{ReqID: "CY-1", By: "Lee IT", Role: "IT lead", Note: "MFA on admin accounts", At: now.AddDate(-1, -1, 0)},
	} {
		a.Site, a.Expires, a.RecordedBy, a.RecordedAt = "oak", a.At.AddDate(1, 0, 0), "cli:root", a.At
		if _, err := st.AddAttestation(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuildKeepsEvidenceApartAndShowsChanges(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	rep, err := BuildWith(context.Background(), st, testCatalogue(), "oak", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-DefaultSince); !rep.ComparedWith.Equal(want) || rep.Compared != 3 {
		t.Errorf("compared with %v (%d verdicts), want %v (3)", rep.ComparedWith, rep.Compared, want)
	}
	rows := map[string]Row{}
	for _, r := range rep.Rows {
		rows[r.ID] = r
	}
	type want struct {
		state, measured, attested, previous, attBy string
	}
	cases := map[string]want{
		"BB-2":  {"met", MeasuredFigures, AttestedNotNeed, "not_met", ""},
		"BB-3":  {"not_applicable", MeasuredNotApplying, AttestedNotApply, "", ""},
		"FM-15": {"not_enough_data", MeasuredNoData, AttestedCurrent, "partly_met", "Lee IT"},
		"FM-7":  {NotScored, MeasuredNoProbe, AttestedMissing, "", ""},
		"SW-1":  {NotScored, MeasuredNoProbe, AttestedNotNeed, "", ""},
		"DL-1":  {"attested", MeasuredNone, AttestedCurrent, "", "Pat Green"},
		"CY-1":  {"attestation_expired", MeasuredNone, AttestedExpired, "", "Lee IT"},
	}
	for id, w := range cases {
		r := rows[id]
		prev := ""
		if r.Previous != nil {
			prev = r.Previous.State
		}
		by := ""
		if r.Attestation != nil {
			by = r.Attestation.By
		}
		got := want{r.State, r.Measured.Status, r.Attested.Status, prev, by}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", id, got, w)
		}
	}
	if a := rows["DL-1"].Attestation; a == nil || a.Role != "headteacher" || a.Link != "https://docs.example/minutes.pdf" || a.Expired {
		t.Errorf("DL-1 attestation = %+v; want the current one, by the headteacher, with its link", a)
	}
	if len(rep.Changes) != 2 || rep.Changes[0] != (Change{"BB-2", "Not met", "Met"}) || rep.Changes[1].ID != "FM-15" {
		t.Errorf("changes = %+v", rep.Changes)
	}
	if len(rep.Sections) != 5 || rep.Sections[0].Standard != "broadband" || len(rep.Sections[0].Rows) != 2 {
		t.Errorf("sections = %d, first %+v", len(rep.Sections), rep.Sections[0].Standard)
	}

	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	page := html.String()
	for _, s := range []string{
		"Measured evidence", "Attested evidence", "Changes since 3 Mar 2026",
		`<a href="#BB-2">BB-2</a>: Not met → <strong>Met</strong>`, "was not met on 3 Mar 2026",
		"Download speed: median 123.45 Mbit/s over 20 samples (needs ≥ 100 Mbit/s) ✓", // the measured figures
		"“J Smith appointed digital lead”", "Pat Green, headteacher; dated 1 May 2026",
		`<a href="https://docs.example/minutes.pdf">evidence</a>`, "Valid until 1 May 2027",
		"Awaiting the wifi probe (wireless controller polls", "until it measures this part, an attestation covers it",
		"Awaiting the snmp probe", "nothing measures this yet", "Port speeds come from SNMP.",
		"Awaiting data: no probe has reported throughput results in the last 7 days",
		"Expired on 1 May 2026", "No attestation recorded yet", "Recorded by cli:root",
		"Not needed: probes measure all of it", "Does not apply to this school&#39;s phase",
		`id="standard-filtering"`, "@media print",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// The superseded attestation is history, not evidence.
	if strings.Contains(page, "Sam Old") {
		t.Error("page shows the superseded attestation")
	}

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Changes []Change `json:"changes"`
		Rows    []struct {
			ID       string   `json:"id"`
			Measured Measured `json:"measured"`
			Attested Attested `json:"attested"`
		} `json:"requirements"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Rows) != 7 || back.Rows[3].Measured.Status != MeasuredNoProbe || len(back.Changes) != 2 {
		t.Errorf("JSON report: %v, %+v", err, back)
	}
}

func TestBuildWithoutHistory(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	// Before the first verdict there is nothing to compare with.
	rep, err := BuildWith(context.Background(), st, testCatalogue(), "oak", Options{Now: now, Since: now.AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Compared != 0 || len(rep.Changes) != 0 {
		t.Errorf("compared %d, changes %+v; want none", rep.Compared, rep.Changes)
	}
	var html bytes.Buffer
	rep.WriteHTML(&html)
	if !strings.Contains(html.String(), "nothing to compare with yet") {
		t.Error("page does not say there is nothing to compare with")
	}
	// Compared with a moment after the current save: nothing changed.
	rep, _ = BuildWith(context.Background(), st, testCatalogue(), "oak", Options{Now: now, Since: now})
	html.Reset()
	rep.WriteHTML(&html)
	if rep.Compared != 5 || len(rep.Changes) != 0 || !strings.Contains(html.String(), "No requirement's verdict has changed") {
		t.Errorf("compared with now: %d compared, changes %+v", rep.Compared, rep.Changes)
	}
}

func TestParseSince(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"", "0001-01-01T00:00:00Z", ""},
		{"90d", "2026-03-03T12:00:00Z", ""},
		{"2026-01-31", "2026-01-31T00:00:00Z", ""},
		{"2026-05-31T08:00:00+01:00", "2026-05-31T07:00:00Z", ""},
		{"0d", "", "whole number"},
		{"x", "", "not a date"},
		{"2026-06-02", "", "in the future"},
	}
	for _, tc := range cases {
		got, err := ParseSince(tc.in, now)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSince(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.UTC().Format(time.RFC3339) != tc.want {
			t.Errorf("ParseSince(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestFigureShowsAlsoExcludedAndServer(t *testing.T) {
	met := true
	got := figure(score.ConditionEvidence{
		Name: "Download speed", Stat: "median", Value: 412.25, Unit: "Mbit/s", Threshold: 100, Op: "ge", Samples: 20, Met: &met,
		Also: map[string]float64{"p10": 380}, Excluded: 3, Exclude: map[string]string{"probe_limited": "true"},
		Series: []string{"throughput,direction=download,mode=multi,probe_limited=false,server=speed.example.net,streams=4"},
	})
	want := "Download speed: median 412.25 Mbit/s over 20 samples, p10 380 Mbit/s (needs ≥ 100 Mbit/s) ✓; 3 left out (probe_limited=true); server speed.example.net"
	if got != want {
		t.Errorf("figure:\n got %s\nwant %s", got, want)
	}
}
