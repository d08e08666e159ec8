package report

import (
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"github.com/probity-edu/probity/collector/report/chart"
)

// The PDF is A4 in mm with the core Helvetica fonts: no font files to
// ship, no browser. Their encoding is cp1252, so text goes through
// pdfDoc.tr: the signs cp1252 lacks are spelt out, the rest translated.
const (
	pdfMargin = 15.0
	pdfWidth  = 210 - 2*pdfMargin
	pdfBottom = 297 - 18.0 // where the body stops, above the footer
	pdfChartH = pdfWidth * chartHeight / chartWidth
)

// pdfSafe spells out what cp1252 has no glyph for.
var pdfSafe = strings.NewReplacer("≥", ">=", "≤", "<=", "≠", "!=", "✓", "(met)", "✗", "(not met)",
	"→", "->", "◐", "", "…", "...", "\u00a0", " ")

type pdfDoc struct {
	*fpdf.Fpdf
	cp func(string) string
}

func newPDF(title, footer string) *pdfDoc {
	f := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{Fpdf: f, cp: f.UnicodeTranslatorFromDescriptor("")}
	f.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	f.SetAutoPageBreak(true, 297-pdfBottom)
	f.SetTitle(title, true)
	f.SetCreator("Probity", true)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-13)
		f.SetFont("Helvetica", "", 7.5)
		f.SetTextColor(85, 85, 85)
		f.CellFormat(pdfWidth*0.8, 4, d.tr(footer), "T", 0, "L", false, 0, "")
		f.CellFormat(pdfWidth*0.2, 4, fmt.Sprintf("Page %d of {nb}", f.PageNo()), "T", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	return d
}

func (d *pdfDoc) tr(s string) string { return d.cp(pdfSafe.Replace(s)) }

// heading writes a heading of size pt.
func (d *pdfDoc) heading(s string, size float64) {
	d.SetFont("Helvetica", "B", size)
	d.MultiCell(0, size*0.5, d.tr(s), "", "L", false)
	d.Ln(1.5)
}

// para writes wrapped text in style ("", "B", "I") and size.
func (d *pdfDoc) para(s, style string, size float64) {
	d.SetFont("Helvetica", style, size)
	d.MultiCell(0, size*0.45, d.tr(s), "", "L", false)
}

// indented writes wrapped text from x mm in from the margin, with a grey
// bar at the margin: how the measured and attested parts are told apart.
func (d *pdfDoc) indented(s, style string, size float64, bar [3]int) {
	d.SetFont("Helvetica", style, size)
	// SplitText works on UTF-8 (cp1252 bytes would become U+FFFD): split
	// first, translate each line after.
	lines := d.SplitText(pdfSafe.Replace(s), pdfWidth-5)
	h := size * 0.45
	for _, l := range lines {
		if d.GetY()+h > pdfBottom {
			d.AddPage()
		}
		y := d.GetY()
		d.SetFillColor(bar[0], bar[1], bar[2])
		d.Rect(pdfMargin, y, 1.2, h, "F")
		d.SetX(pdfMargin + 4)
		d.CellFormat(pdfWidth-4, h, d.cp(l), "", 1, "L", false, 0, "")
	}
}

// need starts a new page unless h mm fit.
func (d *pdfDoc) need(h float64) {
	if d.GetY()+h > pdfBottom {
		d.AddPage()
	}
}

func (d *pdfDoc) chart(c Chart) {
	d.need(pdfChartH + 2)
	y := d.GetY()
	chart.PDF(d.Fpdf, chartOf(c), pdfMargin, y, pdfWidth, pdfChartH, d.tr)
	d.SetFont("Helvetica", "", 9)
	d.SetY(y + pdfChartH + 2)
}

var (
	barMeasured = [3]int{110, 140, 200}
	barAttested = [3]int{200, 160, 90}
)

// WritePDF renders the report as an A4 PDF with the structure of the
// page: the governors' summary, a page per standard with its rows,
// figures, charts and actions, the filtering checks and where the data
// came from.
func (r *Report) WritePDF(w io.Writer) error {
	d := newPDF(r.Site.Name+": DfE digital and technology standards evidence",
		r.Site.Name+" · catalogue "+r.Catalogue.Version+" · generated "+r.Generated.UTC().Format("2 Jan 2006 15:04 MST"))
	d.SetCreationDate(r.Generated)
	d.SetModificationDate(r.Generated)
	r.pdfPages(d)
	return d.finish(w)
}

