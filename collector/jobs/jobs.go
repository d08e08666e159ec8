// Package jobs runs the collector's background work on timers: rolling up
// raw points into hourly and daily buckets, scoring every site against the
// catalogue from those buckets, and pruning raw points and old hourly
// buckets past their retention. Each job can also be run once (the CLI
// does).
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

// DefaultHourlyRetention keeps hourly buckets for a year and a month, so a
// report can compare a term with the same term a year before at hourly
// detail; daily buckets are kept for good.
const DefaultHourlyRetention = 400 * 24 * time.Hour

// Runner holds what the jobs need.
type Runner struct {
	Store     store.Store
	Catalogue *standards.Catalogue
	// Retention is how long raw points are kept (retention.raw).
	Retention time.Duration
	// HourlyRetention is how long hourly buckets are kept
	// (retention.hourly); zero means DefaultHourlyRetention.
	HourlyRetention time.Duration
	Log             *slog.Logger
	Now             func() time.Time
	// Leader, when set, decides which of several collectors on one store
	// runs a job this round (the store's Leader: PostgreSQL advisory
	// locks); nil runs every job here, as one collector on SQLite does.
	Leader Leader
}

// Leader hands out one job's turn across every collector sharing a
// store: ok is false when another collector holds it; release ends the
// turn.
type Leader interface {
	TryLead(ctx context.Context, job string) (release func(), ok bool, err error)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// ScoreSite rolls up pending hours, then evaluates every requirement for
// one site from its rollups and stores the verdicts.
func (r *Runner) ScoreSite(ctx context.Context, site store.Site) ([]score.Verdict, error) {
	now := r.now()
	if err := r.Store.RollupPending(ctx, now); err != nil {
		return nil, fmt.Errorf("rollup before scoring %s: %w", site.ID, err)
	}
	return r.scoreSite(ctx, site, now)
}

func (r *Runner) scoreSite(ctx context.Context, site store.Site, now time.Time) ([]score.Verdict, error) {
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

// ScoreAll rolls up pending hours once, so verdicts see every point stored
// so far, then scores every site; one failing site does not stop the
// others.
func (r *Runner) ScoreAll(ctx context.Context) error {
	now := r.now()
	if err := r.Store.RollupPending(ctx, now); err != nil {
		return fmt.Errorf("rollup before scoring: %w", err)
	}
	sites, err := r.Store.Sites(ctx)
	if err != nil {
		return fmt.Errorf("listing sites: %w", err)
	}
	var firstErr error
	for _, s := range sites {
		if _, err := r.scoreSite(ctx, s, now); err != nil {
			r.log().Error("scoring failed", "site", s.ID, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// Rollup rolls up every hour written to since it was last rolled up
// (late batches from a spooled agent included), then the days that ended.
func (r *Runner) Rollup(ctx context.Context) error {
	if err := r.Store.RollupPending(ctx, r.now()); err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	return nil
}

// Prune drops raw points past retention (rolling up any pending hour it
// drops first) and hourly buckets past the hourly retention.
func (r *Runner) Prune(ctx context.Context) error {
	now := r.now()
	n, err := r.Store.Prune(ctx, now.Add(-r.Retention))
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if n > 0 {
		r.log().Info("pruned raw points past retention", "points", n, "retention", r.Retention)
	}
	keep := r.HourlyRetention
	if keep <= 0 {
		keep = DefaultHourlyRetention
	}
	n, err = r.Store.PruneHourly(ctx, now.Add(-keep))
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if n > 0 {
		r.log().Info("pruned hourly rollups past retention", "buckets", n, "retention", keep)
	}
	return nil
}

// Every runs fn now and then every d until ctx ends, logging failures.
// With a Leader, a round another collector holds is skipped.
func (r *Runner) Every(ctx context.Context, name string, d time.Duration, fn func(context.Context) error) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		start := time.Now()
		ran, err := r.once(ctx, name, fn)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log().Error("job failed", "job", name, "err", err)
		case ran:
			r.log().Debug("job done", "job", name, "duration_ms", time.Since(start).Milliseconds())
		default:
			r.log().Debug("job skipped: another collector runs it", "job", name)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// once runs fn if this collector holds the job's turn; ran says whether
// it did.
func (r *Runner) once(ctx context.Context, name string, fn func(context.Context) error) (ran bool, err error) {
	if r.Leader == nil {
		return true, fn(ctx)
	}
	release, ok, err := r.Leader.TryLead(ctx, name)
	if err != nil {
		return false, fmt.Errorf("job %s: taking its turn: %w", name, err)
	}
	if !ok {
		return false, nil
	}
	defer release()
	return true, fn(ctx)
}
