package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store/rowcodec"
)

// RollupPending rolls up every pending hour in time order, then the
// pending days that ended by now (a day still filling waits, so its daily
// bucket is built once rather than on every run).
func (s *Store) RollupPending(ctx context.Context, now time.Time) error {
	hours, err := s.int64s(ctx, `SELECT DISTINCT hour FROM rollup_pending_streams ORDER BY hour`)
	if err != nil {
		return fmt.Errorf("sqlite: rollup: pending hours: %w", err)
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
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := s.rollupDays(ctx, `day <= ?`, toNS(now.Add(-24*time.Hour))); err != nil {
		return err
	}
	// Those days are rolled up; dropping their bits is always safe (a
	// missing bit only costs an insert that finds the row there).
	s.rollupMu.Lock()
	s.marked.forgetBefore(toNS(rollup.Day.Truncate(now)))
	s.rollupMu.Unlock()
	return nil
}

// Rollup rolls up every hour touching [from, to) that has raw points or is
// pending, each in its own transaction so ingest is never held up for
// long, then every pending day that starts before to.
func (s *Store) Rollup(ctx context.Context, from, to time.Time) error {
	if !to.After(from) {
		return nil
	}
	// Skip the empty hours outside the data, so a wide range is cheap.
	var lo, hi sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(t), MAX(t) FROM
		(SELECT MIN(hour) AS t FROM chunks UNION ALL SELECT MAX(hour) FROM chunks
		 UNION ALL SELECT MIN(hour) FROM rollup_pending_streams UNION ALL SELECT MAX(hour) FROM rollup_pending_streams)`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("sqlite: rollup: data range: %w", err)
	}
	if lo.Valid {
		start := rollup.Hour.Truncate(from)
		if first := rollup.Hour.Truncate(fromNS(lo.Int64)); first.After(start) {
			start = first
		}
		end := to
		if last := fromNS(hi.Int64).Add(1); last.Before(end) {
			end = last
		}
		for h := start; h.Before(end); h = h.Add(time.Hour) {
			if _, _, err := s.rollupHour(ctx, h, rebuild); err != nil {
				return fmt.Errorf("sqlite: rollup hour %s: %w", h.Format(time.RFC3339), err)
			}
		}
	}
	return s.rollupDays(ctx, `day < ?`, clampNS(to))
}

type hourMode int

const (
	rebuild        hourMode = iota // Rollup: every stream of the hour
	rebuildPending                 // RollupPending: the hour's pending streams
	seal                           // Prune: roll up if pending, then delete the raw points
)

// rollupHour rolls up hour h in one write transaction and returns how many
// raw points it deleted. The hour's buckets are rebuilt from its raw points
// (replacing, which is idempotent) unless the hour is sealed: then its raw
// points arrived after it was pruned, so they are merged into its buckets
// and deleted. An hour whose day has lost its hourly buckets only deletes
// its raw points.
func (s *Store) rollupHour(ctx context.Context, h time.Time, mode hourMode) (deleted, read int64, err error) {
	s.rollupMu.Lock()
	defer s.rollupMu.Unlock()
	if mode != seal {
		if done, read, err := s.rebuildHour(ctx, h, mode == rebuild); done || err != nil {
			return 0, read, err
		}
	}
	var created map[sidKey]int64
	var marked []int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		deleted, read, created, marked = 0, 0, nil, nil
		rawH, hourlyH, err := horizons(ctx, tx)
		if err != nil {
			return err
		}
		hns := toNS(h)
		var pending bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM rollup_pending_streams WHERE hour = ?)`, hns).Scan(&pending); err != nil {
			return err
		}
		sealed, dropping := hns < rawH, hns < hourlyH
		var bs []rollup.Bucket
		if !dropping && (sealed || pending || mode != seal) {
			if bs, read, err = aggregateHour(ctx, tx, h, nil); err != nil {
				return err
			}
		}
		if len(bs) > 0 {
			var ids []int64
			if ids, created, err = s.sids(ctx, tx, bs); err != nil {
				return err
			}
			if sealed {
				if err := mergeExisting(ctx, tx, ids, bs); err != nil {
					return err
				}
			}
			if err := upsert(ctx, tx, "rollups_hourly", ids, bs); err != nil {
				return err
			}
			if marked, err = s.markDays(ctx, tx, ids, rollup.Day.Truncate(h)); err != nil {
				return err
			}
		}
		if sealed || dropping || mode == seal {
			if deleted, err = deletePoints(ctx, tx, h); err != nil {
				return err
			}
			if dropping && deleted > 0 {
				s.log.Warn("raw points dropped: they arrived after their day's hourly rollups were pruned",
					"hour", h.Format(time.RFC3339), "points", deleted)
			}
		}
		if mode == seal {
			if _, err := tx.ExecContext(ctx, `UPDATE rollup_horizons SET at = max(at, ?) WHERE name = 'raw'`, toNS(h.Add(time.Hour))); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM rollup_pending_streams WHERE hour = ?`, hns)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	s.cacheSIDs(created)
	s.marked.set(toNS(rollup.Day.Truncate(h)), marked)
	return deleted, read, nil
}

// rebuildHour rebuilds an unsealed hour's buckets while ingest goes on:
// those of every stream (a site's measurement) with all, else of the
// streams marked pending in the hour. The points are read and aggregated
// from read-only snapshots, rollupStreams streams at a time, so memory
// stays bounded however many schools there are, and each chunk's buckets
// are written in a short transaction of their own. A stream stays pending
// if anything was written to it meanwhile (its seq moved), so the next run
// sees those points too. An hour that is sealed or dropping is left to the
// writer's path: done is false and nothing was written. read is how many
// points it aggregated.
func (s *Store) rebuildHour(ctx context.Context, h time.Time, all bool) (done bool, read int64, err error) {
	hns := toNS(h)
	rawH, hourlyH, err := horizons(ctx, s.r)
	if err != nil || hns < rawH || hns < hourlyH {
		return false, 0, err
	}
	marks, err := s.pendingStreams(ctx, hns)
	if err != nil {
		return false, 0, err
	}
	var gids []int64
	if all {
		gids, err = s.int64s(ctx, `SELECT id FROM streams ORDER BY id`)
		if err != nil {
			return false, 0, err
		}
	} else {
		gids = slices.Sorted(maps.Keys(marks))
	}
	for len(gids) > 0 {
		chunk := gids[:min(len(gids), rollupStreams)]
		gids = gids[len(chunk):]
		bs, n, err := aggregateHour(ctx, s.r, h, chunk)
		if s.testHookAggregated != nil {
			s.testHookAggregated(h)
		}
		if err != nil {
			return false, read, err
		}
		read += n
		for len(bs) > 0 {
			part := bs[:min(len(bs), rollupWriteBuckets)]
			bs = bs[len(part):]
			began := time.Now()
			if err := s.writeHourBuckets(ctx, h, part); err != nil {
				return false, read, err
			}
			s.yieldToIngest(ctx, time.Since(began))
		}
	}
	if len(marks) == 0 {
		return true, read, nil
	}
	return true, read, s.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `DELETE FROM rollup_pending_streams WHERE hour = ? AND gid = ? AND seq = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for gid, seq := range marks {
			if _, err := st.ExecContext(ctx, hns, gid, seq); err != nil {
				return err
			}
		}
		return nil
	})
}

