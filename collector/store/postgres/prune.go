package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/rollup"
)

// pruneChunk bounds each delete transaction of batch ids and hourly
// buckets so ingest keeps flowing.
const pruneChunk = 20000

// Prune deletes raw points and batch ids older than before, cut down to an
// hour boundary, and returns the number of points deleted. Rollups are
// kept.
//
// A day partition lying wholly before the cut is dropped in one
// transaction that first seals each of its hours (rolled up if pending,
// the raw horizon moved past it), which costs no row deletes and leaves no
// dead tuples to vacuum. The partition straddling the cut, if any, is
// sealed hour by hour with DELETE, as SQLite does. Either way a point that
// arrives later for a sealed hour is merged into its buckets rather than
// rebuilding them from nothing.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	cut := clampNS(rollup.Hour.Truncate(before))
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("postgres: prune before %s: %w", before.Format(time.RFC3339), err)
	}
	days, err := s.partitions(ctx)
	if err != nil {
		return fail(fmt.Errorf("list partitions: %w", err))
	}
	var total int64
	for _, d := range days {
		if d+int64(day) > cut {
			break
		}
		n, err := s.dropDay(ctx, d)
		total += n
		if err != nil {
			return total, fmt.Errorf("postgres: prune before %s: drop %s: %w", before.Format(time.RFC3339), partName(d), err)
		}
	}
	prev := int64(-1 << 63)
	for {
		var lo *int64
		if err := s.pool.QueryRow(ctx, `SELECT MIN(time) FROM points WHERE time < $1`, cut).Scan(&lo); err != nil {
			return total, fmt.Errorf("postgres: prune before %s: %w", before.Format(time.RFC3339), err)
		}
		if lo == nil {
			break
		}
		h := rollup.Hour.Truncate(fromNS(*lo))
		if toNS(h) <= prev {
			// Sealing deletes every point of the hour; meeting it again
			// means another writer is adding to it as fast: stop here.
			break
		}
		prev = toNS(h)
		n, _, err := s.rollupHour(ctx, h, seal)
		if err != nil {
			return total, fmt.Errorf("postgres: prune hour %s: %w", h.Format(time.RFC3339), err)
		}
		total += n
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRollups(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE rollup_horizons SET at = GREATEST(at, $1) WHERE name = 'raw'`, cut)
		return err
	})
	if err != nil {
		return total, fmt.Errorf("postgres: prune before %s: raw horizon: %w", before.Format(time.RFC3339), err)
	}
	if err := s.pruneBatches(ctx, cut); err != nil {
		return total, fmt.Errorf("postgres: prune batches before %s: %w", before.Format(time.RFC3339), err)
	}
	return total, nil
}

// dropDay seals every hour of day d and drops its partition, in one
// transaction holding the rollup lock and every hour's exclusive lock, so
// no batch adds to the day between its rollup and the drop.
func (s *Store) dropDay(ctx context.Context, d int64) (int64, error) {
	var n int64
	created := map[sidKey]int64{}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRollups(ctx, tx); err != nil {
			return err
		}
		first := hourKey(d)
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, k) FROM generate_series($2::int4, $3::int4) AS k ORDER BY k`,
			int32(lockHour), first, first+23); err != nil {
			return fmt.Errorf("lock hours: %w", err)
		}
		for h := d; h < d+int64(day); h += int64(time.Hour) {
			_, made, err := s.rollupHourTx(ctx, tx, fromNS(h), sealKeep)
			if err != nil {
				return fmt.Errorf("seal hour %s: %w", fromNS(h).Format(time.RFC3339), err)
			}
			for k, id := range made {
				created[k] = id
			}
		}
		name := pgx.Identifier{partName(d)}.Sanitize()
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+name).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+name); err != nil {
			return err
		}
		if n > 0 {
			if _, err := tx.Exec(ctx, `UPDATE counters SET n = n - $1 WHERE name = 'points' AND shard = 0`, n); err != nil {
				return err
			}
		}
		return nil
	})
	s.forgetPart(d)
	if err != nil {
		return 0, err
	}
	s.cacheSIDs(created)
	return n, nil
}

func (s *Store) pruneBatches(ctx context.Context, cut int64) error {
	for {
		res, err := s.pool.Exec(ctx, `DELETE FROM batches WHERE id IN
			(SELECT id FROM batches WHERE at < $1 LIMIT $2)`, cut, pruneChunk)
		if err != nil {
			return err
		}
		n := res.RowsAffected()
		if n > 0 {
			// Not in one transaction with the delete: a count off by a
			// crash between the two only skews /metrics, and an
			// autocommit delete keeps the chunk's locks short.
			if _, err := s.pool.Exec(ctx, `UPDATE counters SET n = n - $1 WHERE name = 'batches' AND shard = 0`, n); err != nil {
				return err
			}
		}
		if n < pruneChunk {
			return nil
		}
	}
}

// PruneHourly deletes the hourly buckets of days before the day holding
// before and returns how many it deleted. Pending days among them are
// rolled up first; daily buckets are kept.
func (s *Store) PruneHourly(ctx context.Context, before time.Time) (int64, error) {
	cut := clampNS(rollup.Day.Truncate(before))
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("postgres: prune hourly rollups before %s: %w", before.Format(time.DateOnly), err)
	}
	if err := s.rollupDays(ctx, `day < $1`, cut); err != nil {
		return fail(err)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRollups(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE rollup_horizons SET at = GREATEST(at, $1) WHERE name = 'hourly'`, cut)
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
	// A few hundred series per statement: each is an index range scan on
	// the (sid, start) key.
	for len(ids) > 0 {
		n := min(len(ids), 500)
		res, err := s.pool.Exec(ctx, `DELETE FROM rollups_hourly WHERE sid = ANY($1::int8[]) AND start < $2`, ids[:n], cut)
		if err != nil {
			return total, fmt.Errorf("postgres: prune hourly rollups before %s: %w", before.Format(time.DateOnly), err)
		}
		total += res.RowsAffected()
		ids = ids[n:]
	}
	return total, nil
}
