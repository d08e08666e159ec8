package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/storetest"
	"github.com/probity-edu/probity/internal/point"
)

var benchT0 = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// benchAgent makes a trust, a site and an enrolled agent.
func benchAgent(b testing.TB, s *Store) store.Agent {
	b.Helper()
	ctx := context.Background()
	tr, err := s.CreateTrust(ctx, "Bench Trust")
	if err != nil {
		b.Fatal(err)
	}
	site, err := s.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak", Phase: "secondary"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.CreateEnrolToken(ctx, site.ID, "tok", benchT0.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	a, err := s.ConsumeEnrolToken(ctx, "tok", store.Agent{Hostname: "bench"}, "cred", benchT0)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// benchPoint looks like a ping probe result: 4 tags with site and agent,
// 6 fields of every type.
func benchPoint(a store.Agent, target int, at time.Time) point.Point {
	return point.Point{
		Measurement: "ping",
		Tags: map[string]string{
			"site": a.SiteID, "agent": a.ID, "target": fmt.Sprintf("host-%02d.school.example", target), "family": "ipv4",
		},
		Fields: map[string]any{
			"rtt_avg_ms": 12.345, "rtt_max_ms": 20.5, "loss_pct": 0.0,
			"sent": int64(20), "ok": true, "result": "ok",
		},
		Time: at,
	}
}

// BenchmarkWriteBatch5000 writes 5,000-point batches (50 targets x 100
// rounds) into a growing database.
func BenchmarkWriteBatch5000(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	defer s.Close()
	a := benchAgent(b, s)
	const n = 5000
	pts := make([]point.Point, n)
	b.ReportAllocs()
	var written int
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		for j := range pts {
			pts[j] = benchPoint(a, j%50, benchT0.Add(time.Duration(i*n+j)*time.Second/10))
		}
		b.StartTimer()
		dup, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprint("batch-", i), Agent: a, Points: pts}, benchT0)
		if err != nil || dup {
			b.Fatalf("WriteBatch = %v, %v", dup, err)
		}
		written += n
	}
	b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkPointsDay reads one target's day (8,640 points at 10 s) out of a
