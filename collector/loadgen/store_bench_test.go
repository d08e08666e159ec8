package loadgen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/wire"
)

// BenchmarkStoreLoadMix is the store alone under the load generator's
// mix: agent-sized batches (what 100 schools ship in 10 s each, one
// batch per school, decoded and tagged as the collector would) written
// with WriteBatch into SQLite, for a CPU profile of ingest without HTTP:
//
//	go test -run '^$' -bench StoreLoadMix -benchtime 20000x -cpuprofile cpu.out ./collector/loadgen/
func BenchmarkStoreLoadMix(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "p.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	tr, err := st.CreateTrust(ctx, "Load")
	if err != nil {
		b.Fatal(err)
	}
	const schools = 100
	var agents []store.Agent
	var scheds []*School
	start := time.Now()
	for i := range schools {
		id := fmt.Sprintf("load-%d", i)
		if _, err := st.CreateSite(ctx, store.Site{ID: id, TrustID: tr.ID, Name: id, Phase: "primary"}); err != nil {
			b.Fatal(err)
		}
		tok := fmt.Sprintf("token-%d", i)
		if err := st.CreateEnrolToken(ctx, id, store.HashSecret(tok), start.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		a, err := st.ConsumeEnrolToken(ctx, store.HashSecret(tok), store.Agent{Hostname: id}, store.HashSecret("cred-"+tok), start)
		if err != nil {
			b.Fatal(err)
		}
		agents = append(agents, a)
		scheds = append(scheds, NewSchool(Mix(), start, 1, uint64(i)+1))
	}
	now := start
	var points int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := i % schools
		if s == 0 {
			now = now.Add(10 * time.Second)
		}
		pts, err := scheds[s].Due(now)
		if err != nil {
			b.Fatal(err)
		}
		if len(pts) == 0 {
			continue
		}
		for j := range pts {
			pts[j].Tags[store.TagSite], pts[j].Tags[store.TagAgent] = agents[s].SiteID, agents[s].ID
		}
		if _, err := st.WriteBatch(ctx, store.Batch{ID: wire.NewBatchID(), Agent: agents[s], Points: pts}, time.Now()); err != nil {
			b.Fatal(err)
		}
		points += int64(len(pts))
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(points)/float64(b.N), "points/batch")
	b.StopTimer()
	// The store's size a point, the WAL included, once the schools' series
	// have all been seen: mostly points, with their indexes.
	var size int64
	for _, f := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	if points > 0 {
		b.ReportMetric(float64(size)/float64(points), "store-bytes/point")
	}
}
