package storetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// want is a bucket computed here the obvious way, from the points, to
// check a store's buckets against.
type want struct {
	site, measurement, series, field string
	tags                             map[string]string
	ok                               rollup.OK
	kind                             rollup.Kind
	res                              rollup.Res
	start                            time.Time
	count                            int64
	min, max, sum                    float64
	nums                             []float64        // number samples
	values                           map[string]int64 // bool and string samples
	lastTime                         time.Time
	last                             float64
	lastText                         string
}

func (w want) String() string {
	return fmt.Sprintf("%s %s %s ok=%d kind=%d %s %s", w.site, w.series, w.field, w.ok, w.kind, w.res, w.start.Format(time.RFC3339))
}

// expect aggregates pts of site by res, for buckets starting in [from, to).
func expect(site string, pts []point.Point, res rollup.Res, from, to time.Time) map[string]*want {
	out := map[string]*want{}
	for _, p := range pts {
		start := p.Time.UTC().Truncate(res.Duration())
		if start.Before(from) || !start.Before(to) {
			continue
		}
		series, tags := p.Measurement, map[string]string{}
		for _, k := range point.SortedKeys(p.Tags) {
			if k != tagSite && k != tagAgent {
				series += "," + k + "=" + p.Tags[k]
				tags[k] = p.Tags[k]
			}
		}
		class := rollup.OKAbsent
		if b, isBool := p.Fields["ok"].(bool); isBool {
			class = rollup.OKFalse
			if b {
				class = rollup.OKTrue
			}
		}
		for f, v := range p.Fields {
			w := &want{site: site, measurement: p.Measurement, series: series, field: f, tags: tags, ok: class, res: res, start: start}
			var x float64
			var s string
			switch v := v.(type) {
			case float64:
				w.kind, x = rollup.Number, v
			case int64:
				w.kind, x = rollup.Number, float64(v)
			case uint64:
				w.kind, x = rollup.Number, float64(v)
			case bool:
				w.kind, s = rollup.Bool, strconv.FormatBool(v)
			case string:
				w.kind, s = rollup.String, v
			}
			if old, ok := out[w.String()]; ok {
				w = old
			} else {
				out[w.String()] = w
			}
			if w.count == 0 || x < w.min {
				w.min = x
			}
			if w.count == 0 || x > w.max {
				w.max = x
			}
			w.count++
			latest := !p.Time.Before(w.lastTime)
			if latest {
				w.lastTime = p.Time.UTC()
			}
			if w.kind == rollup.Number {
				w.sum += x
				w.nums = append(w.nums, x)
				if latest {
					w.last = x
				}
				continue
			}
			w.min, w.max = 0, 0
			if w.values == nil {
				w.values = map[string]int64{}
			}
			w.values[s]++
			if latest {
				w.lastText = s
			}
		}
	}
	return out
}

// checkBuckets compares a store's buckets with the expected ones: every
// count and value exactly, sums to rounding, quantiles within the
// histogram's documented error (exactly while the values are few).
func checkBuckets(t *testing.T, what string, got []rollup.Bucket, wants map[string]*want) {
	t.Helper()
	seen := map[string]bool{}
	for _, b := range got {
		k := fmt.Sprintf("%s %s %s ok=%d kind=%d %s %s", b.Site, b.Series, b.Field, b.OK, b.Kind, b.Res, b.Start.Format(time.RFC3339))
		w, ok := wants[k]
		if !ok {
			t.Errorf("%s: unexpected bucket %s (count %d)", what, k, b.Count)
			continue
		}
		if seen[k] {
			t.Errorf("%s: bucket %s returned twice", what, k)
		}
		seen[k] = true
		if b.Measurement != w.measurement || !cmp.Equal(b.Tags, w.tags) {
			t.Errorf("%s: %s: measurement %q tags %v, want %q %v", what, k, b.Measurement, b.Tags, w.measurement, w.tags)
		}
		if b.Count != w.count || b.Min != w.min || b.Max != w.max || math.Abs(b.Sum-w.sum) > 1e-9*math.Abs(w.sum) ||
			!b.LastTime.Equal(w.lastTime) || b.Last != w.last || b.LastText != w.lastText {
			t.Errorf("%s: %s: count %d min %v max %v sum %v last %v/%q at %s; want %d %v %v %v %v/%q at %s", what, k,
				b.Count, b.Min, b.Max, b.Sum, b.Last, b.LastText, b.LastTime, w.count, w.min, w.max, w.sum, w.last, w.lastText, w.lastTime)
		}
		if w.kind != rollup.Number {
			checkValues(t, what+": "+k, b, w.values)
			continue
		}
		if b.Hist.Total() != w.count {
			t.Errorf("%s: %s: histogram holds %d samples, want %d", what, k, b.Hist.Total(), w.count)
		}
		checkQuantiles(t, what+": "+k, b, w.nums)
	}
	for k := range wants {
		if !seen[k] {
			t.Errorf("%s: missing bucket %s", what, k)
		}
	}
}

