package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store/rowcodec"
)

// RollupPending rolls up every pending hour in time order, then the
// pending days that ended by now (a day still filling waits, so its daily
// bucket is built once rather than on every run).
func (s *Store) RollupPending(ctx context.Context, now time.Time) error {
	hours, err := s.int64s(ctx, `SELECT DISTINCT hour FROM rollup_pending_sites ORDER BY hour`)
	if err != nil {
		return fmt.Errorf("postgres: rollup: pending hours: %w", err)
	}
	starts := make([]time.Time, len(hours))
	for i, h := range hours {
		starts[i] = fromNS(h)
	}
	err = s.open.RebuildPending(starts, now, func(h time.Time) (int64, error) {
		_, read, err := s.rollupHour(ctx, h, rebuildPending)
		return read, err
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return s.rollupDays(ctx, `day <= $1`, toNS(now.Add(-24*time.Hour)))
}

// Rollup rolls up every hour touching [from, to) that has raw points or is
// pending, each in its own transaction so ingest is never held up for
// long, then every pending day that starts before to.
func (s *Store) Rollup(ctx context.Context, from, to time.Time) error {
	if !to.After(from) {
		return nil
	}
	// Skip the empty hours outside the data, so a wide range is cheap.
	var lo, hi *int64
	if err := s.pool.QueryRow(ctx, `SELECT LEAST((SELECT MIN(time) FROM points), (SELECT MIN(hour) FROM rollup_pending_sites)),
		GREATEST((SELECT MAX(time) FROM points), (SELECT MAX(hour) FROM rollup_pending_sites))`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("postgres: rollup: data range: %w", err)
	}
	if lo != nil {
		start := rollup.Hour.Truncate(from)
		if first := rollup.Hour.Truncate(fromNS(*lo)); first.After(start) {
			start = first
		}
		end := to
		if last := fromNS(*hi).Add(1); last.Before(end) {
			end = last
		}
		for h := start; h.Before(end); h = h.Add(time.Hour) {
			if _, _, err := s.rollupHour(ctx, h, rebuild); err != nil {
				return fmt.Errorf("postgres: rollup hour %s: %w", h.Format(time.RFC3339), err)
			}
		}
	}
	return s.rollupDays(ctx, `day < $1`, clampNS(to))
}

type hourMode int

const (
	rebuild        hourMode = iota // Rollup: every site of the hour
	rebuildPending                 // RollupPending: the hour's pending sites
	seal                           // Prune: roll up if pending, then delete the raw points
	sealKeep                       // Prune of a whole day: as seal, but the caller drops the partition
)

// rollupHour rolls up hour h and returns how many raw points it deleted
// and, for a rebuild, how many it read.
// An unsealed hour is rebuilt without keeping writers out (rebuildHour);
// a sealed one, or one being sealed, in one transaction holding the hour's
// lock (rollupHourTx).
func (s *Store) rollupHour(ctx context.Context, h time.Time, mode hourMode) (deleted, read int64, err error) {
	if mode == rebuild || mode == rebuildPending {
		if done, read, err := s.rebuildHour(ctx, h, mode == rebuild); done || err != nil {
			return 0, read, err
		}
	}
	var created map[sidKey]int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRollups(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(lockHour), hourKey(toNS(h))); err != nil {
			return err
		}
		var err error
		deleted, created, err = s.rollupHourTx(ctx, tx, h, mode)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	s.cacheSIDs(created)
	return deleted, 0, nil
}

// rollupHourTx rolls up hour h in tx, which holds the rollup lock and the
// hour's exclusive lock (so no batch adds to the hour meanwhile). The
// hour's buckets are rebuilt from its raw points (replacing, which is
// idempotent) unless the hour is sealed: then its raw points arrived after
// it was pruned, so they are merged into its buckets and deleted. An hour
// whose day has lost its hourly buckets only deletes its raw points.
func (s *Store) rollupHourTx(ctx context.Context, tx pgx.Tx, h time.Time, mode hourMode) (deleted int64, created map[sidKey]int64, err error) {
	rawH, hourlyH, err := horizons(ctx, tx)
	if err != nil {
		return 0, nil, err
	}
	hns := toNS(h)
	var pending bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rollup_pending_sites WHERE hour = $1)`, hns).Scan(&pending); err != nil {
		return 0, nil, err
	}
	sealed, dropping := hns < rawH, hns < hourlyH
	created = map[sidKey]int64{}
	if !dropping && (sealed || pending || mode == rebuild || mode == rebuildPending) {
		// A few sites at a time, so that memory holds a chunk's buckets
		// rather than the whole hour's of every school (a collector of
		// 1,750 schools ran out of memory at 24 GB aggregating them all).
		sites, err := siteIDs(ctx, tx)
		if err != nil {
			return 0, nil, err
		}
		for len(sites) > 0 {
			chunk := sites[:min(len(sites), rollupSites)]
			sites = sites[len(chunk):]
			bs, _, err := aggregateHour(ctx, tx, h, chunk)
			if err != nil {
				return 0, nil, err
			}
			if len(bs) == 0 {
				continue
			}
			ids, made, err := s.sids(ctx, tx, bs)
			if err != nil {
				return 0, nil, err
			}
			maps.Copy(created, made)
			if sealed {
				if err := mergeExisting(ctx, tx, ids, bs); err != nil {
					return 0, nil, err
				}
			}
			if err := upsert(ctx, tx, "rollups_hourly", ids, bs); err != nil {
				return 0, nil, err
			}
			if err := markDays(ctx, tx, ids, rollup.Day.Truncate(h)); err != nil {
				return 0, nil, err
			}
		}
	}
	if mode != sealKeep && (sealed || dropping || mode == seal) {
		if deleted, err = deletePoints(ctx, tx, h); err != nil {
			return 0, nil, err
		}
		if dropping && deleted > 0 {
			s.log.Warn("raw points dropped: they arrived after their day's hourly rollups were pruned",
				"hour", h.Format(time.RFC3339), "points", deleted)
		}
	}
	if mode == seal || mode == sealKeep {
		if _, err := tx.Exec(ctx, `UPDATE rollup_horizons SET at = GREATEST(at, $1) WHERE name = 'raw'`, toNS(h.Add(time.Hour))); err != nil {
			return 0, nil, err
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM rollup_pending_sites WHERE hour = $1`, hns)
	return deleted, created, err
}