// day of 20 targets (172,800 points), and the whole day unfiltered.
func BenchmarkPointsDay(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	defer s.Close()
	a := benchAgent(b, s)
	const targets, step = 20, 10 * time.Second
	var batch []point.Point
	id := 0
	for at := benchT0; at.Before(benchT0.Add(24 * time.Hour)); at = at.Add(step) {
		for t := range targets {
			batch = append(batch, benchPoint(a, t, at))
		}
		if len(batch) >= 5000 {
			if _, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprint("b-", id), Agent: a, Points: batch}, benchT0); err != nil {
				b.Fatal(err)
			}
			id++
			batch = batch[:0]
		}
	}
	if _, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprint("b-", id), Agent: a, Points: batch}, benchT0); err != nil {
		b.Fatal(err)
	}
	day := store.PointQuery{Site: "oak", Measurement: "ping", From: benchT0, To: benchT0.Add(24 * time.Hour)}
	oneTarget := day
	oneTarget.Tags = map[string]string{"target": "host-07.school.example"}
	for _, bc := range []struct {
		name string
		q    store.PointQuery
		want int
	}{
		{"one-target", oneTarget, 8640},
		{"all-targets", day, 8640 * targets},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var read int
			for b.Loop() {
				got, err := s.Points(ctx, bc.q)
				if err != nil || len(got) != bc.want {
					b.Fatalf("Points = %d, %v; want %d", len(got), err, bc.want)
				}
				read += len(got)
			}
			b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkRollupDay rebuilds the hourly buckets of a day of 20 targets.
func BenchmarkRollupDay(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	defer s.Close()
	a := benchAgent(b, s)
	var batch []point.Point
	for at := benchT0; at.Before(benchT0.Add(24 * time.Hour)); at = at.Add(10 * time.Second) {
		for t := range 20 {
			batch = append(batch, benchPoint(a, t, at))
		}
	}
	if _, err := s.WriteBatch(ctx, store.Batch{ID: "day", Agent: a, Points: batch}, benchT0); err != nil {
		b.Fatal(err)
	}
	runs := 0
	for b.Loop() {
		if err := s.Rollup(ctx, benchT0, benchT0.Add(24*time.Hour)); err != nil {
			b.Fatal(err)
		}
		runs++
	}
	b.ReportMetric(float64(len(batch)*runs)/b.Elapsed().Seconds(), "points/s")
}

// benchSchools enrols one agent in each of n schools.
func benchSchools(b testing.TB, s *Store, n int) []store.Agent {
	ctx := context.Background()
	tr, err := s.CreateTrust(ctx, "Bench Trust")
	if err != nil {
		b.Fatal(err)
	}
	agents := make([]store.Agent, n)
	for i := range agents {
		site, err := s.CreateSite(ctx, store.Site{ID: fmt.Sprint("school-", i), TrustID: tr.ID, Name: fmt.Sprint("School ", i), Phase: "primary"})
		if err != nil {
			b.Fatal(err)
		}
		tok := fmt.Sprint("tok-", i)
		if err := s.CreateEnrolToken(ctx, site.ID, tok, benchT0.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		if agents[i], err = s.ConsumeEnrolToken(ctx, tok, store.Agent{Hostname: "bench"}, "cred-"+tok, benchT0); err != nil {
			b.Fatal(err)
		}
	}
	return agents
}

// benchPort is an SNMP interface counter point: switch port p of a school
// with 20 switches of 48 ports.
func benchPort(a store.Agent, p int, at time.Time) point.Point {
	return point.Point{
		Measurement: "snmp_if",
		Tags: map[string]string{"site": a.SiteID, "agent": a.ID, "device": fmt.Sprintf("sw-%02d", p/48),
			"ifName": fmt.Sprintf("Gi1/0/%d", p%48), "profile": "cisco-switch"},
		Fields: map[string]any{"in_octets": uint64(p) << 30, "out_octets": uint64(p) << 29, "in_errors": uint64(0),
			"out_errors": uint64(0), "in_discards": uint64(1), "speed_mbps": 1000.0, "oper_up": true},
		Time: at,
	}
}

const (
	benchPerBatch = 35  // 2 s of a school's 17.5 points/s
	benchPorts    = 960 // 20 switches of 48 ports
)

// benchWriteRound writes batch number n of the schools' round robin:
// school n%len(agents), the next 35 of its ports.
func benchWriteRound(b *testing.B, s *Store, agents []store.Agent, n int64) {
	schools := int64(len(agents))
	a, round := agents[n%schools], n/schools
	at := benchT0.Add(time.Duration(round) * 2 * time.Second)
	pts := make([]point.Point, benchPerBatch)
	for j := range pts {
		pts[j] = benchPort(a, int((round*benchPerBatch+int64(j))%benchPorts), at)
	}
	if dup, err := s.WriteBatch(context.Background(), store.Batch{ID: fmt.Sprint("b-", n), Agent: a, Points: pts}, at); err != nil || dup {
		b.Errorf("WriteBatch = %v, %v", dup, err)
	}
}

// BenchmarkWriteSchools writes as many schools' agents do at once: 64
// agents each sending a 2-second batch (35 points of SNMP interface
// counters) concurrently, as the collector's API handlers call WriteBatch.
// Most series are new (each school's 960 ports come round every 28 batches).
func BenchmarkWriteSchools(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	agents := benchSchools(b, s, 64)
	storetest.WriteParallel(b, 0, benchPerBatch, func(n int64) { benchWriteRound(b, s, agents, n) })
}

// BenchmarkWriteSteady is BenchmarkWriteSchools at steady state: 300
// schools whose 288,000 series already have three rounds of points (written
// before the timer starts), as in a collector that has been running.
func BenchmarkWriteSteady(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	agents := benchSchools(b, s, 300)
	warm := int64(len(agents) * benchPorts * 3 / benchPerBatch)
	var wg sync.WaitGroup
	for w := range int64(64) {
		wg.Go(func() {
			for n := w; n < warm; n += 64 {
				benchWriteRound(b, s, agents, n)
			}
		})
	}
	wg.Wait()
	storetest.WriteParallel(b, warm, benchPerBatch, func(n int64) { benchWriteRound(b, s, agents, n) })
}

// BenchmarkRollupHourSchools rebuilds the hourly buckets of an hour holding
// 20 minutes of 50 schools' SNMP interface counters (a point a port a
// minute: 960,000 points in 48,000 series), as the rollup and scoring jobs
// do for an hour that is still filling: first with the buckets' series
// still to make, then again.
func BenchmarkRollupHourSchools(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	defer s.Close()
	agents := benchSchools(b, s, 50)
	const minutes = 20
	for m := range minutes {
		at := benchT0.Add(time.Duration(m) * time.Minute)
		for i, a := range agents {
			pts := make([]point.Point, benchPorts)
			for p := range pts {
				pts[p] = benchPort(a, p, at)
			}
			if _, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprint("r-", m, "-", i), Agent: a, Points: pts}, at); err != nil {
				b.Fatal(err)
			}
		}
	}
	n := int64(len(agents) * benchPorts * minutes)
	// The first rebuild of a collector's hour also creates the buckets'
	// series (336,000 here); later ones find them.
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			for _, q := range []string{`DELETE FROM rollup_series`, `DELETE FROM rollups_hourly`, `DELETE FROM rollup_pending_days`} {
				if _, err := s.w.ExecContext(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			s.sidCache, s.marked = nil, markedDays{}
			b.StartTimer()
			if _, _, err := s.rollupHour(ctx, benchT0, rebuild); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*int64(b.N))/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("again", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.rollupHour(ctx, benchT0, rebuild); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*int64(b.N))/b.Elapsed().Seconds(), "points/s")
	})
}
