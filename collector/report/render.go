package report

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/report/chart"
	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
)

//go:embed templates/*.html
var templates embed.FS

var page = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"date":      func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
	"day":       func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datePtr":   func(t *time.Time) string { return dateOrDash(t) },
	"figure":    figure,
	"standard":  standardName,
	"evidence":  evidenceName,
	"lower":     strings.ToLower,
	"mechanism": mechanismWords,
	"join":      func(xs []string) string { return andList(xs) },
	"svg":       chartSVG,
	"percent":   func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"period":    periodText,
	"top":       func(as []Action) []Action { return as[:min(len(as), topActions)] },
	"more":      func(as []Action) int { return max(0, len(as)-topActions) },
}).ParseFS(templates, "templates/report.html"))

func evidenceName(e string) string {
	switch e {
	case standards.EvidenceMeasured:
		return "Measured"
	case standards.EvidencePartly:
		return "Partly measured, partly attested"
	case standards.EvidenceAttested:
		return "Attested"
	}
	return e
}

func dateOrDash(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006 15:04 MST")
}

// figure writes one condition's evidence as a short line.
func figure(c score.ConditionEvidence) string {
	var b strings.Builder
	b.WriteString(c.Name)
	if c.Group != "" {
		fmt.Fprintf(&b, " (%s)", c.Group)
	}
	b.WriteString(": ")
	switch {
	case c.Met == nil:
		fmt.Fprintf(&b, "not enough data (%d samples)", c.Samples)
	default:
		fmt.Fprintf(&b, "%s %s%s over %d samples", c.Stat, trim(c.Value), unit(c.Unit), c.Samples)
		for _, k := range slices.Sorted(maps.Keys(c.Also)) {
			fmt.Fprintf(&b, ", %s %s%s", k, trim(c.Also[k]), unit(c.Unit))
		}
		fmt.Fprintf(&b, " (needs %s %s%s)", opSign(c.Op), trim(c.Threshold), unit(c.Unit))
		if *c.Met {
			b.WriteString(" ✓")
		} else {
			b.WriteString(" ✗")
		}
	}
	if c.Excluded > 0 {
		var eqs []string
		for _, k := range slices.Sorted(maps.Keys(c.Exclude)) {
			eqs = append(eqs, k+"="+c.Exclude[k])
		}
		fmt.Fprintf(&b, "; %d left out (%s)", c.Excluded, strings.Join(eqs, ", "))
	}
	if servers := seriesTag(c.Series, "server"); len(servers) > 0 {
		fmt.Fprintf(&b, "; server %s", strings.Join(servers, ", "))
	}
	if c.Policy != nil {
		fmt.Fprintf(&b, " [%s]", c.Policy.Describe())
	}
	return b.String()
}

func unit(u string) string {
	switch u {
	case "", "count":
		return ""
	case "%":
		return "%"
	}
	return " " + u
}

func opSign(op string) string {
	if s, ok := map[string]string{"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "eq": "=", "ne": "≠"}[op]; ok {
		return s
	}
	return op
}

func trim(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

var standardNames = map[string]string{
	"broadband": "Broadband internet", "wireless": "Wireless network", "switching": "Network switching",
	"cabling": "Network cabling", "cyber": "Cyber security", "filtering": "Filtering and monitoring",
	"cloud": "Cloud solutions", "servers": "Servers and storage", "leadership": "Digital leadership and governance",
	"devices": "Laptops, desktops and tablets", "accessibility": "Digital accessibility", "it-support": "IT support",
}

func standardName(s string) string {
	if n, ok := standardNames[s]; ok {
		return n
	}
	return s
}

// WriteHTML renders the printable report page.
func (r *Report) WriteHTML(w io.Writer) error {
	return page.Execute(w, r)
}

// WriteJSON writes the same content as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// seriesTag lists the distinct values of one tag in series keys
// ("throughput,direction=download,server=speed.example.net"), sorted.
func seriesTag(series []string, tag string) []string {
	seen := map[string]bool{}
	for _, sk := range series {
		for _, kv := range strings.Split(sk, ",")[1:] {
			if v, ok := strings.CutPrefix(kv, tag+"="); ok {
				seen[v] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// andList joins "a, b and c".
func andList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// topActions is how many actions the governors' page lists; the rest are
// with their rows.
const topActions = 8

// Chart sizes in points, the same in the page and the PDF.
const chartWidth, chartHeight = 560.0, 170.0

// chartOf is a report chart as the chart package draws it.
func chartOf(c Chart) chart.Chart {
	out := chart.Chart{Title: c.Title, Unit: c.Unit, Threshold: c.Threshold, Op: c.Op, From: c.From, To: c.To}
	for _, p := range c.Points {
		out.Points = append(out.Points, chart.Point{Day: p.Day, Value: p.Value})
	}
	return out
}

// chartSVG is the inline SVG of c.
func chartSVG(c Chart) (template.HTML, error) {
	var b strings.Builder
	if err := chart.SVG(&b, chartOf(c), chartWidth, chartHeight); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // chart escapes every text it writes
}

// periodText: "3 Mar 2026 to 1 Jun 2026".
func periodText(p Period) string {
	return p.From.UTC().Format("2 Jan 2006") + " to " + p.To.UTC().Format("2 Jan 2006")
}
