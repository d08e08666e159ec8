// Package report builds a site's evidence report once (Build) and renders it
// as HTML or JSON. The model holds every requirement of the catalogue with
// its verdict, the figures behind it and the period they cover, so each
// renderer shows the same content.
package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// Source is what Build reads.
type Source interface {
	Site(ctx context.Context, id string) (store.Site, error)
	Trusts(ctx context.Context) ([]store.Trust, error)
	Agents(ctx context.Context, siteID string) ([]store.Agent, error)
	Verdicts(ctx context.Context, site string) ([]store.Verdict, error)
}

// Report is one site's evidence.
type Report struct {
	Site      SiteInfo      `json:"site"`
	Generated time.Time     `json:"generated"`
	Catalogue CatalogueInfo `json:"catalogue"`
	Agents    []AgentInfo   `json:"agents"`
	Totals    []Total       `json:"totals"`
	Rows      []Row         `json:"requirements"`
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

// Row is one requirement with its verdict.
type Row struct {
	ID          string          `json:"id"`
	Standard    string          `json:"standard"`
	Title       string          `json:"title"`
	Core        bool            `json:"core"`
	Evidence    string          `json:"evidence_type"`
	State       string          `json:"state"`
	StateLabel  string          `json:"state_label"`
	Summary     string          `json:"summary"`
	Detail      *score.Evidence `json:"evidence,omitempty"`
	EvaluatedAt *time.Time      `json:"evaluated_at,omitempty"`
}

// NotScored is the state of a requirement with no stored verdict yet.
const NotScored = "not_scored"

// Build assembles the report of site from stored verdicts.
func Build(ctx context.Context, src Source, cat *standards.Catalogue, siteID string, now time.Time) (*Report, error) {
	site, err := src.Site(ctx, siteID)
	if err != nil {
		return nil, fmt.Errorf("report: site %q: %w", siteID, err)
	}
	r := &Report{
		Site:      SiteInfo{ID: site.ID, Name: site.Name, URN: site.URN, Phase: site.Phase},
		Generated: now.UTC(),
		Catalogue: CatalogueInfo{Version: cat.Version, Checked: cat.Checked},
		Agents:    []AgentInfo{},
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
	for _, a := range agents {
		ai := AgentInfo{ID: a.ID, Hostname: a.Hostname, Version: a.Version}
		if !a.LastSeen.IsZero() {
			ls := a.LastSeen.UTC()
			ai.LastSeen = &ls
		}
		r.Agents = append(r.Agents, ai)
	}
	stored, err := src.Verdicts(ctx, site.ID)
	if err != nil {
		return nil, fmt.Errorf("report: verdicts: %w", err)
	}
	byID := map[string]store.Verdict{}
	for _, v := range stored {
		byID[v.ReqID] = v
	}
	counts := map[string]int{}
	for _, req := range cat.Requirements {
		row := Row{ID: req.ID, Standard: req.Standard, Title: req.Title, Core: req.Core, Evidence: string(req.Evidence),
			State: NotScored, StateLabel: "Not yet scored", Summary: "The collector has not scored this requirement yet."}
		if v, ok := byID[req.ID]; ok {
			row.State, row.Summary = v.State, v.Summary
			row.StateLabel = score.State(v.State).Label()
			at := v.EvaluatedAt.UTC()
			row.EvaluatedAt = &at
			if len(v.Evidence) > 0 {
				var ev score.Evidence
				if err := json.Unmarshal(v.Evidence, &ev); err == nil {
					row.Detail = &ev
				}
			}
		}
		counts[row.State]++
		r.Rows = append(r.Rows, row)
	}
	for state, n := range counts {
		label := "Not yet scored"
		if state != NotScored {
			label = score.State(state).Label()
		}
		r.Totals = append(r.Totals, Total{State: state, Label: label, Count: n})
	}
	sort.Slice(r.Totals, func(i, j int) bool { return stateOrder(r.Totals[i].State) < stateOrder(r.Totals[j].State) })
	return r, nil
}

func stateOrder(s string) int {
	for i, st := range []string{"met", "attested", "partly_met", "not_met", "attestation_expired", "not_enough_data", "not_applicable", NotScored} {
		if st == s {
			return i
		}
	}
	return 99
}
