package report

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// DueWindow is how far ahead the review lists attestations falling due:
// the next school term.
const DueWindow = 120 * 24 * time.Hour

// Review is the annual IT support review for governors (IT-7): the
// evidence report over the year, and what happened in it.
type Review struct {
	Report *Report `json:"report"`
	// Trend is each standard's state at the end of every month of the period.
	Trend    []StandardTrend  `json:"trend"`
	Months   []time.Time      `json:"months"`
	Outages  []Outage         `json:"outages"`
	Outage   OutageTotals     `json:"outage_totals"`
	Filter   []FilterMonth    `json:"filtering_history"`
	Support  []DeviceSupport  `json:"end_of_support"`
	Due      []AttestationDue `json:"attestations_due"`
	Findings []FindingInfo    `json:"findings"`
}

// StandardTrend is one standard's month-end states.
type StandardTrend struct {
	Standard string       `json:"standard"`
	Name     string       `json:"name"`
	Core     bool         `json:"core"`
	States   []MonthState `json:"months"`
}

// MonthState is a standard's state at the end of a month; "" when nothing
// had been scored by then.
type MonthState struct {
	Month time.Time `json:"month"`
	State string    `json:"state"`
	Label string    `json:"label"`
}

// Outage is a day on which the internet path failed: how many outages
// ended that day and the longest, which is how long it took until
// service was restored.
type Outage struct {
	Day      time.Time `json:"day"`
	Count    int       `json:"count"`
	LongestS float64   `json:"longest_s"`
}

// OutageTotals sums the year's outages.
type OutageTotals struct {
	Days     int     `json:"days"`
	Count    int     `json:"count"`
	LongestS float64 `json:"longest_s"`
}

// FilterMonth is one month of filtering checks.
type FilterMonth struct {
	Month      time.Time `json:"month"`
	Checks     int       `json:"checks"`
	AsExpected int       `json:"as_expected"`
	Share      float64   `json:"share"` // 0..1
}

// DeviceSupport is a device whose vendor support has ended or ends soon.
type DeviceSupport struct {
	Device string    `json:"device"`
	Vendor string    `json:"vendor,omitempty"`
	Model  string    `json:"model,omitempty"`
	Status string    `json:"status"` // past or near
	Date   string    `json:"date,omitempty"`
	Seen   time.Time `json:"seen"`
}

// AttestationDue is an attestation that expires within the next term (or
// has expired).
type AttestationDue struct {
	ReqID   string    `json:"req_id"`
	Title   string    `json:"title"`
	By      string    `json:"by"`
	Expires time.Time `json:"expires"`
	Expired bool      `json:"expired"`
}

