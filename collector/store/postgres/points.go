package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
	"github.com/probity-edu/probity/internal/point"
)

// WriteBatch stores the batch id, its points and the agent's last contact
// in one transaction. A batch id seen before writes nothing and reports dup.
//
// The batch id goes in first with ON CONFLICT DO NOTHING: when two
// collectors get the same batch at once, the second insert waits on the
// first's uncommitted key and then inserts nothing, so the batch is stored
// once whichever commits. Points go in by COPY.
func (s *Store) WriteBatch(ctx context.Context, b store.Batch, now time.Time) (bool, error) {
	if b.ID == "" || b.Agent.ID == "" || b.Agent.SiteID == "" {
		return false, fmt.Errorf("postgres: write batch %q: batch id, agent id and site are required", b.ID)
	}
	// Encode before the transaction: it is the CPU-heavy part (and done
	// already when ingest decoded the batch into rows).
	enc, err := rowcodec.RowsOf(b)
	if err != nil {
		return false, fmt.Errorf("postgres: write batch %q: %w", b.ID, err)
	}
	rows := make([][]any, len(enc.Rows))
	hourSet := map[int64]bool{} // to lock, and mark pending for rollup
	daySet := map[int64]bool{}  // partitions needed
	site, agent := pgText(b.Agent.SiteID), pgText(b.Agent.ID)
	for i, r := range enc.Rows {
		rows[i] = []any{site, agent, pgText(r.Measurement), pgText(string(enc.SeriesKey(i))), string(enc.TagsJSON(i)), string(enc.FieldsJSON(i)), r.NS}
		hourSet[r.NS-mod(r.NS, int64(time.Hour))] = true
		daySet[dayOf(r.NS)] = true
	}
	hours := slices.Sorted(maps.Keys(hourSet))
	days := slices.Sorted(maps.Keys(daySet))
	locks := make([]int32, len(hours))
	for i, h := range hours {
		locks[i] = hourKey(h)
	}
	var dup bool
	// A partition this process created may have been dropped by a Prune
	// (here or in another collector) since: then make it again and retry.
	// A Prune running all the while can win a few times; it never runs
	// for long, so a short back-off outlasts it.
	for attempt := 1; ; attempt++ {
		if err = s.ensureParts(ctx, days); err != nil {
			break
		}
		dup, err = s.writeBatch(ctx, b, now, rows, hours, locks)
		if !noPartition(err) || attempt == maxPartitionRetries {
			break
		}
		s.forgetParts()
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("postgres: write batch %q from agent %q: %w", b.ID, b.Agent.ID, ctx.Err())
		case <-time.After(time.Duration(min(attempt, 20)) * 10 * time.Millisecond):
		}
	}
	if err != nil {
		return false, fmt.Errorf("postgres: write batch %q from agent %q: %w", b.ID, b.Agent.ID, err)
	}
	return dup, nil
}