// pdfPages writes the report's pages into d.
func (r *Report) pdfPages(d *pdfDoc) {
	d.AddPage()

	// The governors' page.
	d.heading(r.Site.Name, 18)
	meta := "Phase: " + r.Site.Phase
	if r.Site.Trust != "" {
		meta = r.Site.Trust + " · " + meta
	}
	if r.Site.URN != "" {
		meta += " · URN " + r.Site.URN
	}
	d.para(meta, "", 9.5)
	d.para("Evidence against the DfE digital and technology standards, catalogue "+r.Catalogue.Version+
		", from "+periodText(r.Period)+". Report generated "+r.Generated.UTC().Format("2 Jan 2006 15:04 MST")+".", "", 9.5)
	d.Ln(4)
	d.heading("Summary for governors", 14)
	for _, s := range r.Standards {
		d.need(16)
		name := s.Name
		if s.Core {
			name += " (core)"
		}
		d.SetFont("Helvetica", "B", 10.5)
		d.CellFormat(pdfWidth*0.62, 5.2, d.tr(name), "", 0, "L", false, 0, "")
		d.CellFormat(pdfWidth*0.38, 5.2, d.tr(s.StateLabel+changeText(s)), "", 1, "R", false, 0, "")
		d.para(s.Why, "", 9)
		d.SetFont("Helvetica", "", 8)
		d.SetTextColor(85, 85, 85)
		d.CellFormat(0, 4, fmt.Sprintf("%d of %d requirements met or attested", s.Met, s.Total), "", 1, "L", false, 0, "")
		d.SetTextColor(0, 0, 0)
		d.Ln(2)
	}
	d.Ln(2)
	d.heading("Actions due now", 12)
	if len(r.Actions) == 0 {
		d.para("No core requirement has a gap that is due now.", "", 9.5)
	}
	for i, a := range r.Actions[:min(len(r.Actions), topActions)] {
		d.need(10)
		d.para(fmt.Sprintf("%d. [%s] %s %s: %s", i+1, a.DueLabel, a.ID, a.Title, a.Text), "", 9.5)
		d.Ln(1)
	}
	if n := len(r.Actions) - topActions; n > 0 {
		d.para(fmt.Sprintf("And %d more, each with its requirement in the pages that follow.", n), "I", 9)
	}
	d.Ln(3)
	d.heading("Changes since "+r.ComparedWith.UTC().Format("2 Jan 2006"), 12)
	switch {
	case len(r.Changes) > 0:
		for _, c := range r.Changes {
			d.para(c.ID+": "+c.From+" → "+c.To, "", 9.5)
		}
	case r.Compared > 0:
		d.para("No requirement's verdict has changed since "+r.ComparedWith.UTC().Format("2 Jan 2006")+".", "", 9.5)
	default:
		d.para("No verdicts were stored as early as "+r.ComparedWith.UTC().Format("2 Jan 2006")+", so there is nothing to compare with yet.", "", 9.5)
	}

	// A page per standard.
	for _, sec := range r.Sections {
		d.AddPage()
		name := sec.Name
		if sec.Core {
			name += " (core standard)"
		}
		d.Bookmark(d.tr(sec.Name), 0, -1)
		d.heading(name, 15)
		var tot []string
		for _, t := range sec.Totals {
			tot = append(tot, fmt.Sprintf("%s: %d", t.Label, t.Count))
		}
		d.para(strings.Join(tot, "   "), "", 9)
		d.Ln(3)
		for _, row := range sec.Rows {
			d.pdfRow(r, row)
		}
	}

	if f := r.Filtering; f != nil {
		d.AddPage()
		d.heading("Filtering checks", 15)
		d.para(fmt.Sprintf("%d checks between %s and %s by %s, as %s.", f.Checks, f.From.UTC().Format("2 Jan 2006 15:04"),
			f.To.UTC().Format("2 Jan 2006 15:04 MST"), andList(f.Agents), andList(f.Profiles)), "", 9.5)
		d.Ln(2)
		if len(f.Unexpected) == 0 {
			d.para(fmt.Sprintf("All %d profile and target pairs were as expected in their latest check.", f.Targets), "", 9.5)
		} else {
			d.para(fmt.Sprintf("%d of %d profile and target pairs were not as expected in their latest check:", len(f.Unexpected), f.Targets), "B", 9.5)
			for _, c := range f.Unexpected {
				should := "allowed"
				if c.Expect == "block" {
					should = "blocked"
				}
				how := mechanismWords(c.Mechanism)
				if c.Detail != "" {
					how += " (" + c.Detail + ")"
				}
				d.para(fmt.Sprintf("%s / %s (%s): should be %s, was %s; %s; checked %s by %s", c.Profile, c.Target, c.Category, should, c.Outcome,
					how, c.At.UTC().Format("2 Jan 2006 15:04"), c.Agent), "", 9)
			}
		}
		for _, c := range f.Errors {
			d.para(fmt.Sprintf("Could not tell: %s / %s (%s %s)", c.Profile, c.Target, mechanismWords(c.Mechanism), c.Error), "", 9)
		}
		for _, s := range f.SafeSearch {
			d.para(fmt.Sprintf("SafeSearch not enforced: %s / %s (%s) %s%s", s.Profile, s.Host, s.Engine, s.Detail, s.Error), "", 9)
		}
	}

	if c := r.Cyber; c != nil {
		d.AddPage()
		d.heading("Cyber security checks", 15)
		d.para(fmt.Sprintf("Measured from the agent's place on the school network between %s and %s: %d checks, the latest result of each.",
			c.From.UTC().Format("2 Jan 2006 15:04"), c.To.UTC().Format("2 Jan 2006 15:04 MST"), c.Checks), "", 9.5)
		d.Ln(2)
		if len(c.Findings) == 0 {
			d.para(fmt.Sprintf("None of the %d checks found anything to fix.", c.Checks), "", 9.5)
		} else {
			d.para(fmt.Sprintf("%d of %d found something to fix, most serious first:", len(c.Findings), c.Checks), "B", 9.5)
			for _, f := range c.Findings {
				d.para(fmt.Sprintf("%s: %s (%s, from the %s VLAN): %s", f.Name, f.Target, f.Severity, f.VLAN, f.Detail), "B", 9)
				if f.Fix != "" {
					d.para("What to do: "+f.Fix, "", 9)
				}
			}
		}
		for _, f := range c.Incomplete {
			d.para(fmt.Sprintf("Could not tell: %s of %s %s", f.Name, f.Target, f.Detail), "", 9)
		}
	}

	d.AddPage()
	d.pdfProvenance(r)
}

