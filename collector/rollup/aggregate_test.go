package rollup

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/probity-edu/probity/internal/point"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func find(t *testing.T, bs []Bucket, series, field string, ok OK, kind Kind, res Res, start time.Time) Bucket {
	t.Helper()
	for _, b := range bs {
		if b.Series == series && b.Field == field && b.OK == ok && b.Kind == kind && b.Res == res && b.Start.Equal(start) {
			return b
		}
	}
	t.Fatalf("no %s bucket %s %s ok=%d kind=%d at %s in %d buckets", res, series, field, ok, kind, start, len(bs))
	return Bucket{}
}

func TestFromPoints(t *testing.T) {
	tags := map[string]string{"site": "oak", "agent": "a1", "qname": "www.google.com"}
	dns := func(at time.Duration, fields map[string]any) point.Point {
		return point.New("dns", tags, fields, t0.Add(at))
	}
	pts := []point.Point{
		dns(time.Minute, map[string]any{"ok": true, "rcode": "NOERROR", "duration_ms": 3.0}),
		dns(2*time.Minute, map[string]any{"ok": true, "rcode": "NXDOMAIN", "duration_ms": 5.0}),
		dns(3*time.Minute, map[string]any{"ok": false, "result": "timeout", "duration_ms": 2000.0}),
		dns(4*time.Minute, map[string]any{"ok": true, "rcode": "NOERROR", "duration_ms": 4.0}),
		dns(4*time.Minute, map[string]any{"ok": true, "rcode": "SERVFAIL", "duration_ms": 1.0}), // same time: later input wins
		dns(70*time.Minute, map[string]any{"ok": true, "rcode": "NOERROR", "duration_ms": 8.0}),
		dns(71*time.Minute, map[string]any{"ok": true, "rcode": int64(3)}), // mistyped: its own kind
		point.New("host", map[string]string{"site": "oak"}, map[string]any{"disk_pct": 40.0}, t0),
	}
	bs := FromPoints("oak", pts)
	const series = "dns,qname=www.google.com"

	d := find(t, bs, series, "duration_ms", OKTrue, Number, Hour, t0)
	if d.Count != 4 || d.Min != 1 || d.Max != 5 || d.Sum != 13 || d.Last != 1 || !d.LastTime.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("duration ok=true at 09: %+v", d)
	}
	if d.Site != "oak" || d.Measurement != "dns" || !cmp.Equal(d.Tags, map[string]string{"qname": "www.google.com"}) {
		t.Errorf("identity: %q %q %v", d.Site, d.Measurement, d.Tags)
	}
	if v := d.Hist.Values(); len(v) != 4 {
		t.Errorf("exact values %v", v)
	}
	nok := find(t, bs, series, "duration_ms", OKFalse, Number, Hour, t0)
	if nok.Count != 1 || nok.Max != 2000 {
		t.Errorf("duration ok=false: %+v", nok)
	}
	rc := find(t, bs, series, "rcode", OKTrue, String, Hour, t0)
	if !cmp.Equal(rc.Values, map[string]int64{"NOERROR": 2, "NXDOMAIN": 1, "SERVFAIL": 1}) || rc.LastText != "SERVFAIL" {
		t.Errorf("rcode: %v last %q", rc.Values, rc.LastText)
	}
	okf := find(t, bs, series, "ok", OKTrue, Bool, Hour, t0)
	if !cmp.Equal(okf.Values, map[string]int64{"true": 4}) {
		t.Errorf("ok field: %v", okf.Values)
	}
	find(t, bs, series, "rcode", OKTrue, Number, Hour, t0.Add(time.Hour))
	find(t, bs, "host", "disk_pct", OKAbsent, Number, Hour, t0)

	day := find(t, bs, series, "rcode", OKTrue, String, Day, Day.Truncate(t0))
	if !cmp.Equal(day.Values, map[string]int64{"NOERROR": 3, "NXDOMAIN": 1, "SERVFAIL": 1}) || day.Count != 5 || day.LastText != "NOERROR" {
		t.Errorf("daily rcode: %+v", day)
	}
}

