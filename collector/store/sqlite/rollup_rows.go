package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/probity-edu/probity/collector/store/rowcodec"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
)

// This file maps buckets to rows: series ids, the bucket columns, and the
// multi-row upsert shared by rollup, merge and WriteRollups.

// sidKey names a rollup series: a series of a site, whatever its fields.
type sidKey struct{ site, measurement, series string }

func keyOf(b *rollup.Bucket) sidKey {
	return sidKey{b.Site, b.Measurement, b.Series}
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
// transaction commits, so a rolled-back id is never remembered. An hour's
// first rollup at a large collector creates hundreds of thousands of
// series in the writer's transaction, so the statements are prepared once
// and a new series costs one insert.
func (s *Store) sids(ctx context.Context, tx *sql.Tx, bs []rollup.Bucket) (ids []int64, created map[sidKey]int64, err error) {
	ids = make([]int64, len(bs))
	created = map[sidKey]int64{}
	var c rowcodec.Codec
	var ins, sel *sql.Stmt
	defer func() {
		for _, st := range []*sql.Stmt{ins, sel} {
			if st != nil {
				st.Close()
			}
		}
	}()
	s.sidMu.Lock()
	defer s.sidMu.Unlock()
	var prev sidKey
	for i := range bs {
		k := keyOf(&bs[i])
		// A series' buckets (a field, class and kind each) come together.
		if i > 0 && k == prev {
			ids[i] = ids[i-1]
			continue
		}
		prev = k
		if id, ok := s.sidCache[k]; ok {
			ids[i] = id
			continue
		}
		if id, ok := created[k]; ok {
			ids[i] = id
			continue
		}
		if ins == nil {
			if ins, err = tx.PrepareContext(ctx, `INSERT INTO rollup_series(site, measurement, series, tags)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`); err != nil {
				return nil, nil, err
			}
		}
		var id int64
		err := ins.QueryRowContext(ctx, k.site, k.measurement, k.series, c.TagsJSON(bs[i].Tags)).Scan(&id)
		if err == sql.ErrNoRows { // made before this process cached it
			if sel == nil {
				if sel, err = tx.PrepareContext(ctx, `SELECT id FROM rollup_series WHERE site = ? AND measurement = ? AND series = ?`); err != nil {
					return nil, nil, err
				}
			}
			err = sel.QueryRowContext(ctx, k.site, k.measurement, k.series).Scan(&id)
		}
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

const (
	bucketCols    = 12
	bucketsPerRow = 64 // rows per INSERT statement
	bucketColList = `sid, start, field, ok, kind, count, min, max, sum, last, last_time, dist`
)

func upsertSQL(tbl string, n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR REPLACE INTO ` + tbl + ` (` + bucketColList + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	return b.String()
}

// upsert writes buckets (all of one resolution) with their series ids.
func upsert(ctx context.Context, tx *sql.Tx, tbl string, ids []int64, bs []rollup.Bucket) error {
	args := make([]any, 0, min(len(bs), bucketsPerRow)*bucketCols)
	var many *sql.Stmt
	defer func() {
		if many != nil {
			many.Close()
		}
	}()
	flush := func() error {
		n := len(args) / bucketCols
		if n == 0 {
			return nil
		}
		var err error
		if n == bucketsPerRow {
			if many == nil {
				if many, err = tx.PrepareContext(ctx, upsertSQL(tbl, bucketsPerRow)); err != nil {
					return err
				}
			}
			_, err = many.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, upsertSQL(tbl, n), args...)
		}
		args = args[:0]
		return err
	}
	for i := range bs {
		b := &bs[i]
		var last any = b.LastText
		if b.Kind == rollup.Number {
			last = b.Last
		}
		args = append(args, ids[i], toNS(b.Start), b.Field, int64(b.OK), int64(b.Kind), b.Count, b.Min, b.Max, b.Sum,
			last, toNS(b.LastTime), rollup.AppendDist(nil, b))
		if len(args) == bucketsPerRow*bucketCols {
			if err := flush(); err != nil {
				return fmt.Errorf("%s: %w", tbl, err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("%s: %w", tbl, err)
	}
	return nil
}

// scanBucket reads the columns of bucketColList after sid into b, whose
// Res must be set; the series' names are the caller's to fill in.
func scanBucket(sc interface{ Scan(...any) error }, sid *int64, b *rollup.Bucket) error {
	var start, lastTime, ok, kind int64
	var last any
	var dist []byte
	if err := sc.Scan(sid, &start, &b.Field, &ok, &kind, &b.Count, &b.Min, &b.Max, &b.Sum, &last, &lastTime, &dist); err != nil {
		return err
	}
	b.Start, b.LastTime = fromNS(start), fromNS(lastTime)
	b.OK, b.Kind = rollup.OK(ok), rollup.Kind(kind)
	switch v := last.(type) {
	case float64:
		b.Last = v
	case int64:
		b.Last = float64(v)
	case string:
		b.LastText = v
	case []byte:
		b.LastText = string(v)
	}
	if err := rollup.DecodeDist(b, dist); err != nil {
		return fmt.Errorf("bucket %d at %s: %w", *sid, b.Start.Format(time.RFC3339), err)
	}
	return nil
}