func (s *Store) writeBatch(ctx context.Context, b store.Batch, now time.Time, rows [][]any, hours []int64, locks []int32) (dup bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// The statements before and after the points go in two pipelines,
		// one round trip each: a batch is about 35 points, so round trips,
		// not rows, were most of what each cost the collector and the
		// server.
		var head pgx.Batch
		// Shared locks on the batch's hours (in order, as Prune takes them
		// exclusively) keep a point from landing in an hour between its
		// rollup reading it and deleting it.
		if len(locks) > 0 {
			head.Queue(`SELECT pg_advisory_xact_lock_shared($1, k) FROM unnest($2::int4[]) AS k ORDER BY k`, int32(lockHour), locks)
		}
		// The agent before the batch id: an unknown one would otherwise
		// fail the batches foreign key with a less helpful message.
		head.Queue(`UPDATE agents SET last_seen = $1, version = COALESCE(NULLIF($2, ''), version),
			last_address = CASE WHEN $3 <> '' THEN $3 ELSE last_address END,
			last_address_at = CASE WHEN $3 <> '' THEN $1 ELSE last_address_at END
			WHERE id = $4`,
			toNS(now), b.Agent.Version, b.Address, b.Agent.ID)
		head.Queue(`INSERT INTO batches(id, agent_id, at, points) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, b.ID, b.Agent.ID, toNS(now), len(rows))
		tags, err := execAll(ctx, tx, &head)
		if err != nil {
			if len(locks) > 0 && len(tags) == 0 {
				return fmt.Errorf("lock hours: %w", err)
			}
			return err
		}
		// The agent's update and the batch id are the last two queued.
		if tags[len(tags)-2].RowsAffected() == 0 {
			return fmt.Errorf("agent %q: %w", b.Agent.ID, store.ErrNotFound)
		}
		if tags[len(tags)-1].RowsAffected() == 0 {
			dup = true
			return errDup
		}
		if len(rows) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"points"},
				[]string{"site", "agent", "measurement", "series", "tags", "fields", "time"}, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("points: %w", err)
			}
		}
		var tail pgx.Batch
		tail.Queue(`INSERT INTO rollup_pending_sites(hour, site) SELECT unnest($1::int8[]), $2
			ON CONFLICT (hour, site) DO UPDATE SET seq = nextval('rollup_pending_seq')`, hours, b.Agent.SiteID)
		// One of counterShards rows of each total (migration 0002), so
		// writers seldom queue on the same row. Two statements, so every
		// writer locks its two rows in the same order whatever their
		// physical order in the table.
		shard := rand.IntN(counterShards)
		tail.Queue(`UPDATE counters SET n = n + 1 WHERE name = 'batches' AND shard = $1`, shard)
		tail.Queue(`UPDATE counters SET n = n + $1 WHERE name = 'points' AND shard = $2`, int64(len(rows)), shard)
		if tags, err := execAll(ctx, tx, &tail); err != nil {
			if len(tags) == 0 {
				return fmt.Errorf("pending hours: %w", err)
			}
			return err
		}
		return nil
	})
	if dup {
		return true, nil
	}
	return false, err
}

// execAll sends the batch's statements in one round trip and returns the
// command tags of those that succeeded, in order, up to the first error.
func execAll(ctx context.Context, tx pgx.Tx, b *pgx.Batch) ([]pgconn.CommandTag, error) {
	br := tx.SendBatch(ctx, b)
	tags := make([]pgconn.CommandTag, 0, b.Len())
	for range b.Len() {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return tags, err
		}
		tags = append(tags, tag)
	}
	return tags, br.Close()
}

// counterShards is how many rows each running total is kept in.
const counterShards = 16

// maxPartitionRetries bounds how often a batch is retried when a Prune
// dropped its day's partition under it.
const maxPartitionRetries = 30

// errDup rolls back a batch seen before; WriteBatch turns it into dup=true.
var errDup = errors.New("duplicate batch")

// mod is the non-negative remainder, so hours and days of times before
// 1970 start where they should.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Points returns raw points of a site and measurement in [From, To), in time
// order, keeping those whose tags match every q.Tags entry.
func (s *Store) Points(ctx context.Context, q store.PointQuery) ([]point.Point, error) {
	var where strings.Builder
	args := []any{pgText(q.Site), pgText(q.Measurement), clampNS(q.From), clampNS(q.To)}
	for k, v := range q.Tags {
		if k == store.TagSite || k == store.TagAgent {
			continue // not in the series key; checked below
		}
		// A point with tag k=v has ",k=v" in its series key, so this
		// keeps every match (and, rarely, a few more) without decoding.
		args = append(args, pgText(","+k+"="+v))
		fmt.Fprintf(&where, ` AND strpos(series, $%d) > 0`, len(args))
	}
	rows, err := s.pool.Query(ctx, `SELECT tags, fields, time FROM points
		WHERE site = $1 AND measurement = $2 AND time >= $3 AND time < $4`+where.String()+` ORDER BY time`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: points %s/%s: %w", q.Site, q.Measurement, err)
	}
	defer rows.Close()
	var out []point.Point
	var d rowcodec.Decoder
	var tagsJS, fieldsJS []byte
	var ns int64
	for rows.Next() {
		if err := rows.Scan(&tagsJS, &fieldsJS, &ns); err != nil {
			return nil, fmt.Errorf("postgres: points %s/%s: %w", q.Site, q.Measurement, err)
		}
		tags, err := d.DecodeTags(tagsJS)
		if err != nil {
			return nil, fmt.Errorf("postgres: points %s/%s at %d: %w", q.Site, q.Measurement, ns, err)
		}
		if !matches(tags, q.Tags) {
			continue
		}
		fields, err := d.DecodeFields(fieldsJS)
		if err != nil {
			return nil, fmt.Errorf("postgres: points %s/%s at %d: %w", q.Site, q.Measurement, ns, err)
		}
		out = append(out, point.Point{Measurement: q.Measurement, Tags: tags, Fields: fields, Time: fromNS(ns)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: points %s/%s: %w", q.Site, q.Measurement, err)
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
