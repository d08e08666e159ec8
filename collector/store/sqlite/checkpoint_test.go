package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// The writer leaves the WAL to the checkpointer, keeping only a backstop,
// and the checkpointer's connection can copy every frame back.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	var pages int
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil || pages != walBackstopPages {
		t.Fatalf("writer's wal_autocheckpoint = %d, %v; want %d", pages, err, walBackstopPages)
	}
	a := benchSchools(t, s, 1)[0]
	for n := range 200 {
		pts := make([]point.Point, 35)
		for j := range pts {
			pts[j] = benchPort(a, n*35+j, benchT0)
		}
		if _, err := s.WriteBatch(ctx, store.Batch{ID: fmt.Sprint("b-", n), Agent: a, Points: pts}, benchT0); err != nil {
			t.Fatal(err)
		}
	}
	st, err := checkpoint(ctx, s.ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if st.busy || st.checkpointed != st.frames {
		t.Fatalf("checkpoint left frames behind: %+v", st)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM chunks`).Scan(&n); err != nil || n != 200*35 {
		t.Fatalf("points after checkpoint = %d, %v; want %d", n, err, 200*35)
	}
}
