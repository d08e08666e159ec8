package jobs

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store/sqlite"
)

// BenchmarkReports builds and renders, from the same store as
// bench-score (a year of hourly and daily buckets for every series the
// rules read), one school's year-long evidence report (HTML and PDF, with
// a year of daily charts per measured row) and the trust pack: the fleet
// overview and every school's report, for 50 schools, one per CPU at a
// time as `probity-collector report --trust` builds them
// (PROBITY_BENCH_SCHOOLS sets another number). Targets: a school's year in
// under 1 s, a 50-school trust in under 10 s.
//
//	make bench-report
func BenchmarkReports(b *testing.B) {
	schools := 50
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
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	setup := time.Now()
	rows := fillSchools(b, st, benchPlan(b, cat), schools, now)
	r := &Runner{Store: st, Catalogue: cat, Retention: 30 * 24 * time.Hour, Now: func() time.Time { return now }}
	if err := r.ScoreAll(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d schools, %d buckets, scored, in %s", schools, rows, time.Since(setup).Round(time.Second))
	yearAgo := now.AddDate(-1, 0, 0)
	school := func(id string) error {
		rep, err := report.BuildWith(ctx, st, cat, id, report.Options{Now: now, Since: yearAgo})
		if err != nil {
			return err
		}
		if err := rep.WriteHTML(io.Discard); err != nil {
			return err
		}
		return rep.WritePDF(io.Discard)
	}

	b.Run("school-year", func(b *testing.B) {
		for range b.N {
			if err := school("school-0000"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/report")
	})
	b.Run("trust", func(b *testing.B) {
		for range b.N {
			trusts, err := st.Trusts(ctx)
			if err != nil || len(trusts) == 0 {
				b.Fatal(trusts, err)
			}
			f, err := report.BuildFleet(ctx, st, cat, trusts[0].ID, now)
			if err != nil {
				b.Fatal(err)
			}
			// As `report --trust` does: one school per CPU at a time.
			if err := report.Each(ctx, len(f.Schools), 0, func(i int) error { return school(f.Schools[i].Site.ID) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/trust")
		b.ReportMetric(float64(schools), "schools")
	})
}