// rebuildHour rebuilds an unsealed hour's buckets while ingest goes on:
// those of every site with all, else of the sites marked pending in the
// hour. Each chunk of rollupSites sites is read, aggregated and written in
// a transaction of its own that takes no lock writers wait on, and a site
// stays pending if anything was written to it meanwhile (its stamp moved),
// so the next run counts those points too. An hour that is sealed or
// dropping is left to rollupHourTx: done is false and nothing was written.
func (s *Store) rebuildHour(ctx context.Context, h time.Time, all bool) (done bool, read int64, err error) {
	hns := toNS(h)
	var rawH, hourlyH int64
	if err := s.pool.QueryRow(ctx, horizonsSQL).Scan(&rawH, &hourlyH); err != nil || hns < rawH || hns < hourlyH {
		return false, 0, err
	}
	rows, err := s.pool.Query(ctx, `SELECT site, seq FROM rollup_pending_sites WHERE hour = $1`, hns)
	if err != nil {
		return false, 0, err
	}
	marks := map[string]int64{}
	var site string
	var seq int64
	_, err = pgx.ForEachRow(rows, []any{&site, &seq}, func() error { marks[site] = seq; return nil })
	if err != nil {
		return false, 0, err
	}
	var sites []string
	if all {
		if sites, err = siteIDs(ctx, s.pool); err != nil {
			return false, 0, err
		}
	} else {
		sites = slices.Sorted(maps.Keys(marks))
	}
	for len(sites) > 0 {
		chunk := sites[:min(len(sites), rollupSites)]
		sites = sites[len(chunk):]
		var created map[sidKey]int64
		sealed := false
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			// Serialises the bookkeeping with other rollups and Prune,
			// not with writers.
			if err := lockRollups(ctx, tx); err != nil {
				return err
			}
			// A Prune may have sealed the hour since: its late points must
			// then be merged into its buckets, not replace them.
			rawH, hourlyH, err := horizons(ctx, tx)
			if sealed = hns < rawH || hns < hourlyH; err != nil || sealed {
				return err
			}
			bs, n, err := aggregateHour(ctx, tx, h, chunk)
			read += n
			if s.testHookAggregated != nil {
				s.testHookAggregated(h, chunk)
			}
			if err != nil || len(bs) == 0 {
				return err
			}
			var ids []int64
			if ids, created, err = s.sids(ctx, tx, bs); err != nil {
				return err
			}
			if err := upsert(ctx, tx, "rollups_hourly", ids, bs); err != nil {
				return err
			}
			return markDays(ctx, tx, ids, rollup.Day.Truncate(h))
		})
		if err != nil || sealed {
			return false, read, err
		}
		s.cacheSIDs(created)
	}
	if len(marks) == 0 {
		return true, read, nil
	}
	names := slices.Collect(maps.Keys(marks))
	seqs := make([]int64, len(names))
	for i, n := range names {
		seqs[i] = marks[n]
	}
	sealed := false
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Under the rollup lock: a Prune that sealed the hour since has
		// taken the marks itself.
		if err := lockRollups(ctx, tx); err != nil {
			return err
		}
		rawH, hourlyH, err := horizons(ctx, tx)
		if sealed = hns < rawH || hns < hourlyH; err != nil || sealed {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM rollup_pending_sites p USING unnest($2::text[], $3::int8[]) AS m(site, seq)
			WHERE p.hour = $1 AND p.site = m.site AND p.seq = m.seq`, hns, names, seqs)
		return err
	})
	return !sealed, read, err
}

const horizonsSQL = `SELECT
		COALESCE((SELECT at FROM rollup_horizons WHERE name = 'raw'), 0),
		COALESCE((SELECT at FROM rollup_horizons WHERE name = 'hourly'), 0)`

func horizons(ctx context.Context, tx pgx.Tx) (raw, hourly int64, err error) {
	err = tx.QueryRow(ctx, horizonsSQL).Scan(&raw, &hourly)
	return raw, hourly, err
}

// rollupSites is how many sites an hour's rollup aggregates at a time: at
// a school's full SNMP mix, some 7,000 series-field buckets each. A
// variable so that tests can make every site its own chunk.
var rollupSites = 64

// siteIDs lists every site; sites are never deleted, and every point's
// site is one of them.
func siteIDs(ctx context.Context, tx interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM sites ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// aggregateHour rolls up the raw points of hour h of the given sites and
// says how many it read.
func aggregateHour(ctx context.Context, tx pgx.Tx, h time.Time, sites []string) (bs []rollup.Bucket, read int64, err error) {
	rows, err := tx.Query(ctx, `SELECT site, measurement, series, tags, fields, time FROM points
		WHERE time >= $1 AND time < $2 AND site = ANY($3::text[]) ORDER BY time`, toNS(h), toNS(h.Add(time.Hour)), sites)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	agg := rollup.NewAggregator(rollup.Hour)
	tagsOf := map[[2]string]map[string]string{} // decoded once per series
	var d rowcodec.Decoder
	var samples []rollup.Sample
	var site, measurement, series string
	var tagsJS, fieldsJS []byte
	var ns int64
	for rows.Next() {
		if err := rows.Scan(&site, &measurement, &series, &tagsJS, &fieldsJS, &ns); err != nil {
			return nil, 0, err
		}
		tags, ok := tagsOf[[2]string{site, series}]
		if !ok {
			if tags, err = d.DecodeTags(tagsJS); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", series, err)
			}
			tagsOf[[2]string{site, series}] = tags
		}
		if samples, err = d.Samples(fieldsJS, samples); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", series, err)
		}
		agg.AddSeriesSamples(site, measurement, series, tags, samples, fromNS(ns))
		read++
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return agg.Buckets(), read, nil
}

// mergeExisting adds the stored hourly bucket, if any, to each of bs.
func mergeExisting(ctx context.Context, tx pgx.Tx, ids []int64, bs []rollup.Bucket) error {
	for i := range bs {
		b := &bs[i]
		old := *b
		old.Hist, old.Values, old.Other = nil, nil, 0
		var sid int64
		err := scanBucket(tx.QueryRow(ctx, `SELECT `+bucketColList+` FROM rollups_hourly WHERE sid = $1 AND start = $2 AND field = $3 AND ok = $4 AND kind = $5`,
			ids[i], toNS(b.Start), pgText(b.Field), int16(b.OK), int16(b.Kind)), &sid, &old)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue
		case err != nil:
			return err
		}
		*b = rollup.Merge(rollup.Hour, []rollup.Bucket{old, *b})
	}
	return nil
}

func markDays(ctx context.Context, tx pgx.Tx, ids []int64, day time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO rollup_pending_days(sid, day) SELECT DISTINCT unnest($1::int8[]), $2::int8
		ON CONFLICT DO NOTHING`, ids, toNS(day))
	return err
}

