package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// yearOfData gives site oak (primary, from seed) an agent and a year of
// points ending at now: a throughput test a day (download median below
// 100 Mbit/s until the line was upgraded 120 days ago), agent health every
// day but the first 10, two days with internet outages, hourly filtering
// checks on the last three days (one failing), a switch past its end of
// support; then rolls them up.
func yearOfData(t *testing.T, st store.Store) store.Agent {
	t.Helper()
	ctx := context.Background()
	if err := st.CreateEnrolToken(ctx, "oak", "h", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	agent, err := st.ConsumeEnrolToken(ctx, "h", store.Agent{Hostname: "pi-office", Version: "1.2.0"}, "c", now)
	if err != nil {
		t.Fatal(err)
	}
	tags := func(kv ...string) map[string]string {
		m := map[string]string{store.TagSite: "oak", store.TagAgent: agent.ID}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	start := now.AddDate(-1, 0, 0).Truncate(24 * time.Hour)
	var pts []point.Point
	for d := 0; d < 366; d++ {
		day := start.AddDate(0, 0, d).Add(10 * time.Hour)
		if !day.Before(now) {
			break
		}
		mbps := 60.0
		if day.After(now.AddDate(0, 0, -120)) {
			mbps = 140
		}
		for _, dir := range []string{"download", "upload"} {
			pts = append(pts, point.New("throughput", tags("server", "collector", "direction", dir, "method", "http", "streams", "4", "mode", "multi", "probe_limited", "false"),
				map[string]any{"ok": true, "result": "ok", "mbps": mbps / map[string]float64{"download": 1, "upload": 3}[dir]}, day))
		}
		if d >= 10 {
			pts = append(pts, point.New("agent", tags("version", "1.2.0"), map[string]any{"queued_batches": int64(0)}, day))
		}
	}
	for _, o := range []struct {
		daysAgo, count int
		longest        float64
	}{{40, 2, 95}, {200, 1, 7}} {
		at := now.AddDate(0, 0, -o.daysAgo).Truncate(24 * time.Hour).Add(12 * time.Hour)
		pts = append(pts, point.New("reachability", tags("target", "collector"),
			map[string]any{"ok": true, "outages": int64(o.count), "longest_outage_s": o.longest}, at))
	}
	for h := 1; h <= 72; h++ {
		at := now.Add(-time.Duration(h) * time.Hour)
		pass := h != 5
		pts = append(pts, point.New("filter", tags("suite", "default", "category", "must-allow", "kind", "must_allow", "expect", "allow", "target", "nhs", "profile", "student"),
			map[string]any{"ok": true, "pass": pass, "outcome": map[bool]string{true: "allowed", false: "blocked"}[pass]}, at))
	}
	pts = append(pts, point.New("snmp_device", tags("device", "edge-1", "role", "edge", "vendor", "cisco", "model", "WS-C2960X-48FPD-L", "profile", "cisco-switch"),
		map[string]any{"reachable": true, "eos_status": "past", "eos_date": "2025-10-31"}, now.Add(-2*time.Hour)))
	if _, err := st.WriteBatch(ctx, store.Batch{ID: "year", Agent: agent, Points: pts}, now); err != nil {
		t.Fatal(err)
	}
	if err := st.Rollup(ctx, start, now); err != nil {
		t.Fatal(err)
	}
	return agent
}

func TestReview(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	yearOfData(t, st)
	ctx := context.Background()
	from := now.AddDate(-1, 0, 0)
	if _, err := st.AddFinding(ctx, store.Finding{Site: "oak", From: from, To: now, Text: "The upgrade to 1 Gbit/s in February fixed BB-2.", By: "Chair of governors", At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rv, err := BuildReview(ctx, st, standards.Default(), "oak", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !rv.Report.Period.From.Equal(from) {
		t.Errorf("period from %s, want a year before %s", rv.Report.Period.From, now)
	}
	// Months: June 2025 (from the 1st at noon) to May 2026, then June
	// 2026 so far.
	if len(rv.Months) != 13 || rv.Months[0].Format("2006-01") != "2025-06" || rv.Months[12].Format("2006-01") != "2026-06" {
		t.Errorf("months %v", rv.Months)
	}
	var bb *StandardTrend
	for i := range rv.Trend {
		if rv.Trend[i].Standard == "broadband" {
			bb = &rv.Trend[i]
		}
	}
	if bb == nil || len(bb.States) != len(rv.Months) {
		t.Fatalf("broadband trend: %+v", bb)
	}
	// The seed's verdicts: BB-2 not met 120 days ago, met now; nothing
	// before.
	if bb.States[0].State != "" || bb.States[len(bb.States)-1].State == "" {
		t.Errorf("broadband trend ends: %+v ... %+v", bb.States[0], bb.States[len(bb.States)-1])
	}
	if rv.Outage.Days != 2 || rv.Outage.Count != 3 || rv.Outage.LongestS != 95 || rv.Outages[0].LongestS != 7 {
		t.Errorf("outages %+v %+v", rv.Outage, rv.Outages)
	}
	var checks, asExpected int
	for _, m := range rv.Filter {
		checks += m.Checks
		asExpected += m.AsExpected
	}
	if checks != 72 || asExpected != 71 {
		t.Errorf("filtering history %+v", rv.Filter)
	}
	if len(rv.Support) != 1 || rv.Support[0].Device != "edge-1" || rv.Support[0].Status != "past" || rv.Support[0].Date != "2025-10-31" {
		t.Errorf("end of support %+v", rv.Support)
	}
	// The seed's FM-15 attestation (3 days old) lasts a year: not due;
	// DL-1's current one (a month old) neither; CY-1 expired.
	var due []string
	for _, d := range rv.Due {
		due = append(due, d.ReqID)
	}
	if strings.Join(due, ",") != "CY-1" || !rv.Due[0].Expired {
		t.Errorf("attestations due %+v", rv.Due)
	}
	if len(rv.Findings) != 1 || rv.Findings[0].By != "Chair of governors" {
		t.Errorf("findings %+v", rv.Findings)
	}
	// Data on every day of the year but the first ten, today (to noon) included.
	if c := rv.Report.Coverage; c.Days != 366 || c.DaysWithData != 356 {
		t.Errorf("coverage %+v", c)
	}
	var html bytes.Buffer
	if err := rv.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"Oak Primary: annual IT support review", "Through the year", "Jun 2025", "May 2026",
		"3 outages on 2 days; the longest took 1 min 35 s until service was restored",
		"<td>60 (100%)</td>", "<td>11 (92%)</td>", "edge-1", "Ended", "2025-10-31", "CY-1", "(expired)",
		"The upgrade to 1 Gbit/s in February fixed BB-2.", "Chair of governors", "356 of 366 days",
	} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("review page lacks %q", s)
		}
	}
}

// TestChartsAndSummary: the report's BB-2 charts carry a year of daily
// medians with the threshold, the governors' summary judges broadband,
// and a failing row carries its action with its due label.
func TestChartsAndSummary(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	yearOfData(t, st)
	r, err := BuildWith(context.Background(), st, standards.Default(), "oak", Options{Now: now, Since: now.AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var bb2 *Row
	for i := range r.Rows {
		if r.Rows[i].ID == "BB-2" {
			bb2 = &r.Rows[i]
		}
	}
	if bb2 == nil || len(bb2.Charts) != 2 {
		t.Fatalf("BB-2 charts: %+v", bb2)
	}
	dl := bb2.Charts[0]
	if dl.Threshold != 100 || dl.Unit != "Mbit/s" || dl.Stat != "median" || len(dl.Points) != 365 {
		t.Errorf("download chart: %s %v %s %s, %d points", dl.Title, dl.Threshold, dl.Unit, dl.Stat, len(dl.Points))
	}
	below := 0
	for _, p := range dl.Points {
		if p.Value < dl.Threshold {
			below++
		}
	}
	if below != 365-120 && below != 365-119 {
		t.Errorf("%d days below the line, want about 245", below)
	}
	var bb *StandardSummary
	for i := range r.Standards {
		if r.Standards[i].Standard == "broadband" {
			bb = &r.Standards[i]
		}
	}
	if bb == nil || bb.State == "" || bb.Why == "" || !bb.Core {
		t.Fatalf("broadband summary %+v", bb)
	}
	if r.Standards[0].Standard != "broadband" {
		t.Errorf("summary starts with %s", r.Standards[0].Standard)
	}
	var cy1 *Row
	for i := range r.Rows {
		if r.Rows[i].ID == "CY-1" {
			cy1 = &r.Rows[i]
		}
	}
	if cy1 == nil || cy1.Action == nil || !strings.HasPrefix(cy1.Action.Text, "Renew the attestation") || cy1.Action.DueLabel == "" {
		t.Errorf("CY-1 action: %+v", cy1.Action)
	}
	if len(r.Probes) == 0 || r.Coverage.DaysWithData == 0 {
		t.Errorf("provenance: probes %+v coverage %+v", r.Probes, r.Coverage)
	}
}

func TestStandardState(t *testing.T) {
	j := func(id, state, due string) judged {
		return judged{id: id, title: "T" + id, state: state, summary: "S" + id, due: due}
	}
	for _, c := range []struct {
		rs         []judged
		state, why string
	}{
		{nil, StandardNotEvidenced, "No requirement of this standard applies to this school."},
		{[]judged{j("A", "met", "already"), j("B", "attested", "already")}, StandardMet, "All 2 requirements are met or attested."},
		{[]judged{j("A", "met", "already"), j("B", "not_met", "already"), j("C", "attestation_expired", "already")}, StandardNotMet, "B TB: SB. (and 1 more)"},
		{[]judged{j("A", "met", "already"), j("B", "not_met", "by_2030")}, StandardPartlyMet, "1 of 2 requirements met or attested; next: B TB: SB."},
		{[]judged{j("A", "not_enough_data", "already"), j("B", "not_scored", "already")}, StandardNotEvidenced, "None of its 2 requirements has measured data or an attestation yet."},
		{[]judged{j("A", "partly_met", "already"), j("B", "not_enough_data", "already")}, StandardPartlyMet, "0 of 2 requirements met or attested; next: A TA: SA. (and 1 more)"},
	} {
		state, why, _ := standardState(c.rs)
		if state != c.state || why != c.why {
			t.Errorf("%v: %s %q, want %s %q", c.rs, state, why, c.state, c.why)
		}
	}
}

func TestFleet(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	yearOfData(t, st)
	ctx := context.Background()
	tr, err := st.TrustByName(ctx, "Acorn Trust")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSite(ctx, store.Site{ID: "elm", TrustID: tr.ID, Name: "Elm Academy", Phase: "secondary"}); err != nil {
		t.Fatal(err)
	}
	other, _ := st.CreateTrust(ctx, "Other Trust")
	if _, err := st.CreateSite(ctx, store.Site{ID: "yew", TrustID: other.ID, Name: "Yew School", Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	f, err := BuildFleet(ctx, st, standards.Default(), tr.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Standards) != 6 || len(f.Schools) != 2 || f.Schools[0].Site.ID != "elm" || f.Schools[1].Site.ID != "oak" {
		t.Fatalf("fleet: %d standards, schools %+v", len(f.Standards), f.Schools)
	}
	oak, elm := f.Schools[1], f.Schools[0]
	if len(oak.Cells) != 6 || oak.Cells[0].Standard != "broadband" || oak.LastSeen == nil || oak.Trust != "Acorn Trust" {
		t.Errorf("oak: %+v", oak)
	}
	if fmt.Sprintf("%.2f", oak.Coverage) != "1.00" {
		t.Errorf("oak coverage over the last 30 days %.3f", oak.Coverage)
	}
	if elm.Coverage != 0 || elm.LastSeen != nil || elm.Cells[0].State != StandardNotEvidenced {
		t.Errorf("elm without data: %+v", elm)
	}
	all, err := BuildFleet(ctx, st, standards.Default(), 0, now)
	if err != nil || len(all.Schools) != 3 {
		t.Errorf("every trust: %v %+v", err, all)
	}
}

// TestSampleReport writes the sample report, review and PDF that
// docs/reports.md shows, from the same year of data as TestReview, when
// PROBITY_SAMPLE_DIR names a folder: go test ./collector/report -run
// SampleReport with PROBITY_SAMPLE_DIR=docs/sample.
func TestSampleReport(t *testing.T) {
	dir := os.Getenv("PROBITY_SAMPLE_DIR")
	if dir == "" {
		t.Skip("set PROBITY_SAMPLE_DIR to write the sample report")
	}
	st := openStore(t)
	seed(t, st)
	yearOfData(t, st)
	ctx := context.Background()
	if _, err := st.AddFinding(ctx, store.Finding{Site: "oak", From: now.AddDate(-1, 0, 0), To: now,
		Text: "The line upgrade in February brought the download speed over the DfE's 100 Mbit/s; the backup line is still to be tested.",
		By:   "Chair of governors", At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rv, err := BuildReview(ctx, st, standards.Default(), "oak", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, f func(io.Writer) error) {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("report.html", rv.Report.WriteHTML)
	write("report.pdf", rv.Report.WritePDF)
	write("report.csv", rv.Report.WriteCSV)
	write("review.html", rv.WriteHTML)
	write("review.pdf", rv.WritePDF)
}

// TestTrustReport: the trust report counts the schools per standard and
// state and names each school's state and reason, in HTML and PDF.
func TestTrustReport(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	yearOfData(t, st)
	ctx := context.Background()
	tr, err := st.TrustByName(ctx, "Acorn Trust")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSite(ctx, store.Site{ID: "elm", TrustID: tr.ID, Name: "Elm Academy", Phase: "secondary"}); err != nil {
		t.Fatal(err)
	}
	f, err := BuildFleet(ctx, st, standards.Default(), tr.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if f.Trust != "Acorn Trust" || f.Count(1, StandardNotEvidenced) != 2 {
		t.Errorf("trust %q, wireless not evidenced in %d schools", f.Trust, f.Count(1, StandardNotEvidenced))
	}
	var html bytes.Buffer
	if err := f.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Acorn Trust: the core DfE standards", "2 schools", "Elm Academy", "Oak Primary", "<td>2</td>", "CY-1 Yearly cyber risk assessment"} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("trust page lacks %q", s)
		}
	}
	var pdf bytes.Buffer
	if err := f.WritePDF(&pdf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	pdftotext := testenv.RequireBinary(t, "pdftotext")
	file := filepath.Join(t.TempDir(), "trust.pdf")
	if err := os.WriteFile(file, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Acorn Trust", "Elm Academy", "Oak Primary", "Wireless network: 0 met, 0 partly met, 0 not met, 2 not evidenced"} {
		if !strings.Contains(string(out), s) {
			t.Errorf("trust PDF lacks %q", s)
		}
	}
}
