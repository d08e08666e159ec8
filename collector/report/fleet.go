package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// FleetCoverageWindow is how far back a fleet's data coverage looks.
const FleetCoverageWindow = 30 * 24 * time.Hour

// StandardName names a standard.
type StandardName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// StandardCell is one school's state on one standard.
type StandardCell struct {
	Standard string `json:"standard"`
	State    string `json:"state"`
	Label    string `json:"label"`
	Why      string `json:"why"`
	Met      int    `json:"met"`   // requirements met or attested
	Total    int    `json:"total"` // requirements that apply
}

// FleetSchool is one school's row of the fleet overview.
type FleetSchool struct {
	Site     store.Site     `json:"site"`
	Trust    string         `json:"trust"`
	Cells    []StandardCell `json:"standards"` // in Fleet.Standards order
	Agents   []AgentInfo    `json:"agents"`
	Coverage float64        `json:"coverage"` // share of the last 30 days with data, 0..1
	// LastSeen is the latest any agent of the school was seen; nil when never.
	LastSeen *time.Time `json:"last_seen,omitempty"`
	// Verdicts are the school's current verdicts the cells were judged
	// from, for callers that need the requirements too (the InfluxDB
	// export); not in the JSON, which shows standards.
	Verdicts []store.Verdict `json:"-"`
}

// Fleet is the overview of many schools against the core standards.
type Fleet struct {
	Trust     string         `json:"trust,omitempty"` // the trust's name; "" for every trust
	Generated time.Time      `json:"generated"`
	Standards []StandardName `json:"core_standards"`
	Schools   []FleetSchool  `json:"schools"`
}

// FleetSource is what BuildFleet reads.
type FleetSource interface {
	Trusts(ctx context.Context) ([]store.Trust, error)
	Sites(ctx context.Context) ([]store.Site, error)
	Agents(ctx context.Context, siteID string) ([]store.Agent, error)
	Verdicts(ctx context.Context, site string) ([]store.Verdict, error)
	Rollups(ctx context.Context, q store.RollupQuery) ([]rollup.Bucket, error)
}

// BuildFleet judges every school of the trust (every school when trustID
// is 0) on each core standard from its current verdicts, with its agents
// and data coverage, schools by name.
func BuildFleet(ctx context.Context, src FleetSource, cat *standards.Catalogue, trustID int64, now time.Time) (*Fleet, error) {
	trusts, err := src.Trusts(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet: trusts: %w", err)
	}
	trustName := map[int64]string{}
	for _, t := range trusts {
		trustName[t.ID] = t.Name
	}
	sites, err := src.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet: sites: %w", err)
	}
	f := &Fleet{Trust: trustName[trustID], Generated: now.UTC(), Schools: []FleetSchool{}}
	for _, std := range standards.CoreStandards {
		f.Standards = append(f.Standards, StandardName{ID: std, Name: standardName(std)})
	}
	for _, site := range sites {
		if trustID != 0 && site.TrustID != trustID {
			continue
		}
		vs, err := src.Verdicts(ctx, site.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("fleet: verdicts of %s: %w", site.ID, err)
		}
		byStd := map[string]StandardSummary{}
		for _, s := range standardSummaries(cat, rows(cat, site, byReq(vs), nil, nil, now), 0) {
			byStd[s.Standard] = s
		}
		fs := FleetSchool{Site: site, Trust: trustName[site.TrustID], Agents: []AgentInfo{}, Verdicts: vs}
		for _, std := range f.Standards {
			s, ok := byStd[std.ID]
			if !ok {
				s = StandardSummary{State: StandardNotEvidenced, StateLabel: StandardLabel(StandardNotEvidenced), Why: "No requirement applies."}
			}
			fs.Cells = append(fs.Cells, StandardCell{Standard: std.ID, State: s.State, Label: s.StateLabel, Why: s.Why, Met: s.Met, Total: s.Total})
		}
		agents, err := src.Agents(ctx, site.ID)
		if err != nil {
			return nil, fmt.Errorf("fleet: agents of %s: %w", site.ID, err)
		}
		for _, a := range agents {
			ai := AgentInfo{ID: a.ID, Hostname: a.Hostname, Version: a.Version}
			if !a.LastSeen.IsZero() {
				ls := a.LastSeen.UTC()
				ai.LastSeen = &ls
				if fs.LastSeen == nil || ls.After(*fs.LastSeen) {
					fs.LastSeen = &ls
				}
			}
			fs.Agents = append(fs.Agents, ai)
		}
		cov, err := coverage(ctx, src, site.ID, now.Add(-FleetCoverageWindow), now)
		if err != nil {
			return nil, fmt.Errorf("fleet: %s: %w", site.ID, err)
		}
		fs.Coverage = cov.Share
		f.Schools = append(f.Schools, fs)
	}
	slices.SortFunc(f.Schools, func(a, b FleetSchool) int {
		if a.Site.Name != b.Site.Name {
			if a.Site.Name < b.Site.Name {
				return -1
			}
			return 1
		}
		return 0
	})
	return f, nil
}