func deletePoints(ctx context.Context, tx pgx.Tx, h time.Time) (int64, error) {
	res, err := tx.Exec(ctx, `DELETE FROM points WHERE time >= $1 AND time < $2`, toNS(h), toNS(h.Add(time.Hour)))
	if err != nil {
		return 0, err
	}
	n := res.RowsAffected()
	if n == 0 {
		return 0, nil
	}
	_, err = tx.Exec(ctx, `UPDATE counters SET n = n - $1 WHERE name = 'points' AND shard = 0`, n)
	return n, err
}

// daysPerTx bounds one transaction of day rollups.
const daysPerTx = 256

type sidDay struct{ sid, day int64 }

// rollupDays rebuilds the daily bucket of every pending series-day whose
// day matches cond (with arg), from its hourly buckets. Days whose hourly
// buckets were pruned keep their daily buckets.
func (s *Store) rollupDays(ctx context.Context, cond string, arg int64) error {
	rows, err := s.pool.Query(ctx, `SELECT sid, day FROM rollup_pending_days WHERE `+cond+` ORDER BY day, sid`, arg)
	if err != nil {
		return fmt.Errorf("postgres: rollup: pending days: %w", err)
	}
	todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sidDay, error) {
		var p sidDay
		err := r.Scan(&p.sid, &p.day)
		return p, err
	})
	if err != nil {
		return fmt.Errorf("postgres: rollup: pending days: %w", err)
	}
	for len(todo) > 0 {
		n := min(len(todo), daysPerTx)
		if err := s.inTx(ctx, func(tx pgx.Tx) error { return rollupDayBatch(ctx, tx, todo[:n]) }); err != nil {
			return fmt.Errorf("postgres: rollup day %s: %w", fromNS(todo[0].day).Format(time.DateOnly), err)
		}
		todo = todo[n:]
	}
	return nil
}

