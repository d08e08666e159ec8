package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// Summary is a trust's schools summed up per standard.
type Summary struct {
	Trust     TrustInfo       `json:"trust"`
	Catalogue string          `json:"catalogue"`
	Generated time.Time       `json:"generated"`
	Schools   []SchoolInfo    `json:"schools"`
	Standards []TrustStandard `json:"standards"`
}

// TrustInfo names the trust.
type TrustInfo struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// SchoolInfo is one school of the trust.
type SchoolInfo struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phase string `json:"phase"`
	// Scored is when the school's verdicts were last evaluated; nil when
	// it has none yet.
	Scored *time.Time `json:"scored,omitempty"`
}

// TrustStandard counts the schools meeting one standard: a school meets
// it when every requirement of the standard that applies to its phase is
// met or attested.
type TrustStandard struct {
	Standard string `json:"standard"`
	Name     string `json:"name"`
	Core     bool   `json:"core"`
	Schools  int    `json:"schools"` // schools the standard applies to
	Meeting  int    `json:"meeting"`
	// MostCommonGap is the requirement the most schools fall short of
	// (ties: the first in the catalogue); nil when every school meets it.
	MostCommonGap *Gap `json:"most_common_gap"`
	// Gaps lists every requirement some school falls short of, most
	// schools first, then in catalogue order.
	Gaps []Gap `json:"gaps"`
}

// Gap is one requirement and the schools short of it.
type Gap struct {
	ReqID   string         `json:"requirement"`
	Title   string         `json:"title"`
	Schools int            `json:"schools"`  // short of it
	Of      int            `json:"of"`       // it applies to
	States  map[string]int `json:"states"`   // how they fall short: not_met, partly_met, not_enough_data...
	Sites   []string       `json:"site_ids"` // which, by id
}

// meets reports whether a stored state counts as meeting a requirement.
func meets(state string) bool {
	return state == "met" || state == "attested" || state == "not_applicable"
}

// TrustSummary sums up the trust's sites against cat from their current
// verdicts (by site id). A requirement without a verdict counts as a gap
// in state NotScored. It is pure: the caller reads the store.
func TrustSummary(cat *standards.Catalogue, trust store.Trust, sites []store.Site, verdicts map[string][]store.Verdict, now time.Time) *Summary {
	s := &Summary{
		Trust:     TrustInfo{ID: trust.ID, Name: trust.Name},
		Catalogue: cat.Version,
		Generated: now.UTC(),
		Schools:   []SchoolInfo{},
		Standards: []TrustStandard{},
	}
	states := map[string]map[string]string{} // site -> requirement -> state
	for _, site := range sites {
		info := SchoolInfo{ID: site.ID, Name: site.Name, Phase: site.Phase}
		m := map[string]string{}
		for _, v := range verdicts[site.ID] {
			m[v.ReqID] = v.State
			if info.Scored == nil || v.EvaluatedAt.After(*info.Scored) {
				at := v.EvaluatedAt.UTC()
				info.Scored = &at
			}
		}
		states[site.ID] = m
		s.Schools = append(s.Schools, info)
	}
	for _, std := range standards.Standards {
		var reqs []standards.Requirement
		for _, r := range cat.Requirements {
			if r.Standard == std {
				reqs = append(reqs, r)
			}
		}
		if len(reqs) == 0 {
			continue // nothing in the catalogue to meet yet
		}
		ss := TrustStandard{Standard: std, Name: standardName(std), Core: slices.Contains(standards.CoreStandards, std), Gaps: []Gap{}}
		gaps := make([]Gap, len(reqs))
		for i, r := range reqs {
			gaps[i] = Gap{ReqID: r.ID, Title: r.Title, States: map[string]int{}, Sites: []string{}}
		}
		for _, site := range sites {
			applies, ok := false, true
			for i, r := range reqs {
				if !r.AppliesTo(site.Phase) {
					continue
				}
				applies = true
				gaps[i].Of++
				state, scored := states[site.ID][r.ID]
				if !scored {
					state = NotScored
				}
				if meets(state) {
					continue
				}
				ok = false
				gaps[i].Schools++
				gaps[i].States[state]++
				gaps[i].Sites = append(gaps[i].Sites, site.ID)
			}
			if applies {
				ss.Schools++
				if ok {
					ss.Meeting++
				}
			}
		}
		for _, g := range gaps {
			if g.Schools > 0 {
				ss.Gaps = append(ss.Gaps, g)
			}
		}
		sort.SliceStable(ss.Gaps, func(i, j int) bool { return ss.Gaps[i].Schools > ss.Gaps[j].Schools })
		if len(ss.Gaps) > 0 {
			g := ss.Gaps[0]
			ss.MostCommonGap = &g
		}
		s.Standards = append(s.Standards, ss)
	}
	return s
}

// TrustSource is what BuildTrustSummary reads.
type TrustSource interface {
	Trusts(ctx context.Context) ([]store.Trust, error)
	Sites(ctx context.Context) ([]store.Site, error)
	Verdicts(ctx context.Context, site string) ([]store.Verdict, error)
}

// FindTrust finds a trust by its numeric id or its exact name; store.ErrNotFound otherwise.
func FindTrust(ctx context.Context, src TrustSource, idOrName string) (store.Trust, error) {
	trusts, err := src.Trusts(ctx)
	if err != nil {
		return store.Trust{}, fmt.Errorf("trusts: %w", err)
	}
	id, idErr := strconv.ParseInt(idOrName, 10, 64)
	for _, t := range trusts {
		if t.Name == idOrName || idErr == nil && t.ID == id {
			return t, nil
		}
	}
	return store.Trust{}, fmt.Errorf("trust %q: %w", idOrName, store.ErrNotFound)
}

// BuildTrustSummary reads the trust's sites and their current verdicts and
// sums them up.
func BuildTrustSummary(ctx context.Context, src TrustSource, cat *standards.Catalogue, idOrName string, now time.Time) (*Summary, error) {
	t, err := FindTrust(ctx, src, idOrName)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	all, err := src.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: trust %q: sites: %w", t.Name, err)
	}
	var sites []store.Site
	vs := map[string][]store.Verdict{}
	for _, site := range all {
		if site.TrustID != t.ID {
			continue
		}
		sites = append(sites, site)
		v, err := src.Verdicts(ctx, site.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("report: trust %q: verdicts of %s: %w", t.Name, site.ID, err)
		}
		vs[site.ID] = v
	}
	return TrustSummary(cat, t, sites, vs, now), nil
}
