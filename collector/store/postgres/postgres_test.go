package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/storetest"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// One server for the package's tests; each test gets its own database.
var server *testenv.Postgres

// pg is the shared server. It stops with TestPostgres, so every test that
// needs it is a subtest of TestPostgres.
func pg(t *testing.T) *testenv.Postgres {
	t.Helper()
	if server == nil {
		t.Fatal("pg called outside TestPostgres")
	}
	return server
}

func openNew(t testing.TB, pg *testenv.Postgres) (*Store, string) {
	t.Helper()
	dsn := pg.NewDatabase(t)
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, dsn
}

// TestPostgres starts one PostgreSQL for every subtest.
func TestPostgres(t *testing.T) {
	server = testenv.StartPostgres(t)
	t.Cleanup(func() { server = nil })
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			s, _ := openNew(t, pg(t))
			return s
		})
	})
	t.Run("Partitions", testPartitions)
	t.Run("ConcurrentSameBatch", testConcurrentSameBatch)
	t.Run("PruneWhileWriting", testPruneWhileWriting)
	t.Run("MigrateAgain", testMigrateAgain)
	t.Run("MigrateConcurrent", testMigrateConcurrent)
	t.Run("Migrate0004", testMigrate0004)
	t.Run("NewerSchema", testNewerSchema)
	t.Run("BadDSN", testBadDSN)
	t.Run("TryLead", testTryLead)
	t.Run("RollupInChunks", testRollupInChunks)
	t.Run("RollupPendingSites", testRollupPendingSites)
}

