// Package jobs runs the collector's background work on timers: hourly
// rollups, scoring every site against the catalogue, and pruning raw points
// past the retention window. Each job can also be run once (the CLI does).
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// Runner holds what the jobs need.
type Runner struct {
	Store     store.Store
	Catalogue *standards.Catalogue
	Retention time.Duration
	Log       *slog.Logger
	Now       func() time.Time

	lastRollup time.Time
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// ScoreSite evaluates every requirement for one site and stores the verdicts.
func (r *Runner) ScoreSite(ctx context.Context, site store.Site) ([]score.Verdict, error) {
	now := r.now()
	stored, err := r.Store.Attestations(ctx, site.ID)
	if err != nil {
		return nil, fmt.Errorf("attestations of %s: %w", site.ID, err)
	}
	eng := score.Engine{Catalogue: r.Catalogue, Source: score.StoreSource{Store: r.Store}}
	vs, err := eng.EvaluateSite(ctx, site.ID, site.Phase, score.FromStore(stored), now)
	if err != nil {
		return nil, fmt.Errorf("scoring %s: %w", site.ID, err)
	}
	rows := make([]store.Verdict, 0, len(vs))
	for _, v := range vs {
		row, err := v.Record(site.ID, now)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if err := r.Store.SaveVerdicts(ctx, site.ID, rows); err != nil {
		return nil, fmt.Errorf("saving verdicts of %s: %w", site.ID, err)
	}
	return vs, nil
}

// ScoreAll scores every site; one failing site does not stop the others.
func (r *Runner) ScoreAll(ctx context.Context) error {
	sites, err := r.Store.Sites(ctx)
	if err != nil {
		return fmt.Errorf("listing sites: %w", err)
	}
	var firstErr error
	for _, s := range sites {
		if _, err := r.ScoreSite(ctx, s); err != nil {
			r.Log.Error("scoring failed", "site", s.ID, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// Rollup rebuilds hourly aggregates from the last run (or the retention
// window on the first) up to now.
func (r *Runner) Rollup(ctx context.Context) error {
	now := r.now()
	from := r.lastRollup
	if from.IsZero() {
		from = now.Add(-r.Retention)
	}
	// Late batches from a spooled agent land in past hours: redo the last
	// day on every run so they are counted.
	if d := now.Add(-24 * time.Hour); from.After(d) {
		from = d
	}
	if err := r.Store.Rollup(ctx, from.Truncate(time.Hour), now); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	r.lastRollup = now
	return nil
}

// Prune drops raw points past retention.
func (r *Runner) Prune(ctx context.Context) error {
	// Cut on an hour boundary: an hour pruned in part and rolled up again
	// would lose buckets it had.
	n, err := r.Store.Prune(ctx, r.now().Add(-r.Retention).Truncate(time.Hour))
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if n > 0 {
		r.Log.Info("pruned raw points past retention", "points", n, "retention", r.Retention)
	}
	return nil
}

// Every runs fn now and then every d until ctx ends, logging failures.
func (r *Runner) Every(ctx context.Context, name string, d time.Duration, fn func(context.Context) error) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		start := time.Now()
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			r.Log.Error("job failed", "job", name, "err", err)
		} else {
			r.Log.Debug("job done", "job", name, "duration_ms", time.Since(start).Milliseconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
