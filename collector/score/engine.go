package score

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

// Source gives the points of one site and measurement whose tags include
// where, in [from, to).
type Source interface {
	Points(ctx context.Context, site, measurement string, where map[string]string, from, to time.Time) ([]point.Point, error)
}

// Engine evaluates a whole catalogue for a site.
type Engine struct {
	Catalogue *standards.Catalogue
	Source    Source
}

// EvaluateSite returns one verdict per requirement, in catalogue order.
// Requirements that do not apply to phase fetch nothing.
func (e *Engine) EvaluateSite(ctx context.Context, site, phase string, atts []Attestation, now time.Time) ([]Verdict, error) {
	// Conditions often share a selection (same measurement, tags and
	// window); fetch each once.
	cache := map[string][]point.Point{}
	out := make([]Verdict, 0, len(e.Catalogue.Requirements))
	for _, req := range e.Catalogue.Requirements {
		in := Input{Phase: phase, Now: now, Attestations: atts, Samples: map[int][]point.Point{}}
		if req.Rule != nil && req.AppliesTo(phase) {
			for i, c := range req.Rule.Conditions {
				key := queryKey(c)
				pts, ok := cache[key]
				if !ok {
					var err error
					pts, err = e.Source.Points(ctx, site, c.Measurement, c.Where, now.Add(-c.Window), now)
					if err != nil {
						return nil, fmt.Errorf("score: site %s, %s condition %q: fetch %s: %w", site, req.ID, c.Name, c.Measurement, err)
					}
					cache[key] = pts
				}
				in.Samples[i] = pts
			}
		}
		v := Evaluate(req, in)
		v.Catalogue = e.Catalogue.Version
		out = append(out, v)
	}
	return out, nil
}

func queryKey(c standards.Condition) string {
	var b strings.Builder
	b.WriteString(c.Measurement)
	for _, k := range point.SortedKeys(c.Where) {
		b.WriteString("," + k + "=" + c.Where[k])
	}
	b.WriteString(" " + c.Window.String())
	return b.String()
}