// yieldToIngest pauses a rebuild after a write transaction that took d
// while agents' batches wait for the writer, so that they have the one
// write connection at least as long as the rebuild had it. A large hour's
// rebuild is a long run of such transactions; without the pause, batches
// got the connection only between them and were refused as busy. The
// rebuild finishes later instead.
func (s *Store) yieldToIngest(ctx context.Context, d time.Duration) {
	if s.waiting.Load() == 0 {
		return
	}
	t := time.NewTimer(min(d, time.Second))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// pendingStreams reads the streams marked pending in hour hns, with their
// write counts.
func (s *Store) pendingStreams(ctx context.Context, hns int64) (map[int64]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT gid, seq FROM rollup_pending_streams WHERE hour = ?`, hns)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	marks := map[int64]int64{}
	for rows.Next() {
		var gid, seq int64
		if err := rows.Scan(&gid, &seq); err != nil {
			return nil, err
		}
		marks[gid] = seq
	}
	return marks, rows.Err()
}

// writeHourBuckets writes some of hour h's rebuilt buckets, making their
// series where new, and marks their days pending, in one transaction.
func (s *Store) writeHourBuckets(ctx context.Context, h time.Time, bs []rollup.Bucket) error {
	var created map[sidKey]int64
	var marked []int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var ids []int64
		var err error
		if ids, created, err = s.sids(ctx, tx, bs); err != nil {
			return err
		}
		if err := upsert(ctx, tx, "rollups_hourly", ids, bs); err != nil {
			return err
		}
		marked, err = s.markDays(ctx, tx, ids, rollup.Day.Truncate(h))
		return err
	})
	if err != nil {
		return err
	}
	s.cacheSIDs(created)
	s.marked.set(toNS(rollup.Day.Truncate(h)), marked)
	return nil
}

// rollupWriteBuckets bounds the buckets rebuildHour writes in one
// transaction, which holds the writer and so every agent's batch: a chunk
// of 256 streams at a large collector holds a hundred thousand buckets or
// more, seconds of writing when their series are new. 8,192 buckets take
// about a tenth of a second. A variable so that tests can write one bucket
// a transaction.
var rollupWriteBuckets = 8192

// rollupStreams is how many of the sites' measurements rebuildHour reads
// and writes at a time: at a school's full SNMP mix, 256 of them hold a
// few tens of thousands of series an hour. A variable so that tests can make
// every stream its own chunk.
var rollupStreams = 256

// querier is a read transaction or the read pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func horizons(ctx context.Context, tx querier) (raw, hourly int64, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, at FROM rollup_horizons`)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var at int64
		if err := rows.Scan(&name, &at); err != nil {
			return 0, 0, err
		}
		switch name {
		case "raw":
			raw = at
		case "hourly":
			hourly = at
		}
	}
	return raw, hourly, rows.Err()
}

