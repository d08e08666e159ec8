package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// csvHeader names the columns of WriteCSV.
var csvHeader = []string{"site", "standard", "requirement", "title", "evidence_type", "state", "summary",
	"condition", "group", "statistic", "value", "unit", "threshold", "op", "samples", "met",
	"attested_by", "attested_on", "expires", "action", "due"}

// WriteCSV writes the report as a table for spreadsheets: one line per
// requirement and measured figure (a requirement without figures has one
// line with the figure columns empty). met is "yes", "no" or "" when there
// was not enough data; dates are YYYY-MM-DD.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	for _, row := range r.Rows {
		var by, on, expires, act, due string
		if a := row.Attestation; a != nil {
			by = a.By
			if a.Role != "" {
				by += " (" + a.Role + ")"
			}
			on, expires = a.Date.Format("2006-01-02"), a.Expires.Format("2006-01-02")
		}
		if row.Action != nil {
			act, due = row.Action.Text, row.Action.DueLabel
		}
		line := func(fig ...string) []string {
			out := []string{r.Site.ID, row.Standard, row.ID, row.Title, row.Evidence, row.State, row.Summary}
			out = append(out, fig...)
			return append(out, by, on, expires, act, due)
		}
		var lines [][]string
		if row.Detail != nil {
			for _, c := range row.Detail.Conditions {
				value, met := "", ""
				if c.Samples > 0 {
					value = strconv.FormatFloat(c.Value, 'f', -1, 64)
				}
				if c.Met != nil {
					met = map[bool]string{true: "yes", false: "no"}[*c.Met]
				}
				lines = append(lines, line(c.Name, c.Group, c.Stat, value, c.Unit,
					strconv.FormatFloat(c.Threshold, 'f', -1, 64), c.Op, strconv.Itoa(c.Samples), met))
			}
		}
		if len(lines) == 0 {
			lines = append(lines, line("", "", "", "", "", "", "", "", ""))
		}
		if err := cw.WriteAll(lines); err != nil {
			return fmt.Errorf("report csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	return nil
}
