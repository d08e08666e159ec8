package score

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
)

// RollupReader is the part of store.Store the engine reads.
type RollupReader interface {
	Rollups(ctx context.Context, q store.RollupQuery) ([]rollup.Bucket, error)
}

// StoreSource reads rollups from the collector's store, one query per span.
type StoreSource struct{ Store RollupReader }

// Buckets implements Source.
func (s StoreSource) Buckets(ctx context.Context, q Query) ([]rollup.Bucket, error) {
	var out []rollup.Bucket
	for _, sp := range q.Spans {
		bs, err := s.Store.Rollups(ctx, store.RollupQuery{Site: q.Site, Res: sp.Res, Measurement: q.Measurement,
			Field: q.Field, Tags: q.Where, OnlyOK: q.OnlyOK, From: sp.From, To: sp.To})
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
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
