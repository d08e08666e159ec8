package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// One group holding a good batch, an unknown agent's batch, a repeat of the
// good one, a second good batch and a batch whose caller has gone: each is
// answered on its own and only the good ones are kept, once.
func TestCommitGroupAnswersEachBatch(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	a := benchAgent(t, s)
	ghost := store.Agent{ID: "ghost", SiteID: a.SiteID}
	pts := func(a store.Agent, n int) []point.Point {
		var out []point.Point
		for i := range n {
			out = append(out, benchPoint(a, i, benchT0.Add(time.Duration(i)*time.Second)))
		}
		return out
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	batches := []struct {
		ctx context.Context
		b   store.Batch
	}{
		{ctx, store.Batch{ID: "g1", Agent: a, Points: pts(a, 3)}},
		{ctx, store.Batch{ID: "ghost-1", Agent: ghost, Points: pts(ghost, 4)}},
		{ctx, store.Batch{ID: "g1", Agent: a, Points: pts(a, 3)}},
		{ctx, store.Batch{ID: "g2", Agent: a, Points: pts(a, 2)}},
		{gone, store.Batch{ID: "g3", Agent: a, Points: pts(a, 5)}},
	}
	var group []*writeReq
	for _, b := range batches {
		r, err := encodeBatch(b.ctx, b.b, benchT0)
		if err != nil {
			t.Fatal(err)
		}
		group = append(group, r)
	}
	s.commitGroup(group)
	got := make([]writeRes, len(group))
	for i, r := range group {
		got[i] = <-r.done
	}
	if got[0].err != nil || got[0].dup {
		t.Errorf("g1 = %+v, want stored", got[0])
	}
	if !errors.Is(got[1].err, store.ErrNotFound) {
		t.Errorf("unknown agent's batch = %+v, want store.ErrNotFound", got[1])
	}
	if got[2].err != nil || !got[2].dup {
		t.Errorf("g1 again = %+v, want dup", got[2])
	}
	if got[3].err != nil || got[3].dup {
		t.Errorf("g2 = %+v, want stored", got[3])
	}
	if !errors.Is(got[4].err, context.Canceled) {
		t.Errorf("g3 (caller gone) = %+v, want context.Canceled", got[4])
	}

	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Points != 5 || st.Batches != 2 {
		t.Errorf("Stats = %d points in %d batches, want 5 in 2", st.Points, st.Batches)
	}
	stored, err := s.Points(ctx, store.PointQuery{Site: a.SiteID, Measurement: "ping", From: benchT0, To: benchT0.Add(time.Hour)})
	if err != nil || len(stored) != 5 {
		t.Fatalf("Points = %d, %v; want 5", len(stored), err)
	}
	// The rejected batch made no series rows.
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM series WHERE agent = 'ghost'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the unknown agent's series: %d stored (%v), want none", n, err)
	}

	if err := s.r.QueryRow(`SELECT COALESCE(SUM(n), 0) FROM chunks`).Scan(&n); err != nil || n != 5 {
		t.Errorf("points table: %d rows (%v), want 5", n, err)
	}
	// The abandoned batch was not stored, so sending it again stores it.
	if dup, err := s.WriteBatch(ctx, batches[4].b, benchT0); err != nil || dup {
		t.Errorf("g3 sent again = %v, %v; want stored", dup, err)
	}
}

