// Package report builds a site's evidence report once (Build) and renders it
// as HTML or JSON, and sums a trust's sites up per standard (TrustSummary).
// The site model holds every requirement of the catalogue with its verdict,
// the measured and the attested evidence apart, and the verdict as it stood
// at an earlier date, so each renderer shows the same content.
package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// Source is what Build reads.
type Source interface {
	Site(ctx context.Context, id string) (store.Site, error)
	Trusts(ctx context.Context) ([]store.Trust, error)
	Agents(ctx context.Context, siteID string) ([]store.Agent, error)
	Verdicts(ctx context.Context, site string) ([]store.Verdict, error)
	VerdictsAt(ctx context.Context, site string, at time.Time) ([]store.Verdict, error)
	Attestations(ctx context.Context, site string) ([]store.Attestation, error)
	Points(ctx context.Context, q store.PointQuery) ([]point.Point, error)
	Rollups(ctx context.Context, q store.RollupQuery) ([]rollup.Bucket, error)
}

// Report is one site's evidence.
type Report struct {
	Site      SiteInfo      `json:"site"`
	Generated time.Time     `json:"generated"`
	Catalogue CatalogueInfo `json:"catalogue"`
	// ComparedWith is the time the previous verdicts are taken from.
	ComparedWith time.Time `json:"compared_with"`
	// Compared counts the requirements that had a verdict at ComparedWith;
	// 0 means the history does not reach back that far.
	Compared int         `json:"compared"`
	Agents   []AgentInfo `json:"agents"`
	Totals   []Total     `json:"totals"`
	Rows     []Row       `json:"requirements"`
	// Changes lists the requirements whose state differs from
	// ComparedWith, in catalogue order.
	Changes []Change `json:"changes"`
	// Sections groups Rows by standard for the page; JSON has Rows only.
	Sections []Section `json:"-"`
	// Filtering is the log of the last day's filtering checks, with the
	// targets that were not as expected; nil when there were none.
	Filtering *Filtering `json:"filtering,omitempty"`
	// Cyber is what the agent's cyber security checks found in the last
	// CyberWindow, findings with their fix; nil when none ran.
	Cyber *Cyber `json:"cyber,omitempty"`

	// Period is what the charts, coverage and changes cover: from
	// ComparedWith to Generated.
	Period Period `json:"period"`
	// Standards is the governors' summary: one line per standard, the
	// core standards first.
	Standards []StandardSummary `json:"standards"`
	// Actions are the gaps of the core standards that are due now, in
	// catalogue order; every row carries its own action too.
	Actions  []Action    `json:"actions"`
	Coverage Coverage    `json:"coverage"`
	Probes   []ProbeInfo `json:"probes"`
}

// Period is a span of time [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// SiteInfo names the school.
type SiteInfo struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	URN   string `json:"urn,omitempty"`
	Phase string `json:"phase"`
	Trust string `json:"trust"`
}

// CatalogueInfo says which catalogue the verdicts came from.
type CatalogueInfo struct {
	Version string `json:"version"`
	Checked string `json:"checked"`
}

