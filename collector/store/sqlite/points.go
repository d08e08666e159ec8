package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// encodeBatch checks b and encodes its points for the group writer.
func encodeBatch(ctx context.Context, b store.Batch, now time.Time) (*writeReq, error) {
	if b.ID == "" || b.Agent.ID == "" || b.Agent.SiteID == "" {
		return nil, fmt.Errorf("sqlite: write batch %q: batch id, agent id and site are required", b.ID)
	}
	req := &writeReq{ctx: ctx, b: b, now: now, done: make(chan writeRes, 1)}
	req.pts = make([]encPoint, 0, len(b.Points))
	var c rowcodec.Codec
	for i, p := range b.Points {
		if p.Measurement == "" || p.Time.IsZero() {
			return nil, fmt.Errorf("sqlite: write batch %q: point %d: %w: needs a measurement and a time", b.ID, i, point.ErrInvalid)
		}
		fields, err := c.FieldsJSON(p.Fields)
		if err != nil {
			return nil, fmt.Errorf("sqlite: write batch %q: point %d (%s): %w: %w", b.ID, i, p.Measurement, point.ErrInvalid, err)
		}
		series, tags := c.SeriesAndTags(p.Measurement, p.Tags)
		req.pts = append(req.pts, encPoint{p.Measurement, series, tags, fields, toNS(p.Time), toNS(rollup.Hour.Truncate(p.Time))})
	}
	return req, nil
}

// encPoint is a point as the writer stores it, less the ids it finds.
type encPoint struct {
	measurement, series, tags, fields string
	ns, hour                          int64
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
	res, err := st.batch.Exec(r.b.ID, r.b.Agent.ID, toNS(r.now), len(r.b.Points))
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
	args := make([]any, 0, len(r.pts)*pointCols)
	r.marks = map[hourStream]bool{}
	for _, p := range r.pts {
		gid, err := s.ids.stream(st.ids, site, p.measurement)
		if err != nil {
			return err
		}
		r.marks[hourStream{p.hour, gid}] = true
		sid, err := s.ids.series(st.ids, site, agent, p.measurement, p.series, p.tags)
		if err != nil {
			return err
		}
		args = append(args, gid, sid, p.ns, p.fields)
	}
	for len(args) > 0 {
		ins, n := st.one, pointCols
		if len(args) >= pointsPerInsert*pointCols {
			ins, n = st.many, pointsPerInsert*pointCols
		}
		if _, err := ins.Exec(args[:n]...); err != nil {
			return fmt.Errorf("points: %w", err)
		}
		args = args[n:]
	}
	return nil
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

const (
	pointCols       = 4
	pointsPerInsert = 100
)

// insertPointsSQL is a multi-row INSERT of n points.
func insertPointsSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO points (gid, sid, time, fields) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?)`)
	}
	return b.String()
}

// errDup is a batch id seen before: writeOne has written nothing, and the
// group writer answers dup=true.
var errDup = errors.New("duplicate batch")

// Points returns raw points of a site and measurement in [From, To), in time
// order, keeping those whose tags match every q.Tags entry.
func (s *Store) Points(ctx context.Context, q store.PointQuery) ([]point.Point, error) {
	var where strings.Builder
	args := []any{q.Site, q.Measurement, clampNS(q.From), clampNS(q.To)}
	for k, v := range q.Tags {
		if k == store.TagSite || k == store.TagAgent {
			continue // not in the series key; checked below
		}
		// A point with tag k=v has ",k=v" in its series key, so this
		// keeps every match (and, rarely, a few more) without decoding.
		where.WriteString(` AND instr(se.series, ?) > 0`)
		args = append(args, ","+k+"="+v)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT se.tags, p.fields, p.time FROM points p JOIN series se ON se.id = p.sid
		WHERE p.gid = (SELECT id FROM streams WHERE site = ? AND measurement = ?) AND p.time >= ? AND p.time < ?`+where.String()+` ORDER BY p.time`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: points %s/%s: %w", q.Site, q.Measurement, err)
	}
	defer rows.Close()
	var out []point.Point
	var d rowcodec.Decoder
	var tagsJS, fieldsJS []byte
	var ns int64
	for rows.Next() {
		if err := rows.Scan(&tagsJS, &fieldsJS, &ns); err != nil {
			return nil, fmt.Errorf("sqlite: points %s/%s: %w", q.Site, q.Measurement, err)
		}
		tags, err := d.DecodeTags(tagsJS)
		if err != nil {
			return nil, fmt.Errorf("sqlite: points %s/%s at %d: %w", q.Site, q.Measurement, ns, err)
		}
		if !matches(tags, q.Tags) {
			continue
		}
		fields, err := d.DecodeFields(fieldsJS)
		if err != nil {
			return nil, fmt.Errorf("sqlite: points %s/%s at %d: %w", q.Site, q.Measurement, ns, err)
		}
		out = append(out, point.Point{Measurement: q.Measurement, Tags: tags, Fields: fields, Time: fromNS(ns)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: points %s/%s: %w", q.Site, q.Measurement, err)
	}
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