// FindingInfo is a reviewer's finding.
type FindingInfo struct {
	Text string    `json:"text"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// ReviewSource is what BuildReview reads.
type ReviewSource interface {
	Source
	Findings(ctx context.Context, site string, from, to time.Time) ([]store.Finding, error)
}

// DefaultReviewPeriod is the review's period unless told: a year.
const DefaultReviewPeriod = 365 * 24 * time.Hour

// BuildReview builds the annual review of a site over [o.Since, o.Now);
// a zero Since is a year before Now.
func BuildReview(ctx context.Context, src ReviewSource, cat *standards.Catalogue, siteID string, o Options) (*Review, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Since.IsZero() {
		o.Since = o.Now.Add(-DefaultReviewPeriod)
	}
	r, err := BuildWith(ctx, src, cat, siteID, o)
	if err != nil {
		return nil, err
	}
	from, to := o.Since.UTC(), o.Now.UTC()
	site, err := src.Site(ctx, siteID)
	if err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	rv := &Review{Report: r, Trend: []StandardTrend{}, Outages: []Outage{}, Filter: []FilterMonth{}, Support: []DeviceSupport{},
		Due: []AttestationDue{}, Findings: []FindingInfo{}}
	if err := rv.trend(ctx, src, cat, site, from, to); err != nil {
		return nil, err
	}
	if err := rv.outages(ctx, src, site.ID, from, to); err != nil {
		return nil, err
	}
	if err := rv.filtering(ctx, src, site.ID, from, to); err != nil {
		return nil, err
	}
	if err := rv.support(ctx, src, site.ID, to); err != nil {
		return nil, err
	}
	for _, row := range r.Rows {
		a := row.Attestation
		if a == nil || row.State == "not_applicable" || a.Expires.After(to.Add(DueWindow)) {
			continue
		}
		rv.Due = append(rv.Due, AttestationDue{ReqID: row.ID, Title: row.Title, By: a.By, Expires: a.Expires, Expired: a.Expired})
	}
	slices.SortStableFunc(rv.Due, func(a, b AttestationDue) int { return a.Expires.Compare(b.Expires) })
	fs, err := src.Findings(ctx, site.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	for _, f := range fs {
		rv.Findings = append(rv.Findings, FindingInfo{Text: f.Text, By: f.By, At: f.At.UTC()})
	}
	return rv, nil
}

// monthEnds are the first instants after each calendar month that ends
// in (from, to], and to itself when it is not one.
func monthEnds(from, to time.Time) []time.Time {
	var out []time.Time
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	for ; !m.After(to); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	if len(out) == 0 || !out[len(out)-1].Equal(to) {
		out = append(out, to)
	}
	return out
}

func (rv *Review) trend(ctx context.Context, src Source, cat *standards.Catalogue, site store.Site, from, to time.Time) error {
	ends := monthEnds(from, to)
	byStd := map[string]*StandardTrend{}
	var order []string
	for _, end := range ends {
		vs, err := src.VerdictsAt(ctx, site.ID, end)
		if err != nil {
			return fmt.Errorf("review: verdicts at %s: %w", end.Format(time.DateOnly), err)
		}
		last := end.Add(-time.Nanosecond) // the month the state is the end of
		month := time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
		rv.Months = append(rv.Months, month)
		scored := len(vs) > 0
		for _, s := range standardSummaries(cat, rows(cat, site, byReq(vs), nil, nil, end), 0) {
			t := byStd[s.Standard]
			if t == nil {
				t = &StandardTrend{Standard: s.Standard, Name: s.Name, Core: s.Core}
				byStd[s.Standard] = t
				order = append(order, s.Standard)
			}
			ms := MonthState{Month: month}
			if scored {
				ms.State, ms.Label = s.State, s.StateLabel
			}
			t.States = append(t.States, ms)
		}
	}
	for _, std := range order {
		rv.Trend = append(rv.Trend, *byStd[std])
	}
	return nil
}

func (rv *Review) outages(ctx context.Context, src rollupSource, siteID string, from, to time.Time) error {
	byDay := map[time.Time]*Outage{}
	for _, field := range []string{"outages", "longest_outage_s"} {
		bs, err := src.Rollups(ctx, store.RollupQuery{Site: siteID, Res: rollup.Day, Measurement: "reachability", Field: field, From: from, To: to})
		if err != nil {
			return fmt.Errorf("review: outages: %w", err)
		}
		for _, b := range bs {
			if b.Count == 0 || b.Max <= 0 {
				continue
			}
			o := byDay[b.Start]
			if o == nil {
				o = &Outage{Day: b.Start}
				byDay[b.Start] = o
			}
			if field == "outages" {
				o.Count += int(b.Sum)
			} else {
				o.LongestS = max(o.LongestS, b.Max)
			}
		}
	}
	for _, d := range slices.SortedFunc(maps.Keys(byDay), time.Time.Compare) {
		o := byDay[d]
		if o.Count == 0 {
			continue
		}
		rv.Outages = append(rv.Outages, *o)
		rv.Outage.Days++
		rv.Outage.Count += o.Count
		rv.Outage.LongestS = max(rv.Outage.LongestS, o.LongestS)
	}
	return nil
}

func (rv *Review) filtering(ctx context.Context, src rollupSource, siteID string, from, to time.Time) error {
	bs, err := src.Rollups(ctx, store.RollupQuery{Site: siteID, Res: rollup.Day, Measurement: "filter", Field: "pass", OnlyOK: true, From: from, To: to})
	if err != nil {
		return fmt.Errorf("review: filtering history: %w", err)
	}
	byMonth := map[time.Time]*FilterMonth{}
	for _, b := range bs {
		m := time.Date(b.Start.Year(), b.Start.Month(), 1, 0, 0, 0, 0, time.UTC)
		fm := byMonth[m]
		if fm == nil {
			fm = &FilterMonth{Month: m}
			byMonth[m] = fm
		}
		fm.Checks += int(b.Count)
		fm.AsExpected += int(b.Values["true"])
	}
	for _, m := range slices.SortedFunc(maps.Keys(byMonth), time.Time.Compare) {
		fm := byMonth[m]
		if fm.Checks > 0 {
			fm.Share = float64(fm.AsExpected) / float64(fm.Checks)
		}
		rv.Filter = append(rv.Filter, *fm)
	}
	return nil
}

// support lists the devices whose latest end-of-support status in the
// period's last week is past or near.
func (rv *Review) support(ctx context.Context, src rollupSource, siteID string, to time.Time) error {
	from := to.Add(-7 * 24 * time.Hour)
	latest := map[string]rollup.Bucket{}
	dates := map[string]string{}
	for _, field := range []string{"eos_status", "eos_date"} {
		bs, err := src.Rollups(ctx, store.RollupQuery{Site: siteID, Measurement: "snmp_device", Field: field, From: from, To: to})
		if err != nil {
			return fmt.Errorf("review: end of support: %w", err)
		}
		for _, b := range bs {
			dev := b.Tags["device"]
			if field == "eos_date" {
				dates[dev] = b.LastText
				continue
			}
			if prev, ok := latest[dev]; !ok || b.LastTime.After(prev.LastTime) {
				latest[dev] = b
			}
		}
	}
	for _, dev := range slices.Sorted(maps.Keys(latest)) {
		b := latest[dev]
		if b.LastText != "past" && b.LastText != "near" {
			continue
		}
		rv.Support = append(rv.Support, DeviceSupport{Device: dev, Vendor: b.Tags["vendor"], Model: b.Tags["model"],
			Status: b.LastText, Date: dates[dev], Seen: b.LastTime.UTC()})
	}
	return nil
}

var reviewPage = template.Must(template.New("review.html").Funcs(template.FuncMap{
	"date":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
	"day":   func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"month": func(t time.Time) string { return t.UTC().Format("Jan 2006") },
	"pct":   func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"dur":   restoreTime,
}).ParseFS(templates, "templates/review.html"))

// restoreTime says how long an outage lasted: "45 s", "3 min 20 s", "2 h 5 min".
func restoreTime(s float64) string {
	d := time.Duration(s * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}

// WriteHTML renders the review page.
func (rv *Review) WriteHTML(w io.Writer) error { return reviewPage.Execute(w, rv) }