// checkValues: the MaxValues most frequent values exactly, the rest in
// Other.
func checkValues(t *testing.T, what string, b rollup.Bucket, values map[string]int64) {
	t.Helper()
	if len(values) <= rollup.MaxValues {
		if !cmp.Equal(b.Values, values) || b.Other != 0 {
			t.Errorf("%s: values %v other %d, want %v", what, b.Values, b.Other, values)
		}
		return
	}
	var other int64
	for v, n := range values {
		if got, kept := b.Values[v]; kept && got != n {
			t.Errorf("%s: value %q counted %d, want %d", what, v, got, n)
		} else if !kept {
			other += n
		}
	}
	if len(b.Values) != rollup.MaxValues || b.Other != other {
		t.Errorf("%s: %d values kept, other %d; want %d and %d", what, len(b.Values), b.Other, rollup.MaxValues, other)
	}
}

func checkQuantiles(t *testing.T, what string, b rollup.Bucket, nums []float64) {
	t.Helper()
	s := slices.Sorted(slices.Values(nums))
	distinct := len(slices.Compact(slices.Clone(s)))
	for _, q := range []float64{0, 0.1, 0.5, 0.9, 1} {
		h := q * float64(len(s)-1)
		i := int(math.Floor(h))
		exact := s[i]
		if i+1 < len(s) {
			exact += (h - float64(i)) * (s[i+1] - s[i])
		}
		got := b.Hist.Quantile(q, b.Min, b.Max)
		tol := rollup.Alpha*math.Abs(exact) + rollup.MinMagnitude
		if distinct <= rollup.MaxExact {
			tol = 1e-9 * math.Abs(exact)
		}
		if math.Abs(got-exact) > tol {
			t.Errorf("%s: q%v = %v, want %v ± %v (%d samples, %d distinct)", what, q, got, exact, tol, len(s), distinct)
		}
	}
}

func rollups(t *testing.T, st store.Store, q store.RollupQuery) []rollup.Bucket {
	t.Helper()
	got, err := st.Rollups(context.Background(), q)
	if err != nil {
		t.Fatalf("Rollups(%+v): %v", q, err)
	}
	return got
}

// everything is a query for all of a site's buckets of res.
func everything(site string, res rollup.Res) store.RollupQuery {
	return store.RollupQuery{Site: site, Res: res, From: t0.AddDate(0, 0, -30), To: t0.AddDate(0, 0, 30)}
}

func rollupAll(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	if err := st.RollupPending(context.Background(), now); err != nil {
		t.Fatalf("RollupPending: %v", err)
	}
}

