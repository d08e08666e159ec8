package sqlite

import (
	"context"
	"errors"
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
	// The rolled-back batch took its new series rows with it, and the
	// writer's id cache forgot them.
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM series WHERE agent = 'ghost'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the unknown agent's series: %d stored (%v), want none", n, err)
	}
	for k := range s.ids.committed {
		if k.b == "ghost" {
			t.Errorf("the id cache kept %+v from a rolled-back batch", k)
		}
	}
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM points`).Scan(&n); err != nil || n != 5 {
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

// A series made by a batch that is then rolled back is forgotten with it;
// one made by a kept batch is cached once its transaction commits, and only
// then.
func TestIDCacheFollowsTheTransaction(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	c := newIDCache()
	tx, err := s.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	st := s.idStmts.inTx(tx)
	if _, err := tx.Exec(`SAVEPOINT batch`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.series(st, "oak", "a1", "ping", "ping,target=gw", `{}`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`ROLLBACK TO batch`); err != nil {
		t.Fatal(err)
	}
	c.batchDone(false)
	kept, err := c.series(st, "oak", "a1", "ping", "ping,target=dns", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	c.batchDone(true)
	if len(c.committed) != 0 {
		t.Errorf("cached before commit: %v", c.committed)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	c.txDone(true)
	if len(c.committed) != 1 || c.committed[idKey{'s', "oak", "a1", "ping,target=dns"}] != kept {
		t.Errorf("cache after commit = %v, want only ping,target=dns = %d", c.committed, kept)
	}
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM series`).Scan(&n); err != nil || n != 1 {
		t.Errorf("series rows = %d (%v), want 1", n, err)
	}
}
