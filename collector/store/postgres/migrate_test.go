package postgres

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
)

// testMigrate0004: a rollup series becomes a series rather than one of its
// fields; the buckets keep every value under the one series id, and two
// fields' pending marks for a day become one.
func testMigrate0004(t *testing.T) {
	ctx := context.Background()
	dsn := pg(t).NewDatabase(t)
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range ms {
		if m.version < 4 {
			before = append(before, m)
		}
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{pool: pool, log: slog.New(slog.DiscardHandler)}
	if err := old.applyMigrations(ctx, before); err != nil {
		pool.Close()
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	agg := rollup.NewAggregator(rollup.Hour)
	for i, v := range []float64{5, 7, 30} {
		agg.Add("oak", "ping", "ping,target=gw", map[string]string{"target": "gw"},
			map[string]any{"ok": true, "rtt_ms": v, "result": "ok"}, t0.Add(time.Duration(i)*time.Minute))
	}
	var rtt, result rollup.Bucket
	for _, b := range agg.Buckets() {
		switch b.Field {
		case "rtt_ms":
			rtt = b
		case "result":
			result = b
		}
	}
	ns, last := t0.UnixNano(), t0.Add(2*time.Minute).UnixNano()
	day := rollup.Day.Truncate(t0).UnixNano()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO rollup_series(id, site, measurement, field, series, tags) VALUES
			(1, 'oak', 'ping', 'rtt_ms', 'ping,target=gw', '{"target":"gw"}'),
			(2, 'oak', 'ping', 'result', 'ping,target=gw', '{"target":"gw"}')`, nil},
		{`INSERT INTO rollups_hourly(sid, start, ok, kind, count, min, max, sum, last_num, last_text, last_time, dist) VALUES
			(1, $1, 1, 1, 3, 5, 30, 42, 30, '', $2, $3), (2, $1, 1, 3, 3, 0, 0, 0, 0, 'ok', $2, $4)`,
			[]any{ns, last, rollup.AppendDist(nil, &rtt), rollup.AppendDist(nil, &result)}},
		{`INSERT INTO rollups_daily(sid, start, ok, kind, count, min, max, sum, last_num, last_text, last_time, dist) VALUES
			(1, $1, 1, 1, 3, 5, 30, 42, 30, '', $2, $3)`, []any{day, last, rollup.AppendDist(nil, &rtt)}},
		{`INSERT INTO rollup_pending_days(sid, day) VALUES (1, $1), (2, $1)`, []any{day}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			pool.Close()
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	pool.Close()

	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	defer s.Close()
	var series, pending int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM rollup_series), (SELECT COUNT(*) FROM rollup_pending_days)`).Scan(&series, &pending); err != nil || series != 1 || pending != 1 {
		t.Errorf("after migrating: %d rollup series, %d pending days (%v); want 1 and 1", series, pending, err)
	}
	get := func(res rollup.Res, field string) rollup.Bucket {
		t.Helper()
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: "oak", Res: res, Measurement: "ping", Field: field, From: t0.Add(-24 * time.Hour), To: t0.Add(24 * time.Hour)})
		if err != nil || len(bs) != 1 {
			t.Fatalf("%s ping/%s after migrating: %+v, %v; want one bucket", res, field, bs, err)
		}
		return bs[0]
	}
	if h := get(rollup.Hour, "rtt_ms"); h.Series != "ping,target=gw" || h.Tags["target"] != "gw" || h.Count != 3 || h.Sum != 42 || h.Last != 30 || !h.Hist.Equal(rtt.Hist) {
		t.Errorf("rtt_ms hour after migrating: %+v", h)
	}
	if r := get(rollup.Hour, "result"); r.Kind != rollup.String || r.Values["ok"] != 3 || r.LastText != "ok" {
		t.Errorf("result hour after migrating: %+v", r)
	}
	if d := get(rollup.Day, "rtt_ms"); d.Count != 3 || d.Max != 30 {
		t.Errorf("rtt_ms day after migrating: %+v", d)
	}
	// The day's rebuild from its hours gives each field its own bucket.
	if err := s.RollupPending(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r := get(rollup.Day, "result"); r.Count != 3 || r.Values["ok"] != 3 {
		t.Errorf("result day rebuilt after migrating: %+v", r)
	}
	// New series take ids after the migrated ones.
	if _, err := s.pool.Exec(ctx, `INSERT INTO rollup_series(site, measurement, series, tags) VALUES ('oak', 'dns', 'dns', '{}')`); err != nil {
		t.Errorf("a new rollup series after migrating: %v", err)
	}
}