func rollupDayBatch(ctx context.Context, tx pgx.Tx, todo []sidDay) error {
	// Hour rollups mark days pending under this lock too, so a day's
	// pending mark is never deleted after an hour changed it unread.
	if err := lockRollups(ctx, tx); err != nil {
		return err
	}
	_, hourlyH, err := horizons(ctx, tx)
	if err != nil {
		return err
	}
	for _, p := range todo {
		if p.day >= hourlyH {
			var hours []rollup.Bucket
			rows, err := tx.Query(ctx, `SELECT `+bucketColList+` FROM rollups_hourly
				WHERE sid = $1 AND start >= $2 AND start < $3 ORDER BY start`, p.sid, p.day, p.day+int64(24*time.Hour))
			if err != nil {
				return err
			}
			for rows.Next() {
				var sid int64
				b := rollup.Bucket{Res: rollup.Hour}
				if err := scanBucket(rows, &sid, &b); err != nil {
					rows.Close()
					return err
				}
				hours = append(hours, b)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			days := rollup.MergeClasses(rollup.Day, hours)
			ids := make([]int64, len(days))
			for i := range ids {
				ids[i] = p.sid
			}
			if err := upsert(ctx, tx, "rollups_daily", ids, days); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rollup_pending_days WHERE day = $1 AND sid = $2`, p.day, p.sid); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) int64s(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