// At most MaxValues values are counted one by one: the most frequent.
func TestValueCap(t *testing.T) {
	a := NewAggregator(Hour)
	var pts int64
	for i := range 40 {
		for range 40 - i { // value i appears 40-i times
			a.AddPoint("oak", point.New("dns", nil, map[string]any{"answer": fmt.Sprintf("v%02d", i)}, t0))
			pts++
		}
	}
	b := a.Buckets()[0]
	if len(b.Values) != MaxValues || b.Values["v00"] != 40 || b.Values["v31"] != 9 {
		t.Fatalf("kept %d values: %v", len(b.Values), b.Values)
	}
	if _, kept := b.Values["v32"]; kept {
		t.Error("a less frequent value was kept")
	}
	var sum int64
	for _, n := range b.Values {
		sum += n
	}
	if sum+b.Other != pts || b.Other != 8+7+6+5+4+3+2+1 || b.Count != pts {
		t.Errorf("counted %d + other %d, count %d, points %d", sum, b.Other, b.Count, pts)
	}
}

// Daily buckets merged from hourly ones equal daily buckets built from the
// points directly (sums up to rounding).
func TestDailyFromHourly(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var pts []point.Point
	for i := range 3000 {
		at := t0.Add(time.Duration(r.IntN(72*60)) * time.Minute)
		target := []string{"a", "b"}[i%2]
		pts = append(pts, point.New("ping", map[string]string{"target": target, "site": "oak"}, map[string]any{
			"ok":      r.IntN(10) > 0,
			"rtt_ms":  float64(5 + r.IntN(200)),
			"loss":    float64(r.IntN(3)),
			"result":  []string{"ok", "timeout", "unreachable"}[r.IntN(3)],
			"resolve": fmt.Sprintf("10.0.0.%d", r.IntN(50)),
		}, at))
	}
	hourly := NewAggregator(Hour)
	daily := NewAggregator(Day)
	for _, p := range pts {
		hourly.AddPoint("oak", p)
		daily.AddPoint("oak", p)
	}
	want := daily.Buckets()
	got := Daily(hourly.Buckets())
	if len(want) == 0 {
		t.Fatal("no buckets")
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("daily from hourly (-direct +merged):\n%s", diff)
	}
}

// A day's hours of one series-field, ok and not ok, make one day bucket
// per class, in the order the classes first appear.
func TestMergeClasses(t *testing.T) {
	t0 := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	hour := func(at time.Duration, ok OK, count int64, sum float64) Bucket {
		return Bucket{Series: "ping,target=gw", Field: "rtt_ms", OK: ok, Kind: Number, Res: Hour,
			Start: t0.Add(at), Count: count, Min: sum / float64(count), Max: sum / float64(count), Sum: sum}
	}
	days := MergeClasses(Day, []Bucket{
		hour(0, OKFalse, 1, 9), hour(time.Hour, OKTrue, 2, 10), hour(2*time.Hour, OKFalse, 3, 30), hour(3*time.Hour, OKTrue, 1, 4),
	})
	if len(days) != 2 {
		t.Fatalf("MergeClasses = %d buckets, want 2: %+v", len(days), days)
	}
	for i, want := range []struct {
		ok    OK
		count int64
		sum   float64
	}{{OKFalse, 4, 39}, {OKTrue, 3, 14}} {
		d := days[i]
		if d.OK != want.ok || d.Count != want.count || d.Sum != want.sum || d.Res != Day || !d.Start.Equal(Day.Truncate(t0)) {
			t.Errorf("day %d = ok %d, %d samples, sum %v, %s from %s; want ok %d, %d, %v, a day from %s",
				i, d.OK, d.Count, d.Sum, d.Res, d.Start, want.ok, want.count, want.sum, Day.Truncate(t0))
		}
	}
	if got := MergeClasses(Day, nil); len(got) != 0 {
		t.Errorf("MergeClasses(nil) = %v, want none", got)
	}
}

// AddSamples by id gives the buckets Add gives, for points in any order
// and over several hours; two ids of one series (two agents of a site)
// share its buckets.
func TestAddSamplesByIDMatchesAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	byName, byID := NewAggregator(Hour), NewAggregator(Hour)
	for range 2000 {
		target := []string{"a", "b", "c"}[r.IntN(3)]
		agent := []string{"agent-1", "agent-2"}[r.IntN(2)]
		tags := map[string]string{"target": target, "site": "oak", "agent": agent}
		fields := map[string]any{"ok": r.IntN(10) > 0, "rtt_ms": float64(r.IntN(100)), "result": []string{"ok", "timeout"}[r.IntN(2)]}
		at := t0.Add(time.Duration(r.IntN(3*60)) * time.Minute)
		series := SeriesKey("ping", tags)
		byName.Add("oak", "ping", series, tags, fields, at)
		id := int64(target[0]) * 10
		if agent == "agent-2" {
			id++
		}
		byID.AddSamples(id, "oak", "ping", series, tags, samplesOf(fields, nil), at)
	}
	want, got := byName.Buckets(), byID.Buckets()
	if len(want) != 3*3*2*3 { // targets x fields x ok classes x hours
		t.Fatalf("Add made %d buckets, want 54", len(want))
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Hist{}, bin{})); diff != "" {
		t.Errorf("AddSamples buckets differ from Add (-want +got):\n%s", diff)
	}
}

