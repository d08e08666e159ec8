package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
)

// BenchmarkScore1000Schools scores every requirement of the catalogue for
// 1,000 schools from a SQLite store holding a year of hourly buckets (and
// the daily ones derived from them) for every series the catalogue's rules
// read. The buckets are written directly, not rolled up from raw points,
// so setting up takes minutes rather than hours. Every bucket is full: a
// number bucket holds 60 samples in histogram bins, which is the costly
// case to read. PROBITY_BENCH_SCHOOLS sets another number of schools; the
// reported s/1000-schools then scales the measured time linearly.
//
//	make bench-score
func BenchmarkScore1000Schools(b *testing.B) {
	schools := 1000
	if v := os.Getenv("PROBITY_BENCH_SCHOOLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("PROBITY_BENCH_SCHOOLS=%q: want a positive number", v)
		}
		schools = n
	}
	ctx := context.Background()
	cat := standards.Default()
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	path := filepath.Join(b.TempDir(), "bench.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	plan := benchPlan(b, cat)
	setup := time.Now()
	rows := fillSchools(b, st, plan, schools, now)
	var size int64
	for _, f := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	b.Logf("%d schools, %d series-fields each, %d buckets (%d MB) written in %s (catalogue %s, %d requirements)",
		schools, len(plan), rows, size>>20, time.Since(setup).Round(time.Second), cat.Version, len(cat.Requirements))

	r := &Runner{Store: st, Catalogue: cat, Retention: 30 * 24 * time.Hour, Now: func() time.Time { return now }}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := r.ScoreAll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start).Seconds() / float64(b.N)
	b.StopTimer()
	b.ReportMetric(per, "s/score-all")
	b.ReportMetric(per*1000/float64(schools), "s/1000-schools")

	// Every school was scored from the buckets: a verdict per requirement,
	// with samples where a rule applies.
	vs, err := st.Verdicts(ctx, "school-0000")
	if err != nil || len(vs) != len(cat.Requirements) {
		b.Fatalf("school-0000 has %d verdicts (%v), want %d", len(vs), err, len(cat.Requirements))
	}
	measured := 0
	for _, v := range vs {
		var ev score.Evidence
		if err := json.Unmarshal(v.Evidence, &ev); err != nil {
			b.Fatal(err)
		}
		if ev.Samples > 0 {
			measured++
		}
	}
	b.Logf("school-0000: %d of %d verdicts rest on measured samples; target under 60 s for 1,000 schools", measured, len(vs))
	if measured == 0 {
		b.Fatal("no verdict used the generated buckets")
	}
}

// benchSeries is one series-field the catalogue reads, with the buckets
// to write for it.
type benchSeries struct {
	measurement, series, field string
	tags                       map[string]string
	hourly, daily              []rollup.Bucket // templates: ok=true, and ok=false when the measurement has ok
}

// benchPlan lists the series-fields the catalogue's rules read: the Where
// tags, plus two values of the GroupBy tag, for each condition's field.
func benchPlan(b *testing.B, cat *standards.Catalogue) []benchSeries {
	tab := standards.Measurements()
	seen := map[string]bool{}
	var plan []benchSeries
	r := rand.New(rand.NewPCG(1, 2))
	for _, req := range cat.Requirements {
		if req.Rule == nil {
			continue
		}
		for _, c := range req.Rule.Conditions {
			m, ok := tab.Lookup(c.Measurement)
			if !ok {
				b.Fatalf("%s: unknown measurement %s", req.ID, c.Measurement)
			}
			f, _ := m.Field(c.Field)
			_, hasOK := m.Field("ok")
			groups := []string{""}
			if c.GroupBy != "" {
				groups = []string{"a", "b"}
			}
			for _, g := range groups {
				tags := map[string]string{}
				for k, v := range c.Where {
					tags[k] = v
				}
				if g != "" {
					tags[c.GroupBy] = c.GroupBy + "-" + g
				}
				series := rollup.SeriesKey(c.Measurement, tags)
				if seen[series+" "+c.Field] {
					continue
				}
				seen[series+" "+c.Field] = true
				s := benchSeries{measurement: c.Measurement, series: series, field: c.Field, tags: tags}
				classes := []rollup.OK{rollup.OKAbsent}
				if hasOK {
					classes = []rollup.OK{rollup.OKTrue, rollup.OKFalse}
				}
				for _, class := range classes {
					h := benchBucket(r, c, f, class)
					s.hourly = append(s.hourly, h)
					day := make([]rollup.Bucket, 24)
					for i := range day {
						day[i] = h
						day[i].Start = h.Start.Add(time.Duration(i) * time.Hour)
					}
					s.daily = append(s.daily, rollup.Merge(rollup.Day, day))
				}
				plan = append(plan, s)
			}
		}
	}
	if len(plan) == 0 {
		b.Fatal("the catalogue has no rules")
	}
	return plan
}