func (d *pdfDoc) finish(w io.Writer) error {
	if err := d.Output(w); err != nil {
		return fmt.Errorf("report pdf: %w", err)
	}
	return nil
}

// changeText: " (was Partly met)" when the standard's state moved.
func changeText(s StandardSummary) string {
	if s.Previous != "" && s.Previous != s.State {
		return " (was " + s.PreviousLabel + ")"
	}
	return ""
}

// pdfRow writes one requirement: its verdict, action, measured evidence
// with charts, and attested evidence apart.
func (d *pdfDoc) pdfRow(r *Report, row Row) {
	d.need(30)
	d.SetDrawColor(200, 200, 200)
	d.Line(pdfMargin, d.GetY(), pdfMargin+pdfWidth, d.GetY())
	d.Ln(2)
	d.para(row.ID+"  "+row.Title, "B", 10.5)
	d.SetFont("Helvetica", "", 8)
	d.SetTextColor(85, 85, 85)
	d.MultiCell(0, 3.8, d.tr(evidenceName(row.Evidence)+(map[bool]string{true: " · " + row.Note}[row.Note != ""])), "", "L", false)
	d.SetTextColor(0, 0, 0)
	verdict := "Verdict: " + row.StateLabel
	if row.Previous != nil {
		verdict += " (was " + strings.ToLower(row.Previous.StateLabel) + " on " + r.ComparedWith.UTC().Format("2 Jan 2006") + ")"
	}
	d.para(verdict, "B", 9.5)
	d.para(row.Summary, "", 9)
	if a := row.Action; a != nil {
		d.para("Action ("+a.DueLabel+"): "+a.Text, "B", 9)
	}
	d.Ln(1.5)

	d.indented("Measured evidence", "B", 9, barMeasured)
	if row.Measured.Status == MeasuredFigures && row.Detail != nil {
		for _, c := range row.Detail.Conditions {
			d.indented("• "+figure(c), "", 9, barMeasured)
		}
		d.indented(row.Measured.Text, "I", 8.5, barMeasured)
		if row.Detail.Note != "" {
			d.indented(row.Detail.Note, "I", 8.5, barMeasured)
		}
	} else {
		d.indented(row.Measured.Text, "I", 9, barMeasured)
	}
	for _, c := range row.Charts {
		d.Ln(1)
		d.chart(c)
	}
	d.Ln(1.5)
	if row.Attested.Status != AttestedNotNeed && row.Attested.Status != AttestedNotApply {
		d.indented("Attested evidence", "B", 9, barAttested)
		if a := row.Attestation; a != nil {
			d.indented("“"+a.Note+"”", "I", 9, barAttested)
			by := a.By
			if a.Role != "" {
				by += ", " + a.Role
			}
			by += "; dated " + a.Date.UTC().Format("2 Jan 2006")
			if a.Link != "" {
				by += " · evidence: " + a.Link
			}
			d.indented(by, "", 9, barAttested)
		}
		d.indented(row.Attested.Text, "", 9, barAttested)
		if a := row.Attestation; a != nil && a.RecordedBy != "" {
			d.indented("Recorded by "+a.RecordedBy+" on "+a.RecordedAt.UTC().Format("2 Jan 2006 15:04 MST"), "", 8, barAttested)
		}
	} else {
		d.indented("Attested evidence: "+row.Attested.Text, "", 9, barAttested)
	}
	d.Ln(3)
}

