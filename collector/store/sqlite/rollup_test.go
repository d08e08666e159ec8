package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// A database of the first schema, with raw points and its old hourly
// buckets, gets the new rollup tables, and every hour with points is
// rolled up again by the next RollupPending. Its points are read back
// through 0007's series and streams.
func TestMigrate0002RollsUpExistingPoints(t *testing.T) {
	ctx := context.Background()
	// A 0001 database, as an earlier build left it.
	path := filepath.Join(t.TempDir(), "v1.db")
	w := openBefore(t, path, 2)
	t0 := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	const row = `('oak', 'a', 'ping', 'ping,target=gw', '{"agent":"a","site":"oak","target":"gw"}', ?, ?)`
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO trusts(id, name, created) VALUES (1, 'T', 0)`, nil},
		{`INSERT INTO sites(id, trust_id, name, phase, created) VALUES ('oak', 1, 'Oak', 'primary', 0)`, nil},
		{`INSERT INTO points(site, agent, measurement, series, tags, fields, time) VALUES ` + row + `, ` + row + `, ` + row,
			[]any{`{"ok":true,"rtt_ms":5}`, t0.Add(time.Minute).UnixNano(), `{"ok":true,"rtt_ms":7}`, t0.Add(2 * time.Minute).UnixNano(),
				`{"ok":false,"rtt_ms":{"i":9}}`, t0.Add(3 * time.Hour).UnixNano()}},
		{`INSERT INTO rollups_hourly(site, measurement, series, field, hour, count, min, max, sum) VALUES ('oak', 'ping', 'ping,target=gw', 'rtt_ms', 0, 1, 1, 1, 1)`, nil},
	} {
		if _, err := w.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	w.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	defer s.Close()
	// 0007 moved the points' names and tags to series and streams.
	pts, err := s.Points(ctx, store.PointQuery{Site: "oak", Measurement: "ping", From: t0, To: t0.Add(4 * time.Hour)})
	if err != nil || len(pts) != 3 {
		t.Fatalf("Points after migrating = %d, %v; want 3", len(pts), err)
	}
	if p := pts[2]; p.Tags["target"] != "gw" || p.Tags["agent"] != "a" || p.Fields["rtt_ms"] != int64(9) || !p.Time.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("third point after migrating = %+v", p)
	}
	if err := s.RollupPending(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		res   rollup.Res
		start time.Time
		ok    rollup.OK
		count int64
		sum   float64
	}{
		{rollup.Hour, t0, rollup.OKTrue, 2, 12},
		{rollup.Hour, t0.Add(3 * time.Hour), rollup.OKFalse, 1, 9},
		{rollup.Day, rollup.Day.Truncate(t0), rollup.OKTrue, 2, 12},
		{rollup.Day, rollup.Day.Truncate(t0), rollup.OKFalse, 1, 9},
	} {
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: "oak", Res: c.res, Field: "rtt_ms", From: c.start, To: c.start.Add(c.res.Duration())})
		var found bool
		for _, b := range bs {
			if b.OK == c.ok {
				found = true
				if b.Count != c.count || b.Sum != c.sum || b.Series != "ping,target=gw" || b.Tags["target"] != "gw" {
					t.Errorf("%s %s ok=%d: %+v", c.res, c.start, c.ok, b)
				}
			}
		}
		if err != nil || !found {
			t.Errorf("%s %s ok=%d: no bucket in %d (%v)", c.res, c.start, c.ok, len(bs), err)
		}
	}
}

// An hour is rebuilt without holding the writer: a batch written into the
// hour while it is being rolled up is stored at once, and the hour stays
// pending, so the next run counts that point too.
func TestRollupDoesNotHoldTheWriter(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	a := benchAgent(t, s)
	h := benchT0.Add(9 * time.Hour)
	if _, err := s.WriteBatch(ctx, store.Batch{ID: "first", Agent: a, Points: []point.Point{benchPoint(a, 1, h.Add(time.Minute))}}, h); err != nil {
		t.Fatal(err)
	}
	written := false
	s.testHookAggregated = func(time.Time) {
		if written {
			return
		}
		written = true
		// With the writer held by the rollup this would never return.
		if _, err := s.WriteBatch(ctx, store.Batch{ID: "during", Agent: a, Points: []point.Point{benchPoint(a, 1, h.Add(2*time.Minute))}}, h); err != nil {
			t.Errorf("writing during the rollup: %v", err)
		}
	}
	if err := s.RollupPending(ctx, h); err != nil {
		t.Fatal(err)
	}
	if !written {
		t.Fatal("the rollup never read the hour")
	}
	count := func() int64 {
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: a.SiteID, Res: rollup.Hour, Field: "rtt_avg_ms", From: h, To: h.Add(time.Hour)})
		if err != nil || len(bs) != 1 {
			t.Fatalf("Rollups = %d buckets, %v; want 1", len(bs), err)
		}
		return bs[0].Count
	}
	if n := count(); n != 1 {
		t.Errorf("bucket after the first run counts %d points, want 1 (the snapshot's)", n)
	}
	pending, err := s.int64s(ctx, `SELECT DISTINCT hour FROM rollup_pending_streams`)
	if err != nil || len(pending) != 1 || pending[0] != toNS(h) {
		t.Fatalf("pending hours = %v, %v; want the hour written during the rollup", pending, err)
	}
	s.testHookAggregated = nil
	if err := s.RollupPending(ctx, h); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("bucket after the second run counts %d points, want 2", n)
	}
	if pending, _ := s.int64s(ctx, `SELECT DISTINCT hour FROM rollup_pending_streams`); len(pending) != 0 {
		t.Errorf("pending hours after the second run = %v, want none", pending)
	}
}

// An open hour rebuilt from many points waits OpenHourEvery before it is
// rebuilt again, and stays pending meanwhile; once the hour has ended it is
// rebuilt on the next run. (The test lowers "many" to 2 points.)
func TestRollupThrottlesABigOpenHour(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	s.open.Big = 2
	a := benchAgent(t, s)
	h := benchT0.Add(9 * time.Hour)
	write := func(id string, at ...time.Duration) {
		var pts []point.Point
		for _, d := range at {
			pts = append(pts, benchPoint(a, 1, h.Add(d)))
		}
		if _, err := s.WriteBatch(ctx, store.Batch{ID: id, Agent: a, Points: pts}, h); err != nil {
			t.Fatal(err)
		}
	}
	count := func(now time.Duration) int64 {
		t.Helper()
		if err := s.RollupPending(ctx, h.Add(now)); err != nil {
			t.Fatal(err)
		}
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: a.SiteID, Res: rollup.Hour, Field: "rtt_avg_ms", From: h, To: h.Add(time.Hour)})
		if err != nil || len(bs) != 1 {
			t.Fatalf("Rollups = %d buckets, %v; want 1", len(bs), err)
		}
		return bs[0].Count
	}
	write("a", time.Minute, 2*time.Minute)
	if n := count(10 * time.Minute); n != 2 {
		t.Fatalf("first run: %d points, want 2", n)
	}
	write("b", 11*time.Minute)
	if n := count(20 * time.Minute); n != 2 {
		t.Errorf("10 minutes later: %d points, want still 2 (throttled)", n)
	}
	if pending, _ := s.int64s(ctx, `SELECT DISTINCT hour FROM rollup_pending_streams`); len(pending) != 1 {
		t.Errorf("pending hours while throttled = %v, want the open hour", pending)
	}
	if n := count(26 * time.Minute); n != 3 {
		t.Errorf("16 minutes after the first run: %d points, want 3", n)
	}
	write("c", 30*time.Minute)
	if n := count(61 * time.Minute); n != 4 {
		t.Errorf("after the hour ended: %d points, want 4 (an ended hour is not throttled)", n)
	}
	// A small open hour (under the threshold) is rebuilt on every run.
	s.open.Big = 1_000
	h2 := h.Add(time.Hour)
	if _, err := s.WriteBatch(ctx, store.Batch{ID: "d", Agent: a, Points: []point.Point{benchPoint(a, 1, h2.Add(time.Minute))}}, h2); err != nil {
		t.Fatal(err)
	}
	if err := s.RollupPending(ctx, h2.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteBatch(ctx, store.Batch{ID: "e", Agent: a, Points: []point.Point{benchPoint(a, 1, h2.Add(3*time.Minute))}}, h2); err != nil {
		t.Fatal(err)
	}
	if err := s.RollupPending(ctx, h2.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	bs, err := s.Rollups(ctx, store.RollupQuery{Site: a.SiteID, Res: rollup.Hour, Field: "rtt_avg_ms", From: h2, To: h2.Add(time.Hour)})
	if err != nil || len(bs) != 1 || bs[0].Count != 2 {
		t.Errorf("small open hour after two runs: %v, %v; want one bucket of 2", bs, err)
	}
}

// With every site's measurement its own chunk, an hour's rebuild still gives
// each site the buckets of its own points, and only those.
func TestRollupInChunks(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	defer func(n, m int) { rollupStreams, rollupWriteBuckets = n, m }(rollupStreams, rollupWriteBuckets)
	rollupStreams, rollupWriteBuckets = 1, 1
	agents := benchSchools(t, s, 3)
	h := benchT0.Add(9 * time.Hour)
	for i, a := range agents {
		var pts []point.Point
		for j := range i + 1 {
			pts = append(pts, benchPoint(a, 1, h.Add(time.Duration(j+1)*time.Minute)))
		}
		if _, err := s.WriteBatch(ctx, store.Batch{ID: a.ID, Agent: a, Points: pts}, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RollupPending(ctx, h.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i, a := range agents {
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: a.SiteID, Res: rollup.Hour, Field: "rtt_avg_ms", From: h, To: h.Add(time.Hour)})
		if err != nil || len(bs) != 1 || bs[0].Count != int64(i+1) {
			t.Errorf("%s: %v, %v; want one bucket of %d", a.SiteID, bs, err, i+1)
		}
	}
}

// The marks an hour's rollup remembers follow rollup_pending_days: a day
// rolled up is marked again by the next hour written to it, and its daily
// bucket then counts that hour too.
func TestMarkedDaysFollowTheTable(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	a := benchAgent(t, s)
	day := benchT0
	write := func(id string, at time.Time) {
		t.Helper()
		if _, err := s.WriteBatch(ctx, store.Batch{ID: id, Agent: a, Points: []point.Point{benchPoint(a, 1, at)}}, at); err != nil {
			t.Fatal(err)
		}
	}
	daily := func() int64 {
		t.Helper()
		if err := s.Rollup(ctx, day, day.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: a.SiteID, Res: rollup.Day, Field: "rtt_avg_ms", From: day, To: day.Add(24 * time.Hour)})
		if err != nil || len(bs) != 1 {
			t.Fatalf("daily Rollups = %d buckets, %v; want 1", len(bs), err)
		}
		return bs[0].Count
	}
	marks := func() (rows, bits int) {
		t.Helper()
		got, err := s.int64s(ctx, `SELECT sid FROM rollup_pending_days`)
		if err != nil {
			t.Fatal(err)
		}
		for _, sid := range []int64{1, 2, 3, 4, 5, 6, 7, 8} {
			if s.marked.has(toNS(day), sid) {
				bits++
			}
		}
		return len(got), bits
	}
	write("a", day.Add(time.Hour))
	if _, _, err := s.rollupHour(ctx, day.Add(time.Hour), rebuild); err != nil {
		t.Fatal(err)
	}
	if rows, bits := marks(); rows == 0 || rows != bits {
		t.Fatalf("after an hour's rollup: %d pending day rows, %d bits; want the same, not 0", rows, bits)
	}
	if n := daily(); n != 1 {
		t.Fatalf("day counts %d points, want 1", n)
	}
	if rows, bits := marks(); rows != 0 || bits != 0 {
		t.Fatalf("after the day's rollup: %d pending day rows, %d bits; want none", rows, bits)
	}
	write("b", day.Add(2*time.Hour))
	if n := daily(); n != 2 {
		t.Errorf("day counts %d points after a second hour, want 2", n)
	}
}

// A late batch makes the next rollup rebuild only the streams it wrote to
// (its school's measurement of that hour), not every school's.
func TestRollupPendingRebuildsOnlyWrittenStreams(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	agents := benchSchools(t, s, 3)
	h := benchT0.Add(9 * time.Hour)
	write := func(id string, a store.Agent, at time.Time, n int) {
		t.Helper()
		var pts []point.Point
		for i := range n {
			pts = append(pts, benchPoint(a, i, at))
		}
		if _, err := s.WriteBatch(ctx, store.Batch{ID: id, Agent: a, Points: pts}, at); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range agents {
		write(fmt.Sprint("first-", i), a, h.Add(time.Minute), 10)
	}
	if _, read, err := s.rollupHour(ctx, h, rebuildPending); err != nil || read != 30 {
		t.Fatalf("first rollup read %d points, %v; want all 30", read, err)
	}
	write("late", agents[1], h.Add(50*time.Minute), 10)
	if pending, _ := s.int64s(ctx, `SELECT gid FROM rollup_pending_streams`); len(pending) != 1 {
		t.Fatalf("pending streams after the late batch = %v, want one", pending)
	}
	if _, read, err := s.rollupHour(ctx, h, rebuildPending); err != nil || read != 20 {
		t.Errorf("rollup after a late batch read %d points, %v; want its school's 20", read, err)
	}
	for i, a := range agents {
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: a.SiteID, Res: rollup.Hour, Field: "rtt_avg_ms", From: h, To: h.Add(time.Hour)})
		var n int64
		for _, b := range bs {
			n += b.Count
		}
		want := int64(10)
		if i == 1 {
			want = 20 // and its late batch
		}
		if err != nil || n != want {
			t.Errorf("school %d: hourly buckets count %d, %v; want %d", i, n, err, want)
		}
	}
	if pending, _ := s.int64s(ctx, `SELECT gid FROM rollup_pending_streams`); len(pending) != 0 {
		t.Errorf("pending streams after the rollup = %v, want none", pending)
	}
}

// A rebuild pauses for ingest only while batches wait for the writer: with
// none it returns without waiting on anything, and with some it waits on
// its context (a cancelled job does not wait out its pause).
func TestYieldToIngestOnlyWhileBatchesWait(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	spy := &doneSpy{Context: ctx}
	s.yieldToIngest(spy, time.Hour)
	if spy.waited {
		t.Fatal("paused with no batch waiting")
	}
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	s.yieldToIngest(spy, time.Hour)
	if !spy.waited {
		t.Fatal("did not pause with a batch waiting")
	}
}

// doneSpy records whether anything waited on its Done channel.
type doneSpy struct {
	context.Context
	waited bool
}

func (d *doneSpy) Done() <-chan struct{} { d.waited = true; return d.Context.Done() }

// Migration 0011 makes a rollup series of each series rather than of each
// of its fields: the buckets keep every value, now under one series id,
// and two fields' pending marks for a day become one.
func TestMigrate0011OneRollupSeriesASeries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v10.db")
	w := openBefore(t, path, 11)
	t0 := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	hist := rollup.NewAggregator(rollup.Hour)
	for i, v := range []float64{5, 7, 30} {
		hist.Add("oak", "ping", "ping,target=gw", map[string]string{"target": "gw"},
			map[string]any{"ok": true, "rtt_ms": v, "result": "ok"}, t0.Add(time.Duration(i)*time.Minute))
	}
	hist.Add("oak", "dns", "dns", map[string]string{}, map[string]any{"ms": 2.0}, t0)
	var rtt, result, dns rollup.Bucket
	for _, b := range hist.Buckets() {
		switch b.Field {
		case "rtt_ms":
			rtt = b
		case "result":
			result = b
		case "ms":
			dns = b
		}
	}
	if rtt.Hist == nil || result.Values["ok"] != 3 {
		t.Fatalf("test buckets: %+v %+v", rtt, result)
	}
	ns := t0.UnixNano()
	day := rollup.Day.Truncate(t0).UnixNano()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO rollup_series(id, site, measurement, field, series, tags) VALUES
			(1, 'oak', 'ping', 'rtt_ms', 'ping,target=gw', '{"target":"gw"}'),
			(2, 'oak', 'ping', 'result', 'ping,target=gw', '{"target":"gw"}'),
			(3, 'oak', 'dns', 'ms', 'dns', '{}')`, nil},
		{`INSERT INTO rollups_hourly(sid, start, ok, kind, count, min, max, sum, last, last_time, dist) VALUES
			(1, ?, 1, 1, 3, 5, 30, 42, 30.0, ?, ?), (2, ?, 1, 3, 3, 0, 0, 0, 'ok', ?, ?), (3, ?, -1, 1, 1, 2, 2, 2, 2.0, ?, ?)`,
			[]any{ns, ns + 2*int64(time.Minute), rollup.AppendDist(nil, &rtt), ns, ns + 2*int64(time.Minute), rollup.AppendDist(nil, &result),
				ns, ns, rollup.AppendDist(nil, &dns)}},
		{`INSERT INTO rollups_daily(sid, start, ok, kind, count, min, max, sum, last, last_time, dist) VALUES
			(1, ?, 1, 1, 3, 5, 30, 42, 30.0, ?, ?)`, []any{day, ns + 2*int64(time.Minute), rollup.AppendDist(nil, &rtt)}},
		{`INSERT INTO rollup_pending_days(sid, day) VALUES (1, ?), (2, ?), (3, ?)`, []any{day, day, day}},
	} {
		if _, err := w.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	w.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	defer s.Close()
	var series, pending int
	if err := s.r.QueryRow(`SELECT (SELECT COUNT(*) FROM rollup_series), (SELECT COUNT(*) FROM rollup_pending_days)`).Scan(&series, &pending); err != nil || series != 2 || pending != 2 {
		t.Errorf("after migrating: %d rollup series, %d pending days (%v); want 2 and 2", series, pending, err)
	}
	get := func(res rollup.Res, measurement, field string) rollup.Bucket {
		t.Helper()
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: "oak", Res: res, Measurement: measurement, Field: field, From: t0.Add(-24 * time.Hour), To: t0.Add(24 * time.Hour)})
		if err != nil || len(bs) != 1 {
			t.Fatalf("%s %s/%s after migrating: %+v, %v; want one bucket", res, measurement, field, bs, err)
		}
		return bs[0]
	}
	h := get(rollup.Hour, "ping", "rtt_ms")
	if h.Series != "ping,target=gw" || h.Tags["target"] != "gw" || h.Count != 3 || h.Sum != 42 || h.Last != 30 || !h.Hist.Equal(rtt.Hist) {
		t.Errorf("rtt_ms hour after migrating: %+v", h)
	}
	if r := get(rollup.Hour, "ping", "result"); r.Kind != rollup.String || r.Values["ok"] != 3 || r.LastText != "ok" {
		t.Errorf("result hour after migrating: %+v", r)
	}
	if d := get(rollup.Day, "ping", "rtt_ms"); d.Count != 3 || d.Max != 30 {
		t.Errorf("rtt_ms day after migrating: %+v", d)
	}
	if d := get(rollup.Hour, "dns", "ms"); d.OK != rollup.OKAbsent || d.Sum != 2 {
		t.Errorf("dns hour after migrating: %+v", d)
	}
	all, err := s.Rollups(ctx, store.RollupQuery{Site: "oak", Measurement: "ping", From: t0, To: t0.Add(time.Hour)})
	if err != nil || len(all) != 2 || all[0].Field != "result" || all[1].Field != "rtt_ms" {
		t.Errorf("every field of ping after migrating: %+v, %v; want result and rtt_ms", all, err)
	}
	// The day's rebuild from its hours still gives each field its own bucket.
	if err := s.RollupPending(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r := get(rollup.Day, "ping", "result"); r.Count != 3 || r.Values["ok"] != 3 {
		t.Errorf("result day rebuilt after migrating: %+v", r)
	}
}
