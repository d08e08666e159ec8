package store

import (
	"context"
	"time"
)

// Bucket is an hourly aggregate of one numeric field of one series.
type Bucket struct {
	Site        string
	Measurement string
	Series      string // point.SeriesKey of the series, without site and agent
	Field       string
	Start       time.Time // hour start, UTC
	Count       int64
	Min, Max    float64
	Sum         float64
}

// Mean of the bucket's samples.
func (b Bucket) Mean() float64 {
	if b.Count == 0 {
		return 0
	}
	return b.Sum / float64(b.Count)
}

// RollupQuery selects buckets; empty Measurement or Field means all.
type RollupQuery struct {
	Site        string
	Measurement string
	Field       string
	From, To    time.Time
}

// RollupStore keeps aggregates for years while raw points expire.
type RollupStore interface {
	Rollup(ctx context.Context, from, to time.Time) error // (re)builds the hours touching [from, to)
	Rollups(ctx context.Context, q RollupQuery) ([]Bucket, error)
	Prune(ctx context.Context, before time.Time) (int64, error) // raw points and batch ids older than before
}