func (d *pdfDoc) pdfProvenance(r *Report) {
	d.heading("Where the data came from", 15)
	d.para("Catalogue "+r.Catalogue.Version+", checked against the DfE pages on "+r.Catalogue.Checked+".", "", 9.5)
	cov := "no whole day"
	if c := r.Coverage; c.Days > 0 {
		cov = fmt.Sprintf("data on %d of %d days, %.0f%%", c.DaysWithData, c.Days, c.Share*100)
	}
	d.para("Period "+periodText(r.Period)+": "+cov+".", "", 9.5)
	d.para("Report generated "+r.Generated.UTC().Format("2 Jan 2006 15:04 MST")+".", "", 9.5)
	d.Ln(3)
	d.heading("Agents", 11)
	if len(r.Agents) == 0 {
		d.para("No agent is enrolled for this site yet.", "", 9.5)
	}
	for _, a := range r.Agents {
		d.para(fmt.Sprintf("%s on %s, version %s; last data %s", a.ID, a.Hostname, a.Version, dateOrDash(a.LastSeen)), "", 9.5)
	}
	d.Ln(2)
	d.heading("Measurements sent in the last week", 11)
	if len(r.Probes) == 0 {
		d.para("No agent has sent measurements in the last week.", "", 9.5)
	}
	for _, p := range r.Probes {
		d.para(fmt.Sprintf("%s: %d series, last day with data %s", p.Measurement, p.Series, p.LastDay.UTC().Format("2 Jan 2006")), "", 9.5)
	}
	d.Ln(3)
	d.para("Measured evidence comes from Probity agents on the school network; attested evidence is a named person's record, which lasts a year "+
		"(a term for some cyber security rows) and is kept when a newer one replaces it.", "I", 8.5)
}

// stateMark is a standard's state in the review's month table: a letter,
// so it reads without colour.
func stateMark(state string) string {
	switch state {
	case StandardMet:
		return "M"
	case StandardPartlyMet:
		return "P"
	case StandardNotMet:
		return "N"
	case StandardNotEvidenced:
		return "?"
	}
	return "–"
}

