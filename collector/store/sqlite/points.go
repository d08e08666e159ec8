package sqlite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
	"github.com/probity-edu/probity/internal/point"
)

// WriteBatch stores the batch id, its points and the agent's last contact
// atomically. A batch id seen before writes nothing and reports dup.
//
// Batches are encoded here, on the caller's goroutine, then committed by
// the group writer (group.go) together with whatever other batches arrived
// meanwhile: one commit for many agents' small batches is what lets one
// SQLite writer keep up with thousands of schools.
func (s *Store) WriteBatch(ctx context.Context, b store.Batch, now time.Time) (bool, error) {
	req, err := encodeBatch(ctx, b, now)
	if err != nil {
		return false, err
	}
	res, err := s.submit(req)
	if err == nil {
		err = res.err
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: write batch %q from agent %q: %w", b.ID, b.Agent.ID, err)
	}
	return res.dup, nil
}

// encodeBatch checks b and, unless ingest already did, encodes its points
// for the group writer.
func encodeBatch(ctx context.Context, b store.Batch, now time.Time) (*writeReq, error) {
	if b.ID == "" || b.Agent.ID == "" || b.Agent.SiteID == "" {
		return nil, fmt.Errorf("sqlite: write batch %q: batch id, agent id and site are required", b.ID)
	}
	rows, err := rowcodec.RowsOf(b)
	if err != nil {
		return nil, fmt.Errorf("sqlite: write batch %q: %w", b.ID, err)
	}
	req := &writeReq{ctx: ctx, b: b, now: now, rows: rows, hours: make([]int64, len(rows.Rows)), done: make(chan writeRes, 1)}
	for i, r := range rows.Rows {
		req.hours[i] = rowcodec.Hour(r.NS)
	}
	return req, nil
}

