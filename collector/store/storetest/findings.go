package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

func testFindings(t *testing.T, st store.Store) {
	ctx := context.Background()
	newFixture(t, st, "oak")
	year := func(y int) (time.Time, time.Time) {
		return time.Date(y, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(y+1, 9, 1, 0, 0, 0, 0, time.UTC)
	}
	f25, t25 := year(2025)
	f26, t26 := year(2026)
	for i, f := range []store.Finding{
		{Site: "oak", From: f25, To: t25, Text: "Backup line never tested in a failover.", By: "governor-1", At: t25.Add(-time.Hour)},
		{Site: "oak", From: f25, To: t25, Text: "  Filtering reviewed with the DSL.  ", By: "it-lead", At: t25.Add(-30 * time.Minute)},
		{Site: "oak", From: f26, To: t26, Text: "Next year's finding.", By: "it-lead", At: t26},
	} {
		got, err := st.AddFinding(ctx, f)
		if err != nil || got.ID == 0 {
			t.Fatalf("AddFinding %d: %+v, %v", i, got, err)
		}
	}
	got, err := st.Findings(ctx, "oak", f25, t25)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].By != "governor-1" || got[1].Text != "Filtering reviewed with the DSL." || !got[0].From.Equal(f25) || !got[1].To.Equal(t25) {
		t.Errorf("findings of 2025/26: %+v", got)
	}
	if _, err := st.AddFinding(ctx, store.Finding{Site: "oak", From: f25, To: t25, Text: " ", By: "x"}); err == nil {
		t.Error("empty finding accepted")
	}
	if _, err := st.AddFinding(ctx, store.Finding{Site: "oak", From: t25, To: f25, Text: "x", By: "x"}); err == nil {
		t.Error("finding with a reversed period accepted")
	}
	if _, err := st.AddFinding(ctx, store.Finding{Site: "nowhere", From: f25, To: t25, Text: "x", By: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("finding for an unknown site: %v", err)
	}
}