// WritePDF renders the annual review as an A4 PDF: the year in figures
// (each standard month by month, outages, filtering checks, devices out
// of support, attestations falling due, the reviewers' findings), then
// the evidence report's pages.
func (rv *Review) WritePDF(w io.Writer) error {
	r := rv.Report
	d := newPDF(r.Site.Name+": annual IT support review",
		r.Site.Name+" · annual IT support review · catalogue "+r.Catalogue.Version+" · generated "+r.Generated.UTC().Format("2 Jan 2006 15:04 MST"))
	d.SetCreationDate(r.Generated)
	d.SetModificationDate(r.Generated)
	d.AddPage()
	d.heading(r.Site.Name+": annual IT support review", 17)
	d.para("The IT support review for governors (DfE IT support standard), from "+periodText(r.Period)+
		". Report generated "+r.Generated.UTC().Format("2 Jan 2006 15:04 MST")+".", "", 9.5)
	d.Ln(4)

	d.heading("Through the year", 12)
	d.para("Each standard's state at the end of every month: M met, P partly met, N not met, ? not evidenced, – nothing scored yet.", "I", 8.5)
	d.Ln(1)
	nameW := 52.0
	cellW := (pdfWidth - nameW) / float64(max(1, len(rv.Months)))
	d.SetFont("Helvetica", "B", 7.5)
	d.CellFormat(nameW, 5, "", "B", 0, "L", false, 0, "")
	for _, m := range rv.Months {
		d.CellFormat(cellW, 5, m.Format("Jan 06"), "B", 0, "C", false, 0, "")
	}
	d.Ln(-1)
	d.SetFont("Helvetica", "", 8)
	for _, t := range rv.Trend {
		d.CellFormat(nameW, 4.6, d.tr(t.Name), "", 0, "L", false, 0, "")
		for _, s := range t.States {
			d.CellFormat(cellW, 4.6, d.tr(stateMark(s.State)), "", 0, "C", false, 0, "")
		}
		d.Ln(-1)
	}
	d.Ln(4)

	d.heading("Internet outages", 12)
	if rv.Outage.Count == 0 {
		d.para("No outage of the internet path was recorded.", "", 9.5)
	} else {
		d.para(fmt.Sprintf("%d outages on %d days; the longest took %s until service was restored.", rv.Outage.Count, rv.Outage.Days, restoreTime(rv.Outage.LongestS)), "", 9.5)
		for _, o := range rv.Outages {
			d.para(fmt.Sprintf("%s: %d, the longest %s", o.Day.UTC().Format("2 Jan 2006"), o.Count, restoreTime(o.LongestS)), "", 9)
		}
	}
	d.Ln(3)

	d.heading("Filtering checks", 12)
	if len(rv.Filter) == 0 {
		d.para("No filtering checks were recorded.", "", 9.5)
	}
	for _, m := range rv.Filter {
		d.para(fmt.Sprintf("%s: %d checks, %d as expected (%.0f%%)", m.Month.Format("Jan 2006"), m.Checks, m.AsExpected, m.Share*100), "", 9)
	}
	d.Ln(3)

	d.heading("Devices out of vendor support", 12)
	if len(rv.Support) == 0 {
		d.para("No device's vendor support has ended or ends soon.", "", 9.5)
	}
	for _, s := range rv.Support {
		status := "Ends soon"
		if s.Status == "past" {
			status = "Ended"
		}
		d.para(fmt.Sprintf("%s (%s %s): %s %s; last seen %s", s.Device, s.Vendor, s.Model, status, s.Date, s.Seen.UTC().Format("2 Jan 2006")), "", 9)
	}
	d.Ln(3)

	d.heading("Attestations falling due", 12)
	if len(rv.Due) == 0 {
		d.para("No attestation expires before the end of next term.", "", 9.5)
	}
	for _, a := range rv.Due {
		exp := "expires"
		if a.Expired {
			exp = "expired"
		}
		d.para(fmt.Sprintf("%s %s, by %s: %s %s", a.ReqID, a.Title, a.By, exp, a.Expires.UTC().Format("2 Jan 2006")), "", 9)
	}
	d.Ln(3)

	d.heading("Findings", 12)
	if len(rv.Findings) == 0 {
		d.para("No finding has been recorded for this period.", "", 9.5)
	}
	for _, f := range rv.Findings {
		d.para("“"+f.Text+"” ("+f.By+", "+f.At.UTC().Format("2 Jan 2006")+")", "", 9.5)
	}

	r.pdfPages(d)
	return d.finish(w)
}
