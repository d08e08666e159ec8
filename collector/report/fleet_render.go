package report

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

// fleetStates are the columns of the trust report's count table.
var fleetStates = []string{StandardMet, StandardPartlyMet, StandardNotMet, StandardNotEvidenced}

var trustPage = template.Must(template.New("trust.html").Funcs(template.FuncMap{
	"date":   func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
	"pct":    func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"states": func() []string { return fleetStates },
	"count":  func(f *Fleet, i int, state string) int { return f.Count(i, state) },
}).ParseFS(templates, "templates/trust.html"))

// Count is how many schools are in state on the i-th core standard.
func (f *Fleet) Count(i int, state string) int {
	n := 0
	for _, s := range f.Schools {
		if i < len(s.Cells) && s.Cells[i].State == state {
			n++
		}
	}
	return n
}

// WriteHTML renders the trust report: how many schools meet each core
// standard, and every school's state on each with the reason.
func (f *Fleet) WriteHTML(w io.Writer) error { return trustPage.Execute(w, f) }

// WritePDF renders the same as a PDF.
func (f *Fleet) WritePDF(w io.Writer) error {
	name := f.Trust
	if name == "" {
		name = "Every trust"
	}
	stamp := f.Generated.UTC().Format("2 Jan 2006 15:04 MST")
	d := newPDF(name+": the core DfE standards", name+" · scored "+stamp)
	d.AddPage()
	d.heading(name+": the core DfE standards", 16)
	d.para(fmt.Sprintf("%d schools, scored %s. Coverage is the share of the last 30 days with data from each school's agents.", len(f.Schools), stamp), "", 9)
	d.Ln(3)
	d.heading("How many schools meet each core standard", 12)
	for i, std := range f.Standards {
		d.para(fmt.Sprintf("%s: %d met, %d partly met, %d not met, %d not evidenced", std.Name,
			f.Count(i, StandardMet), f.Count(i, StandardPartlyMet), f.Count(i, StandardNotMet), f.Count(i, StandardNotEvidenced)), "", 9.5)
	}
	d.Ln(3)
	d.heading("Every school", 12)
	for _, s := range f.Schools {
		d.need(40)
		d.para(fmt.Sprintf("%s (%s, data on %.0f%% of the last 30 days)", s.Site.Name, s.Site.Phase, s.Coverage*100), "B", 10.5)
		for i, c := range s.Cells {
			d.indented(f.Standards[i].Name+": "+c.Label+". "+c.Why, "", 8.5, [3]int{170, 170, 170})
		}
		d.Ln(2)
	}
	return d.finish(w)
}
