package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store/rowcodec"
)

// RollupPending rolls up every pending hour in time order, then the
// pending days that ended by now (a day still filling waits, so its daily
// bucket is built once rather than on every run).
func (s *Store) RollupPending(ctx context.Context, now time.Time) error {
	hours, err := s.int64s(ctx, `SELECT hour FROM rollup_pending_hours ORDER BY hour`)
	if err != nil {
		return fmt.Errorf("sqlite: rollup: pending hours: %w", err)
	}
	for _, h := range hours {
		t := fromNS(h)
		open := t.Add(time.Hour).After(now)
		if open && s.open.waits(h, now) {
			continue // still pending: a later run takes it
		}
		_, read, err := s.rollupHour(ctx, t, rebuild)
		if err != nil {
			return fmt.Errorf("sqlite: rollup hour %s: %w", t.Format(time.RFC3339), err)
		}
		if open {
			s.open.rebuilt(h, now, read)
		}
	}
	s.open.forget(toNS(rollup.Hour.Truncate(now)))
	return s.rollupDays(ctx, `day <= ?`, toNS(now.Add(-24*time.Hour)))
}

// openHours throttles rebuilding an hour that is still filling. Every
// rollup and scoring run rebuilds each pending hour from all its raw points
// so that verdicts see every point stored; for the open hour of a large
// collector (hundreds of schools with full SNMP: ten million points by the
// half hour, some 40 s of a core a rebuild) that is much of a core when
// scoring runs every 5 minutes. Such an hour is rebuilt at most
// every openHourEvery, so verdicts may miss its newest points for that
// long; a small collector's open hour, and every hour that has ended, is
// rebuilt on every run as before.
type openHours struct {
	mu   sync.Mutex
	big  int64 // points read at which an open hour is throttled
	last map[int64]openHour
}

type openHour struct {
	at   time.Time // the run's now
	read int64     // points the rebuild read
}

const (
	openHourBig   = 10_000_000
	openHourEvery = 15 * time.Minute
)

// waits reports whether open hour h was rebuilt from many points less than
// openHourEvery before now.
func (o *openHours) waits(h int64, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	l, ok := o.last[h]
	big := o.big
	if big == 0 {
		big = openHourBig
	}
	return ok && l.read >= big && now.Sub(l.at) < openHourEvery
}

func (o *openHours) rebuilt(h int64, now time.Time, read int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		o.last = map[int64]openHour{}
	}
	o.last[h] = openHour{now, read}
}

// forget drops the hours before the current one: they are no longer open.
func (o *openHours) forget(current int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for h := range o.last {
		if h < current {
			delete(o.last, h)
		}
	}
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
		(SELECT MIN(time) AS t FROM points UNION ALL SELECT MAX(time) FROM points
		 UNION ALL SELECT MIN(hour) FROM rollup_pending_hours UNION ALL SELECT MAX(hour) FROM rollup_pending_hours)`).Scan(&lo, &hi); err != nil {
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
	rebuild hourMode = iota // Rollup, RollupPending
	seal                    // Prune: roll up if pending, then delete the raw points
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
	if mode == rebuild {
		if done, read, err := s.rebuildHour(ctx, h); done || err != nil {
			return 0, read, err
		}
	}
	var created map[sidKey]int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		deleted, read, created = 0, 0, nil
		rawH, hourlyH, err := horizons(ctx, tx)
		if err != nil {
			return err
		}
		hns := toNS(h)
		var pending bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM rollup_pending_hours WHERE hour = ?)`, hns).Scan(&pending); err != nil {
			return err
		}
		sealed, dropping := hns < rawH, hns < hourlyH
		var bs []rollup.Bucket
		if !dropping && (sealed || pending || mode == rebuild) {
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
			if err := markDays(ctx, tx, ids, rollup.Day.Truncate(h)); err != nil {
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
		_, err = tx.ExecContext(ctx, `DELETE FROM rollup_pending_hours WHERE hour = ?`, hns)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	s.cacheSIDs(created)
	return deleted, read, nil
}

// rebuildHour rebuilds an unsealed hour's buckets while ingest goes on: the
// points are read and aggregated from read-only snapshots, rollupStreams
// of the site's measurements at a time, so memory stays bounded however
// many schools there are, and each chunk's buckets are written in a short
// transaction of their own. The hour stays pending if anything was written
// to it meanwhile (its seq moved), so the next run sees those points too.
// An hour that is sealed or dropping is left to the writer's path: done is
// false and nothing was written. read is how many points it aggregated.
func (s *Store) rebuildHour(ctx context.Context, h time.Time) (done bool, read int64, err error) {
	hns := toNS(h)
	rawH, hourlyH, err := horizons(ctx, s.r)
	if err != nil || hns < rawH || hns < hourlyH {
		return false, 0, err
	}
	var seq sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT seq FROM rollup_pending_hours WHERE hour = ?`, hns).Scan(&seq); err != nil && err != sql.ErrNoRows {
		return false, 0, err
	}
	gids, err := s.int64s(ctx, `SELECT id FROM streams ORDER BY id`)
	if err != nil {
		return false, 0, err
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
		if len(bs) == 0 {
			continue
		}
		var created map[sidKey]int64
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var ids []int64
			var err error
			if ids, created, err = s.sids(ctx, tx, bs); err != nil {
				return err
			}
			if err := upsert(ctx, tx, "rollups_hourly", ids, bs); err != nil {
				return err
			}
			return markDays(ctx, tx, ids, rollup.Day.Truncate(h))
		})
		if err != nil {
			return false, read, err
		}
		s.cacheSIDs(created)
	}
	if !seq.Valid {
		return true, read, nil
	}
	return true, read, s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM rollup_pending_hours WHERE hour = ? AND seq = ?`, hns, seq.Int64)
		return err
	})
}

