package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// seedYear writes a year of daily download speeds to oak (two tests a
// day, the first 12 days of each quarter below 100 Mbit/s, no tests on
// days 200 to 209) and the agent's health points, rolled up as the store
// does.
func seedYear(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	var pts []point.Point
	first := rollup.Day.Truncate(now).AddDate(-1, 0, 0)
	for i := 0; i < 365; i++ {
		d := first.AddDate(0, 0, i)
		pts = append(pts, point.New("agent", map[string]string{store.TagSite: "oak"}, map[string]any{"queued_batches": 0.0}, d.Add(9*time.Hour)))
		if i >= 200 && i < 210 {
			continue
		}
		mbps := 120.0 + float64(i%7)
		if i%91 < 12 {
			mbps = 60 + float64(i%5)
		}
		for _, h := range []int{9, 14} {
			pts = append(pts, point.New("throughput", map[string]string{store.TagSite: "oak", "direction": "download"},
				map[string]any{"mbps": mbps, "ok": true}, d.Add(time.Duration(h)*time.Hour)))
		}
	}
	if err := st.WriteRollups(ctx, rollup.FromPoints("oak", pts)); err != nil {
		t.Fatal(err)
	}
}

// TestWritePDF renders a report with a year of data as PDF and reads it
// back with pdftotext: the governors' summary, the verdicts, a measured
// figure, the action, the chart and the provenance are all in the text,
// with the signs cp1252 lacks spelt out.
func TestWritePDF(t *testing.T) {
	pdftotext := testenv.RequireBinary(t, "pdftotext")
	st := openStore(t)
	seed(t, st)
	seedYear(t, st)
	cat := testCatalogue()
	cat.Requirements[0].Rule.Conditions[0].Unit = "Mbit/s"
	rep, err := BuildWith(context.Background(), st, cat, "oak", Options{Now: now, Since: now.AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// The period starts at noon: the year's first day is not in it.
	if len(rep.Rows[0].Charts) != 1 || len(rep.Rows[0].Charts[0].Points) != 354 {
		t.Fatalf("BB-2 has %d charts", len(rep.Rows[0].Charts))
	}
	var b bytes.Buffer
	if err := rep.WritePDF(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b.Bytes()[:min(20, b.Len())])
	}
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := string(out)
	for _, s := range []string{
		"Oak Primary", "Summary for governors", "Broadband internet (core)",
		"Met", "Not evidenced", "Partly met", // standard states
		"Attestation expired", "Not enough data", // requirement verdicts
		"Download speed: median 123.45 Mbit/s over 20 samples (needs >= 100 Mbit/s) (met)", // a measured figure
		"Renew the attestation: Expired on 1 May 2026; it needs renewing.",                 // an action
		"[Now] CY-1",
		"Download speed (daily median)", "needs >= 100 Mbit/s", // the chart's title and threshold
		"Measured evidence", "Attested evidence", "“MFA on admin accounts”", "• Download speed",
		"Where the data came from", "data on 365 of 366 days", "catalogue test-1",
		"Page 1 of ",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("PDF text lacks %q", s)
		}
	}
	if strings.Contains(text, "Sam Old") {
		t.Error("PDF shows the superseded attestation")
	}

	// The page shows the same chart inline.
	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"`, "<title>Download speed (daily median)</title>",
		"354 values from 60 to 126 Mbit/s; threshold ≥ 100 Mbit/s; 48 days below", "data on 365 of 366 days",
		"Summary for governors", "<code>throughput</code>"} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// TestReviewPDF: the annual review's PDF has the year's figures and the
// evidence report after them.
func TestReviewPDF(t *testing.T) {
	pdftotext := testenv.RequireBinary(t, "pdftotext")
	st := openStore(t)
	seed(t, st)
	yearOfData(t, st)
	ctx := context.Background()
	if _, err := st.AddFinding(ctx, store.Finding{Site: "oak", From: now.AddDate(-1, 0, 0), To: now, Text: "The upgrade fixed BB-2.", By: "Chair of governors", At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rv, err := BuildReview(ctx, st, standards.Default(), "oak", Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rv.WritePDF(&b); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "review.pdf")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, s := range []string{
		"Oak Primary: annual IT support review", "Through the year", "Jun 25", "May 26",
		"3 outages on 2 days; the longest took 1 min 35 s until service was restored",
		"edge-1", "Ended", "2025-10-31", "CY-1", "expired", "“The upgrade fixed BB-2.” (Chair of governors",
		"Summary for governors", "Where the data came from", "data on 356 of 366 days, 97%",
	} {
		if !strings.Contains(string(out), s) {
			t.Errorf("review PDF lacks %q", s)
		}
	}
}
