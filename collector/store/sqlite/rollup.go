package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// Rollup rebuilds the hourly buckets of every hour touching [from, to), one
// hour per transaction so ingest is never held up for long. An hour with no
// raw points left (already pruned) keeps the buckets it has: they are then
// the only record of it.
func (s *Store) Rollup(ctx context.Context, from, to time.Time) error {
	if !to.After(from) {
		return nil
	}
	// Skip the empty hours outside the data, so a wide range is cheap.
	var lo, hi sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(time), MAX(time) FROM points`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("sqlite: rollup: data range: %w", err)
	}
	if !lo.Valid {
		return nil
	}
	start := from.UTC().Truncate(time.Hour)
	if first := fromNS(lo.Int64).Truncate(time.Hour); first.After(start) {
		start = first
	}
	end := to
	if last := fromNS(hi.Int64).Add(1); last.Before(end) {
		end = last
	}
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		if err := s.rollupHour(ctx, h); err != nil {
			return fmt.Errorf("sqlite: rollup hour %s: %w", h.Format(time.RFC3339), err)
		}
	}
	return nil
}

type bucketKey struct{ site, measurement, series, field string }

type agg struct {
	count         int64
	min, max, sum float64
}

func (a *agg) add(v float64) {
	if a.count == 0 || v < a.min {
		a.min = v
	}
	if a.count == 0 || v > a.max {
		a.max = v
	}
	a.count++
	a.sum += v
}

func (s *Store) rollupHour(ctx context.Context, h time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT site, measurement, series, fields FROM points
			WHERE time >= ? AND time < ?`, toNS(h), toNS(h.Add(time.Hour)))
		if err != nil {
			return err
		}
		aggs := map[bucketKey]*agg{}
		seen := false
		var d decoder
		var site, measurement, series string
		var fieldsJS []byte
		for rows.Next() {
			seen = true
			if err := rows.Scan(&site, &measurement, &series, &fieldsJS); err != nil {
				rows.Close()
				return err
			}
			fields, err := d.decodeFields(fieldsJS)
			if err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", series, err)
			}
			for k, v := range fields {
				f, ok := point.AsFloat(v)
				if !ok {
					continue // strings are not aggregated
				}
				key := bucketKey{site, measurement, series, k}
				a := aggs[key]
				if a == nil {
					a = &agg{}
					aggs[key] = a
				}
				a.add(f)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if !seen {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM rollups_hourly WHERE hour = ?`, toNS(h)); err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO rollups_hourly
			(site, measurement, series, field, hour, count, min, max, sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for k, a := range aggs {
			if _, err := ins.ExecContext(ctx, k.site, k.measurement, k.series, k.field, toNS(h), a.count, a.min, a.max, a.sum); err != nil {
				return err
			}
		}
		return nil
	})
}

// Rollups returns buckets of a site with hour start in [From, To), ordered
// by measurement, series, field and hour.
func (s *Store) Rollups(ctx context.Context, q store.RollupQuery) ([]store.Bucket, error) {
	var where strings.Builder
	where.WriteString(`site = ? AND hour >= ? AND hour < ?`)
	args := []any{q.Site, clampNS(q.From), clampNS(q.To)}
	if q.Measurement != "" {
		where.WriteString(` AND measurement = ?`)
		args = append(args, q.Measurement)
	}
	if q.Field != "" {
		where.WriteString(` AND field = ?`)
		args = append(args, q.Field)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT measurement, series, field, hour, count, min, max, sum
		FROM rollups_hourly WHERE `+where.String()+` ORDER BY measurement, series, field, hour`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: rollups of %q: %w", q.Site, err)
	}
	defer rows.Close()
	var out []store.Bucket
	for rows.Next() {
		b := store.Bucket{Site: q.Site}
		var hour int64
		if err := rows.Scan(&b.Measurement, &b.Series, &b.Field, &hour, &b.Count, &b.Min, &b.Max, &b.Sum); err != nil {
			return nil, fmt.Errorf("sqlite: rollups of %q: %w", q.Site, err)
		}
		b.Start = fromNS(hour)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: rollups of %q: %w", q.Site, err)
	}
	return out, nil
}

// pruneChunk bounds each delete transaction so ingest keeps flowing while a
// month of points is removed.
const pruneChunk = 20000

// Prune deletes raw points and batch ids older than before and returns the
// number of points deleted. Rollups are kept.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	cut := clampNS(before)
	var total int64
	for {
		var n int64
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM points WHERE rowid IN
				(SELECT rowid FROM points WHERE time < ? LIMIT ?)`, cut, pruneChunk)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE counters SET n = n - ? WHERE name = 'points'`, n)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune points before %s: %w", before.Format(time.RFC3339), err)
		}
		total += n
		if n < pruneChunk {
			break
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM batches WHERE at < ?`, cut)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE counters SET n = n - ? WHERE name = 'batches'`, n)
		return err
	})
	if err != nil {
		return total, fmt.Errorf("sqlite: prune batches before %s: %w", before.Format(time.RFC3339), err)
	}
	return total, nil
}