// benchBucket is an hour of 60 samples of f that mostly pass c.
func benchBucket(r *rand.Rand, c standards.Condition, f standards.Field, class rollup.OK) rollup.Bucket {
	b := rollup.Bucket{OK: class, Res: rollup.Hour, Start: time.Unix(0, 0).UTC(), LastTime: time.Unix(0, 0).UTC().Add(59 * time.Minute)}
	const n = 60
	switch f.Type {
	case standards.TypeFloat, standards.TypeInt:
		b.Kind = rollup.Number
		b.Hist = &rollup.Hist{}
		centre := math.Max(1, math.Abs(c.Threshold("primary")))
		for i := range n {
			v := centre * math.Exp(0.3*r.NormFloat64())
			if i == 0 {
				b.Min, b.Max = v, v
			}
			b.Min, b.Max, b.Sum, b.Last = min(b.Min, v), max(b.Max, v), b.Sum+v, v
			b.Hist.Add(v, 1, rollup.MaxExact)
		}
	case standards.TypeBool:
		b.Kind = rollup.Bool
		b.Values = map[string]int64{"true": n - 1, "false": 1}
		b.LastText = "true"
	default:
		b.Kind = rollup.String
		v := "answer"
		if c.Match != nil {
			switch {
			case len(c.Match.Values) > 0:
				v = strings.Join(c.Match.Values, ",")
			case c.Match.Value != nil:
				v = fmt.Sprint(c.Match.Value)
			}
		}
		b.Values = map[string]int64{v: n - 2, "something else": 2}
		b.LastText = v
	}
	b.Count = n
	return b
}

// fillSchools writes a year of hourly buckets and the year's daily ones for
// every school, one transaction per school, and returns how many.
func fillSchools(b *testing.B, st *sqlite.Store, plan []benchSeries, schools int, now time.Time) int {
	ctx := context.Background()
	tr, err := st.CreateTrust(ctx, "Bench Trust")
	if err != nil {
		b.Fatal(err)
	}
	first := rollup.Hour.Truncate(now.AddDate(-1, 0, 0))
	last := rollup.Hour.Truncate(now)
	rows := 0
	var bs []rollup.Bucket
	for i := range schools {
		id := fmt.Sprintf("school-%04d", i)
		phase := store.Phases[i%2] // primary and secondary
		if _, err := st.CreateSite(ctx, store.Site{ID: id, TrustID: tr.ID, Name: "School " + id, Phase: phase}); err != nil {
			b.Fatal(err)
		}
		bs = bs[:0]
		for _, s := range plan {
			add := func(t rollup.Bucket, start time.Time) {
				t.Site, t.Measurement, t.Series, t.Tags, t.Field = id, s.measurement, s.series, s.tags, s.field
				t.LastTime = start.Add(t.LastTime.Sub(time.Unix(0, 0)) % t.Res.Duration())
				t.Start = start
				bs = append(bs, t)
			}
			for h, n := first, 0; !h.After(last); h, n = h.Add(time.Hour), n+1 {
				add(s.hourly[0], h)
				if len(s.hourly) > 1 && n%50 == 0 { // an hour with failures now and then
					add(s.hourly[1], h)
				}
			}
			for d := rollup.Day.Truncate(first); d.Before(rollup.Day.Truncate(now)); d = d.Add(24 * time.Hour) {
				for _, t := range s.daily {
					add(t, d)
				}
			}
		}
		if err := st.WriteRollups(ctx, bs); err != nil {
			b.Fatal(err)
		}
		rows += len(bs)
		if i == 0 || (i+1)%100 == 0 {
			b.Logf("%d schools written", i+1)
		}
	}
	return rows
}
