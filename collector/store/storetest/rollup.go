package storetest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// expectBuckets aggregates pts hour by hour the obvious way, for the hours
// in [from, to).
func expectBuckets(site string, pts []point.Point, from, to time.Time) []store.Bucket {
	type key struct {
		measurement, series, field string
		hour                       time.Time
	}
	m := map[key]*store.Bucket{}
	for _, p := range pts {
		h := p.Time.UTC().Truncate(time.Hour)
		if h.Before(from) || !h.Before(to) {
			continue
		}
		series := p.Measurement
		for _, k := range point.SortedKeys(p.Tags) {
			if k != tagSite && k != tagAgent {
				series += "," + k + "=" + p.Tags[k]
			}
		}
		for f, v := range p.Fields {
			x, ok := point.AsFloat(v)
			if !ok {
				continue
			}
			k := key{p.Measurement, series, f, h}
			b := m[k]
			if b == nil {
				b = &store.Bucket{Site: site, Measurement: p.Measurement, Series: series, Field: f, Start: h, Min: x, Max: x}
				m[k] = b
			}
			b.Count++
			b.Sum += x
			b.Min = min(b.Min, x)
			b.Max = max(b.Max, x)
		}
	}
	var out []store.Bucket
	for _, b := range m {
		out = append(out, *b)
	}
	sortBuckets(out)
	return out
}

