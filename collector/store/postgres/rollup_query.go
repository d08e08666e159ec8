package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
)

type seriesRow struct {
	measurement, series string
	tags                map[string]string
}

// sidsPerQuery bounds the ids in one array parameter.
const sidsPerQuery = 1000

// Rollups returns the buckets q selects, in rollup.Sort order. The series
// are chosen first (site, measurement, tags), then their buckets are read
// by series id and start, which the table's key orders, and field.
func (s *Store) Rollups(ctx context.Context, q store.RollupQuery) ([]rollup.Bucket, error) {
	fail := func(err error) ([]rollup.Bucket, error) {
		return nil, fmt.Errorf("postgres: rollups of %q %s/%s: %w", q.Site, q.Measurement, q.Field, err)
	}
	res := q.Res
	if res == 0 {
		res = rollup.Hour
	}
	tbl, err := table(res)
	if err != nil {
		return fail(err)
	}
	series, err := s.seriesOf(ctx, q)
	if err != nil {
		return fail(err)
	}
	ids := make([]int64, 0, len(series))
	for id := range series {
		ids = append(ids, id)
	}
	cond := ""
	if q.Field != "" {
		cond = ` AND field = $4`
	}
	if q.OnlyOK {
		cond += ` AND ok = 1`
	}
	var out []rollup.Bucket
	for len(ids) > 0 {
		n := min(len(ids), sidsPerQuery)
		args := []any{ids[:n], clampNS(q.From), clampNS(q.To)}
		if q.Field != "" {
			args = append(args, pgText(q.Field))
		}
		rows, err := s.pool.Query(ctx, `SELECT `+bucketColList+` FROM `+tbl+
			` WHERE sid = ANY($1::int8[]) AND start >= $2 AND start < $3`+cond, args...)
		ids = ids[n:]
		if err != nil {
			return fail(err)
		}
		for rows.Next() {
			var sid int64
			b := rollup.Bucket{Site: q.Site, Res: res}
			if err := scanBucket(rows, &sid, &b); err != nil {
				rows.Close()
				return fail(err)
			}
			sr := series[sid]
			b.Measurement, b.Series, b.Tags = sr.measurement, sr.series, sr.tags
			out = append(out, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fail(err)
		}
	}
	rollup.Sort(out)
	return out, nil
}

// seriesOf returns the series of q's site and measurement whose tags
// match q.Tags, by id.
func (s *Store) seriesOf(ctx context.Context, q store.RollupQuery) (map[int64]seriesRow, error) {
	var where strings.Builder
	args := []any{pgText(q.Site)}
	where.WriteString(`site = $1`)
	if q.Measurement != "" {
		args = append(args, pgText(q.Measurement))
		fmt.Fprintf(&where, ` AND measurement = $%d`, len(args))
	}
	rows, err := s.pool.Query(ctx, `SELECT id, measurement, series, tags FROM rollup_series WHERE `+where.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]seriesRow{}
	var d rowcodec.Decoder
	var tagsJS []byte
	for rows.Next() {
		var id int64
		var sr seriesRow
		if err := rows.Scan(&id, &sr.measurement, &sr.series, &tagsJS); err != nil {
			return nil, err
		}
		if sr.tags, err = d.DecodeTags(tagsJS); err != nil {
			return nil, fmt.Errorf("series %d: %w", id, err)
		}
		if matches(sr.tags, q.Tags) {
			out[id] = sr
		}
	}
	return out, rows.Err()
}

// WriteRollups stores buckets as they are, in one transaction, replacing
// any with the same key. Daily buckets are not derived from hourly ones
// written here: write both.
func (s *Store) WriteRollups(ctx context.Context, bs []rollup.Bucket) error {
	byRes := map[rollup.Res][]rollup.Bucket{}
	for _, b := range bs {
		if b.Site == "" || b.Measurement == "" || b.Field == "" || b.Series == "" || b.Start.IsZero() {
			return fmt.Errorf("postgres: write rollups: a bucket needs a site, measurement, series, field and start: %+v", b)
		}
		byRes[b.Res] = append(byRes[b.Res], b)
	}
	var created map[sidKey]int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		created = map[sidKey]int64{}
		for res, group := range byRes {
			tbl, err := table(res)
			if err != nil {
				return err
			}
			ids, made, err := s.sids(ctx, tx, group)
			if err != nil {
				return err
			}
			for k, id := range made {
				created[k] = id
			}
			if err := upsert(ctx, tx, tbl, ids, group); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: write rollups: %w", err)
	}
	s.cacheSIDs(created)
	return nil
}