// AgentInfo is provenance: which agents produced the data.
type AgentInfo struct {
	ID       string     `json:"id"`
	Hostname string     `json:"hostname"`
	Version  string     `json:"version"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
}

// Total counts requirements in one state.
type Total struct {
	State string `json:"state"`
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Row is one requirement with its verdict and the two kinds of evidence
// kept apart.
type Row struct {
	ID          string          `json:"id"`
	Standard    string          `json:"standard"`
	Title       string          `json:"title"`
	Note        string          `json:"note,omitempty"` // the catalogue's caveat for readers
	Core        bool            `json:"core"`
	Evidence    string          `json:"evidence_type"`
	State       string          `json:"state"`
	StateLabel  string          `json:"state_label"`
	Summary     string          `json:"summary"`
	Detail      *score.Evidence `json:"evidence,omitempty"`
	EvaluatedAt *time.Time      `json:"evaluated_at,omitempty"`

	Measured    Measured         `json:"measured"`
	Attested    Attested         `json:"attested"`
	Attestation *AttestationInfo `json:"attestation,omitempty"` // the current one, from the store
	Previous    *Previous        `json:"previous,omitempty"`    // set when the state changed
	Action      *Action          `json:"action,omitempty"`      // the gap and what to do; nil when met
	Charts      []Chart          `json:"charts,omitempty"`      // daily figures over the period
}

// What the measured and attested parts of a row are, for the page and for
// tools reading the JSON.
const (
	MeasuredFigures     = "figures"        // Detail holds the figures
	MeasuredNoData      = "awaiting_data"  // a rule exists, but its probes have sent nothing in its window
	MeasuredNoProbe     = "awaiting_probe" // no rule yet: the probe is planned (partly measured rows are attested meanwhile)
	MeasuredNotScored   = "not_scored"     // a rule exists; no verdict stored yet
	MeasuredNone        = "not_measurable" // attested only
	MeasuredNotApplying = "not_applicable"

	AttestedCurrent  = "current"
	AttestedExpired  = "expired"
	AttestedMissing  = "missing"
	AttestedNotNeed  = "not_needed" // measured only
	AttestedNotApply = "not_applicable"
)

// Measured says what a row's measured evidence is.
type Measured struct {
	Status string `json:"status"` // one of the Measured* constants
	Text   string `json:"text"`   // the same in a sentence
}

// Attested says what a row's attested evidence is.
type Attested struct {
	Status string `json:"status"` // one of the Attested* constants
	Text   string `json:"text"`
}

// AttestationInfo is the current attestation of a requirement.
type AttestationInfo struct {
	ID         int64     `json:"id"`
	By         string    `json:"by"`
	Role       string    `json:"role,omitempty"`
	Note       string    `json:"note"`
	Link       string    `json:"link,omitempty"`
	Date       time.Time `json:"date"`
	Expires    time.Time `json:"expires"`
	Expired    bool      `json:"expired"`
	RecordedBy string    `json:"recorded_by,omitempty"`
	RecordedAt time.Time `json:"recorded_at,omitzero"`
}

// Previous is a requirement's verdict as it stood at ComparedWith.
type Previous struct {
	State       string    `json:"state"`
	StateLabel  string    `json:"state_label"`
	EvaluatedAt time.Time `json:"evaluated_at"`
}

// Change is one requirement whose state moved since ComparedWith.
type Change struct {
	ID   string `json:"id"`
	From string `json:"from"` // state label then
	To   string `json:"to"`   // state label now
}

// Section is one standard's rows.
type Section struct {
	Standard string
	Name     string
	Core     bool
	Rows     []Row
	Totals   []Total
}

// NotScored is the state of a requirement with no stored verdict yet.
const NotScored = "not_scored"

// DefaultSince is how far back a report looks for changes unless told: about
// a school term.
const DefaultSince = 90 * 24 * time.Hour

// Options tune BuildWith.
type Options struct {
	Now time.Time
	// Since is when the previous verdicts are taken from; zero means
	// DefaultSince before Now.
	Since time.Time
}

// Build assembles the report of site from stored verdicts and
// attestations, comparing with DefaultSince ago.
func Build(ctx context.Context, src Source, cat *standards.Catalogue, siteID string, now time.Time) (*Report, error) {
	return BuildWith(ctx, src, cat, siteID, Options{Now: now})
}

// BuildWith is Build with options.
func BuildWith(ctx context.Context, src Source, cat *standards.Catalogue, siteID string, o Options) (*Report, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	since := o.Since
	if since.IsZero() {
		since = now.Add(-DefaultSince)
	}
	site, err := src.Site(ctx, siteID)
	if err != nil {
		return nil, fmt.Errorf("report: site %q: %w", siteID, err)
	}
	r := &Report{
		Site:         SiteInfo{ID: site.ID, Name: site.Name, URN: site.URN, Phase: site.Phase},
		Generated:    now.UTC(),
		Catalogue:    CatalogueInfo{Version: cat.Version, Checked: cat.Checked},
		ComparedWith: since.UTC(),
		Agents:       []AgentInfo{},
		Changes:      []Change{},
	}
	trusts, err := src.Trusts(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: trusts: %w", err)
	}
	for _, t := range trusts {
		if t.ID == site.TrustID {
			r.Site.Trust = t.Name
		}
	}
	agents, err := src.Agents(ctx, site.ID)
	if err != nil {
		return nil, fmt.Errorf("report: agents: %w", err)
	}
	hosts := map[string]string{}
	for _, a := range agents {
		hosts[a.ID] = a.Hostname
		ai := AgentInfo{ID: a.ID, Hostname: a.Hostname, Version: a.Version}
		if !a.LastSeen.IsZero() {
			ls := a.LastSeen.UTC()
			ai.LastSeen = &ls
		}
		r.Agents = append(r.Agents, ai)
	}
	current, err := src.Verdicts(ctx, site.ID)
	if err != nil {
		return nil, fmt.Errorf("report: verdicts: %w", err)
	}
	before, err := src.VerdictsAt(ctx, site.ID, since)
	if err != nil {
		return nil, fmt.Errorf("report: verdicts at %s: %w", since.Format(time.RFC3339), err)
	}
	atts, err := src.Attestations(ctx, site.ID)
	if err != nil {
		return nil, fmt.Errorf("report: attestations: %w", err)
	}
	r.Compared = len(before)
	r.Rows = rows(cat, site, byReq(current), byReq(before), atts, now)
	r.Totals = totals(r.Rows)
	for _, row := range r.Rows {
		if row.Previous != nil {
			r.Changes = append(r.Changes, Change{ID: row.ID, From: row.Previous.StateLabel, To: row.StateLabel})
		}
	}
	r.Period = Period{From: since.UTC(), To: now.UTC()}
	r.Actions = []Action{}
	dc := &dailyCache{src: src, site: site.ID, from: since, to: now}
	for i := range r.Rows {
		row := &r.Rows[i]
		req, _ := cat.Requirement(row.ID)
		row.Action = action(req, *row)
		if row.Action != nil && row.Core && row.Action.Due == "now" {
			r.Actions = append(r.Actions, *row.Action)
		}
		if row.Charts, err = charts(ctx, dc, site, req); err != nil {
			return nil, fmt.Errorf("report: charts: %w", err)
		}
	}
	r.Standards = standardSummaries(cat, r.Rows, r.Compared)
	r.Sections = sections(r.Rows)
	if r.Filtering, err = buildFiltering(ctx, src, site.ID, hosts, now); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if r.Cyber, err = buildCyber(ctx, src, site.ID, hosts, now); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if r.Coverage, err = coverage(ctx, src, site.ID, since, now); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if r.Probes, err = probes(ctx, src, site.ID, now); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return r, nil
}

func byReq(vs []store.Verdict) map[string]store.Verdict {
	m := make(map[string]store.Verdict, len(vs))
	for _, v := range vs {
		m[v.ReqID] = v
	}
	return m
}

// stateLabel is the state in plain English, including NotScored.
func stateLabel(state string) string {
	if state == NotScored {
		return "Not yet scored"
	}
	return score.State(state).Label()
}

func rows(cat *standards.Catalogue, site store.Site, now, before map[string]store.Verdict, atts []store.Attestation, at time.Time) []Row {
	// Attestations come newest first; the first of each requirement is
	// the one that counts.
	attOf := map[string]store.Attestation{}
	for _, a := range atts {
		if _, seen := attOf[a.ReqID]; !seen {
			attOf[a.ReqID] = a
		}
	}
	out := make([]Row, 0, len(cat.Requirements))
	for _, req := range cat.Requirements {
		row := Row{ID: req.ID, Standard: req.Standard, Title: req.Title, Note: req.Note, Core: req.Core, Evidence: req.Evidence,
			State: NotScored, StateLabel: stateLabel(NotScored), Summary: "The collector has not scored this requirement yet."}
		if v, ok := now[req.ID]; ok {
			row.State, row.Summary = v.State, v.Summary
			row.StateLabel = stateLabel(v.State)
			evaluated := v.EvaluatedAt.UTC()
			row.EvaluatedAt = &evaluated
			if len(v.Evidence) > 0 {
				var ev score.Evidence
				if err := json.Unmarshal(v.Evidence, &ev); err == nil {
					row.Detail = &ev
				}
			}
		}
		if p, ok := before[req.ID]; ok && p.State != row.State {
			row.Previous = &Previous{State: p.State, StateLabel: stateLabel(p.State), EvaluatedAt: p.EvaluatedAt.UTC()}
		}
		applies := req.AppliesTo(site.Phase)
		row.Measured = measured(req, row, applies)
		if a, ok := attOf[req.ID]; ok && req.Evidence != standards.EvidenceMeasured {
			row.Attestation = &AttestationInfo{ID: a.ID, By: a.By, Role: a.Role, Note: a.Note, Link: a.Link,
				Date: a.At.UTC(), Expires: a.Expires.UTC(), Expired: !at.Before(a.Expires),
				RecordedBy: a.RecordedBy, RecordedAt: a.RecordedAt.UTC()}
		}
		row.Attested = attested(req, row.Attestation, applies)
		out = append(out, row)
	}
	return out
}

// measured describes the measured part of a row.
func measured(req standards.Requirement, row Row, applies bool) Measured {
	switch {
	case !applies:
		return Measured{MeasuredNotApplying, "Does not apply to this school's phase."}
	case req.Evidence == standards.EvidenceAttested:
		return Measured{MeasuredNone, "No probe can measure this; a person attests it."}
	case req.Rule == nil:
		probe := "a probe"
		if p, ok := standards.Planned(req.AwaitingProbe); ok {
			probe = "the " + p.Name + " probe (" + p.Doc + ")"
		}
		if req.Evidence == standards.EvidenceMeasured {
			return Measured{MeasuredNoProbe, "Awaiting " + probe + ": nothing measures this yet."}
		}
		return Measured{MeasuredNoProbe, "Awaiting " + probe + ": until it measures this part, an attestation covers it."}
	case row.State == NotScored:
		return Measured{MeasuredNotScored, "Not yet scored: the collector scores every site every few minutes."}
	case row.Detail == nil || row.Detail.Samples == 0:
		return Measured{MeasuredNoData, "Awaiting data: no probe has reported " + measurementList(req.Rule) + " in the last " + days(req.Rule.Window()) + "."}
	}
	return Measured{MeasuredFigures, fmt.Sprintf("%d samples from %s to %s.", row.Detail.Samples,
		row.Detail.From.UTC().Format("2 Jan 2006 15:04"), row.Detail.To.UTC().Format("2 Jan 2006 15:04 MST"))}
}

// attested describes the attested part of a row.
func attested(req standards.Requirement, a *AttestationInfo, applies bool) Attested {
	switch {
	case !applies:
		return Attested{AttestedNotApply, "Does not apply to this school's phase."}
	case req.Evidence == standards.EvidenceMeasured:
		return Attested{AttestedNotNeed, "Not needed: probes measure all of it."}
	case a == nil:
		return Attested{AttestedMissing, "No attestation recorded yet."}
	case a.Expired:
		return Attested{AttestedExpired, "Expired on " + a.Expires.Format("2 Jan 2006") + "; it needs renewing."}
	}
	return Attested{AttestedCurrent, "Valid until " + a.Expires.Format("2 Jan 2006") + "."}
}

func measurementList(rule *standards.Rule) string {
	var names []string
	seen := map[string]bool{}
	for _, c := range rule.Conditions {
		if !seen[c.Measurement] {
			seen[c.Measurement] = true
			names = append(names, c.Measurement)
		}
	}
	s := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			s += " or "
		default:
			s += ", "
		}
		s += n
	}
	return s + " results"
}

// days: "7 days", "24 hours".
func days(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

func totals(rs []Row) []Total {
	counts := map[string]int{}
	for _, row := range rs {
		counts[row.State]++
	}
	out := make([]Total, 0, len(counts))
	for state, n := range counts {
		out = append(out, Total{State: state, Label: stateLabel(state), Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := stateOrder(out[i].State), stateOrder(out[j].State); a != b {
			return a < b
		}
		return out[i].State < out[j].State
	})
	return out
}

// sections groups rows by standard in the catalogue's order.
func sections(rs []Row) []Section {
	var out []Section
	index := map[string]int{}
	for _, row := range rs {
		i, ok := index[row.Standard]
		if !ok {
			i = len(out)
			index[row.Standard] = i
			out = append(out, Section{Standard: row.Standard, Name: standardName(row.Standard), Core: row.Core})
		}
		out[i].Rows = append(out[i].Rows, row)
	}
	for i := range out {
		out[i].Totals = totals(out[i].Rows)
	}
	return out
}

func stateOrder(s string) int {
	for i, st := range []string{"met", "attested", "partly_met", "plan_needed", "not_met", "attestation_expired", "not_enough_data", "not_applicable", NotScored} {
		if st == s {
			return i
		}
	}
	return 99
}