// writeOne writes one batch inside the group's transaction. It returns
// errDup, having written nothing, for a batch id seen before.
func (s *Store) writeOne(st groupStmts, r *writeReq) error {
	// Refusals first, before anything is written, so that the group need
	// not roll back for them (see commitGroup): an unknown agent (which
	// would otherwise fail the batches foreign key with a less helpful
	// message), then a repeated batch, which must not touch the agent.
	var known bool
	if err := st.known.QueryRow(r.b.Agent.ID).Scan(&known); err != nil {
		return err
	}
	if !known {
		return fmt.Errorf("agent %q: %w", r.b.Agent.ID, store.ErrNotFound)
	}
	res, err := st.batch.Exec(r.b.ID, r.b.Agent.ID, toNS(r.now), len(r.rows.Rows))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errDup
	}
	if _, err := st.touch.Exec(toNS(r.now), r.b.Agent.Version, r.b.Address, r.b.Agent.ID); err != nil {
		return err
	}
	site, agent := r.b.Agent.SiteID, r.b.Agent.ID
	rows := r.rows.Rows
	ids := make([]pointIDs, len(rows))
	r.marks = map[hourStream]bool{}
	var gid int64
	for i, p := range rows {
		// A batch's points of a measurement mostly come together.
		if i == 0 || p.Measurement != rows[i-1].Measurement {
			var err error
			if gid, err = s.ids.stream(st.ids, site, p.Measurement); err != nil {
				return err
			}
		}
		r.marks[hourStream{r.hours[i], gid}] = true
		sid, err := s.ids.series(st.ids, site, agent, p.Measurement, r.rows.SeriesKey(i), func() string { return string(r.rows.TagsJSON(i)) })
		if err != nil {
			return err
		}
		ids[i] = pointIDs{gid, sid, i}
	}
	// A chunk a stream and hour: order the points so that each chunk's
	// are adjacent, keeping the batch's order within it.
	slices.SortStableFunc(ids, func(a, b pointIDs) int {
		if c := cmp.Compare(a.gid, b.gid); c != 0 {
			return c
		}
		return cmp.Compare(r.hours[a.i], r.hours[b.i])
	})
	for len(ids) > 0 {
		n := 1
		first, hour := rows[ids[0].i], r.hours[ids[0].i]
		for n < len(ids) && n < maxChunkPoints && ids[n].gid == ids[0].gid && r.hours[ids[n].i] == hour {
			n++
		}
		t0, t1 := first.NS, first.NS
		for _, id := range ids[1:n] {
			t0, t1 = min(t0, rows[id.i].NS), max(t1, rows[id.i].NS)
		}
		buf := s.chunkBuf[:0]
		for _, id := range ids[:n] {
			buf = appendChunkLine(buf, id.sid, rows[id.i].NS-t0, r.rows.FieldsJSON(id.i))
		}
		s.chunkBuf = buf
		data := packChunk(s.chunkPacked, buf)
		if len(data) > 0 && data[0] == chunkS2 {
			s.chunkPacked = data
		}
		if _, err := st.chunk.Exec(ids[0].gid, hour, t0, t1, n, data); err != nil {
			return fmt.Errorf("points: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// pointIDs are a point's stream and series ids and its index in the batch.
type pointIDs struct {
	gid, sid int64
	i        int
}

// The writer's statements for each batch, prepared once (sqlite.go).
const (
	agentKnownSQL  = `SELECT EXISTS (SELECT 1 FROM agents WHERE id = ?)`
	insertBatchSQL = `INSERT INTO batches(id, agent_id, at, points) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`
	touchAgentSQL  = `UPDATE agents SET last_seen = ?1, version = COALESCE(NULLIF(?2, ''), version),
		last_address = CASE WHEN ?3 <> '' THEN ?3 ELSE last_address END,
		last_address_at = CASE WHEN ?3 <> '' THEN ?1 ELSE last_address_at END
		WHERE id = ?4`
)

// errDup is a batch id seen before: writeOne has written nothing, and the
// group writer answers dup=true.
var errDup = errors.New("duplicate batch")

// Points returns raw points of a site and measurement in [From, To), in time
// order, keeping those whose tags match every q.Tags entry.
func (s *Store) Points(ctx context.Context, q store.PointQuery) ([]point.Point, error) {
	fail := func(err error) ([]point.Point, error) {
		return nil, fmt.Errorf("sqlite: points %s/%s: %w", q.Site, q.Measurement, err)
	}
	from, to := clampNS(q.From), clampNS(q.To)
	if from >= to {
		return nil, nil
	}
	// A chunk lies within one hour, so one holding a point at or after
	// from began no earlier than from's hour.
	rows, err := s.r.QueryContext(ctx, `SELECT t0, data FROM chunks
		WHERE gid = (SELECT id FROM streams WHERE site = ? AND measurement = ?) AND t0 >= ? AND t0 < ? AND t1 >= ?
		ORDER BY t0`, q.Site, q.Measurement, toNS(rollup.Hour.Truncate(fromNS(from))), to, from)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	seriesOf, err := s.r.PrepareContext(ctx, `SELECT tags FROM series WHERE id = ?`)
	if err != nil {
		return fail(err)
	}
	defer seriesOf.Close()
	var out []point.Point
	var d rowcodec.Decoder
	// The tags of each series met, nil for one the filter refuses.
	tagsOf := map[int64]map[string]string{}
	var t0 int64
	var data []byte
	for rows.Next() {
		if err := rows.Scan(&t0, &data); err != nil {
			return fail(err)
		}
		err := eachChunkPoint(data, t0, func(sid, ns int64, fieldsJS []byte) error {
			if ns < from || ns >= to {
				return nil
			}
			tags, seen := tagsOf[sid]
			if !seen {
				var tagsJS []byte
				if err := seriesOf.QueryRowContext(ctx, sid).Scan(&tagsJS); err != nil {
					return fmt.Errorf("series %d: %w", sid, err)
				}
				t, err := d.DecodeTags(tagsJS)
				if err != nil {
					return fmt.Errorf("series %d: %w", sid, err)
				}
				if matches(t, q.Tags) {
					tags = t
				}
				tagsOf[sid] = tags
			}
			if tags == nil {
				return nil
			}
			fields, err := d.DecodeFields(fieldsJS)
			if err != nil {
				return fmt.Errorf("at %d: %w", ns, err)
			}
			out = append(out, point.Point{Measurement: q.Measurement, Tags: maps.Clone(tags), Fields: fields, Time: fromNS(ns)})
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	slices.SortStableFunc(out, func(a, b point.Point) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// matches is the exact tag filter; the SQL one only narrows.
func matches(tags, want map[string]string) bool {
	for k, v := range want {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}