// rollupData is two series over hours 09 (before the range), 10, 11 and
// 12 (after it), with every field type, both ok classes and a point
// without ok.
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
	all := everything("oak", rollup.Hour)
	wants := expect("oak", pts, rollup.Hour, h10, h12)
	checkBuckets(t, "hours 10 and 11", rollups(t, st, all), wants)

	// ok=true and ok=false samples of the gw series at 10:00 are apart:
	// i=1, i=2 ok; i=0, i=3 and the 10:59:59 point not.
	gwOK := rollups(t, st, store.RollupQuery{Site: "oak", Measurement: "ping", Field: "rtt_ms", Tags: map[string]string{"target": "gw"}, From: h10, To: h10.Add(time.Hour)})
	if len(gwOK) != 2 || gwOK[0].OK != rollup.OKFalse || gwOK[0].Count != 3 || gwOK[0].Max != 100 ||
		gwOK[1].OK != rollup.OKTrue || gwOK[1].Count != 2 || gwOK[1].Sum != 3.25+40 {
		t.Errorf("gw rtt at 10:00 by ok class: %+v", gwOK)
	}

	// Recomputing changes nothing.
	for range 2 {
		if err := st.Rollup(ctx, h10, h12); err != nil {
			t.Fatalf("second Rollup: %v", err)
		}
		rollupAll(t, st, t0.Add(48*time.Hour))
	}
	checkBuckets(t, "after recomputation", rollups(t, st, all), expect("oak", pts, rollup.Hour, t0, h12.Add(time.Hour)))
}

// A batch that arrives late (a spooled agent catching up) is counted once
// by the next RollupPending, however often it runs.
func testRollupLate(t *testing.T, st store.Store) {
	f := newFixture(t, st, "oak")
	pts := stamp(f.agent, rollupData())
	write(t, st, f.agent, "r-1", t0, pts)
	rollupAll(t, st, t0.Add(4*time.Hour))

	late := stamp(f.agent, []point.Point{
		ping("gw", t0.Add(100*time.Minute), 1000, 1, true), // 10:40
		ping("gw", t0.Add(-20*time.Hour), 7, 1, true),      // a day before
	})
	write(t, st, f.agent, "r-2", t0.Add(5*time.Hour), late)
	pts = append(pts, late...)
	for range 3 {
		rollupAll(t, st, t0.Add(6*time.Hour))
	}
	checkBuckets(t, "after a late batch", rollups(t, st, everything("oak", rollup.Hour)),
		expect("oak", pts, rollup.Hour, t0.AddDate(0, 0, -30), t0.AddDate(0, 0, 30)))
}