func sortBuckets(bs []store.Bucket) {
	sort.Slice(bs, func(i, j int) bool {
		a, b := bs[i], bs[j]
		if a.Measurement != b.Measurement {
			return a.Measurement < b.Measurement
		}
		if a.Series != b.Series {
			return a.Series < b.Series
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Start.Before(b.Start)
	})
}

// approx allows for a different summation order in another engine.
var approx = cmpopts.EquateApprox(0, 1e-12)

func rollups(t *testing.T, st store.Store, q store.RollupQuery) []store.Bucket {
	t.Helper()
	got, err := st.Rollups(context.Background(), q)
	if err != nil {
		t.Fatalf("Rollups(%+v): %v", q, err)
	}
	return got
}

// rollupData is two series over hours 09 (before the range), 10, 11 and
// 12 (after it), with every field type.
func rollupData() []point.Point {
	var pts []point.Point
	rtts := []float64{12.5, 3.25, 40, 7.75, 0.5, 19}
	for i, rtt := range rtts {
		at := t0.Add(time.Hour + time.Duration(i)*17*time.Minute) // 10:00 .. 11:25
		pts = append(pts, ping("gw", at, rtt, int64(10+i), i%3 != 0))
		b := ping("dns", at.Add(time.Second), rtt*2, int64(i), true)
		b.Tags["af"] = "4"
		pts = append(pts, b)
	}
	pts = append(pts,
		ping("gw", t0.Add(2*time.Hour-time.Nanosecond), 100, 1, false), // 10:59:59.999999999
		ping("gw", t0.Add(3*time.Hour-time.Nanosecond), -4, 1, true),   // last instant of 11:00
		ping("gw", t0.Add(time.Hour-time.Nanosecond), 55, 1, true),     // 09:59, outside
		ping("gw", t0.Add(3*time.Hour), 66, 1, true),                   // 12:00, outside
		point.Point{Measurement: "http", Tags: map[string]string{"url": "a"},
			Fields: map[string]any{"status": uint64(200), "ms": 31.0, "body": "x"}, Time: t0.Add(90 * time.Minute)},
	)
	return pts
}

func testRollup(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	pts := stamp(f.agent, rollupData())
	write(t, st, f.agent, "r-1", t0, pts)

	h10, h12 := t0.Add(time.Hour), t0.Add(3*time.Hour)
	// A range inside 10:30..11:30 touches hours 10 and 11 only.
	if err := st.Rollup(ctx, h10.Add(30*time.Minute), h10.Add(90*time.Minute)); err != nil {
		t.Fatalf("Rollup: %v", err)
	}
	all := store.RollupQuery{Site: "oak", From: t0.Add(-24 * time.Hour), To: t0.Add(24 * time.Hour)}
	want := expectBuckets("oak", pts, h10, h12)
	if len(want) == 0 {
		t.Fatal("test data produced no expected buckets")
	}
	got := rollups(t, st, all)
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	// The series key leaves site and agent out; bools count as 0/1 and
	// strings are skipped.
	var gwOK *store.Bucket
	for i, b := range got {
		if b.Field == "result" || b.Field == "body" {
			t.Errorf("string field %s was rolled up", b.Field)
		}
		if b.Series == "ping,target=gw" && b.Field == "ok" && b.Start.Equal(h10) {
			gwOK = &got[i]
		}
	}
	// Hour 10 of gw: i=0 (false) 10:00, i=1 (true) 10:17, i=2 (true) 10:34,
	// i=3 (false) 10:51, and the false at 10:59:59.999999999.
	if gwOK == nil || gwOK.Count != 5 || gwOK.Sum != 2 || gwOK.Min != 0 || gwOK.Max != 1 {
		t.Errorf("ping,target=gw ok at 10:00 = %+v, want count 5, sum 2, min 0, max 1", gwOK)
	}

	// Recomputing changes nothing.
	if err := st.Rollup(ctx, h10, h12); err != nil {
		t.Fatalf("second Rollup: %v", err)
	}
	if diff := cmp.Diff(want, rollups(t, st, all), approx); diff != "" {
		t.Errorf("after recomputation (-want +got):\n%s", diff)
	}

	// A late point for hour 11 is picked up by recomputing that hour.
	late := stamp(f.agent, []point.Point{ping("gw", h10.Add(100*time.Minute), 1000, 1, true)})
	write(t, st, f.agent, "r-2", t0, late)
	pts = append(pts, late...)
	if err := st.Rollup(ctx, h10.Add(time.Hour), h10.Add(time.Hour+time.Minute)); err != nil {
		t.Fatalf("Rollup of hour 11: %v", err)
	}
	want = expectBuckets("oak", pts, h10, h12)
	if diff := cmp.Diff(want, rollups(t, st, all), approx); diff != "" {
		t.Errorf("after a late point (-want +got):\n%s", diff)
	}

	// Pruned hours keep their buckets, even when rolled up again.
	if _, err := st.Prune(ctx, h12); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if err := st.Rollup(ctx, t0, h12); err != nil {
		t.Fatalf("Rollup after Prune: %v", err)
	}
	if diff := cmp.Diff(want, rollups(t, st, all), approx); diff != "" {
		t.Errorf("after Prune (-want +got):\n%s", diff)
	}
}

func testRollupQuery(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	other := newFixture(t, st, "elm")
	pts := stamp(f.agent, rollupData())
	write(t, st, f.agent, "r-1", t0, pts)
	write(t, st, other.agent, "r-2", t0, []point.Point{ping("gw", t0.Add(time.Hour), 1, 1, true)})
	if err := st.Rollup(ctx, t0.Add(-48*time.Hour), t0.Add(48*time.Hour)); err != nil {
		t.Fatalf("Rollup: %v", err)
	}
	all := expectBuckets("oak", pts, t0.Add(-48*time.Hour), t0.Add(48*time.Hour))
	filter := func(keep func(b store.Bucket) bool) []store.Bucket {
		var out []store.Bucket
		for _, b := range all {
			if keep(b) {
				out = append(out, b)
			}
		}
		return out
	}
	h11 := t0.Add(2 * time.Hour)
	cases := []struct {
		name string
		q    store.RollupQuery
		want []store.Bucket
	}{
		{"every hour", store.RollupQuery{Site: "oak", From: t0, To: t0.Add(4 * time.Hour)}, all},
		{"measurement", store.RollupQuery{Site: "oak", Measurement: "http", From: t0, To: t0.Add(4 * time.Hour)},
			filter(func(b store.Bucket) bool { return b.Measurement == "http" })},
		{"field", store.RollupQuery{Site: "oak", Measurement: "ping", Field: "rtt_ms", From: t0, To: t0.Add(4 * time.Hour)},
			filter(func(b store.Bucket) bool { return b.Measurement == "ping" && b.Field == "rtt_ms" })},
		{"field of any measurement", store.RollupQuery{Site: "oak", Field: "ms", From: t0, To: t0.Add(4 * time.Hour)},
			filter(func(b store.Bucket) bool { return b.Field == "ms" })},
		{"hour starts in [From, To)", store.RollupQuery{Site: "oak", From: h11, To: h11.Add(time.Hour)},
			filter(func(b store.Bucket) bool { return b.Start.Equal(h11) })},
		{"From inside an hour excludes it", store.RollupQuery{Site: "oak", From: h11.Add(-time.Minute), To: h11},
			nil},
	}
	for _, tc := range cases {
		if len(tc.want) == 0 && tc.name != "From inside an hour excludes it" {
			t.Fatalf("%s: test expects nothing", tc.name)
		}
		if diff := cmp.Diff(tc.want, rollups(t, st, tc.q), approx); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	elm := rollups(t, st, store.RollupQuery{Site: "elm", From: t0, To: t0.Add(4 * time.Hour)})
	if len(elm) != 3 { // rtt_ms, sent, ok of one point
		t.Errorf("elm has %d buckets, want 3: %+v", len(elm), elm)
	}
}

func testPrune(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	write(t, st, f.agent, "old", t0.Add(-2*time.Hour), []point.Point{
		ping("gw", t0.Add(-3*time.Hour), 1, 1, true),
		ping("gw", t0.Add(-2*time.Hour), 2, 1, true),
	})
	write(t, st, f.agent, "new", t0, []point.Point{
		ping("gw", t0.Add(-time.Hour), 3, 1, true), // old point in a new batch
		ping("gw", t0, 4, 1, true),
	})
	if s := stats(t, st); s.Points != 4 || s.Batches != 2 {
		t.Fatalf("Stats before Prune = %+v", s)
	}
	n, err := st.Prune(ctx, t0.Add(-time.Hour))
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if n != 2 {
		t.Errorf("Prune deleted %d points, want 2", n)
	}
	got, err := st.Points(ctx, store.PointQuery{Site: "oak", Measurement: "ping", From: t0.Add(-24 * time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatalf("Points: %v", err)
	}
	var left []float64
	for _, p := range got {
		left = append(left, p.Fields["rtt_ms"].(float64))
	}
	if diff := cmp.Diff([]float64{3, 4}, left); diff != "" {
		t.Errorf("points left (-want +got):\n%s", diff)
	}
	if s := stats(t, st); s.Points != 2 || s.Batches != 1 {
		t.Errorf("Stats after Prune = %+v, want 2 points, 1 batch", s)
	}
	// The old batch id is forgotten, the new one is not.
	dup, err := st.WriteBatch(ctx, store.Batch{ID: "old", Agent: f.agent, Points: stamp(f.agent, []point.Point{ping("gw", t0, 5, 1, true)})}, t0)
	if err != nil || dup {
		t.Errorf("rewrite of pruned batch id = %v, %v; want stored", dup, err)
	}
	dup, err = st.WriteBatch(ctx, store.Batch{ID: "new", Agent: f.agent, Points: stamp(f.agent, []point.Point{ping("gw", t0, 6, 1, true)})}, t0)
	if err != nil || !dup {
		t.Errorf("rewrite of kept batch id = %v, %v; want dup", dup, err)
	}
	if n, err := st.Prune(ctx, t0.Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0", n, err)
	}
}
