package postgres

import (
	"context"
	"fmt"
	"github.com/probity-edu/probity/collector/store/rowcodec"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/rollup"
)

// This file maps buckets to rows: series ids, the bucket columns, and the
// array upsert shared by rollup, merge and WriteRollups.

// sidKey names a rollup series: a series of a site, whatever its fields.
type sidKey struct{ site, measurement, series string }

func keyOf(b *rollup.Bucket) sidKey {
	return sidKey{pgText(b.Site), pgText(b.Measurement), pgText(b.Series)}
}

// table names the bucket table of a resolution.
func table(res rollup.Res) (string, error) {
	switch res {
	case rollup.Hour, 0:
		return "rollups_hourly", nil
	case rollup.Day:
		return "rollups_daily", nil
	}
	return "", fmt.Errorf("unknown resolution %d", res)
}

// sids resolves (creating where needed) the series id of every bucket.
// New ids are returned apart and cached by the caller only after the
// transaction commits, so a rolled-back id is never remembered. The cache
// lock is never held across a query: another transaction of this process
// may hold a row this one waits for.
func (s *Store) sids(ctx context.Context, tx pgx.Tx, bs []rollup.Bucket) (ids []int64, created map[sidKey]int64, err error) {
	ids = make([]int64, len(bs))
	created = map[sidKey]int64{}
	var c rowcodec.Codec
	var prev sidKey
	for i := range bs {
		k := keyOf(&bs[i])
		// A series' buckets (a field, class and kind each) come together.
		if i > 0 && k == prev {
			ids[i] = ids[i-1]
			continue
		}
		prev = k
		s.sidMu.Lock()
		id, ok := s.sidCache[k]
		s.sidMu.Unlock()
		if !ok {
			id, ok = created[k]
		}
		if ok {
			ids[i] = id
			continue
		}
		// Insert, or find the row another writer made: ON CONFLICT DO
		// NOTHING returns no row then.
		err := tx.QueryRow(ctx, `WITH ins AS (
				INSERT INTO rollup_series(site, measurement, series, tags) VALUES ($1, $2, $3, $4)
				ON CONFLICT (site, measurement, series) DO NOTHING RETURNING id)
			SELECT id FROM ins UNION ALL
			SELECT id FROM rollup_series WHERE site = $1 AND measurement = $2 AND series = $3
			LIMIT 1`,
			k.site, k.measurement, k.series, c.TagsJSON(bs[i].Tags)).Scan(&id)
		if err != nil {
			return nil, nil, fmt.Errorf("series %s: %w", k.series, err)
		}
		created[k] = id
		ids[i] = id
	}
	return ids, created, nil
}

func (s *Store) cacheSIDs(created map[sidKey]int64) {
	if len(created) == 0 {
		return
	}
	s.sidMu.Lock()
	defer s.sidMu.Unlock()
	if s.sidCache == nil {
		s.sidCache = map[sidKey]int64{}
	}
	for k, id := range created {
		s.sidCache[k] = id
	}
}

const bucketColList = `sid, start, field, ok, kind, count, min, max, sum, last_num, last_text, last_time, dist`

type bucketKey struct {
	sid, start int64
	field      string
	ok, kind   int16
}

// upsert writes buckets (all of one resolution) with their series ids in
// one statement of arrays, replacing rows with the same key. A key given
// twice keeps its last bucket, as SQLite's INSERT OR REPLACE does.
func upsert(ctx context.Context, tx pgx.Tx, tbl string, ids []int64, bs []rollup.Bucket) error {
	if len(bs) == 0 {
		return nil
	}
	at := map[bucketKey]int{}
	var (
		sid, start, count, lastTime []int64
		ok, kind                    []int16
		mn, mx, sum, lastNum        []float64
		field, lastText             []string
		dist                        [][]byte
	)
	for i := range bs {
		b := &bs[i]
		k := bucketKey{ids[i], toNS(b.Start), pgText(b.Field), int16(b.OK), int16(b.Kind)}
		var lastN float64
		var lastT string
		if b.Kind == rollup.Number {
			lastN = b.Last
		} else {
			lastT = pgText(b.LastText)
		}
		d := rollup.AppendDist(nil, b)
		if j, seen := at[k]; seen {
			count[j], mn[j], mx[j], sum[j], lastNum[j], lastText[j], lastTime[j], dist[j] =
				b.Count, b.Min, b.Max, b.Sum, lastN, lastT, toNS(b.LastTime), d
			continue
		}
		at[k] = len(sid)
		sid, start, field, ok, kind = append(sid, k.sid), append(start, k.start), append(field, k.field), append(ok, k.ok), append(kind, k.kind)
		count, mn, mx, sum = append(count, b.Count), append(mn, b.Min), append(mx, b.Max), append(sum, b.Sum)
		lastNum, lastText, lastTime, dist = append(lastNum, lastN), append(lastText, lastT), append(lastTime, toNS(b.LastTime)), append(dist, d)
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+tbl+` (`+bucketColList+`)
		SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::int2[], $5::int2[], $6::int8[], $7::float8[], $8::float8[],
			$9::float8[], $10::float8[], $11::text[], $12::int8[], $13::bytea[])
		ON CONFLICT (sid, start, field, ok, kind) DO UPDATE SET count = EXCLUDED.count, min = EXCLUDED.min, max = EXCLUDED.max,
			sum = EXCLUDED.sum, last_num = EXCLUDED.last_num, last_text = EXCLUDED.last_text,
			last_time = EXCLUDED.last_time, dist = EXCLUDED.dist`,
		sid, start, field, ok, kind, count, mn, mx, sum, lastNum, lastText, lastTime, dist)
	if err != nil {
		return fmt.Errorf("%s: %w", tbl, err)
	}
	return nil
}

// scanBucket reads the columns of bucketColList into sid and b, whose Res
// must be set; the series' names are the caller's to fill in.
func scanBucket(sc interface{ Scan(...any) error }, sid *int64, b *rollup.Bucket) error {
	var start, lastTime int64
	var ok, kind int16
	var lastNum float64
	var lastText string
	var dist []byte
	if err := sc.Scan(sid, &start, &b.Field, &ok, &kind, &b.Count, &b.Min, &b.Max, &b.Sum, &lastNum, &lastText, &lastTime, &dist); err != nil {
		return err
	}
	b.Start, b.LastTime = fromNS(start), fromNS(lastTime)
	b.OK, b.Kind = rollup.OK(ok), rollup.Kind(kind)
	if b.Kind == rollup.Number {
		b.Last = lastNum
	} else {
		b.LastText = lastText
	}
	if err := rollup.DecodeDist(b, dist); err != nil {
		return fmt.Errorf("bucket %d at %s: %w", *sid, b.Start.Format(time.RFC3339), err)
	}
	return nil
}
