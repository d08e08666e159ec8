package score

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// PointReader is the part of store.Store the engine reads.
type PointReader interface {
	Points(ctx context.Context, q store.PointQuery) ([]point.Point, error)
}

// StoreSource reads points from the collector's store.
type StoreSource struct{ Store PointReader }

// Points implements Source.
func (s StoreSource) Points(ctx context.Context, site, measurement string, where map[string]string, from, to time.Time) ([]point.Point, error) {
	return s.Store.Points(ctx, store.PointQuery{Site: site, Measurement: measurement, Tags: where, From: from, To: to})
}

// FromStore converts stored attestations.
func FromStore(as []store.Attestation) []Attestation {
	out := make([]Attestation, len(as))
	for i, a := range as {
		out[i] = Attestation{ReqID: a.ReqID, By: a.By, Note: a.Note, Link: a.Link, At: a.At, Expires: a.Expires}
	}
	return out
}

// Record is the verdict as the store keeps it, evidence as JSON.
func (v Verdict) Record(site string, evaluatedAt time.Time) (store.Verdict, error) {
	ev, err := json.Marshal(v.Evidence)
	if err != nil {
		return store.Verdict{}, fmt.Errorf("score: %s %s: evidence: %w", site, v.ReqID, err)
	}
	return store.Verdict{Site: site, ReqID: v.ReqID, State: string(v.State), Summary: v.Summary,
		Evidence: ev, Catalogue: v.Catalogue, EvaluatedAt: evaluatedAt}, nil
}