// Pruned hours are sealed: their buckets survive rebuilding, and points
// that arrive for them later are added, once.
func testRollupSealed(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	pts := stamp(f.agent, rollupData())
	write(t, st, f.agent, "r-1", t0, pts)
	// Prune rolls up the pending hours it deletes: nothing is rolled up yet.
	n, err := st.Prune(ctx, t0.Add(2*time.Hour+30*time.Minute)) // cut at 11:00
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	wantPruned := 0
	for _, p := range pts {
		if p.Time.Before(t0.Add(2 * time.Hour)) {
			wantPruned++
		}
	}
	if n != int64(wantPruned) {
		t.Errorf("Prune deleted %d points, want %d (cut on the hour)", n, wantPruned)
	}
	everyHour := expect("oak", pts, rollup.Hour, t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 1))
	rollupAll(t, st, t0.Add(4*time.Hour))
	if err := st.Rollup(ctx, t0.Add(-24*time.Hour), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	checkBuckets(t, "after Prune", rollups(t, st, everything("oak", rollup.Hour)), everyHour)

	late := stamp(f.agent, []point.Point{
		ping("gw", t0.Add(70*time.Minute), 0.25, 3, true),   // 10:10, sealed
		ping("gw", t0.Add(75*time.Minute), 99, 3, false),    // 10:15, sealed
		ping("elm", t0.Add(80*time.Minute), 5, 3, true),     // a new series in a sealed hour
		ping("gw", t0.Add(150*time.Minute), 3.5, 3, true),   // 11:30, not sealed
		ping("gw", t0.Add(-48*time.Hour), 12, 3, true),      // long before
		ping("gw", t0.Add(60*time.Minute+1), 8.5, 3, false), // 10:00
	})
	write(t, st, f.agent, "r-2", t0.Add(3*time.Hour), late)
	pts = append(pts, late...)
	for range 2 {
		rollupAll(t, st, t0.Add(4*time.Hour))
		if err := st.Rollup(ctx, t0.Add(-72*time.Hour), t0.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	checkBuckets(t, "after late points for sealed hours", rollups(t, st, everything("oak", rollup.Hour)),
		expect("oak", pts, rollup.Hour, t0.AddDate(0, 0, -30), t0.AddDate(0, 0, 30)))
	// The late points of sealed hours are gone from the raw store.
	raw, err := st.Points(ctx, store.PointQuery{Site: "oak", Measurement: "ping", From: t0.AddDate(0, 0, -30), To: t0.Add(2 * time.Hour)})
	if err != nil || len(raw) != 0 {
		t.Errorf("raw points left in sealed hours: %d, %v", len(raw), err)
	}
}

func testRollupDaily(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	var pts []point.Point
	// Three days from 2025-03-09 00:00, every 7 minutes, two targets.
	day0 := rollup.Day.Truncate(t0).Add(-24 * time.Hour)
	for i := 0; i < 3*24*60/7; i++ {
		at := day0.Add(time.Duration(i) * 7 * time.Minute)
		pts = append(pts, ping("gw", at, float64(1+i%97)/4, int64(i%5), i%13 != 0))
		pts = append(pts, ping("isp", at, float64(10+i%50), 4, true))
	}
	pts = stamp(f.agent, pts)
	for i := 0; i < len(pts); i += 500 {
		write(t, st, f.agent, batchID("d", i), t0, pts[i:min(i+500, len(pts))])
	}
	// Days still filling wait for RollupPending: only day0 ended by now.
	now := day0.Add(36 * time.Hour)
	rollupAll(t, st, now)
	daily := everything("oak", rollup.Day)
	checkBuckets(t, "daily, first day ended", rollups(t, st, daily), expect("oak", pts, rollup.Day, day0, day0.Add(24*time.Hour)))
	checkBuckets(t, "hourly", rollups(t, st, everything("oak", rollup.Hour)), expect("oak", pts, rollup.Hour, day0, day0.Add(72*time.Hour)))

	rollupAll(t, st, day0.Add(96*time.Hour))
	checkBuckets(t, "daily, all ended", rollups(t, st, daily), expect("oak", pts, rollup.Day, day0, day0.Add(72*time.Hour)))
	// A daily bucket equals its hourly ones merged, exactly.
	for _, d := range rollups(t, st, daily) {
		hs := rollups(t, st, store.RollupQuery{Site: "oak", Measurement: d.Measurement, Field: d.Field, Tags: d.Tags, From: d.Start, To: d.Start.Add(24 * time.Hour)})
		var same []rollup.Bucket
		for _, h := range hs {
			if h.Series == d.Series && h.OK == d.OK && h.Kind == d.Kind {
				same = append(same, h)
			}
		}
		m := rollup.Merge(rollup.Day, same)
		if m.Count != d.Count || !m.Hist.Equal(d.Hist) || !cmp.Equal(m.Values, d.Values) || m.Other != d.Other {
			t.Errorf("daily %s %s ok=%d at %s differs from its hours merged", d.Series, d.Field, d.OK, d.Start)
		}
	}

	// PruneHourly drops the hourly buckets of days before the cut and keeps
	// the daily ones.
	n, err := st.PruneHourly(ctx, day0.Add(24*time.Hour+5*time.Hour))
	if err != nil {
		t.Fatalf("PruneHourly: %v", err)
	}
	left := rollups(t, st, everything("oak", rollup.Hour))
	for _, b := range left {
		if b.Start.Before(day0.Add(24 * time.Hour)) {
			t.Fatalf("hourly bucket of a pruned day left: %s %s", b.Series, b.Start)
		}
	}
	if before := len(expect("oak", pts, rollup.Hour, day0, day0.Add(24*time.Hour))); n != int64(before) {
		t.Errorf("PruneHourly deleted %d buckets, want %d", n, before)
	}
	checkBuckets(t, "daily after PruneHourly", rollups(t, st, daily), expect("oak", pts, rollup.Day, day0, day0.Add(72*time.Hour)))
}

// Many distinct values: numbers binned, strings capped, both checked
// against values computed here.
func testRollupDistributions(t *testing.T, st store.Store) {
	f := newFixture(t, st, "oak")
	var pts []point.Point
	for i := range 3000 {
		at := t0.Add(time.Duration(i) * time.Second)
		// A skewed spread over four decades, and 45 answers of unequal
		// frequency.
		rtt := 0.5 * math.Pow(10, 4*math.Pow(float64((i*7919)%3000)/3000, 2))
		p := ping("gw", at, rtt, int64(i%3), true)
		p.Fields["result"] = fmt.Sprintf("answer-%02d", int(math.Sqrt(float64((i*104729)%2025))))
		pts = append(pts, p)
	}
	pts = stamp(f.agent, pts)
	write(t, st, f.agent, "many", t0, pts)
	rollupAll(t, st, t0.Add(48*time.Hour))
	got := rollups(t, st, everything("oak", rollup.Hour))
	checkBuckets(t, "distributions", got, expect("oak", pts, rollup.Hour, t0, t0.Add(time.Hour)))
	for _, b := range got {
		if b.Field == "rtt_ms" && b.Hist.Exact() {
			t.Error("3000 distinct round trips kept exactly; want bins")
		}
		if b.Field == "result" && b.Other == 0 {
			t.Error("45 distinct results without an other count")
		}
	}
	checkBuckets(t, "daily distributions", rollups(t, st, everything("oak", rollup.Day)), expect("oak", pts, rollup.Day, t0.Add(-24*time.Hour), t0.Add(24*time.Hour)))
}

func testRollupQuery(t *testing.T, st store.Store) {
	f := newFixture(t, st, "oak")
	other := newFixture(t, st, "elm")
	pts := stamp(f.agent, rollupData())
	write(t, st, f.agent, "r-1", t0, pts)
	write(t, st, other.agent, "r-2", t0, []point.Point{ping("gw", t0.Add(time.Hour), 1, 1, true)})
	rollupAll(t, st, t0.Add(48*time.Hour))
	all := expect("oak", pts, rollup.Hour, t0.Add(-48*time.Hour), t0.Add(48*time.Hour))
	filter := func(keep func(w *want) bool) map[string]*want {
		out := map[string]*want{}
		for k, w := range all {
			if keep(w) {
				out[k] = w
			}
		}
		if len(out) == 0 {
			t.Fatal("a case expects nothing")
		}
		return out
	}
	h11 := t0.Add(2 * time.Hour)
	q := func(m, field string, tags map[string]string, onlyOK bool, from, to time.Time) store.RollupQuery {
		return store.RollupQuery{Site: "oak", Measurement: m, Field: field, Tags: tags, OnlyOK: onlyOK, From: from, To: to}
	}
	for _, tc := range []struct {
		name string
		q    store.RollupQuery
		want map[string]*want
	}{
		{"every hour", q("", "", nil, false, t0, t0.Add(4*time.Hour)), all},
		{"measurement", q("http", "", nil, false, t0, t0.Add(4*time.Hour)), filter(func(w *want) bool { return w.measurement == "http" })},
		{"field", q("ping", "rtt_ms", nil, false, t0, t0.Add(4*time.Hour)), filter(func(w *want) bool { return w.measurement == "ping" && w.field == "rtt_ms" })},
		{"field of any measurement", q("", "ms", nil, false, t0, t0.Add(4*time.Hour)), filter(func(w *want) bool { return w.field == "ms" })},
		{"tag", q("ping", "", map[string]string{"target": "dns"}, false, t0, t0.Add(4*time.Hour)),
			filter(func(w *want) bool { return w.tags["target"] == "dns" })},
		{"two tags", q("ping", "", map[string]string{"target": "dns", "af": "4"}, false, t0, t0.Add(4*time.Hour)),
			filter(func(w *want) bool { return w.tags["target"] == "dns" })},
		{"only ok", q("ping", "result", nil, true, t0, t0.Add(4*time.Hour)),
			filter(func(w *want) bool { return w.field == "result" && w.ok == rollup.OKTrue })},
		{"hour starts in [From, To)", q("", "", nil, false, h11, h11.Add(time.Hour)), filter(func(w *want) bool { return w.start.Equal(h11) })},
	} {
		checkBuckets(t, tc.name, rollups(t, st, tc.q), tc.want)
	}
	for name, q := range map[string]store.RollupQuery{
		"From inside an hour excludes it": q("", "", nil, false, h11.Add(-time.Minute), h11),
		"a tag no series has":             q("ping", "", map[string]string{"target": "nowhere"}, false, t0, t0.Add(4*time.Hour)),
		"a tag value of another series":   q("ping", "", map[string]string{"target": "gw", "af": "4"}, false, t0, t0.Add(4*time.Hour)),
		"another site's measurement":      {Site: "elm", Measurement: "http", From: t0, To: t0.Add(4 * time.Hour)},
	} {
		if got := rollups(t, st, q); len(got) != 0 {
			t.Errorf("%s: %d buckets", name, len(got))
		}
	}
	elm := rollups(t, st, store.RollupQuery{Site: "elm", From: t0, To: t0.Add(4 * time.Hour)})
	if len(elm) != 4 { // rtt_ms, sent, ok and result of one point
		t.Errorf("elm has %d buckets, want 4: %+v", len(elm), elm)
	}
}

// WriteRollups stores buckets made elsewhere as they are.
func testWriteRollups(t *testing.T, st store.Store) {
	ctx := context.Background()
	newFixture(t, st, "oak")
	var pts []point.Point
	for i := range 200 {
		pts = append(pts, ping("gw", t0.Add(time.Duration(i)*time.Minute), float64(i)/3, int64(i%4), i%9 != 0))
	}
	pts = stamp(store.Agent{SiteID: "oak", ID: "a"}, pts)
	bs := rollup.FromPoints("oak", pts)
	if err := st.WriteRollups(ctx, bs); err != nil {
		t.Fatalf("WriteRollups: %v", err)
	}
	for _, res := range []rollup.Res{rollup.Hour, rollup.Day} {
		var want []rollup.Bucket
		for _, b := range bs {
			if b.Res == res {
				want = append(want, b)
			}
		}
		if diff := cmp.Diff(want, rollups(t, st, everything("oak", res))); diff != "" {
			t.Errorf("%s buckets read back (-written +read):\n%s", res, diff)
		}
	}
	// Writing again replaces.
	before := rollups(t, st, everything("oak", rollup.Hour))
	changed := bs[0]
	changed.Count, changed.Sum = 1, -1
	if err := st.WriteRollups(ctx, []rollup.Bucket{changed}); err != nil {
		t.Fatal(err)
	}
	after := rollups(t, st, everything("oak", rollup.Hour))
	if len(after) != len(before) || after[0].Count != 1 || after[0].Sum != -1 {
		t.Errorf("after rewriting one bucket: %d buckets (was %d), first %+v", len(after), len(before), after[0])
	}
	bad := bs[0]
	bad.Site = ""
	if err := st.WriteRollups(ctx, []rollup.Bucket{bad}); err == nil {
		t.Error("WriteRollups accepted a bucket without a site")
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
	// The cut goes down to the hour: 08:30 prunes before 08:00.
	n, err := st.Prune(ctx, t0.Add(-30*time.Minute))
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
	// The pruned hours were rolled up on the way out.
	if got := rollups(t, st, store.RollupQuery{Site: "oak", Measurement: "ping", Field: "rtt_ms", From: t0.Add(-24 * time.Hour), To: t0}); len(got) != 2 {
		t.Errorf("%d rtt buckets for the pruned hours, want 2", len(got))
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