// Many writers at once all get an answer, and every point is kept once.
func TestWriteBatchConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	a := benchAgent(t, s)
	const writers, each = 16, 20
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				id := "w" + string(rune('a'+w)) + "-" + string(rune('a'+i))
				at := benchT0.Add(time.Duration(w*each+i) * time.Second)
				if _, err := s.WriteBatch(ctx, store.Batch{ID: id, Agent: a, Points: []point.Point{benchPoint(a, w, at), benchPoint(a, w, at.Add(time.Millisecond))}}, at); err != nil {
					errs <- err
					return
				}
				// Every other batch is sent twice, as a retrying agent does.
				if i%2 == 0 {
					if dup, err := s.WriteBatch(ctx, store.Batch{ID: id, Agent: a, Points: []point.Point{benchPoint(a, w, at)}}, at); err != nil || !dup {
						errs <- errors.New(id + " sent again was not a duplicate")
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(writers * each * 2); st.Points != want || st.Batches != writers*each {
		t.Errorf("Stats = %d points in %d batches, want %d in %d", st.Points, st.Batches, want, writers*each)
	}
}

func TestWriteBatchAfterClose(t *testing.T) {
	s := openTemp(t)
	a := benchAgent(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.WriteBatch(context.Background(), store.Batch{ID: "late", Agent: a, Points: []point.Point{benchPoint(a, 1, benchT0)}}, benchT0)
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("WriteBatch after Close = %v, want an error saying the store is closed", err)
	}
}

// Ids found or made in a transaction are cached once it commits, and
// forgotten if it rolls back.
func TestIDCacheFollowsTheTransaction(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	c := newIDCache()
	resolve := func(series string, commit bool) int64 {
		tx, err := s.w.Begin()
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.series(s.idStmts.inTx(tx), "oak", "a1", "ping", []byte(series), func() string { return `{}` })
		if err != nil {
			t.Fatal(err)
		}
		if len(c.committed) != 0 {
			t.Errorf("cached before the transaction ended: %v", c.committed)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		c.txDone(commit)
		return id
	}
	resolve("ping,target=gw", false)
	kept := resolve("ping,target=dns", true)
	h, check := c.hash(idKey{'s', "oak", "a1", "ping,target=dns"})
	if len(c.committed) != 1 || c.committed[h] != (idEntry{kept, check}) {
		t.Errorf("cache after commit = %v, want only ping,target=dns = %d", c.committed, kept)
	}
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM series`).Scan(&n); err != nil || n != 1 {
		t.Errorf("series rows = %d (%v), want 1", n, err)
	}
}

// A batch the database refuses half way through writing is answered with
// the database's error, and the group is written again without it: the
// batches before and after it are kept, and none of its points.
func TestCommitGroupRedoesWithoutAFailedBatch(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	a := benchAgent(t, s)
	// A real refusal from SQLite on a point of the poisoned batch only.
	if _, err := s.w.Exec(`CREATE TEMP TRIGGER poison BEFORE INSERT ON chunks
		WHEN CAST(NEW.data AS TEXT) LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned point'); END`); err != nil {
		t.Fatal(err)
	}
	batch := func(id string, at time.Duration, poison bool) *writeReq {
		pts := []point.Point{benchPoint(a, 1, benchT0.Add(at)), benchPoint(a, 2, benchT0.Add(at))}
		if poison {
			pts[1].Fields["result"] = "poison"
		}
		r, err := encodeBatch(ctx, store.Batch{ID: id, Agent: a, Points: pts}, benchT0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	group := []*writeReq{batch("before", 0, false), batch("bad", time.Second, true), batch("after", 2*time.Second, false)}
	s.commitGroup(group)
	for i, want := range []string{"", "poisoned point", ""} {
		got := <-group[i].done
		switch {
		case want == "" && (got.err != nil || got.dup):
			t.Errorf("%s = %+v, want stored", group[i].b.ID, got)
		case want != "" && (got.err == nil || !strings.Contains(got.err.Error(), want)):
			t.Errorf("%s = %+v, want an error saying %q", group[i].b.ID, got, want)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Points != 4 || st.Batches != 2 {
		t.Errorf("Stats = %d points in %d batches, want 4 in 2", st.Points, st.Batches)
	}
	var n int
	if err := s.r.QueryRow(`SELECT COALESCE(SUM(n), 0) FROM chunks`).Scan(&n); err != nil || n != 4 {
		t.Errorf("chunks table: %d points (%v), want 4", n, err)
	}
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM batches WHERE id = 'bad'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the refused batch's id was kept (%d, %v): a retry would be taken for a repeat", n, err)
	}
}

// Two keys whose cache hashes collide are still told apart by the check
// hash: the second is a miss, answered by the database.
func TestIDCacheCheckHash(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	c := newIDCache()
	tx, err := s.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	st := s.idStmts.inTx(tx)
	a, err := c.series(st, "oak", "a1", "ping", []byte("ping,target=gw"), func() string { return `{}` })
	if err != nil {
		t.Fatal(err)
	}
	// Plant a's entry under b's hash with a's check, as a collision would.
	hb, _ := c.hash(idKey{'s', "oak", "a1", "ping,target=dns"})
	ha, checkA := c.hash(idKey{'s', "oak", "a1", "ping,target=gw"})
	c.pending[hb] = idEntry{a, checkA}
	if ha == hb {
		t.Fatal("distinct keys hashed alike")
	}
	b, err := c.series(st, "oak", "a1", "ping", []byte("ping,target=dns"), func() string { return `{}` })
	if err != nil {
		t.Fatal(err)
	}
	if b == a {
		t.Errorf("a colliding key was given the other series' id %d", a)
	}
}

// Reopening loads every series id, so the writer knows what it has: the
// same series written again after a restart makes no new row.
func TestIDCacheLoadedAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "probity.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := benchAgent(t, s)
	write := func(s *Store, id string) {
		pts := []point.Point{benchPoint(a, 1, benchT0), benchPoint(a, 2, benchT0)}
		if _, err := s.WriteBatch(ctx, store.Batch{ID: id, Agent: a, Points: pts}, benchT0); err != nil {
			t.Fatal(err)
		}
	}
	write(s, "before")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.ids.complete || len(s.ids.committed) != 3 {
		t.Fatalf("after reopening: complete=%v with %d ids, want complete with 3 (a stream and 2 series)", s.ids.complete, len(s.ids.committed))
	}
	write(s, "after")
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM series`).Scan(&n); err != nil || n != 2 {
		t.Errorf("series rows = %d (%v), want 2", n, err)
	}
	sids := map[int64]bool{}
	for _, p := range chunkPoints(t, s.r) {
		sids[p.sid] = true
	}
	if len(sids) != 2 {
		t.Errorf("points name %d series, want 2", len(sids))
	}
}