// aggregateHour rolls the raw points of hour h up: all of them, or only
// those of the streams gids when it is not empty. A point holds its
// series' id; the series' names and tags are read once a series, not
// joined to every point.
func aggregateHour(ctx context.Context, q querier, h time.Time, gids []int64) (bs []rollup.Bucket, read int64, err error) {
	query := `SELECT t0, data FROM chunks WHERE hour = ?`
	args := []any{toNS(h)}
	if len(gids) > 0 {
		query += ` AND gid IN (` + strings.Repeat(",?", len(gids))[1:] + `)`
		for _, g := range gids {
			args = append(args, g)
		}
	}
	seriesOf, err := q.PrepareContext(ctx, `SELECT site, measurement, series, tags FROM series WHERE id = ?`)
	if err != nil {
		return nil, 0, err
	}
	defer seriesOf.Close()
	// Each stream's chunks together, roughly in time order, as
	// chunks(hour, gid) and the batches hold them: no sort of the hour.
	rows, err := q.QueryContext(ctx, query+` ORDER BY gid`, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	agg := rollup.NewAggregator(rollup.Hour)
	type seriesRow struct {
		site, measurement, series string
		tags                      map[string]string
	}
	known := map[int64]*seriesRow{}
	var d rowcodec.Decoder
	var samples []rollup.Sample
	var data []byte
	var t0 int64
	add := func(sid, ns int64, fieldsJS []byte) error {
		se := known[sid]
		if se == nil {
			se = &seriesRow{}
			var tagsJS []byte
			if err := seriesOf.QueryRowContext(ctx, sid).Scan(&se.site, &se.measurement, &se.series, &tagsJS); err != nil {
				return fmt.Errorf("series %d: %w", sid, err)
			}
			var err error
			if se.tags, err = d.DecodeTags(tagsJS); err != nil {
				return fmt.Errorf("%s: %w", se.series, err)
			}
			known[sid] = se
		}
		var err error
		if samples, err = d.Samples(fieldsJS, samples); err != nil {
			return fmt.Errorf("%s: %w", se.series, err)
		}
		agg.AddSamples(sid, se.site, se.measurement, se.series, se.tags, samples, fromNS(ns))
		read++
		return nil
	}
	for rows.Next() {
		if err := rows.Scan(&t0, &data); err != nil {
			return nil, 0, err
		}
		if err := eachChunkPoint(data, t0, add); err != nil {
			return nil, 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return agg.Buckets(), read, nil
}

// mergeExisting adds the stored hourly bucket, if any, to each of bs.
func mergeExisting(ctx context.Context, tx *sql.Tx, ids []int64, bs []rollup.Bucket) error {
	st, err := tx.PrepareContext(ctx, `SELECT `+bucketColList+` FROM rollups_hourly WHERE sid = ? AND start = ? AND field = ? AND ok = ? AND kind = ?`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range bs {
		b := &bs[i]
		old := *b
		old.Hist, old.Values, old.Other = nil, nil, 0
		var sid int64
		err := scanBucket(st.QueryRowContext(ctx, ids[i], toNS(b.Start), b.Field, int64(b.OK), int64(b.Kind)), &sid, &old)
		switch {
		case err == sql.ErrNoRows:
			continue
		case err != nil:
			return err
		}
		*b = rollup.Merge(rollup.Hour, []rollup.Bucket{old, *b})
	}
	return nil
}

// markDays marks day pending for every series of ids not marked already,
// and returns those it marked: the caller sets them in s.marked once the
// transaction commits. The caller holds s.rollupMu.
func (s *Store) markDays(ctx context.Context, tx *sql.Tx, ids []int64, day time.Time) ([]int64, error) {
	d := toNS(day)
	var todo []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if !seen[id] && !s.marked.has(d, id) {
			todo = append(todo, id)
		}
		seen[id] = true
	}
	if len(todo) == 0 {
		return nil, nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO rollup_pending_days(sid, day) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, id := range todo {
		if _, err := st.ExecContext(ctx, id, d); err != nil {
			return nil, err
		}
	}
	return todo, nil
}

func deletePoints(ctx context.Context, tx *sql.Tx, h time.Time) (int64, error) {
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM chunks WHERE hour = ?`, toNS(h)).Scan(&n); err != nil || n == 0 {
		return n, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE hour = ?`, toNS(h)); err != nil {
		return 0, err
	}
	_, err := tx.ExecContext(ctx, `UPDATE counters SET n = n - ? WHERE name = 'points'`, n)
	return n, err
}

// daysPerTx bounds one transaction of day rollups.
const daysPerTx = 256

type sidDay struct{ sid, day int64 }

// rollupDays rebuilds the daily bucket of every pending series-day whose
// day matches cond (with arg), from its hourly buckets. Days whose hourly
// buckets were pruned keep their daily buckets.
func (s *Store) rollupDays(ctx context.Context, cond string, arg int64) error {
	rows, err := s.r.QueryContext(ctx, `SELECT sid, day FROM rollup_pending_days WHERE `+cond+` ORDER BY day, sid`, arg)
	if err != nil {
		return fmt.Errorf("sqlite: rollup: pending days: %w", err)
	}
	var todo []sidDay
	for rows.Next() {
		var p sidDay
		if err := rows.Scan(&p.sid, &p.day); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: rollup: pending days: %w", err)
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: rollup: pending days: %w", err)
	}
	for len(todo) > 0 {
		n := min(len(todo), daysPerTx)
		if err := s.rollupDayBatch(ctx, todo[:n]); err != nil {
			return fmt.Errorf("sqlite: rollup day %s: %w", fromNS(todo[0].day).Format(time.DateOnly), err)
		}
		todo = todo[n:]
	}
	return nil
}

// rollupDayBatch rolls up some pending series-days in one transaction,
// holding rollupMu so that no hour marks one of them meanwhile.
func (s *Store) rollupDayBatch(ctx context.Context, todo []sidDay) error {
	s.rollupMu.Lock()
	defer s.rollupMu.Unlock()
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return rollupDayRows(ctx, tx, todo) }); err != nil {
		return err
	}
	for _, p := range todo {
		s.marked.clear(p.day, p.sid)
	}
	return nil
}

func rollupDayRows(ctx context.Context, tx *sql.Tx, todo []sidDay) error {
	_, hourlyH, err := horizons(ctx, tx)
	if err != nil {
		return err
	}
	read, err := tx.PrepareContext(ctx, `SELECT `+bucketColList+` FROM rollups_hourly
		WHERE sid = ? AND start >= ? AND start < ? ORDER BY start`)
	if err != nil {
		return err
	}
	defer read.Close()
	for _, p := range todo {
		if p.day >= hourlyH {
			var hours []rollup.Bucket
			rows, err := read.QueryContext(ctx, p.sid, p.day, p.day+int64(24*time.Hour))
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM rollup_pending_days WHERE day = ? AND sid = ?`, p.day, p.sid); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) int64s(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