// With every site its own chunk, an hour's rollup still gives each site
// the buckets of its own points, and only those.
func testRollupInChunks(t *testing.T) {
	ctx := context.Background()
	s, _ := openNew(t, pg(t))
	defer s.Close()
	defer func(n int) { rollupSites = n }(rollupSites)
	rollupSites = 1
	sites := []string{"ash", "birch", "cedar"}
	for i, site := range sites {
		a := agent(t, s, site)
		var at []time.Time
		for j := range i + 1 {
			at = append(at, t0.Add(time.Duration(j+1)*time.Minute))
		}
		if _, err := s.WriteBatch(ctx, store.Batch{ID: "b-" + site, Agent: a, Points: pings(a, at...)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RollupPending(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i, site := range sites {
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: site, Measurement: "ping", Field: "rtt_ms", From: t0, To: t0.Add(time.Hour)})
		if err != nil || len(bs) != 1 || bs[0].Count != int64(i+1) {
			t.Errorf("%s: %v, %v; want one bucket of %d", site, bs, err, i+1)
		}
	}
}

// An hour's rollup does not keep writers out: a batch written to the hour
// while its sites are being aggregated is stored at once, its site stays
// pending and the next run counts it. A late batch makes the next run
// rebuild only its own site's hour.
func testRollupPendingSites(t *testing.T) {
	ctx := context.Background()
	s, _ := openNew(t, pg(t))
	defer s.Close()
	defer func(n int) { rollupSites = n }(rollupSites)
	rollupSites = 1
	sites := []string{"ash", "birch", "cedar"}
	agents := map[string]store.Agent{}
	for _, site := range sites {
		a := agent(t, s, site)
		agents[site] = a
		if _, err := s.WriteBatch(ctx, store.Batch{ID: "b-" + site, Agent: a, Points: pings(a, t0.Add(time.Minute))}, t0); err != nil {
			t.Fatal(err)
		}
	}
	var read [][]string
	written := false
	s.testHookAggregated = func(_ time.Time, chunk []string) {
		read = append(read, chunk)
		if written {
			return
		}
		written = true
		// With writers kept out of the hour this would never return.
		a := agents["cedar"]
		if _, err := s.WriteBatch(ctx, store.Batch{ID: "during", Agent: a, Points: pings(a, t0.Add(2*time.Minute))}, t0); err != nil {
			t.Errorf("writing during the rollup: %v", err)
		}
	}
	count := func(site string) int64 {
		t.Helper()
		bs, err := s.Rollups(ctx, store.RollupQuery{Site: site, Measurement: "ping", Field: "rtt_ms", From: t0, To: t0.Add(time.Hour)})
		if err != nil || len(bs) != 1 {
			t.Fatalf("%s: %v, %v; want one bucket", site, bs, err)
		}
		return bs[0].Count
	}
	pending := func() []string {
		t.Helper()
		rows, err := s.pool.Query(ctx, `SELECT site FROM rollup_pending_sites ORDER BY site`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if err := s.RollupPending(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !written || len(read) != 3 {
		t.Fatalf("first run aggregated %v; want the three sites one at a time", read)
	}
	if got := pending(); !slices.Equal(got, []string{"cedar"}) {
		t.Errorf("pending after a write during the rollup = %v, want [cedar]", got)
	}
	read = nil
	if err := s.RollupPending(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(read[0], []string{"cedar"}) || len(read) != 1 || count("cedar") != 2 || count("ash") != 1 {
		t.Errorf("second run aggregated %v; cedar counts %d, ash %d; want [[cedar]], 2, 1", read, count("cedar"), count("ash"))
	}
	a := agents["birch"]
	if _, err := s.WriteBatch(ctx, store.Batch{ID: "late", Agent: a, Points: pings(a, t0.Add(50*time.Minute))}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	read = nil
	if err := s.RollupPending(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(read) != 1 || !slices.Equal(read[0], []string{"birch"}) || count("birch") != 2 {
		t.Errorf("after a late batch the run aggregated %v, birch counts %d; want [[birch]], 2", read, count("birch"))
	}
	if got := pending(); len(got) != 0 {
		t.Errorf("pending after the runs = %v, want none", got)
	}
}

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

func agent(t testing.TB, s *Store, site string) store.Agent {
	t.Helper()
	ctx := context.Background()
	tr, err := s.CreateTrust(ctx, "Trust "+site)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSite(ctx, store.Site{ID: site, TrustID: tr.ID, Name: "School " + site, Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEnrolToken(ctx, site, "tok-"+site, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	a, err := s.ConsumeEnrolToken(ctx, "tok-"+site, store.Agent{Hostname: "h"}, "cred-"+site, t0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func pings(a store.Agent, times ...time.Time) []point.Point {
	var pts []point.Point
	for i, at := range times {
		pts = append(pts, point.Point{
			Measurement: "ping",
			Tags:        map[string]string{store.TagSite: a.SiteID, store.TagAgent: a.ID, "target": "gw"},
			Fields:      map[string]any{"rtt_ms": float64(i), "ok": true},
			Time:        at,
		})
	}
	return pts
}

func partNames(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'points'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// testPartitions: a write creates the day partitions it needs; Prune drops
// the days wholly before its cut, deletes the straddling day's old hours,
// and rolls up what it drops.
func testPartitions(t *testing.T) {
	ctx := context.Background()
	s, dsn := openNew(t, pg(t))
	defer s.Close()
	// A second collector on the database, which made a partition that
	// the first one's Prune drops.
	s2, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	a := agent(t, s, "oak")
	d0 := time.Date(2025, 3, 8, 0, 0, 0, 0, time.UTC)
	times := []time.Time{
		d0.Add(1 * time.Hour), d0.Add(23 * time.Hour), // 8 March
		d0.Add(25 * time.Hour),                         // 9 March
		d0.Add(49 * time.Hour), d0.Add(53 * time.Hour), // 10 March, 01:00 and 05:00
	}
	if _, err := s2.WriteBatch(ctx, store.Batch{ID: "b1", Agent: a, Points: pings(a, times...)}, t0); err != nil {
		t.Fatal(err)
	}
	want := []string{"points_p20250308", "points_p20250309", "points_p20250310"}
	if got := partNames(t, s); !slices.Equal(got, want) {
		t.Fatalf("partitions after write = %v, want %v", got, want)
	}
	// Cut at 10 March 03:00: two days dropped, one point deleted.
	n, err := s.Prune(ctx, d0.Add(51*time.Hour))
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if n != 4 {
		t.Errorf("Prune deleted %d points, want 4", n)
	}
	if got := partNames(t, s); !slices.Equal(got, want[2:]) {
		t.Errorf("partitions after Prune = %v, want %v", got, want[2:])
	}
	if st, err := s.Stats(ctx); err != nil || st.Points != 1 {
		t.Errorf("Stats = %+v, %v; want 1 point", st, err)
	}
	bs, err := s.Rollups(ctx, store.RollupQuery{Site: "oak", Measurement: "ping", Field: "rtt_ms", From: d0, To: d0.Add(72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 4 {
		t.Errorf("%d hourly rtt buckets for the pruned hours, want 4: %v", len(bs), bs)
	}
	// A late point for a dropped day (sent to the collector that still
	// thinks the partition is there) makes its partition again, and is
	// merged into the sealed hour's bucket and deleted by the next rollup.
	if _, err := s2.WriteBatch(ctx, store.Batch{ID: "late", Agent: a, Points: pings(a, d0.Add(time.Hour+time.Minute))}, t0); err != nil {
		t.Fatalf("late write: %v", err)
	}
	if got := partNames(t, s); !slices.Contains(got, "points_p20250308") {
		t.Errorf("partitions after late write = %v, want 20250308 again", got)
	}
	if err := s.RollupPending(ctx, t0); err != nil {
		t.Fatal(err)
	}
	bs, err = s.Rollups(ctx, store.RollupQuery{Site: "oak", Measurement: "ping", Field: "rtt_ms", From: d0.Add(time.Hour), To: d0.Add(2 * time.Hour)})
	if err != nil || len(bs) != 1 || bs[0].Count != 2 {
		t.Errorf("sealed hour after a late point: %v, %v; want one bucket of 2", bs, err)
	}
	// The emptied partition goes with the next Prune.
	if _, err := s.Prune(ctx, d0.Add(51*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := partNames(t, s); !slices.Equal(got, want[2:]) {
		t.Errorf("partitions after second Prune = %v, want %v", got, want[2:])
	}
}

// testConcurrentSameBatch: the same batch sent to two collectors (two
// stores, two pools) at once is stored once.
func testConcurrentSameBatch(t *testing.T) {
	ctx := context.Background()
	s1, dsn := openNew(t, pg(t))
	defer s1.Close()
	s2, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	a := agent(t, s1, "oak")
	var times []time.Time
	for i := range 2000 {
		times = append(times, t0.Add(time.Duration(i)*time.Second))
	}
	for round := range 5 {
		id := fmt.Sprint("same-", round)
		var wg sync.WaitGroup
		dups := make([]bool, 2)
		errs := make([]error, 2)
		for i, s := range []*Store{s1, s2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dups[i], errs[i] = s.WriteBatch(ctx, store.Batch{ID: id, Agent: a, Points: pings(a, times...)}, t0)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: errors %v, %v", round, errs[0], errs[1])
		}
		if dups[0] == dups[1] {
			t.Errorf("round %d: dup = %v, %v; want exactly one dup", round, dups[0], dups[1])
		}
	}
	st, err := s2.Stats(ctx)
	if err != nil || st.Points != 5*2000 || st.Batches != 5 {
		t.Errorf("Stats = %+v, %v; want 10000 points in 5 batches", st, err)
	}
	var rows int64
	if err := s1.pool.QueryRow(ctx, `SELECT COUNT(*) FROM points`).Scan(&rows); err != nil || rows != 5*2000 {
		t.Errorf("points table holds %d rows, %v; want 10000", rows, err)
	}
}

type applied struct {
	version int
	name    string
	at      int64
}

func migrations(t *testing.T, s *Store) []applied {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []applied
	for rows.Next() {
		var a applied
		if err := rows.Scan(&a.version, &a.name, &a.at); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// testMigrateAgain: opening a migrated database applies nothing and keeps
// its data.
func testMigrateAgain(t *testing.T) {
	ctx := context.Background()
	s, dsn := openNew(t, pg(t))
	agent(t, s, "oak")
	first := migrations(t, s)
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(ms) || first[len(first)-1].version != ms[len(ms)-1].version {
		t.Fatalf("applied %v, want every one of %d embedded migrations", first, len(ms))
	}
	s.Close()
	s, err = Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s.Close()
	if again := migrations(t, s); !slices.Equal(again, first) {
		t.Errorf("schema_migrations after reopening = %v, want %v unchanged", again, first)
	}
	if st, err := s.Stats(ctx); err != nil || st.Sites != 1 || st.Agents != 1 {
		t.Errorf("Stats after reopening = %+v, %v", st, err)
	}
}

// testMigrateConcurrent: collectors opening a fresh database at once
// migrate it once between them.
func testMigrateConcurrent(t *testing.T) {
	dsn := pg(t).NewDatabase(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), dsn, Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, _ := loadMigrations(migrationFS)
	if got := migrations(t, stores[0]); len(got) != len(ms) {
		t.Errorf("schema_migrations = %v, want %d rows", got, len(ms))
	}
}

// testNewerSchema: a database migrated by a newer build is refused, and a
// later migration applies on top of an existing database.
func testNewerSchema(t *testing.T) {
	ctx := context.Background()
	s, _ := openNew(t, pg(t))
	defer s.Close()
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	next := len(ms) + 1
	fsys := fstest.MapFS{}
	for _, m := range ms {
		fsys["migrations/"+m.name] = &fstest.MapFile{Data: []byte(m.sql)}
	}
	fsys[fmt.Sprintf("migrations/%04d_extra.sql", next)] = &fstest.MapFile{Data: []byte(`CREATE TABLE extra (x INT)`)}
	more, err := loadMigrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.applyMigrations(ctx, more); err != nil {
		t.Fatalf("applying a new migration: %v", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO extra VALUES (1)`); err != nil {
		t.Errorf("new migration not applied: %v", err)
	}
	err = s.applyMigrations(ctx, ms)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("version %d is newer", next)) {
		t.Errorf("older build on a newer schema: err = %v, want it refused", err)
	}
}

// testBadDSN: a DSN that cannot work names what is wrong.
func testBadDSN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := pg(t)
	for _, tc := range []struct {
		name, dsn string
		want      []string
	}{
		{"empty", "", []string{"empty DSN"}},
		{"garbage", "postgres://probity:secret@127.0.0.1:notaport/x", []string{"not a postgres:// URL"}},
		{"no such database", p.DSN("no_such_db"), []string{`"no_such_db"`, "does not exist"}},
		{"nothing listening", "postgres://probity@127.0.0.1:1/x?sslmode=disable&connect_timeout=5", []string{"127.0.0.1", "connect"}},
	} {
		s, err := Open(ctx, tc.dsn, Options{})
		if err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %q shows the password", tc.name, err)
		}
	}
}

// testPruneWhileWriting: two collectors write into old and new hours while
// one prunes (dropping and deleting) and the other rolls up; afterwards
// every point is counted exactly once in the hourly buckets, and nothing
// deadlocks or fails.
func testPruneWhileWriting(t *testing.T) {
	ctx := context.Background()
	s1, dsn := openNew(t, pg(t))
	defer s1.Close()
	s2, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	a := agent(t, s1, "oak")
	const batches, perBatch = 100, 100
	cut := t0.Add(-30 * time.Hour)
	var writers sync.WaitGroup
	errs := make(chan error, 100)
	for w, s := range []*Store{s1, s2} {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for b := range batches {
				var times []time.Time
				for i := range perBatch {
					// Spread over three days before t0, so batches land
					// in days being dropped, the hour being sealed, and
					// hours kept.
					k := (b*perBatch + i*7 + w*13) % (72 * 60)
					times = append(times, t0.Add(-time.Duration(k)*time.Minute))
				}
				if _, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprintf("w%d-%d", w, b), Agent: a, Points: pings(a, times...)}, t0); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, b, err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	var workers sync.WaitGroup
	workers.Add(2)
	go func() {
		defer workers.Done()
		for {
			if _, err := s1.Prune(ctx, cut); err != nil {
				errs <- fmt.Errorf("Prune: %w", err)
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	go func() {
		defer workers.Done()
		for {
			if err := s2.RollupPending(ctx, t0); err != nil {
				errs <- fmt.Errorf("RollupPending: %w", err)
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	writers.Wait()
	close(done)
	workers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := s1.Prune(ctx, cut); err != nil {
		t.Fatal(err)
	}
	if err := s2.RollupPending(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := s1.Rollup(ctx, t0.Add(-96*time.Hour), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	bs, err := s1.Rollups(ctx, store.RollupQuery{Site: "oak", Measurement: "ping", Field: "rtt_ms", From: t0.Add(-96 * time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var counted int64
	for _, b := range bs {
		counted += b.Count
	}
	if want := int64(2 * batches * perBatch); counted != want {
		t.Errorf("hourly buckets count %d points, want %d written", counted, want)
	}
	raw, err := s1.Points(ctx, store.PointQuery{Site: "oak", Measurement: "ping", From: t0.Add(-96 * time.Hour), To: cut.Truncate(time.Hour)})
	if err != nil || len(raw) != 0 {
		t.Errorf("%d raw points left before the cut, %v", len(raw), err)
	}
}

// testTryLead: two stores on one database (two collectors) never hold the
// same job's turn at once; another job is free meanwhile; the turn passes
// on release.
func testTryLead(t *testing.T) {
	a, dsn := openNew(t, pg(t))
	defer a.Close()
	ctx := context.Background()
	b, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rel, ok, err := a.TryLead(ctx, "score")
	if err != nil || !ok {
		t.Fatalf("a: %v %v", ok, err)
	}
	if _, ok, err := b.TryLead(ctx, "score"); err != nil || ok {
		t.Fatalf("b took score while a holds it: %v %v", ok, err)
	}
	relP, ok, err := b.TryLead(ctx, "prune")
	if err != nil || !ok {
		t.Fatalf("b could not take a free job: %v %v", ok, err)
	}
	relP()
	rel()
	relB, ok, err := b.TryLead(ctx, "score")
	if err != nil || !ok {
		t.Fatalf("b could not take score after a released it: %v %v", ok, err)
	}
	relB()
}