// samplesOf is a point's fields as a store reads them for AddSamples,
// written into buf, which the caller then overwrites: a bucket must copy
// what it keeps.
func samplesOf(fields map[string]any, buf []byte) []Sample {
	var ss []Sample
	buf = buf[:0]
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		at := len(buf)
		buf = append(buf, k...)
		s := Sample{Field: buf[at:len(buf):len(buf)]}
		switch v := fields[k].(type) {
		case string:
			at := len(buf)
			buf = append(buf, v...)
			s.Kind, s.Text = String, buf[at:len(buf):len(buf)]
		case bool:
			s.Kind, s.Text = Bool, []byte(strconv.FormatBool(v))
			if v {
				s.Num = 1
			}
		default:
			s.Kind, s.Num = Number, must(point.AsFloat(v))
		}
		ss = append(ss, s)
	}
	return ss
}

func must(x float64, ok bool) float64 {
	if !ok {
		panic("not a number")
	}
	return x
}

// AddSamples and AddSeriesSamples give the buckets Add gives, for every
// kind of field, values that change, and field names and strings in a
// buffer the caller reuses.
func TestAddSamplesMatchesAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	byName, byID, bySeries := NewAggregator(Hour), NewAggregator(Hour), NewAggregator(Hour)
	buf := make([]byte, 0, 256)
	for range 3000 {
		target := []string{"a", "b", "c"}[r.IntN(3)]
		tags := map[string]string{"target": target, "site": "oak", "agent": "agent-1"}
		fields := map[string]any{"rtt_ms": float64(r.IntN(100)) / 4, "sent": int64(r.IntN(5)), "bytes": uint64(r.Uint32()),
			"result": []string{"ok", "ok", "ok", "timeout", "refused"}[r.IntN(5)], "up": r.IntN(4) > 0}
		if r.IntN(5) > 0 { // some points have no ok field
			fields["ok"] = r.IntN(10) > 0
		}
		at := t0.Add(time.Duration(r.IntN(3*60)) * time.Minute)
		series := SeriesKey("ping", tags)
		byName.Add("oak", "ping", series, tags, fields, at)
		byID.AddSamples(int64(target[0]), "oak", "ping", series, tags, samplesOf(fields, buf), at)
		bySeries.AddSeriesSamples("oak", "ping", series, tags, samplesOf(fields, buf), at)
		for i := range buf[:cap(buf)] {
			buf[:cap(buf)][i] = '#'
		}
	}
	want := byName.Buckets()
	if len(want) < 3*6*3*3-20 { // targets x fields x ok classes x hours, less "ok" in class absent
		t.Fatalf("Add made only %d buckets", len(want))
	}
	for name, agg := range map[string]*Aggregator{"AddSamples": byID, "AddSeriesSamples": bySeries} {
		if diff := cmp.Diff(want, agg.Buckets(), cmp.AllowUnexported(Hist{}, bin{})); diff != "" {
			t.Errorf("%s buckets differ from Add (-want +got):\n%s", name, diff)
		}
	}
}

// Buckets sorts series by series and each series' buckets on their own;
// the result is in Sort's order all the same.
func TestBucketsInSortOrder(t *testing.T) {
	a := NewAggregator(Hour)
	t0 := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := range 200 {
		site := []string{"oak", "ash", "elm"}[i%3]
		tags := map[string]string{"port": strconv.Itoa(i % 17)}
		fields := map[string]any{"in_bps": float64(i), "up": i%2 == 0, "name": "x"}
		if i%5 == 0 {
			fields["ok"] = i%10 == 0
		}
		a.Add(site, "snmp_if", SeriesKey("snmp_if", tags), tags, fields, t0.Add(time.Duration(i*7)*time.Minute))
	}
	got := a.Buckets()
	want := slices.Clone(got)
	Sort(want)
	if len(got) == 0 || !slices.EqualFunc(got, want, func(x, y Bucket) bool { return keyOf(&x) == keyOf(&y) }) {
		t.Fatalf("Buckets is not in Sort order (%d buckets)", len(got))
	}
}
