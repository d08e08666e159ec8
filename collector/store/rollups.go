package store

import (
	"context"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
)

// RollupQuery selects the buckets of one site and resolution whose start
// is in [From, To).
type RollupQuery struct {
	Site        string
	Res         rollup.Res        // rollup.Hour or rollup.Day; zero means hourly
	Measurement string            // empty: every measurement
	Field       string            // empty: every field
	Tags        map[string]string // every entry must equal the series' tag
	OnlyOK      bool              // only buckets of samples whose ok field is true
	From, To    time.Time
}

// RollupStore keeps hourly and daily aggregates (see collector/rollup) for
// years while raw points expire.
//
// Ingest marks the hours it writes into as pending. Rolling up an hour
// rebuilds its buckets from its raw points, which is idempotent, and
// marks its days pending; a day is rebuilt from its hourly buckets. An
// hour whose raw points were pruned is sealed: points that arrive for it
// later (a spooled agent catching up) are added to its buckets and then
// deleted, so they count once and nothing already counted is lost.
type RollupStore interface {
	// RollupPending rolls up every pending hour, then every pending day
	// that ended by now.
	RollupPending(ctx context.Context, now time.Time) error
	// Rollup rolls up every hour touching [from, to) that has raw points,
	// pending or not, then the days of those hours.
	Rollup(ctx context.Context, from, to time.Time) error
	// Rollups returns the buckets q selects, in rollup.Sort order.
	Rollups(ctx context.Context, q RollupQuery) ([]rollup.Bucket, error)
	// WriteRollups stores buckets as they are, replacing any with the same
	// series, field, ok class, kind, resolution and start: for imports and
	// benchmarks, which have no raw points.
	WriteRollups(ctx context.Context, bs []rollup.Bucket) error

	// Prune deletes raw points and batch ids older than before, cut down to
	// an hour boundary, and returns the number of points deleted. It
	// seals each hour as it goes, rolling it up first if it is pending.
	Prune(ctx context.Context, before time.Time) (int64, error)
	// PruneHourly deletes hourly buckets of days before the day holding
	// before, once their pending days are rolled up, and returns how many
	// it deleted. Daily buckets are kept. Raw points that arrive later for
	// those days are dropped: their hourly detail is gone.
	PruneHourly(ctx context.Context, before time.Time) (int64, error)
}
