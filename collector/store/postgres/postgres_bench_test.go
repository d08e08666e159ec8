package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/storetest"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// benchPoint looks like a ping probe result: 4 tags with site and agent,
// 6 fields of every type (as collector/store/sqlite's benchmark).
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
// rounds) into a growing database on a local server (fsync off).
func BenchmarkWriteBatch5000(b *testing.B) {
	ctx := context.Background()
	pg := testenv.StartPostgres(b)
	s, _ := openNew(b, pg)
	defer s.Close()
	a := agent(b, s, "oak")
	const n = 5000
	pts := make([]point.Point, n)
	b.ReportAllocs()
	var written int
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		for j := range pts {
			pts[j] = benchPoint(a, j%50, t0.Add(time.Duration(i*n+j)*time.Second/10))
		}
		b.StartTimer()
		dup, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprint("batch-", i), Agent: a, Points: pts}, t0)
		if err != nil || dup {
			b.Fatalf("WriteBatch = %v, %v", dup, err)
		}
		written += n
	}
	b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkWriteSchools writes as a collector's API handlers do under
// load: 64 schools' agents at once, each sending 2-second batches of 35
// points (a school's rate; benchPoint's shape, 960 series a school), so a
// batch's round trips weigh as much as its rows.
func BenchmarkWriteSchools(b *testing.B) {
	ctx := context.Background()
	pg := testenv.StartPostgres(b)
	s, _ := openNew(b, pg)
	defer s.Close()
	agents := make([]store.Agent, 64)
	for i := range agents {
		agents[i] = agent(b, s, fmt.Sprintf("school-%02d", i))
	}
	const perBatch = 35
	storetest.WriteParallel(b, 0, perBatch, func(n int64) {
		a, round := agents[n%int64(len(agents))], n/int64(len(agents))
		at := t0.Add(time.Duration(round) * 2 * time.Second)
		pts := make([]point.Point, perBatch)
		for j := range pts {
			pts[j] = benchPoint(a, int(round*perBatch+int64(j))%960, at)
		}
		if dup, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprint("b-", n), Agent: a, Points: pts}, at); err != nil || dup {
			b.Errorf("WriteBatch = %v, %v", dup, err)
		}
	})
}
