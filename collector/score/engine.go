package score

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

// Query selects the rollup buckets of one condition: one site,
// measurement and field, series whose tags include Where, only the ok=true
// class when OnlyOK, in the spans of the condition's window.
type Query struct {
	Site        string
	Measurement string
	Field       string
	Where       map[string]string
	OnlyOK      bool
	Spans       []rollup.Span // from rollup.Window
}

// Source gives rollup buckets.
type Source interface {
	Buckets(ctx context.Context, q Query) ([]rollup.Bucket, error)
}

// Engine evaluates a whole catalogue for a site.
type Engine struct {
	Catalogue *standards.Catalogue
	Source    Source
}

// EvaluateSite returns one verdict per requirement, in catalogue order.
// Requirements that do not apply to phase fetch nothing.
func (e *Engine) EvaluateSite(ctx context.Context, site, phase string, atts []Attestation, now time.Time) ([]Verdict, error) {
	// Conditions often share a selection (same measurement, field, tags
	// and window); fetch each once.
	cache := map[string][]rollup.Bucket{}
	out := make([]Verdict, 0, len(e.Catalogue.Requirements))
	for _, req := range e.Catalogue.Requirements {
		in := Input{Phase: phase, Now: now, Attestations: atts, Buckets: map[int][]rollup.Bucket{}}
		if req.Rule != nil && req.AppliesTo(phase) {
			for i, c := range req.Rule.Conditions {
				key := queryKey(c)
				bs, ok := cache[key]
				if !ok {
					q := Query{Site: site, Measurement: c.Measurement, Field: c.Field, Where: c.Where, OnlyOK: c.OnlyOK,
						Spans: rollup.Window(now, c.Window)}
					var err error
					if bs, err = e.Source.Buckets(ctx, q); err != nil {
						return nil, fmt.Errorf("score: site %s, %s condition %q: fetch %s.%s: %w", site, req.ID, c.Name, c.Measurement, c.Field, err)
					}
					cache[key] = bs
				}
				in.Buckets[i] = bs
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
	b.WriteString(c.Measurement + "." + c.Field)
	for _, k := range point.SortedKeys(c.Where) {
		b.WriteString("," + k + "=" + c.Where[k])
	}
	b.WriteString(" " + c.Window.String() + " ok=" + strconv.FormatBool(c.OnlyOK))
	return b.String()
}