// rollupStreams is how many of the sites' measurements rebuildHour reads
// and writes at a time: at a school's full SNMP mix, 256 of them hold a
// few tens of thousands of series an hour. A variable so that tests can make
// every stream its own chunk.
var rollupStreams = 256

// querier is a read transaction or the read pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
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
// those of the streams gids when it is not empty.
func aggregateHour(ctx context.Context, q querier, h time.Time, gids []int64) (bs []rollup.Bucket, read int64, err error) {
	query := `SELECT p.sid, se.site, se.measurement, se.series, se.tags, p.fields, p.time
		FROM points p JOIN series se ON se.id = p.sid
		WHERE p.time >= ? AND p.time < ?`
	args := []any{toNS(h), toNS(h.Add(time.Hour))}
	if len(gids) > 0 {
		query += ` AND p.gid IN (` + strings.Repeat(",?", len(gids))[1:] + `)`
		for _, g := range gids {
			args = append(args, g)
		}
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY p.time`, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	agg := rollup.NewAggregator(rollup.Hour)
	tagsOf := map[int64]map[string]string{} // decoded once per series
	var d rowcodec.Decoder
	var site, measurement, series string
	var tagsJS, fieldsJS []byte
	var sid, ns int64
	for rows.Next() {
		if err := rows.Scan(&sid, &site, &measurement, &series, &tagsJS, &fieldsJS, &ns); err != nil {
			return nil, 0, err
		}
		tags, ok := tagsOf[sid]
		if !ok {
			if tags, err = d.DecodeTags(tagsJS); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", series, err)
			}
			tagsOf[sid] = tags
		}
		fields, err := d.DecodeFields(fieldsJS)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", series, err)
		}
		agg.Add(site, measurement, series, tags, fields, fromNS(ns))
		read++
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return agg.Buckets(), read, nil
}

// mergeExisting adds the stored hourly bucket, if any, to each of bs.
func mergeExisting(ctx context.Context, tx *sql.Tx, ids []int64, bs []rollup.Bucket) error {
	st, err := tx.PrepareContext(ctx, `SELECT `+bucketColList+` FROM rollups_hourly WHERE sid = ? AND start = ? AND ok = ? AND kind = ?`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range bs {
		b := &bs[i]
		old := *b
		old.Hist, old.Values, old.Other = nil, nil, 0
		var sid int64
		err := scanBucket(st.QueryRowContext(ctx, ids[i], toNS(b.Start), int64(b.OK), int64(b.Kind)), &sid, &old)
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

func markDays(ctx context.Context, tx *sql.Tx, ids []int64, day time.Time) error {
	st, err := tx.PrepareContext(ctx, `INSERT INTO rollup_pending_days(sid, day) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	defer st.Close()
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := st.ExecContext(ctx, id, toNS(day)); err != nil {
			return err
		}
	}
	return nil
}

func deletePoints(ctx context.Context, tx *sql.Tx, h time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM points WHERE time >= ? AND time < ?`, toNS(h), toNS(h.Add(time.Hour)))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return n, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE counters SET n = n - ? WHERE name = 'points'`, n)
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
		if err := s.inTx(ctx, func(tx *sql.Tx) error { return rollupDayBatch(ctx, tx, todo[:n]) }); err != nil {
			return fmt.Errorf("sqlite: rollup day %s: %w", fromNS(todo[0].day).Format(time.DateOnly), err)
		}
		todo = todo[n:]
	}
	return nil
}

func rollupDayBatch(ctx context.Context, tx *sql.Tx, todo []sidDay) error {
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
