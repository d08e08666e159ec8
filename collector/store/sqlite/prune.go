package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
)

// pruneChunk bounds each delete transaction of batch ids and hourly
// buckets so ingest keeps flowing.
const pruneChunk = 20000

// Prune deletes raw points and batch ids older than before, cut down to an
// hour boundary, and returns the number of points deleted. Each hour is
// sealed in one transaction: rolled up first if it is pending, its points
// deleted, and the raw horizon moved past it, so a point that arrives for
// it later is merged into its buckets rather than rebuilding them from
// nothing. Rollups are kept.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	cut := clampNS(rollup.Hour.Truncate(before))
	var total int64
	prev := int64(-1 << 63)
	for {
		var lo sql.NullInt64
		if err := s.r.QueryRowContext(ctx, `SELECT MIN(hour) FROM chunks WHERE hour < ?`, cut).Scan(&lo); err != nil {
			return total, fmt.Errorf("sqlite: prune before %s: %w", before.Format(time.RFC3339), err)
		}
		if !lo.Valid {
			break
		}
		h := rollup.Hour.Truncate(fromNS(lo.Int64))
		if toNS(h) <= prev {
			// Sealing deletes every point of the hour; meeting it again
			// means another writer is adding to it as fast: stop here.
			break
		}
		prev = toNS(h)
		n, _, err := s.rollupHour(ctx, h, seal)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune hour %s: %w", h.Format(time.RFC3339), err)
		}
		total += n
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE rollup_horizons SET at = max(at, ?) WHERE name = 'raw'`, cut)
		return err
	})
	if err != nil {
		return total, fmt.Errorf("sqlite: prune before %s: raw horizon: %w", before.Format(time.RFC3339), err)
	}
	if err := s.pruneBatches(ctx, cut); err != nil {
		return total, fmt.Errorf("sqlite: prune batches before %s: %w", before.Format(time.RFC3339), err)
	}
	return total, nil
}

func (s *Store) pruneBatches(ctx context.Context, cut int64) error {
	for {
		var n int64
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM batches WHERE rowid IN
				(SELECT rowid FROM batches WHERE at < ? LIMIT ?)`, cut, pruneChunk)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE counters SET n = n - ? WHERE name = 'batches'`, n)
			return err
		})
		if err != nil || n < pruneChunk {
			return err
		}
	}
}

// PruneHourly deletes the hourly buckets of days before the day holding
// before and returns how many it deleted. Pending days among them are
// rolled up first; daily buckets are kept.
func (s *Store) PruneHourly(ctx context.Context, before time.Time) (int64, error) {
	cut := clampNS(rollup.Day.Truncate(before))
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("sqlite: prune hourly rollups before %s: %w", before.Format(time.DateOnly), err)
	}
	if err := s.rollupDays(ctx, `day < ?`, cut); err != nil {
		return fail(err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE rollup_horizons SET at = max(at, ?) WHERE name = 'hourly'`, cut)
		return err
	})
	if err != nil {
		return fail(err)
	}
	ids, err := s.int64s(ctx, `SELECT id FROM rollup_series ORDER BY id`)
	if err != nil {
		return fail(err)
	}
	var total int64
	for len(ids) > 0 {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			st, err := tx.PrepareContext(ctx, `DELETE FROM rollups_hourly WHERE sid = ? AND start < ?`)
			if err != nil {
				return err
			}
			defer st.Close()
			// One series at a time until the chunk's rows are spent.
			var n int64
			for n < pruneChunk && len(ids) > 0 {
				res, err := st.ExecContext(ctx, ids[0], cut)
				if err != nil {
					return err
				}
				k, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n += k
				ids = ids[1:]
			}
			total += n
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune hourly rollups before %s: %w", before.Format(time.DateOnly), err)
		}
	}
	return total, nil
}
